"""Linking a purchase to a customer account, end to end against the App Store simulator."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from lookups.models import Lookup, RefusedLink, TokenChange, TransferRequest
from lookups.simulators.demo_data import (
    ORDER_FAMILY_SHARED,
    ORDER_OFFER_CODE,
    ORDER_PAY_AS_YOU_GO,
    PURCHASE_OFFER_CODE,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.pages import link, look_up

pytestmark = pytest.mark.django_db


def latest_transaction(lookup: Lookup, original_transaction_id: str | None = None) -> dict:
    payloads = [t["payload"] for t in lookup.transactions if t["verified"]]
    if original_transaction_id:
        payloads = [p for p in payloads if p["originalTransactionId"] == original_transaction_id]
    return max(payloads, key=lambda p: p["purchaseDate"])


def test_the_offer_code_order_is_linked_and_the_next_lookup_shows_the_account(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    purchase = latest_transaction(lookup)
    assert "appAccountToken" not in purchase
    original_id = purchase["originalTransactionId"]

    response = link(agent_client, original_id, maya, lookup)

    assert response.status_code == 200
    assert "Linked to <strong>Maya Patel</strong>" in response.text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert (change.agent, change.account, change.lookup) == (agent_user, maya, lookup)
    assert change.original_transaction_id == original_id
    assert change.token_before is None and change.token_after == maya.app_account_token
    assert change.order_id == ORDER_OFFER_CODE and change.product_id == purchase["productId"]
    assert change.ticket_reference == "ZD-1042" and change.settled_at is not None
    assert [m for m, _ in simulator.requests].count("PUT") == 1

    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}).text
    assert reverse("lookups:account", args=[maya.pk]) in page
    again = Lookup.objects.filter(order_id=ORDER_OFFER_CODE).latest("created_at")
    assert latest_transaction(again)["appAccountToken"] == str(maya.app_account_token)

    account_page = agent_client.get(reverse("lookups:account", args=[maya.pk])).text
    assert original_id in account_page and "ZD-1042" in account_page


def test_the_link_panel_searches_accounts_and_confirms_the_choice(
    agent_client, appstore_settings, maya, make_account
):
    for n in range(25):
        make_account(display_name=f"Maya Namesake {n}", email=f"maya{n}@example.org")
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    url = reverse("lookups:link", args=[original_id])

    choices = agent_client.get(url, {"q": "maya", "lookup": lookup.pk}, HTTP_HX_REQUEST="true")
    assert choices.text.count("Choose</a>") == 20
    assert "Showing the first 20" in choices.text

    confirm = agent_client.get(url, {"account": maya.pk, "lookup": lookup.pk})
    assert "Confirm the link" in confirm.text
    assert "Nobody" in confirm.text and "Maya Patel" in confirm.text
    assert 'name="request_id"' in confirm.text
    assert not TokenChange.objects.exists()


def test_a_double_submitted_form_is_one_call_and_one_row(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    request_id = str(uuid.uuid4())

    first = link(agent_client, original_id, maya, lookup, request_id=request_id)
    second = link(agent_client, original_id, maya, lookup, request_id=request_id)

    assert first.status_code == second.status_code == 200
    assert "Linked to" in second.text
    assert TokenChange.objects.count() == 1
    assert [m for m, _ in simulator.requests].count("PUT") == 1


def test_a_link_made_since_the_agent_looked_is_not_overwritten(
    agent_client, appstore_settings, simulator, maya, make_account
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    assert link(agent_client, original_id, maya, lookup).status_code == 200

    other = make_account(display_name="Someone Else")
    # Same stale lookup: the agent still believes the purchase is not linked. Apple knows better.
    response = link(agent_client, original_id, other, lookup)

    assert response.status_code == 422
    assert "agent linked this purchase to Maya Patel" in response.text
    assert "tick the box to ask for the transfer" in response.text
    assert TokenChange.objects.count() == 1
    assert [m for m, _ in simulator.requests].count("PUT") == 1


def test_moving_a_linked_purchase_needs_a_second_confirmation(
    agent_client, appstore_settings, simulator, make_account, oliver
):
    newcomer = make_account(display_name="New Owner")
    lookup = look_up(agent_client, ORDER_PAY_AS_YOU_GO)
    purchase = latest_transaction(lookup)
    original_id = purchase["originalTransactionId"]
    assert purchase["appAccountToken"] == str(oliver.app_account_token)

    confirm = agent_client.get(
        reverse("lookups:link", args=[original_id]), {"account": newcomer.pk, "lookup": lookup.pk}
    )
    assert "move this purchase away from <strong>Oliver Bennett</strong>" in confirm.text

    unconfirmed = link(agent_client, original_id, newcomer, lookup)
    assert unconfirmed.status_code == 422
    assert "linked to Oliver Bennett now" in unconfirmed.text
    assert not TokenChange.objects.exists()

    # Confirmed, it becomes a transfer for someone else to approve (tests/test_transfers.py).
    confirmed = link(agent_client, original_id, newcomer, lookup, confirm_relink="on")
    assert confirmed.status_code == 202
    transfer = TransferRequest.objects.get()
    assert transfer.token_before == oliver.app_account_token
    assert transfer.account == newcomer and transfer.status == TransferRequest.Status.OPEN
    assert not TokenChange.objects.exists()
    assert "PUT" not in [m for m, _ in simulator.requests]


def test_a_missing_ticket_reference_is_asked_for_and_nothing_is_sent(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    response = link(agent_client, original_id, maya, lookup, ticket_reference="  ")
    assert response.status_code == 422
    assert "Enter the support ticket" in response.text
    assert not TokenChange.objects.exists()
    assert "PUT" not in [m for m, _ in simulator.requests]


def _refused(agent_client, transaction_id, account, lookup, code):
    response = link(agent_client, transaction_id, account, lookup)
    assert response.status_code == 200
    assert "The link failed" in response.text
    assert f"(Apple error {code})" in response.text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.FAILED
    assert change.error_code == code and change.error_message and change.settled_at
    return response


def _refused_here(agent_client, simulator, transaction_id, account, lookup, reason):
    response = link(agent_client, transaction_id, account, lookup)
    assert response.status_code == 409
    assert not TokenChange.objects.exists()
    assert "PUT" not in [m for m, _ in simulator.requests]
    assert RefusedLink.objects.get().reason == reason
    return response


def test_a_family_shared_purchase_is_refused_without_asking_apple(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_FAMILY_SHARED)
    purchase = latest_transaction(lookup)
    assert purchase["inAppOwnershipType"] == "FAMILY_SHARED"
    # The page offers no link for it; a stale or hand-made request is refused by the desk.
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_FAMILY_SHARED}).text
    assert "Family shared" in page and "Link to customer" not in page
    response = _refused_here(
        agent_client,
        simulator,
        purchase["originalTransactionId"],
        maya,
        lookup,
        RefusedLink.Reason.FAMILY_SHARED,
    )
    assert "Family Sharing" in response.text


def test_a_transaction_id_that_is_not_original_is_refused(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    renewal = latest_transaction(lookup)
    assert renewal["transactionId"] != renewal["originalTransactionId"]
    response = _refused_here(
        agent_client,
        simulator,
        renewal["transactionId"],
        maya,
        lookup,
        RefusedLink.Reason.UNKNOWN_PURCHASE,
    )
    assert "original transaction ID" in response.text


def test_an_unknown_purchase_is_refused_with_apples_answer(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    response = _refused_here(
        agent_client,
        simulator,
        TRANSACTION_NOT_FOUND,
        maya,
        lookup,
        RefusedLink.Reason.UNKNOWN_PURCHASE,
    )
    assert "(Apple error 4040010)" in response.text


def test_apple_refuses_a_token_it_does_not_accept(agent_client, appstore_settings, simulator, maya):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    simulator.inject_fault("apple_error", endpoint="set_token", error_code=4000183, http_status=400)
    response = _refused(agent_client, original_id, maya, lookup, 4000183)
    assert "not a valid UUID" in response.text


def test_a_failed_call_settles_the_row_as_failed_and_can_be_tried_again(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    simulator.inject_fault("internal_error", endpoint="set_token")
    failed = link(agent_client, original_id, maya, lookup)
    assert "(Apple error 5000000)" in failed.text

    retried = link(agent_client, original_id, maya, lookup)
    assert "Linked to" in retried.text
    outcomes = list(TokenChange.objects.order_by("created_at").values_list("outcome", flat=True))
    assert outcomes == [TokenChange.Outcome.FAILED, TokenChange.Outcome.SUCCEEDED]


def test_auditors_cannot_link(auditor_client, appstore_settings, simulator, maya):
    response = auditor_client.post(
        reverse("lookups:link", args=[PURCHASE_OFFER_CODE]),
        {"account": maya.pk, "ticket_reference": "x", "request_id": str(uuid.uuid4())},
    )
    assert response.status_code == 403
    assert not TokenChange.objects.exists()
    assert "PUT" not in [m for m, _ in simulator.requests]


def test_a_purchase_moved_to_another_customer_leaves_the_first_ones_page(
    agent_client, manager_client, appstore_settings, maya, make_account
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    original_id = latest_transaction(lookup)["originalTransactionId"]
    assert link(agent_client, original_id, maya, lookup).status_code == 200
    newcomer = make_account(display_name="New Owner")

    relooked = look_up(agent_client, ORDER_OFFER_CODE)
    asked = link(agent_client, original_id, newcomer, relooked, confirm_relink="on")
    assert asked.status_code == 202
    transfer = TransferRequest.objects.get()
    approved = manager_client.post(
        reverse("lookups:decide_transfer", args=[transfer.pk, "approve"]),
        headers={"HX-Request": "true"},
    )
    assert "now linked to <strong>New Owner</strong>" in approved.text

    maya_page = agent_client.get(reverse("lookups:account", args=[maya.pk])).text
    newcomer_page = agent_client.get(reverse("lookups:account", args=[newcomer.pk])).text
    assert "No purchase has been linked" in maya_page
    assert original_id in newcomer_page and "No purchase has been linked" not in newcomer_page
