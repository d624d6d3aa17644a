"""Importing customer accounts from a CSV: rows added or updated, problems named, limits kept."""

from __future__ import annotations

import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookups.models import CustomerAccount, TokenChange
from lookups.services.account_import import UnreadableFile, import_accounts

TOKEN_A = uuid.UUID("6f1c8e0a-3b9d-4c1e-9a57-1d2e3f405162")
TOKEN_B = uuid.UUID("0a9b8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d")


@pytest.fixture
def csv_file(tmp_path: Path):
    def write(text: str, *, encoding: str = "utf-8", name: str = "accounts.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


def run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_accounts", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def accounts() -> dict[str, tuple[str, str, uuid.UUID]]:
    return {
        a.external_id: (a.email, a.display_name, a.app_account_token)
        for a in CustomerAccount.objects.all()
    }


# --- Creating and updating ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_creates_accounts(csv_file):
    path = csv_file(
        "external_id,email,name,app_account_token\n"
        f"c-1,ann@example.com,Ann Lee,{TOKEN_A}\n"
        "c-2,bo@example.com,Bo Chen,\n"
    )
    out, err = run(path)

    assert out.strip() == "created 2, updated 0, unchanged 0, skipped 0, conflicts 0"
    assert err == ""
    created = accounts()
    assert created["c-1"] == ("ann@example.com", "Ann Lee", TOKEN_A)
    assert created["c-2"][:2] == ("bo@example.com", "Bo Chen")
    assert isinstance(created["c-2"][2], uuid.UUID)


@pytest.mark.django_db
def test_running_the_same_file_again_changes_nothing(csv_file):
    path = csv_file(
        "external_id,email,name,app_account_token\n"
        f"c-1,ann@example.com,Ann Lee,{TOKEN_A}\n"
        "c-2,bo@example.com,Bo Chen,\n"
    )
    run(path)
    before = accounts()
    updated_at = dict(CustomerAccount.objects.values_list("external_id", "updated_at"))

    out, err = run(path)

    assert out.strip() == "created 0, updated 0, unchanged 2, skipped 0, conflicts 0"
    assert err == ""
    assert accounts() == before
    assert dict(CustomerAccount.objects.values_list("external_id", "updated_at")) == updated_at


@pytest.mark.django_db
def test_it_updates_changed_accounts(make_account, csv_file):
    make_account(external_id="c-1", email="old@example.com", display_name="Old Name")
    untouched = make_account(external_id="c-2", email="bo@example.com", display_name="Bo")
    path = csv_file("external_id,email,name\nc-1,new@example.com,New Name\nc-2,bo@example.com,Bo\n")

    out, _ = run(path)

    assert out.strip() == "created 0, updated 1, unchanged 1, skipped 0, conflicts 0"
    assert accounts()["c-1"][:2] == ("new@example.com", "New Name")
    assert accounts()["c-2"] == ("bo@example.com", "Bo", untouched.app_account_token)


@pytest.mark.django_db
def test_an_empty_token_keeps_the_accounts_token(make_account, csv_file):
    account = make_account(external_id="c-1", email="ann@example.com", display_name="Ann")
    token = account.app_account_token
    run(csv_file("external_id,email,name,app_account_token\nc-1,ann@example.com,Ann B,\n"))
    account.refresh_from_db()
    assert account.display_name == "Ann B"
    assert account.app_account_token == token


@pytest.mark.django_db
def test_it_gives_a_new_token_to_an_account_nothing_is_linked_to(make_account, csv_file):
    make_account(external_id="c-1", email="ann@example.com", display_name="Ann")
    out, _ = run(
        csv_file(f"external_id,email,name,app_account_token\nc-1,ann@example.com,Ann,{TOKEN_A}\n")
    )
    assert "updated 1" in out
    assert accounts()["c-1"][2] == TOKEN_A


@pytest.mark.django_db
def test_columns_may_come_in_any_order_in_any_case_with_a_bom(csv_file):
    path = csv_file(
        "\ufeff Name ,EMAIL,App_Account_Token,external_id\r\n"
        f'"Lee, Ann",ann@example.com,{TOKEN_A},c-1\r\n',
    )
    out, err = run(path)
    assert out.strip() == "created 1, updated 0, unchanged 0, skipped 0, conflicts 0"
    assert err == ""
    assert accounts() == {"c-1": ("ann@example.com", "Lee, Ann", TOKEN_A)}


@pytest.mark.django_db
def test_blank_lines_are_ignored(csv_file):
    out, err = run(csv_file("external_id,email,name\n\nc-1,ann@example.com,Ann\n,,\n"))
    assert out.strip() == "created 1, updated 0, unchanged 0, skipped 0, conflicts 0"
    assert err == ""


# --- Bad rows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_rows_are_reported_with_their_line_and_skipped(csv_file):
    path = csv_file(
        "external_id,email,name,app_account_token\n"  # line 1
        "c-1,ann@example.com,Ann,\n"  # 2: fine
        ",nobody@example.com,No ID,\n"  # 3
        "c-3,not-an-email,Bad Email,\n"  # 4
        "c-4,dee@example.com,Dee,not-a-uuid\n"  # 5
        f"c-5,eve@example.com,{'E' * 201},\n"  # 6
        f"{'x' * 101},fay@example.com,Fay,\n"  # 7
        "c-7,,No Email,\n"  # 8
        "c-8,gus@example.com,,\n"  # 9
        "c-9,hal@example.com,Hal\n"  # 10: a field short
        'c-10,"ivy@example.com",Ivy,,extra\n'  # 11: a field too many
        "c-1,ann.again@example.com,Ann Again,\n"  # 12: a repeat
        'c-12,joe@example.com,"Joe\n'  # 13-14: a quoted name over two lines
        'Smith",\n'
        "c-13,kim@example.com,Kim,zz\n"  # 15
    )
    out, err = run(path)

    assert err.splitlines() == [
        "line 3: external_id is empty",
        "line 4: email 'not-an-email' is not a valid email address",
        "line 5: app_account_token 'not-a-uuid' is not a UUID",
        "line 6: name is longer than 200 characters",
        "line 7: external_id is longer than 100 characters",
        "line 8: email is empty",
        "line 9: name is empty",
        "line 10: expected 4 fields, found 3",
        "line 11: expected 4 fields, found 5",
        "line 12: external_id 'c-1' already appeared on line 2",
        "line 15: app_account_token 'zz' is not a UUID",
    ]
    assert out.strip() == "created 2, updated 0, unchanged 0, skipped 11, conflicts 0"
    assert set(accounts()) == {"c-1", "c-12"}
    assert accounts()["c-1"][:2] == ("ann@example.com", "Ann")
    assert accounts()["c-12"][1] == "Joe\nSmith"


# --- Conflicts ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_of_another_account_is_a_conflict_and_never_moves(make_account, csv_file):
    owner = make_account(external_id="c-1", app_account_token=TOKEN_A)
    make_account(external_id="c-2", email="bo@example.com", display_name="Bo")
    path = csv_file(
        "external_id,email,name,app_account_token\n"
        f"c-2,bo@example.com,Bo Renamed,{TOKEN_A}\n"
        f"c-3,cy@example.com,Cy,{TOKEN_A}\n"
    )

    out, err = run(path)

    assert err.splitlines() == [
        f"line 2: conflict: app_account_token {TOKEN_A} belongs to external_id 'c-1'; "
        "row not imported",
        f"line 3: conflict: app_account_token {TOKEN_A} belongs to external_id 'c-1'; "
        "row not imported",
    ]
    assert out.strip() == "created 0, updated 0, unchanged 0, skipped 0, conflicts 2"
    owner.refresh_from_db()
    assert owner.app_account_token == TOKEN_A
    assert accounts()["c-2"][1] == "Bo"
    assert "c-3" not in accounts()


@pytest.mark.django_db
def test_one_token_given_twice_in_the_file_goes_to_the_first_row_only(csv_file):
    path = csv_file(
        "external_id,email,name,app_account_token\n"
        f"c-1,ann@example.com,Ann,{TOKEN_A}\n"
        f"c-2,bo@example.com,Bo,{TOKEN_A}\n"
    )
    out, err = run(path)
    assert err.strip() == (
        f"line 3: conflict: app_account_token {TOKEN_A} is already given to external_id 'c-1' "
        "on line 2; row not imported"
    )
    assert out.strip() == "created 1, updated 0, unchanged 0, skipped 0, conflicts 1"
    assert accounts() == {"c-1": ("ann@example.com", "Ann", TOKEN_A)}


@pytest.mark.django_db
def test_the_token_of_an_account_with_linked_purchases_never_changes(
    make_account, agent_user, csv_file
):
    account = make_account(external_id="c-1", app_account_token=TOKEN_A)
    TokenChange.objects.create(
        request_id=uuid.uuid4(),
        agent=agent_user,
        account=account,
        original_transaction_id="2000000123456789",
        product_id="premium",
        environment="Production",
        token_after=TOKEN_A,
        ticket_reference="ZD-1",
    )
    path = csv_file(
        f"external_id,email,name,app_account_token\nc-1,new@example.com,New,{TOKEN_B}\n"
    )

    out, err = run(path)

    assert err.startswith("line 2: conflict: external_id 'c-1' has purchases linked to its")
    assert out.strip() == "created 0, updated 0, unchanged 0, skipped 0, conflicts 1"
    account.refresh_from_db()
    assert account.app_account_token == TOKEN_A
    assert account.email != "new@example.com"


@pytest.mark.django_db
def test_tokens_cannot_be_swapped_between_accounts(make_account, csv_file):
    make_account(external_id="c-1", app_account_token=TOKEN_A)
    make_account(external_id="c-2", app_account_token=TOKEN_B)
    path = csv_file(
        "external_id,email,name,app_account_token\n"
        f"c-1,ann@example.com,Ann,{TOKEN_B}\n"
        f"c-2,bo@example.com,Bo,{TOKEN_A}\n"
    )
    out, _ = run(path)
    assert "conflicts 2" in out
    assert accounts()["c-1"][2] == TOKEN_A
    assert accounts()["c-2"][2] == TOKEN_B


# --- Files that can't be imported --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("external_id,email", "missing name"),
        ("external_id,email,name,phone", "unknown 'phone'"),
        ("external_id,email,name,email", "repeated email"),
        ("c-1,ann@example.com,Ann", "missing external_id, email, name"),
    ],
)
def test_a_wrong_header_is_refused(csv_file, header, problem):
    path = csv_file(f"{header}\nc-1,ann@example.com,Ann\n")
    with pytest.raises(CommandError) as raised:
        run(path)
    assert problem in str(raised.value)
    assert "external_id,email,name[,app_account_token]" in str(raised.value)
    assert not CustomerAccount.objects.exists()


