"""The account page: purchases by the customer's current token; Apple's news and the desk's."""

from __future__ import annotations

import html

import pytest
import requests
from django.urls import reverse

from lookups.models import TokenChange
from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, PURCHASE_LINKED_IN_APP
from tests.fixtures.rows import make_lookup, make_token_change

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_the_account_lists_purchases_carrying_its_token_with_their_status(
    agent_client, appstore_settings, sofia
):
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert "The desk knows no purchase carrying this customer's token" in page
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LINKED_IN_APP})
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert f"purchase-{PURCHASE_LINKED_IN_APP}" in page
    assert "status-active" in page


def test_apples_notifications_and_the_desks_links_share_the_timeline(
    live_server, agent_client, agent_user, appstore_settings, simulator, sofia
):
    change = make_token_change(
        agent_user,
        sofia,
        lookup=make_lookup(agent_user),
        original_transaction_id=PURCHASE_LINKED_IN_APP,
    )
    change.settle(TokenChange.Outcome.SUCCEEDED)
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)
    sent = simulator.emit_notification(
        "DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED", transaction_id=PURCHASE_LINKED_IN_APP
    )
    answer = requests.post(
        live_server.url + reverse("lookups:appstore_notifications"),
        json={"signedPayload": sent.signed_payload},
        timeout=5,
    )
    assert answer.status_code == 200
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert 'id="timeline"' in page
    assert "Apple: Turned automatic renewal on" in page
    assert f"purchase-{PURCHASE_LINKED_IN_APP}" in page
    timeline = page[page.index('id="timeline"') :]
    assert "Link succeeded" in timeline and agent_user.get_username() in timeline


def picture_purchase(account, original_transaction_id: str, **fields):
    from django.conf import settings
    from django.utils import timezone

    from lookups.models import Purchase

    fields.setdefault("environment", settings.APPSTORE_ENVIRONMENT)
    return Purchase.objects.create(
        original_transaction_id=original_transaction_id,
        latest_transaction={
            "transactionId": original_transaction_id,
            "originalTransactionId": original_transaction_id,
            "productId": "com.example.pro.monthly",
        },
        product_id="com.example.pro.monthly",
        app_account_token=account.app_account_token,
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
        **fields,
    )


def test_the_timeline_tells_every_desk_action_in_plain_words(agent_client, agent_user, maya):
    from django.utils import timezone

    from lookups.models import AppStoreNotification, SubscriptionExtension
    from lookups.services.notes import add_note
    from tests.fixtures.rows import (
        make_consumption_answer,
        make_refund_request,
        make_transfer_request,
    )

    purchase = "2000000999000001"
    picture_purchase(maya, purchase, order_id="MQ1W2E3R4T", status="active")
    make_lookup(agent_user, order_id="MQ1W2E3R4T")
    SubscriptionExtension.objects.create(
        agent=agent_user,
        environment="Production",
        original_transaction_id=purchase,
        extend_by_days=7,
        reason_code=SubscriptionExtension.Reason.SERVICE_ISSUE,
        ticket_reference="SD-9",
        outcome=SubscriptionExtension.Outcome.AWAITING_APPROVAL,
    )
    case = make_refund_request(original_transaction_id=purchase, reason="UNINTENDED_PURCHASE")
    make_consumption_answer(agent_user, case)
    make_transfer_request(agent_user, maya, original_transaction_id=purchase)
    AppStoreNotification.objects.create(
        notification_uuid="b2d4c6e8-0000-4000-8000-000000000001",
        environment="Production",
        notification_type="DID_RENEW",
        signed_date=timezone.now(),
        original_transaction_id=purchase,
        payload={},
    )
    add_note(agent_user, maya, "Promised a call back", ticket="SD-9")

    page = html.unescape(agent_client.get(reverse("lookups:account", args=[maya.pk])).text)
    timeline = page[page.index('id="timeline"') :]
    for said in (
        "Apple: Renewed",
        "Looked up order MQ1W2E3R4T",
        "Extension by 7 days: waiting for a manager",
        "Apple asked about a refund",
        "Answered Apple's refund request",
        "Transfer to this customer",
        "Note added",
    ):
        assert said in timeline, said
    refunds = page[page.index('id="customer-refunds"') :]
    assert purchase in refunds and "Waiting for an answer" in refunds


def test_a_revoked_purchase_is_among_the_refunds(agent_client, maya):
    from django.utils import timezone

    picture_purchase(maya, "2000000999000002", status="revoked", revocation_date=timezone.now())
    page = agent_client.get(reverse("lookups:account", args=[maya.pk])).text
    refunds = page[page.index('id="customer-refunds"') :]
    assert "2000000999000002" in refunds and "Refunded or revoked by Apple" in refunds


def test_each_purchase_leads_with_its_status_line(agent_client, maya):
    picture_purchase(maya, "2000000999000003", status="active", auto_renew=True)
    page = agent_client.get(reverse("lookups:account", args=[maya.pk])).text
    row = page[page.index('id="purchase-2000000999000003"') :]
    assert "status-active" in row and "Auto-renew on" in row


def test_the_timeline_holds_only_the_apps_in_view(agent_user, make_account):
    from lookups.models import App
    from lookups.services.account_timeline import timeline
    from lookups.services.app_scope import EVERY_APP
    from lookups.services.apps import desk_apps

    desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    customer = make_account()
    ours = make_token_change(agent_user, customer, original_transaction_id="2000000999300001")
    theirs = make_token_change(
        agent_user, customer, original_transaction_id="2000000999300002", app=coach
    )

    everything = timeline(customer, [])
    only_coach = timeline(customer, [], apps=EVERY_APP.narrowed_to(coach))

    ids = {event.original_transaction_id for event in everything if event.kind == "link"}
    assert ids == {ours.original_transaction_id, theirs.original_transaction_id}
    assert [e.original_transaction_id for e in only_coach if e.kind == "link"] == [
        theirs.original_transaction_id
    ]


def test_a_testers_sandbox_purchase_is_listed_beside_the_real_ones_and_labelled(agent_client, maya):
    picture_purchase(maya, "2000000999000004", status="active")
    picture_purchase(maya, "2000000999000005", status="active", environment="Sandbox")

    page = agent_client.get(reverse("lookups:account", args=[maya.pk])).text

    real = page[page.index('id="purchase-2000000999000004"') :].split("</tr>")[0]
    sandbox = page[page.index('id="purchase-2000000999000005"') :].split("</tr>")[0]
    assert "Sandbox: a test purchase, no money moved" in sandbox
    assert "Sandbox" not in real


def test_the_timeline_tells_the_links_it_is_given_without_reading_them_again(
    agent_user, make_account
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lookups.services.account_timeline import timeline

    customer = make_account()
    change = make_token_change(agent_user, customer)
    read = list(customer.token_changes.select_related("agent").order_by("-created_at"))

    with CaptureQueriesContext(connection) as captured:
        events = timeline(customer, [], changes=read)

    assert [e.original_transaction_id for e in events if e.kind == "link"] == [
        change.original_transaction_id
    ]
    assert not any('FROM "lookups_tokenchange"' in q["sql"] for q in captured.captured_queries)
