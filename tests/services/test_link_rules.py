"""What a link records and decides comes from Apple's verified data, never from the form."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from lookups.models import TokenChange
from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, ORDER_OFFER_CODE, ORDER_PAY_AS_YOU_GO
from tests.fixtures.links import (
    OFFER_CODE_PURCHASE,
    SOFIAS_LATEST,
    SOFIAS_PURCHASE,
    look_up,
    post_link,
    puts,
    set_token_at_apple,
    token_at_apple,
)
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db


# --- Audit fields come from Apple ---------------------------------------------------------------


def test_a_hand_made_post_cannot_move_a_purchase_away_from_its_customer(
    agent_client, appstore_settings, simulator, sofia, maya
):
    # Only account, ticket and request ID: no lookup, no confirmation, no token.
    response = post_link(agent_client, SOFIAS_PURCHASE, maya)

    assert response.status_code == 422
    assert "linked to Sofia Martinez now" in response.text
    assert puts(simulator) == 0
    assert not TokenChange.objects.exists()
    assert token_at_apple(simulator, SOFIAS_LATEST) == str(sofia.app_account_token)


def test_a_posted_expected_token_is_not_what_the_row_records(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    made_up = uuid.uuid4()

    response = post_link(
        agent_client, OFFER_CODE_PURCHASE, maya, expected_token=str(made_up), lookup=lookup.pk
    )

    assert response.status_code == 200
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert change.token_before is None
    assert change.product_id == "com.example.supportdesk.demo.pro.monthly"
    assert (change.order_id, change.lookup, change.agent) == (ORDER_OFFER_CODE, lookup, agent_user)


def test_a_link_without_any_lookup_records_what_apple_says_about_the_purchase(
    agent_client, appstore_settings, simulator, maya
):
    assert post_link(agent_client, OFFER_CODE_PURCHASE, maya).status_code == 200

    change = TokenChange.objects.get()
    assert change.product_id == "com.example.supportdesk.demo.pro.monthly"
    assert change.token_before is None
    # Read from Apple's transaction history first, then set.
    methods = [method for method, _ in simulator.requests]
    assert methods == ["GET", "PUT"]


def test_another_agents_lookup_is_not_recorded_as_the_links_order(
    agent_client, appstore_settings, simulator, make_user, maya
):
    from django.test import Client

    from lookups.roles import AGENTS

    look_up(agent_client, ORDER_OFFER_CODE)
    colleague = Client()
    colleague.force_login(make_user("colleague", AGENTS))
    theirs = look_up(colleague, ORDER_PAY_AS_YOU_GO)

    response = post_link(agent_client, OFFER_CODE_PURCHASE, maya, lookup=theirs.pk)

    assert response.status_code == 200
    change = TokenChange.objects.get()
    assert change.order_id == ORDER_OFFER_CODE
    assert change.lookup is None


# --- A purchase can't get stuck -----------------------------------------------------------------


def test_a_token_changed_outside_the_desk_is_said_plainly_and_the_agent_can_go_on(
    agent_client, appstore_settings, simulator, maya, sofia, make_account
):
    assert post_link(agent_client, OFFER_CODE_PURCHASE, maya).status_code == 200
    # Then the app (or a call the desk thought had failed) put Sofia's token on it.
    set_token_at_apple(simulator, OFFER_CODE_PURCHASE, sofia)
    newcomer = make_account(display_name="New Owner")
    look_up(agent_client, ORDER_OFFER_CODE)

    confirm = agent_client.get(
        reverse("lookups:link", args=[OFFER_CODE_PURCHASE]), {"account": newcomer.pk}
    )
    assert "This purchase's token was changed outside the desk" in confirm.text
    assert "move this purchase away from <strong>Sofia Martinez</strong>" in confirm.text

    unconfirmed = post_link(agent_client, OFFER_CODE_PURCHASE, newcomer)
    assert unconfirmed.status_code == 422
    assert "token was changed outside the desk" in unconfirmed.text
    assert "Look the order up again" not in unconfirmed.text

    confirmed = post_link(agent_client, OFFER_CODE_PURCHASE, newcomer, confirm_relink="on")
    assert confirmed.status_code == 202
    assert "Transfer requested" in confirmed.text


def test_a_change_a_reconcile_marked_failed_though_apple_made_it_does_not_block_the_purchase(
    agent_client, agent_user, appstore_settings, simulator, maya, sofia
):
    # A reconcile ran while the call was in flight and recorded it as failed; Apple then set it.
    stale = make_token_change(agent_user, sofia, original_transaction_id=OFFER_CODE_PURCHASE)
    stale.settle(TokenChange.Outcome.FAILED, error_message="reconciled: Apple shows token none")
    set_token_at_apple(simulator, OFFER_CODE_PURCHASE, sofia)
    look_up(agent_client, ORDER_OFFER_CODE)

    # Linking it to the customer Apple shows is a no-op, not "look it up again".
    again = post_link(agent_client, OFFER_CODE_PURCHASE, sofia)
    assert again.status_code == 200
    assert "already linked to <strong>Sofia Martinez</strong>" in again.text
    assert puts(simulator) == 0


def test_reconciling_is_refused_below_the_call_budget_and_a_margin(appstore_settings):
    appstore_settings.APPSTORE_CALL_BUDGET_SECONDS = 150
    appstore_settings.TOKEN_CHECK_MARGIN_SECONDS = 60
    # 150 s + 60 s margin = 3.5 minutes, rounded up: the same wait as the worker's first check.
    with pytest.raises(CommandError, match="at least 4 minutes"):
        call_command("reconcile_token_changes", "--older-than", "3")
    call_command("reconcile_token_changes", "--older-than", "4")


# --- Double submit tells the truth --------------------------------------------------------------


def test_a_repeat_while_the_first_call_is_running_is_told_it_is_still_being_sent(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    request_id = uuid.uuid4()
    # The first submission's row, committed before its call to Apple, which is still running.
    first = make_token_change(
        agent_user, maya, original_transaction_id=OFFER_CODE_PURCHASE, request_id=request_id
    )

    repeat = post_link(agent_client, OFFER_CODE_PURCHASE, maya, request_id=str(request_id))

    assert repeat.status_code == 202
    assert "This link is still being sent; the page updates when Apple answers." in repeat.text
    assert "did not answer in time" not in repeat.text
    status_url = reverse("lookups:link_status", args=[first.pk])
    assert f'hx-get="{status_url}"' in repeat.text and f'href="{status_url}"' in repeat.text
    assert TokenChange.objects.count() == 1 and puts(simulator) == 0

    polled = agent_client.get(status_url, headers={"HX-Request": "true"})
    assert "still being sent" in polled.text

    first.settle(TokenChange.Outcome.SUCCEEDED)
    settled = agent_client.get(status_url, headers={"HX-Request": "true"})
    assert "Linked to <strong>Maya Patel</strong>" in settled.text
    assert "hx-trigger" not in settled.text
    # Without htmx the same URL is a whole page.
    assert "<html" in agent_client.get(status_url).text


def test_a_row_pending_past_the_call_budget_says_apple_did_not_answer_in_time(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    request_id = uuid.uuid4()
    make_token_change(
        agent_user,
        maya,
        original_transaction_id=OFFER_CODE_PURCHASE,
        request_id=request_id,
        created_at=timezone.now() - timedelta(minutes=5),
    )

    repeat = post_link(agent_client, OFFER_CODE_PURCHASE, maya, request_id=str(request_id))

    assert "The App Store did not answer in time" in repeat.text
    assert "still being sent" not in repeat.text


def test_sofias_purchase_is_linked_to_her_in_the_app(agent_client, appstore_settings, sofia):
    """The demo data the tests above rely on: the app set Sofia's token itself."""
    lookup = look_up(agent_client, ORDER_LINKED_IN_APP)
    tokens = {t["payload"].get("appAccountToken") for t in lookup.transactions}
    assert str(sofia.app_account_token) in tokens
