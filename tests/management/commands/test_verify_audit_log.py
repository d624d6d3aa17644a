"""manage.py verify_audit_log: every settled row checked against its hash and the row before it; a
row changed, rehashed or deleted behind the triggers' back is named; the chain held to a recorded
anchor."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from lookups.audit_chain import chain_hash, every_field_of
from lookups.models import TokenChange
from tests.fixtures.audit_log import (
    execute,
    head,
    settled,
    triggers_off,
    verify,
)
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db


def test_verify_checks_every_settled_row_and_says_ok(agent_user, customer_account):
    for _ in range(5):
        settled(agent_user, customer_account)
    make_token_change(agent_user, customer_account)

    output = verify("--chunk-size", "2")

    assert output.startswith("Checked 5 settled token changes: OK")
    assert f"(chain head 5:{head().last_hash})" in output


def test_verify_says_ok_for_an_empty_log():
    assert verify().startswith("Checked 0 settled token changes: OK")


@pytest.mark.parametrize(
    "change",
    [
        "error_message = 'nothing to see here'",
        "outcome = 'failed'",
        "ticket_reference = 'ZD-0000'",
        "account_id = %(other_account)s",
        "created_at = settled_at",
        "swap places",
    ],
)
def test_verify_names_a_row_changed_behind_the_triggers_back(
    agent_user, customer_account, make_account, change
):
    rows = [settled(agent_user, customer_account) for _ in range(3)]
    tampered = rows[2] if change == "swap places" else rows[1]

    with triggers_off("lookups_tokenchange"):
        if change == "swap places":
            # A hash can't be moved onto other content: give two rows each other's places.
            execute("UPDATE lookups_tokenchange SET chain_sequence = chain_sequence + 100")
            execute(
                "UPDATE lookups_tokenchange SET chain_sequence = CASE id "
                "WHEN %s THEN 1 WHEN %s THEN 3 WHEN %s THEN 2 END",
                [rows[0].pk, rows[1].pk, rows[2].pk],
            )
        else:
            execute(
                f"UPDATE lookups_tokenchange SET {change} WHERE id = %(id)s",
                {"id": tampered.pk, "other_account": make_account().pk},
            )

    with pytest.raises(CommandError) as failure:
        verify()
    message = str(failure.value)
    assert f"token change id={tampered.pk} (sequence 2)" in message
    assert "after 1 good rows" in message
    if change != "swap places":
        assert "was changed after it settled" in message


def test_verify_names_the_row_after_one_that_was_deleted(agent_user, customer_account):
    rows = [settled(agent_user, customer_account) for _ in range(3)]

    with triggers_off("lookups_tokenchange"):
        execute("DELETE FROM lookups_tokenchange WHERE id = %s", [rows[1].pk])

    with pytest.raises(CommandError, match="settled rows 2 to 2 are missing") as failure:
        verify()
    assert f"token change id={rows[2].pk} (sequence 3) comes where sequence 2" in str(failure.value)


def test_verify_notices_the_newest_row_deleted(agent_user, customer_account):
    rows = [settled(agent_user, customer_account) for _ in range(3)]

    with triggers_off("lookups_tokenchange"):
        execute("DELETE FROM lookups_tokenchange WHERE id = %s", [rows[2].pk])

    with pytest.raises(CommandError, match="records 3 settled rows, but the chain ends at "):
        verify()


def test_verify_notices_a_row_rehashed_to_match_its_new_content(agent_user, customer_account):
    rows = [settled(agent_user, customer_account) for _ in range(3)]
    forged = TokenChange.objects.filter(pk=rows[1].pk).values(*every_field_of(None)).get()
    forged["error_message"] = "rewritten"
    forged_hash = chain_hash(forged, sequence=2, previous_hash=rows[0].chain_hash)

    with triggers_off("lookups_tokenchange"):
        execute(
            "UPDATE lookups_tokenchange SET error_message = %s, chain_hash = %s WHERE id = %s",
            ["rewritten", forged_hash, rows[1].pk],
        )

    with pytest.raises(CommandError, match="does not follow the row before it") as failure:
        verify()
    assert f"token change id={rows[2].pk} (sequence 3)" in str(failure.value)


def test_verify_holds_the_chain_to_a_recorded_anchor(agent_user, customer_account):
    rows = [settled(agent_user, customer_account) for _ in range(3)]
    anchor = f"3:{rows[2].chain_hash}"
    assert verify("--anchor", anchor).startswith("Checked 3 settled token changes: OK")

    # Someone with the owner's rights removes the newest row and moves the head back to match.
    with triggers_off("lookups_tokenchange"), triggers_off("lookups_auditchainhead"):
        execute("DELETE FROM lookups_tokenchange WHERE id = %s", [rows[2].pk])
        execute(
            "UPDATE lookups_auditchainhead SET last_sequence = 2, last_hash = %s",
            [rows[1].chain_hash],
        )

    assert verify().startswith("Checked 2 settled token changes: OK")
    with pytest.raises(CommandError, match="recorded sequence 3 is gone"):
        verify("--anchor", anchor)
    with pytest.raises(CommandError, match="does not have the hash recorded for it earlier"):
        verify("--anchor", f"2:{'c' * 64}")


def test_verify_refuses_a_malformed_anchor():
    with pytest.raises(CommandError):
        verify("--anchor", "three:abc")