@pytest.mark.django_db
def test_an_empty_file_is_refused(csv_file):
    with pytest.raises(CommandError, match="is empty"):
        run(csv_file(""))


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused_before_anything_is_written(csv_file):
    rows = "".join(f"c-{n},c{n}@example.com,Customer {n}\n" for n in range(3000))
    path = csv_file(f"external_id,email,name\n{rows}c-x,x@example.com,Zoë\n", encoding="latin-1")
    with pytest.raises(CommandError, match="line 3002 is not UTF-8"):
        run(path)
    assert not CustomerAccount.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "nowhere.csv")


# --- A large file ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_20000_row_file_imports_in_batches(csv_file):
    rows = "".join(
        f"c-{n:06d},customer{n}@example.com,Customer {n},{uuid.UUID(int=n + 1)}\n"
        for n in range(20_000)
    )
    path = csv_file(f"external_id,email,name,app_account_token\n{rows}")

    with CaptureQueriesContext(connection) as queries:
        out, err = run(path)

    assert out.strip() == "created 20000, updated 0, unchanged 0, skipped 0, conflicts 0"
    assert err.splitlines() == ["10,000 rows read…", "20,000 rows read…"]
    assert CustomerAccount.objects.count() == 20_000
    assert CustomerAccount.objects.get(external_id="c-019999").app_account_token == uuid.UUID(
        int=20_000
    )
    # Row by row would be 40,000 queries or more. The count keeps the import batched; a time
    # limit here would only fail on a busy machine.
    assert len(queries) < 20_000 / 20

    out, _ = run(path)
    assert out.strip() == "created 0, updated 0, unchanged 20000, skipped 0, conflicts 0"


# --- Limits on one import ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_csv_import_larger_than_the_limit_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,email,name\n" + "c-1,c1@example.com,One\n" * 100)
    with pytest.raises(UnreadableFile, match=r"more than the 0 MB one import takes; split it"):
        import_accounts(path, report_problem=print, report_progress=print, max_bytes=1024)
    with pytest.raises(UnreadableFile, match=r"has more than 50 rows, more than one import takes"):
        import_accounts(path, report_problem=print, report_progress=print, max_rows=50)
    assert not CustomerAccount.objects.exists()
