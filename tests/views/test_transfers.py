"""Moving a purchase away from its customer takes a second person; linking it again is a no-op."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from lookups import roles
from lookups.models import AdaptyDelivery, Purchase, RefusedLink, TokenChange, TransferRequest
from lookups.reporting import figures
from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, ORDER_PAY_AS_YOU_GO
from tests.fixtures.links import (
    SOFIAS_LATEST,
    SOFIAS_PURCHASE,
    look_up,
    post_link,
    puts,
    set_token_at_apple,
    token_at_apple,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer(agent_client, appstore_settings, simulator, sofia, maya) -> TransferRequest:
    """The agent asked to move Sofia's purchase (linked to her in the app) to Maya."""
    look_up(agent_client, ORDER_LINKED_IN_APP)
    response = post_link(agent_client, SOFIAS_PURCHASE, maya, confirm_relink="on")
    assert response.status_code == 202
    return TransferRequest.objects.get()


def decide(client, transfer: TransferRequest, decision: str, *, htmx: bool = True):
    return client.post(
        reverse("lookups:decide_transfer", args=[transfer.pk, decision]),
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_a_confirmed_move_is_a_transfer_request_and_nothing_is_sent(
    transfer, agent_user, simulator, sofia, maya
):
    assert transfer.status == TransferRequest.Status.OPEN
    assert (transfer.requested_by, transfer.account) == (agent_user, maya)
    assert transfer.token_before == sofia.app_account_token
    assert transfer.order_id == ORDER_LINKED_IN_APP and transfer.ticket_reference == "ZD-2001"
    assert transfer.product_id == "com.example.supportdesk.demo.pro.yearly"
    assert puts(simulator) == 0 and not TokenChange.objects.exists()
    assert token_at_apple(simulator, SOFIAS_LATEST) == str(sofia.app_account_token)


def test_a_manager_approves_and_apple_is_called_through_the_audited_path(
    transfer, manager_client, manager_user, simulator, sofia, maya
):
    response = decide(manager_client, transfer, "approve")

    assert response.status_code == 200
    assert "now linked to <strong>Maya Patel</strong>" in response.text
    assert puts(simulator) == 1
    assert token_at_apple(simulator, SOFIAS_LATEST) == str(maya.app_account_token)
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.APPROVED
    assert transfer.decided_by == manager_user and transfer.decided_at is not None
    change = transfer.token_change
    assert change.outcome == TokenChange.Outcome.SUCCEEDED and change.agent == manager_user
    assert (change.token_before, change.token_after) == (
        sofia.app_account_token,
        maya.app_account_token,
    )
    assert change.request_id == transfer.request_id
    # The decision settles first, then Apple's answer: two places in the chain.
    assert (transfer.chain_sequence, change.chain_sequence) == (1, 2)
    assert transfer.decided_by_username == manager_user.username
    verified = StringIO()
    call_command("verify_audit_log", stdout=verified)
    assert verified.getvalue().startswith("Checked 2 settled token changes: OK")


def test_a_manager_rejects_and_nothing_is_sent(transfer, manager_client, manager_user, simulator):
    response = decide(manager_client, transfer, "reject")

    assert response.status_code == 200
    assert "Rejected by manager" in response.text
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.REJECTED
    assert transfer.decided_by == manager_user and transfer.token_change is None
    assert transfer.chain_sequence == 1
    assert puts(simulator) == 0 and not TokenChange.objects.exists()
    # Decided once: approving it afterwards is refused, and that is recorded too.
    again = decide(manager_client, transfer, "approve")
    assert again.status_code == 409 and "already rejected" in again.text
    assert RefusedLink.objects.filter(reason=RefusedLink.Reason.TRANSFER_DECIDED).count() == 1
    assert puts(simulator) == 0


def test_the_requester_cannot_approve_their_own_transfer(
    appstore_settings, simulator, make_user, sofia, maya
):
    from django.test import Client

    both = make_user("both", roles.AGENTS)
    both.groups.add(Group.objects.get(name=roles.MANAGERS))
    client = Client()
    client.force_login(both)
    assert post_link(client, SOFIAS_PURCHASE, maya, confirm_relink="on").status_code == 202
    transfer = TransferRequest.objects.get()

    page = client.get(reverse("lookups:transfers"))
    assert "You asked for this one: someone else decides it." in page.text
    response = decide(client, transfer, "approve")

    assert response.status_code == 403
    assert "someone else must approve" in response.text
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.OPEN
    assert RefusedLink.objects.get(reason=RefusedLink.Reason.OWN_TRANSFER).agent == both
    assert puts(simulator) == 0
    # The database holds to it too.
    with pytest.raises(IntegrityError):
        TransferRequest.objects.filter(pk=transfer.pk).update(
            status=TransferRequest.Status.APPROVED, decided_by=both, decided_at=timezone.now()
        )


def test_agents_cannot_approve(transfer, agent_client, simulator):
    assert decide(agent_client, transfer, "approve").status_code == 403
    assert agent_client.get(reverse("lookups:transfers")).status_code == 403
    assert puts(simulator) == 0


def test_approval_is_refused_when_apples_token_changed_since_the_request(
    transfer, manager_client, simulator, make_account
):
    someone = make_account(display_name="Someone Else")
    set_token_at_apple(simulator, SOFIAS_PURCHASE, someone)
    # The picture is stale by now (a lookup long ago), so the approval reads Apple again.
    Purchase.objects.update(learnt_at=timezone.now() - timedelta(hours=1))

    response = decide(manager_client, transfer, "approve")

    assert response.status_code == 409
    assert "token has changed since this transfer was asked for" in response.text
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.OPEN
    assert puts(simulator) == 0 and not TokenChange.objects.exists()
    assert RefusedLink.objects.get().reason == RefusedLink.Reason.CHANGED_SINCE


def test_one_open_transfer_per_purchase(transfer, agent_client, simulator, make_account):
    other = make_account(display_name="Third Party")
    response = post_link(agent_client, SOFIAS_PURCHASE, other, confirm_relink="on")

    assert response.status_code == 409
    assert "already waiting for approval (agent asked to move it to Maya Patel)" in response.text
    assert TransferRequest.objects.count() == 1


def test_the_approvers_page_lists_open_transfers_and_works_without_javascript(
    transfer, manager_client, simulator
):
    page = manager_client.get(reverse("lookups:transfers"))
    assert page.status_code == 200
    assert "Sofia Martinez" in page.text and "Maya Patel" in page.text
    approve_url = reverse("lookups:decide_transfer", args=[transfer.pk, "approve"])
    assert f'action="{approve_url}"' in page.text and f'hx-post="{approve_url}"' in page.text
    assert 'href="/transfers/"' in page.text  # in the navigation

    # A plain form post (no htmx) answers with the whole page, the decision shown on it.
    response = decide(manager_client, transfer, "reject", htmx=False)
    assert response.status_code == 200
    assert "<html" in response.text and "Rejected by manager" in response.text
    assert "No transfer is waiting." in response.text


def test_a_token_that_matches_no_account_is_still_someones(
    agent_client, appstore_settings, simulator, maya
):
    # Oliver's token is on this purchase, but the desk has no account for him.
    lookup = look_up(agent_client, ORDER_PAY_AS_YOU_GO)
    payloads = [t["payload"] for t in lookup.transactions if t["verified"]]
    linked = max(payloads, key=lambda p: p["purchaseDate"])
    original_id = linked["originalTransactionId"]

    unconfirmed = post_link(agent_client, original_id, maya)
    assert unconfirmed.status_code == 422
    assert f"the unknown token {linked['appAccountToken']}" in unconfirmed.text

    confirmed = post_link(agent_client, original_id, maya, confirm_relink="on")
    assert confirmed.status_code == 202
    assert TransferRequest.objects.get().original_transaction_id == original_id
    assert puts(simulator) == 0


def test_linking_again_to_the_same_customer_is_a_no_op_that_says_so(
    agent_client, appstore_settings, adapty_settings, adapty, simulator, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    today = timezone.now().date()
    before = figures.build_report(figures.ReportFilters(start=today, end=today))

    response = post_link(agent_client, SOFIAS_PURCHASE, sofia)

    assert response.status_code == 200
    assert "already linked to <strong>Sofia Martinez</strong>" in response.text
    assert "Nothing was sent to the App Store" in response.text
    assert puts(simulator) == 0
    assert not TokenChange.objects.exists() and not TransferRequest.objects.exists()
    assert not AdaptyDelivery.objects.exists() and adapty.requests == []
    after = figures.build_report(figures.ReportFilters(start=today, end=today))
    assert after.token_changes == before.token_changes and after.agents == before.agents
    assert after.offer_codes == before.offer_codes


def test_the_migration_gives_managers_the_approval_permission():
    managers = Group.objects.get(name=roles.MANAGERS).permissions.values_list("codename", flat=True)
    assert "approve_transfers" in managers
    for name in (roles.AGENTS, roles.AUDITORS):
        codenames = Group.objects.get(name=name).permissions.values_list("codename", flat=True)
        assert "approve_transfers" not in codenames


def test_a_manager_sees_and_decides_only_the_transfers_of_apps_they_see(
    transfer, manager_client, manager_user, three_apps, simulator
):
    """The demo app's transfer, and a manager named on Coach only."""
    assert transfer.app == three_apps.demo
    three_apps.coach.limited_agents.add(manager_user)

    listed = manager_client.get(reverse("lookups:transfers")).content.decode()
    counts = manager_client.get(reverse("lookups:menu_counts")).content.decode()
    response = decide(manager_client, transfer, "approve")

    assert transfer.ticket_reference not in listed
    assert '<span id="count-transfers" class="menu-count" hx-swap-oob="true"></span>' in counts
    # Another app's transfer is not there for them at all.
    assert response.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.OPEN
    assert not puts(simulator)


def test_a_manager_limited_to_another_app_neither_sees_nor_decides_the_transfer(
    transfer, manager_client, manager_user, simulator
):
    from lookups.models import App

    App.objects.create(name="Coach", bundle_id="com.example.coach").limited_agents.add(manager_user)

    page = manager_client.get(reverse("lookups:transfers")).text
    response = decide(manager_client, transfer, "approve")

    assert transfer.original_transaction_id not in page
    assert response.status_code == 404
    assert puts(simulator) == 0
