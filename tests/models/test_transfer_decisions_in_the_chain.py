"""A transfer's decision is a settled row of the audit chain, approval and rejection alike.

Deciding settles the transfer request itself into the chain, with the decider's and the
requester's usernames as text; an approval also names the token change that carries it to Apple.
So the app's database role writing "approved" or "rejected" on an open transfer, with or without
a pending token change of its own making, is refused by the database or caught by verify.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.core.management import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from lookups import audit_chain
from lookups.models import AuditChainHead, TokenChange, TransferRequest
from lookups.services.apple_actions.transfer_approval import reject_transfer
from tests.fixtures.database_roles import verify
from tests.fixtures.rows import make_token_change, make_transfer_request
from tests.models.test_audit_chain_names import swap_usernames

pytestmark = pytest.mark.django_db(transaction=True)


def caught(app: psycopg.Connection, statement: str, params: tuple) -> None:
    """The forgery is refused by the database, or verify_audit_log fails after it."""
    try:
        with app.transaction():
            app.execute(statement, params)
    except psycopg.Error:
        return
    with pytest.raises(CommandError, match="transfer request id="):
        verify()


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_decision_written_by_the_app_role_is_caught(
    decision, as_all_privileges, agent_user, manager_user, make_account
):
    settled = make_token_change(agent_user, make_account())
    settled.settle(TokenChange.Outcome.SUCCEEDED)
    transfer = make_transfer_request(agent_user, make_account())
    assert verify().startswith("Checked 1 settled ")

    caught(
        as_all_privileges,
        "UPDATE lookups_transferrequest SET status = %s, decided_by_id = %s, decided_at = now() "
        "WHERE id = %s",
        params=(decision, manager_user.pk, transfer.pk),
    )


def test_a_forged_pending_token_change_does_not_carry_out_an_approval(
    as_all_privileges, agent_user, manager_user, make_account
):
    transfer = make_transfer_request(agent_user, make_account())
    forged = make_token_change(manager_user, transfer.account, request_id=transfer.request_id)
    assert forged.outcome == TokenChange.Outcome.PENDING

    caught(
        as_all_privileges,
        "UPDATE lookups_transferrequest SET status = 'approved', decided_by_id = %s, "
        "decided_at = now(), token_change_id = %s WHERE id = %s",
        params=(manager_user.pk, forged.pk, transfer.pk),
    )


def test_a_decision_given_a_made_up_place_in_the_chain_is_caught(
    as_all_privileges, agent_user, manager_user, make_account
):
    settled = make_token_change(agent_user, make_account())
    settled.settle(TokenChange.Outcome.SUCCEEDED)
    transfer = make_transfer_request(agent_user, make_account())
    made_up = "ab" * 32
    head = AuditChainHead.objects.get()

    try:
        with as_all_privileges.transaction():
            as_all_privileges.execute(
                "UPDATE lookups_auditchainhead SET last_sequence = %s, last_hash = %s",
                (head.last_sequence + 1, made_up),
            )
            as_all_privileges.execute(
                "UPDATE lookups_transferrequest SET status = 'rejected', decided_by_id = %s, "
                "decided_at = now(), decided_by_username = %s, chain_version = 2, "
                "chain_sequence = %s, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
                (
                    manager_user.pk,
                    manager_user.username,
                    head.last_sequence + 1,
                    head.last_hash,
                    made_up,
                    transfer.pk,
                ),
            )
    except psycopg.Error:
        return
    with pytest.raises(CommandError, match=f"transfer request id={transfer.pk}"):
        verify()


def test_a_rejection_settles_into_the_chain_with_the_deciders_name(
    agent_user, manager_user, make_account, superuser_client
):
    transfer = make_transfer_request(agent_user, make_account())

    reject_transfer(manager_user, transfer)

    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.REJECTED
    assert transfer.chain_sequence == 1 and transfer.chain_version == audit_chain.CHAIN_VERSION
    assert transfer.decided_by_username == manager_user.username
    assert transfer.requested_by_username == agent_user.username
    assert verify().startswith("Checked 1 settled ")

    recorded = manager_user.username
    swap_usernames(agent_user, manager_user)
    page = superuser_client.get(reverse("admin:lookups_transferrequest_change", args=[transfer.pk]))
    assert f"{recorded} (as recorded)" in page.text
    listing = superuser_client.get(reverse("admin:lookups_transferrequest_changelist"))
    assert f"{recorded} (as recorded)" in listing.text
    assert verify().startswith("Checked 1 settled ")


def test_an_approval_must_name_a_change_of_the_approvers_for_its_request(
    agent_user, manager_user, make_account
):
    """Settled by the desk's own code, but pointing at a token change for another request."""
    transfer = make_transfer_request(agent_user, make_account())
    other = make_token_change(manager_user, make_account(), request_id=uuid.uuid4())
    transfer.settle_decision(
        TransferRequest.Status.APPROVED, manager_user, token_change=other, at=timezone.now()
    )

    with pytest.raises(CommandError, match=f"transfer request id={transfer.pk}"):
        verify()


def test_transfers_decided_before_decisions_were_chained_join_its_end(agent_user, manager_user):
    before = [("lookups", "0082_usernames_of_outages_and_finishes")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        account = old.get_model("lookups", "CustomerAccount").objects.create(
            external_id="cust-old", email="old@example.com", display_name="Old"
        )
        transfers = old.get_model("lookups", "TransferRequest").objects
        common = {
            "requested_by_id": agent_user.pk,
            "environment": "Production",
            "token_before": uuid.uuid4(),
            "account": account,
            "ticket_reference": "ZD-1",
        }
        decided = transfers.create(
            request_id=uuid.uuid4(), original_transaction_id="2000000000000051", **common
        )
        # Decided the way the desk did before: the status written, nothing chained.
        transfers.filter(pk=decided.pk).update(
            status="rejected", decided_by_id=manager_user.pk, decided_at=timezone.now()
        )
        still_open = transfers.create(
            request_id=uuid.uuid4(), original_transaction_id="2000000000000052", **common
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    decided = TransferRequest.objects.get(pk=decided.pk)
    assert (decided.chain_sequence, decided.chain_version) == (1, 2)
    assert (decided.requested_by_username, decided.decided_by_username) == (
        agent_user.username,
        manager_user.username,
    )
    assert verify().startswith("Checked 1 settled ")

    # No exception for the old ones: a new decision outside the desk is still refused or caught.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE lookups_transferrequest SET status = 'rejected', decided_by_id = %s, "
                "decided_at = %s WHERE id = %s",
                [manager_user.pk, timezone.now(), still_open.pk],
            )
    except IntegrityError:
        return
    with pytest.raises(CommandError, match=f"transfer request id={still_open.pk}"):
        verify()
