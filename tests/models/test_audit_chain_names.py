"""The chain records people by name: the username at the moment a row settled, as text.

Swapping two agents' usernames afterwards changes nothing the chain or the admin says; a
transfer's decision settles into the chain (tests/models/test_transfer_decisions_in_the_chain.py),
so writing "approved" on an open transfer straight into the database is refused or caught.
Rows settled before names were recorded keep their old hash recipe and still verify.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from lookups import audit_chain
from lookups.models import ConsumptionAnswer, SubscriptionExtension, TokenChange
from tests.fixtures.audit_log import triggers_off
from tests.fixtures.database_roles import verify
from tests.fixtures.rows import (
    make_consumption_answer,
    make_extension,
    make_token_change,
    make_transfer_request,
)

pytestmark = pytest.mark.django_db(transaction=True)


def swap_usernames(first, second) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auth_user SET username = 'swapping' WHERE id = %s", [first.pk])
        cursor.execute(
            "UPDATE auth_user SET username = %s WHERE id = %s", [first.username, second.pk]
        )
        cursor.execute(
            "UPDATE auth_user SET username = %s WHERE id = %s", [second.username, first.pk]
        )


def test_every_settled_kind_records_its_people_by_name(agent_user, manager_user, make_account):
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    extension = make_extension(agent_user, approved_by=manager_user)
    extension.settle(SubscriptionExtension.Outcome.SUCCEEDED)
    answer = make_consumption_answer(agent_user)
    answer.settle(ConsumptionAnswer.Outcome.SUCCEEDED)

    change.refresh_from_db()
    extension.refresh_from_db()
    answer.refresh_from_db()
    assert change.agent_username == agent_user.username
    assert (extension.agent_username, extension.approved_by_username) == (
        agent_user.username,
        manager_user.username,
    )
    assert answer.answered_by_username == agent_user.username
    row = TokenChange.objects.values(*audit_chain.fields_of(None, change.chain_version)).get()
    document = audit_chain.canonical_document(
        row, sequence=change.chain_sequence, previous_hash=change.chain_previous_hash
    )
    assert f'"agent_username":"{agent_user.username}"'.encode() in document


def test_swapping_usernames_afterwards_changes_no_recorded_name(
    agent_user, manager_user, make_account, superuser_client
):
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    recorded = agent_user.username

    swap_usernames(agent_user, manager_user)

    change.refresh_from_db()
    assert change.agent_username == recorded
    page = superuser_client.get(reverse("admin:lookups_tokenchange_change", args=[change.pk]))
    assert f"{recorded} (as recorded)" in page.text
    assert verify().startswith("Checked 1 settled ")


def test_a_recorded_name_changed_afterwards_breaks_the_chain(agent_user, make_account):
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    if connection.vendor == "postgresql":
        pytest.skip("the database itself refuses the change (tests/models/test_audit_roles.py)")
    # The test commits (transaction=True): the triggers come back for the tests after it.
    with triggers_off("lookups_tokenchange"), connection.cursor() as cursor:
        cursor.execute("UPDATE lookups_tokenchange SET agent_username = 'someone'")

    with pytest.raises(CommandError, match="was changed after it settled"):
        verify()


def test_rows_settled_with_the_old_recipe_still_verify(agent_user, make_account):
    with mock.patch.object(audit_chain, "CHAIN_VERSION", 1):
        old = make_token_change(agent_user, make_account())
        old.settle(TokenChange.Outcome.SUCCEEDED)
    new = make_token_change(agent_user, make_account())
    new.settle(TokenChange.Outcome.SUCCEEDED)

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.chain_version, old.agent_username) == (None, None)
    assert new.chain_version == audit_chain.CHAIN_VERSION
    assert verify().startswith("Checked 2 settled ")


def test_an_approved_transfer_written_straight_into_the_database_is_caught(
    agent_user, manager_user, make_account
):
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    transfer = make_transfer_request(agent_user, make_account())
    assert verify().startswith("Checked 1 settled ")

    refused_or_caught(
        "UPDATE lookups_transferrequest SET status = 'approved', decided_by_id = %s, "
        "decided_at = %s WHERE id = %s",
        [manager_user.pk, change.created_at, transfer.pk],
        transfer,
    )


def test_an_approved_transfer_pointing_at_someone_elses_change_is_caught(
    agent_user, manager_user, make_account
):
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    transfer = make_transfer_request(agent_user, make_account())

    refused_or_caught(
        "UPDATE lookups_transferrequest SET status = 'approved', decided_by_id = %s, "
        "decided_at = %s, token_change_id = %s WHERE id = %s",
        [manager_user.pk, change.created_at, change.pk, transfer.pk],
        transfer,
    )


def refused_or_caught(statement: str, params: list, transfer) -> None:
    """A decision written outside the desk: the database refuses it, or verify finds it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except IntegrityError:
        return
    with pytest.raises(CommandError, match=f"transfer request id={transfer.pk}"):
        verify()
