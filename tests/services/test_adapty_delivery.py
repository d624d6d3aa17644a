"""Granting access in Adapty when a purchase is linked: the delivery log, the view, the retry."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from lookups import tasks
from lookups.adapty.client import AdaptyClient
from lookups.appstore import HistoryFilters
from lookups.models import (
    AdaptyDelivery,
    Lookup,
    TokenChange,
)
from lookups.services.adapty_delivery import deliver, send_to_adapty
from lookups.services.looking_up import history_in_apps
from lookups.simulators.demo_apps import (
    COACH_LATEST,
    COACH_TRANSACTIONS,
    ORDER_COACH,
    SANDBOX_TESTER_PURCHASE,
)
from lookups.simulators.demo_data import (
    JAMES,
    LUKAS,
    MAYA,
    OFFER_CODE_LATEST,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.adapty_simulator import ADAPTY_TEST_KEY, COACH_ADAPTY_KEY
from tests.fixtures.background_work import MAYA_ORIGINAL, queued
from tests.fixtures.pages import HTMX, link, look_up
from tests.fixtures.rows import (
    make_lookup,
    make_token_change,
)

pytestmark = pytest.mark.django_db


def retry(client, change: TokenChange, **headers):
    return client.post(reverse("lookups:adapty_retry", args=[change.pk]), headers=headers)


def linked_change(agent, account, lookup, original_transaction_id) -> TokenChange:
    change = make_token_change(
        agent, account, lookup=lookup, original_transaction_id=original_transaction_id
    )
    change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


# --- Linking sends the purchase to Adapty --------------------------------------------------------


def test_a_linked_purchase_is_granted_in_adapty(
    agent_client, agent_user, appstore_settings, adapty_settings, adapty, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)

    response = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert response.status_code == 200
    assert "Linked to <strong>Maya Patel</strong>" in response.text
    assert f"Adapty: access granted to customer user ID <strong>{MAYA}</strong>" in response.text
    change = TokenChange.objects.get()
    delivery = AdaptyDelivery.objects.get()
    assert (delivery.token_change, delivery.agent) == (change, agent_user)
    assert delivery.customer_user_id == MAYA
    assert delivery.outcome == AdaptyDelivery.Outcome.SUCCEEDED
    assert (delivery.attempts, delivery.http_status, delivery.error_code) == (1, 200, "")
    assert len(delivery.request_id) == 32 and delivery.settled_at is not None

    (request,) = adapty.requests
    assert request.customer_user_id == MAYA
    # The latest transaction of the purchase the agent was shown, under its original.
    assert request.body["store_transaction_id"] == OFFER_CODE_LATEST
    assert request.body["store_original_transaction_id"] == PURCHASE_OFFER_CODE
    assert request.body["purchase_type"] == "subscription"
    assert adapty.profile(MAYA)["access_levels"][0]["access_level_id"] == "premium"


def test_the_accounts_own_adapty_id_is_used_when_it_has_one(
    agent_client, appstore_settings, adapty_settings, adapty, make_demo_customer
):
    maya = make_demo_customer(MAYA, adapty_customer_user_id="adapty-maya-77")
    lookup = look_up(agent_client, ORDER_OFFER_CODE)

    link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert AdaptyDelivery.objects.get().customer_user_id == "adapty-maya-77"
    assert [r.customer_user_id for r in adapty.requests] == ["adapty-maya-77"]


def test_without_a_key_adapty_is_left_alone(
    agent_client, appstore_settings, settings, adapty, maya
):
    settings.ADAPTY_SECRET_KEY = ""
    settings.ADAPTY_BASE_URL = adapty.url
    lookup = look_up(agent_client, ORDER_OFFER_CODE)

    response = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert "Linked to <strong>Maya Patel</strong>" in response.text
    assert "Adapty" not in response.text
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []


# --- Each app with its own Adapty key ------------------------------------------------------------


def link_coach_purchase(agent_client, maya):
    lookup = look_up(agent_client, ORDER_COACH)
    return link(agent_client, COACH_TRANSACTIONS[0], maya, lookup)


def coach_sandbox_link(agent_user, account, coach) -> TokenChange:
    """A Sandbox purchase of Coach's, in the desk's picture, linked by the desk."""
    history_in_apps(agent_user, SANDBOX_TESTER_PURCHASE, filters=HistoryFilters())
    change = make_token_change(
        agent_user,
        account,
        original_transaction_id=SANDBOX_TESTER_PURCHASE,
        app=coach,
        environment="Sandbox",
    )
    change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def test_each_apps_purchase_reaches_adapty_under_its_own_key(
    agent_client, appstore_settings, adapty, maya, coach_on_adapty
):
    link(agent_client, PURCHASE_OFFER_CODE, maya, look_up(agent_client, ORDER_OFFER_CODE))

    response = link_coach_purchase(agent_client, maya)

    assert f"Adapty: access granted to customer user ID <strong>{MAYA}</strong>" in response.text
    assert TokenChange.objects.latest("pk").app == coach_on_adapty.coach
    assert [d.outcome for d in AdaptyDelivery.objects.order_by("pk")] == ["succeeded"] * 2
    assert [(r.secret_key, r.body["store_original_transaction_id"]) for r in adapty.requests] == [
        (ADAPTY_TEST_KEY, PURCHASE_OFFER_CODE),
        (COACH_ADAPTY_KEY, COACH_TRANSACTIONS[0]),
    ]
    # Each key sees its own app's profile of Maya, holding that app's purchase only.
    in_demo = adapty.profile(MAYA)["subscriptions"]
    in_coach = adapty.profile(MAYA, COACH_ADAPTY_KEY)["subscriptions"]
    assert [sub["store_transaction_id"] for sub in in_demo] == [OFFER_CODE_LATEST]
    assert [sub["store_transaction_id"] for sub in in_coach] == [COACH_LATEST]


def test_an_app_without_an_adapty_key_is_not_sent_and_the_page_says_so(
    agent_client, appstore_settings, adapty_settings, adapty, maya, three_apps
):
    response = link_coach_purchase(agent_client, maya)

    assert "Linked to <strong>Maya Patel</strong>" in response.text
    assert (
        "Adapty: not sent. Coach has no Adapty key on this desk, so its purchases are not sent "
        "to Adapty." in response.text
    )
    assert "Send to Adapty again" not in response.text
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []
    assert retry(agent_client, TokenChange.objects.get()).status_code == 404


def test_an_app_whose_adapty_key_cannot_be_read_is_a_recorded_failure(
    agent_client, appstore_settings, adapty, maya, coach_on_adapty, monkeypatch
):
    monkeypatch.delenv("COACH_TEST_ADAPTY_KEY")

    response = link_coach_purchase(agent_client, maya)

    assert response.status_code == 200
    assert "Linked to <strong>Maya Patel</strong>" in response.text
    delivery = AdaptyDelivery.objects.get()
    assert delivery.outcome == AdaptyDelivery.Outcome.FAILED
    assert delivery.error_message == (
        "Nothing was sent to Adapty. Coach's Adapty key can't be read (neither "
        "COACH_TEST_ADAPTY_KEY nor COACH_TEST_ADAPTY_KEY_FILE is set). An administrator can fix "
        "where its key is on the app's page in the admin."
    )
    assert "Adapty: access not granted. Nothing was sent to Adapty." in response.text
    assert "Send to Adapty again" in response.text
    assert adapty.requests == []

    # Once the key is back, the agent's retry sends it under Coach's key.
    monkeypatch.setenv("COACH_TEST_ADAPTY_KEY", COACH_ADAPTY_KEY)
    again = retry(agent_client, delivery.token_change, **HTMX)

    assert "Adapty: access granted" in again.text
    assert [r.secret_key for r in adapty.requests] == [COACH_ADAPTY_KEY]


def test_a_key_adapty_refuses_is_named_by_where_it_is(
    agent_client, appstore_settings, adapty, maya, coach_on_adapty, monkeypatch
):
    monkeypatch.setenv("COACH_TEST_ADAPTY_KEY", "secret_test_revoked")

    link_coach_purchase(agent_client, maya)

    delivery = AdaptyDelivery.objects.get()
    assert (delivery.outcome, delivery.http_status) == (AdaptyDelivery.Outcome.FAILED, 401)
    assert "check Coach's Adapty key (COACH_TEST_ADAPTY_KEY)" in delivery.error_message
    assert "secret_test_revoked" not in delivery.error_message


def test_the_workers_next_attempt_goes_with_the_rows_apps_key(
    agent_user, appstore_settings, queued_adapty, adapty, maya, coach_on_adapty
):
    change = coach_sandbox_link(agent_user, maya, coach_on_adapty.coach)
    adapty.inject_fault("server_error", times=3)
    deliver(send_to_adapty(agent_user, change).pk)

    second = change.adapty_deliveries.get(attempt=2)
    AdaptyDelivery.objects.filter(pk=second.pk).update(not_before=timezone.now())
    deliver(second.pk)

    assert change.adapty_deliveries.get(attempt=2).outcome == AdaptyDelivery.Outcome.SUCCEEDED
    assert {r.secret_key for r in adapty.requests} == {COACH_ADAPTY_KEY}
    assert adapty.profile(MAYA) is None
    assert adapty.profile(MAYA, COACH_ADAPTY_KEY) is not None


def test_a_failed_apple_link_is_not_sent_to_adapty(
    agent_client, appstore_settings, adapty_settings, simulator, adapty, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    simulator.inject_fault("internal_error", endpoint="set_token", times=5)

    response = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert "The link failed" in response.text
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.FAILED
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []


def test_a_double_submitted_link_sends_to_adapty_once(
    agent_client, appstore_settings, adapty_settings, adapty, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    data = {
        "account": maya.pk,
        "ticket_reference": "ZD-2077",
        "request_id": str(uuid.uuid4()),
        "lookup": lookup.pk,
    }
    url = reverse("lookups:link", args=[PURCHASE_OFFER_CODE])

    agent_client.post(url, data, headers={"HX-Request": "true"})
    second = agent_client.post(url, data, headers={"HX-Request": "true"})

    assert "Adapty: access granted" in second.text
    assert AdaptyDelivery.objects.count() == 1
    assert len(adapty.requests) == 1


# --- Partial success and the retry ---------------------------------------------------------------


def test_an_adapty_outage_leaves_the_link_and_offers_a_retry(
    agent_client, appstore_settings, adapty_settings, adapty, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    adapty.inject_fault("server_error", http_status=503, times=3)

    response = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert response.status_code == 200
    assert "Linked to <strong>Maya Patel</strong>" in response.text
    assert "Adapty: access not granted. Adapty had a problem of its own (HTTP 503" in response.text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    retry_url = reverse("lookups:adapty_retry", args=[change.pk])
    assert f'hx-post="{retry_url}"' in response.text and f'action="{retry_url}"' in response.text
    failed = AdaptyDelivery.objects.get()
    assert failed.outcome == AdaptyDelivery.Outcome.FAILED
    assert (failed.attempts, failed.http_status) == (3, 503)
    assert failed.error_code == "internal_server_error"
    assert "Internal server error." in failed.error_message
    assert len(failed.request_id) == 32
    assert len(adapty.requests) == 3

    again = retry(agent_client, change, **{"HX-Request": "true"})

    assert again.status_code == 200
    assert "Adapty: access granted" in again.text
    assert "Linked to <strong>Maya Patel</strong>" in again.text
    assert "<html" not in again.text
    assert list(change.adapty_deliveries.values_list("outcome", flat=True)) == [
        "succeeded",
        "failed",
    ]
    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert TokenChange.objects.count() == 1
    assert len(adapty.requests) == 4


def test_a_customer_unknown_to_adapty_is_reported_after_one_attempt(
    agent_client, appstore_settings, adapty_settings, adapty, maya
):
    adapty.known_customers = set()
    lookup = look_up(agent_client, ORDER_OFFER_CODE)

    response = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    assert f"Adapty has no profile for customer user ID {MAYA}" in response.text
    delivery = AdaptyDelivery.objects.get()
    assert (delivery.http_status, delivery.error_code, delivery.attempts) == (
        404,
        "profile_does_not_exist",
        1,
    )
    assert len(adapty.requests) == 1


def test_a_slow_adapty_is_retried_within_the_one_click(
    agent_client, appstore_settings, adapty_settings, adapty, maya
):
    adapty.inject_fault("slow", delay_seconds=1.5)
    lookup = look_up(agent_client, ORDER_OFFER_CODE)

    link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)

    delivery = AdaptyDelivery.objects.get()
    assert (delivery.outcome, delivery.attempts) == (AdaptyDelivery.Outcome.SUCCEEDED, 2)


def test_the_retry_without_htmx_shows_the_whole_page(
    agent_client, agent_user, appstore_settings, adapty_settings, adapty, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    change = linked_change(agent_user, maya, lookup, PURCHASE_OFFER_CODE)

    response = retry(agent_client, change)

    assert response.status_code == 200
    assert "<html" in response.text and "Link purchase <span" in response.text
    assert "Adapty: access granted" in response.text
    assert AdaptyDelivery.objects.get().outcome == AdaptyDelivery.Outcome.SUCCEEDED


def test_the_retry_takes_post_only(agent_client, agent_user, adapty_settings, customer_account):
    change = make_token_change(agent_user, customer_account)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    response = agent_client.get(reverse("lookups:adapty_retry", args=[change.pk]))

    assert response.status_code == 405
    assert not AdaptyDelivery.objects.exists()


def test_the_retry_sends_anonymous_users_to_login(
    client, agent_user, adapty_settings, customer_account
):
    change = make_token_change(agent_user, customer_account)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    response = retry(client, change)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not AdaptyDelivery.objects.exists()


def test_the_retry_needs_the_link_permission(
    auditor_client, agent_user, adapty_settings, adapty, customer_account
):
    change = make_token_change(agent_user, customer_account)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    assert retry(auditor_client, change).status_code == 403
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []


@pytest.mark.parametrize("outcome", ["pending", "failed"])
def test_only_a_succeeded_link_can_be_sent(
    agent_client, agent_user, adapty_settings, adapty, customer_account, outcome
):
    change = make_token_change(agent_user, customer_account)
    if outcome == "failed":
        change.settle(TokenChange.Outcome.FAILED, error_message="Apple said no")

    assert retry(agent_client, change).status_code == 404
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []


def test_the_retry_is_not_found_with_adapty_off(
    agent_client, agent_user, settings, adapty, customer_account
):
    settings.ADAPTY_SECRET_KEY = ""
    change = make_token_change(agent_user, customer_account)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    assert retry(agent_client, change).status_code == 404
    assert not AdaptyDelivery.objects.exists()


# --- The delivery record --------------------------------------------------------------------------


def test_the_delivery_is_recorded_as_sent_before_adapty_is_called(
    agent_user, appstore_settings, adapty_settings, agent_client, maya, monkeypatch
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    change = linked_change(agent_user, maya, lookup, PURCHASE_OFFER_CODE)
    seen = []
    real = AdaptyClient.set_transaction

    def spy(self, customer_user_id, body):
        seen.append(list(AdaptyDelivery.objects.values_list("outcome", "settled_at")))
        return real(self, customer_user_id, body)

    monkeypatch.setattr(AdaptyClient, "set_transaction", spy)

    delivery = send_to_adapty(agent_user, change)

    assert seen == [[("sent", None)]]
    assert delivery.outcome == AdaptyDelivery.Outcome.SUCCEEDED


def test_an_unexpected_failure_is_recorded_and_not_raised(
    agent_user, appstore_settings, adapty_settings, agent_client, maya, monkeypatch
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    change = linked_change(agent_user, maya, lookup, PURCHASE_OFFER_CODE)

    def explode(self, customer_user_id, body):
        raise RuntimeError("bug")

    monkeypatch.setattr(AdaptyClient, "set_transaction", explode)

    delivery = send_to_adapty(agent_user, change)

    delivery.refresh_from_db()
    assert delivery.outcome == AdaptyDelivery.Outcome.FAILED
    assert delivery.error_message == "Unexpected failure: RuntimeError"
    assert delivery.settled_at is not None


def test_without_a_recorded_transaction_nothing_is_sent(
    agent_user, adapty_settings, adapty, customer_account
):
    change = linked_change(agent_user, customer_account, make_lookup(agent_user), "2000000111")

    delivery = send_to_adapty(agent_user, change)

    delivery.refresh_from_db()
    assert delivery.outcome == AdaptyDelivery.Outcome.FAILED
    assert delivery.error_message.startswith(
        "Nothing was sent to Adapty. No verified App Store transaction of this purchase"
    )
    assert delivery.attempts == 0 and delivery.http_status is None
    assert delivery.settled_at is not None
    assert adapty.requests == []


def test_a_link_made_without_a_lookup_sends_the_desks_picture_of_the_purchase(
    agent_client, agent_user, appstore_settings, adapty_settings, adapty, maya
):
    # The desk learns the purchase (as from a notification); the link starts from the unlinked
    # list, with no lookup of the agent's behind it.
    look_up(agent_client, ORDER_OFFER_CODE)
    change = linked_change(agent_user, maya, None, PURCHASE_OFFER_CODE)

    delivery = send_to_adapty(agent_user, change)

    assert delivery.outcome == AdaptyDelivery.Outcome.SUCCEEDED
    (request,) = adapty.requests
    assert request.body["store_original_transaction_id"] == PURCHASE_OFFER_CODE
    assert adapty.profile(MAYA) is not None


def test_a_sandbox_purchase_of_another_app_linked_there_is_sent_from_its_picture(
    agent_user, appstore_settings, adapty, maya, coach_on_adapty
):
    change = coach_sandbox_link(agent_user, maya, coach_on_adapty.coach)

    delivery = send_to_adapty(agent_user, change)

    assert delivery.outcome == AdaptyDelivery.Outcome.SUCCEEDED
    (request,) = adapty.requests
    assert request.body["store_original_transaction_id"] == SANDBOX_TESTER_PURCHASE
    assert request.secret_key == COACH_ADAPTY_KEY


def test_a_transaction_adapty_cannot_take_is_not_sent(
    agent_user, adapty_settings, adapty, customer_account
):
    payload = {
        "transactionId": "2000000222",
        "originalTransactionId": "2000000222",
        "productId": "com.example.supportdesk.demo.lifetime",
        "type": "Non-Consumable",
        "purchaseDate": 1_760_000_000_000,
        "storefront": "ATA",
        "currency": "USD",
        "price": 1000,
    }
    lookup = make_lookup(agent_user, transactions=[{"verified": True, "payload": payload}])
    change = linked_change(agent_user, customer_account, lookup, "2000000222")

    delivery = send_to_adapty(agent_user, change)

    assert delivery.outcome == AdaptyDelivery.Outcome.FAILED
    assert "storefront ATA" in delivery.error_message
    assert adapty.requests == []


def test_a_refunded_purchase_is_sent_as_refunded(
    agent_client, agent_user, appstore_settings, adapty_settings, adapty, james
):
    lookup = look_up(agent_client, ORDER_REFUNDED)
    original = lookup.transactions[0]["payload"]["originalTransactionId"]
    change = linked_change(agent_user, james, lookup, original)

    delivery = send_to_adapty(agent_user, change)

    assert delivery.outcome == AdaptyDelivery.Outcome.SUCCEEDED
    (request,) = adapty.requests
    assert request.body["cancellation_reason"] == "refund" and "refunded_at" in request.body
    profile = adapty.profile(JAMES)
    assert profile["access_levels"] == []
    assert profile["non_subscriptions"][0]["is_refund"] is True


def test_a_non_consumable_grants_lifetime_access(
    agent_client, agent_user, appstore_settings, adapty_settings, adapty, lukas
):
    lookup = look_up(agent_client, ORDER_NON_CONSUMABLE)
    original = lookup.transactions[0]["payload"]["originalTransactionId"]
    change = linked_change(agent_user, lukas, lookup, original)

    send_to_adapty(agent_user, change)

    (request,) = adapty.requests
    assert request.body["purchase_type"] == "one_time_purchase"
    assert request.body["price"] == {"country": "DE", "currency": "EUR", "value": 149.99}
    (level,) = adapty.profile(LUKAS)["access_levels"]
    assert level["expires_at"] is None


# --- The admin -----------------------------------------------------------------------------------


@pytest.fixture
def deliveries(agent_user, customer_account) -> list[AdaptyDelivery]:
    change = linked_change(agent_user, customer_account, None, "2000000333444555")
    common = {"token_change": change, "agent": agent_user, "customer_user_id": "cust-jane"}
    return [
        AdaptyDelivery.objects.create(**common, outcome="failed", request_id="req-failed-1"),
        AdaptyDelivery.objects.create(**common, outcome="succeeded", request_id="req-ok-2"),
    ]


def test_auditors_read_deliveries_and_search_them(auditor_client, deliveries):
    url = reverse("admin:lookups_adaptydelivery_changelist")

    listing = auditor_client.get(url)
    by_request = auditor_client.get(url, {"q": "req-ok-2"})
    by_purchase = auditor_client.get(url, {"q": "2000000333444555"})
    failed = auditor_client.get(url, {"outcome__exact": "failed"})

    assert listing.status_code == 200 and "req-failed-1" in listing.text
    assert "req-ok-2" in by_request.text and "req-failed-1" not in by_request.text
    assert "req-ok-2" in by_purchase.text and "req-failed-1" in by_purchase.text
    assert "req-failed-1" in failed.text and "req-ok-2" not in failed.text


def test_nobody_edits_a_delivery_in_the_admin(superuser_client, deliveries):
    delivery = deliveries[0]
    change_url = reverse("admin:lookups_adaptydelivery_change", args=[delivery.pk])

    page = superuser_client.get(change_url)

    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert superuser_client.get(reverse("admin:lookups_adaptydelivery_add")).status_code == 403
    delete_url = reverse("admin:lookups_adaptydelivery_delete", args=[delivery.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AdaptyDelivery.objects.count() == 2


def test_the_token_change_page_lists_its_deliveries(auditor_client, deliveries):
    change = deliveries[0].token_change

    page = auditor_client.get(reverse("admin:lookups_tokenchange_change", args=[change.pk]))

    assert page.status_code == 200
    assert "req-failed-1" in page.text and "req-ok-2" in page.text


def test_a_link_superseded_by_a_later_one_is_not_sent_again(
    agent_client, agent_user, adapty_settings, adapty, customer_account, make_account
):
    first = make_token_change(agent_user, customer_account)
    first.settle(TokenChange.Outcome.SUCCEEDED)
    moved = make_token_change(
        agent_user, make_account(), original_transaction_id=first.original_transaction_id
    )
    moved.settle(TokenChange.Outcome.SUCCEEDED)

    assert retry(agent_client, first).status_code == 404
    assert not AdaptyDelivery.objects.exists()
    assert adapty.requests == []


def test_the_link_page_polls_the_delivery_until_it_settles(
    agent_client, appstore_settings, queued_adapty, adapty, make_account
):
    maya = make_account(external_id="acct-1001", display_name="Maya Patel")
    assert agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    lookup = Lookup.objects.get()
    data = {"account": maya.pk, "ticket_reference": "ZD-1", "request_id": str(uuid.uuid4())}

    response = agent_client.post(
        reverse("lookups:link", args=[MAYA_ORIGINAL]), {**data, "lookup": lookup.pk}, headers=HTMX
    )

    change = TokenChange.objects.get()
    delivery = AdaptyDelivery.objects.get()
    assert delivery.outcome == AdaptyDelivery.Outcome.QUEUED and adapty.requests == []
    (task,) = queued(tasks.deliver_to_adapty)
    assert task.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
    status_url = reverse("lookups:link_status", args=[change.pk])
    assert "Adapty: queued for customer user ID acct-1001" in response.text
    assert f'hx-get="{status_url}"' in response.text and 'hx-trigger="every 2s"' in response.text
    assert f'href="{status_url}"' in response.text

    deliver(delivery.pk)
    polled = agent_client.get(status_url, headers=HTMX)

    assert "Adapty: access granted to customer user ID <strong>acct-1001</strong>" in polled.text
    assert "hx-trigger" not in polled.text and "<html" not in polled.text
    whole = agent_client.get(status_url)
    assert "<html" in whole.text and "Adapty: access granted" in whole.text


def test_a_delivery_run_twice_is_sent_once(agent_user, queued_adapty, adapty, linked):
    delivery = send_to_adapty(agent_user, linked)

    deliver(delivery.pk)
    deliver(delivery.pk)

    assert len(adapty.requests) == 1
    assert AdaptyDelivery.objects.get().outcome == AdaptyDelivery.Outcome.SUCCEEDED


def test_an_outage_is_sent_again_later_then_left_to_the_agent(
    agent_user, agent_client, queued_adapty, adapty, linked
):
    adapty.inject_fault("server_error", http_status=503, times=9)
    first = send_to_adapty(agent_user, linked)

    deliver(first.pk)

    failed, second = linked.adapty_deliveries.order_by("pk")
    assert failed.outcome == AdaptyDelivery.Outcome.FAILED and failed.attempts == 3
    assert (second.outcome, second.attempt) == (AdaptyDelivery.Outcome.QUEUED, 2)
    assert second.not_before > timezone.now()
    (_, retry_task) = queued(tasks.deliver_to_adapty)
    assert retry_task.run_after == second.not_before
    page = agent_client.get(reverse("lookups:link_status", args=[linked.pk]), headers=HTMX)
    assert "attempt 2, not before" in page.text and 'hx-trigger="every 2s"' in page.text

    # Not due yet: a worker that runs it early sends nothing.
    deliver(second.pk)
    assert len(adapty.requests) == 3

    for attempt in (2, 3):
        row = linked.adapty_deliveries.get(attempt=attempt)
        AdaptyDelivery.objects.filter(pk=row.pk).update(not_before=timezone.now())
        deliver(row.pk)

    assert list(linked.adapty_deliveries.values_list("attempt", "outcome")) == [
        (3, "failed"),
        (2, "failed"),
        (1, "failed"),
    ]
    assert len(adapty.requests) == 9
    page = agent_client.get(reverse("lookups:link_status", args=[linked.pk]), headers=HTMX)
    assert "Send to Adapty again" in page.text and "hx-trigger" not in page.text


def test_the_retry_button_queues_a_new_first_attempt_once(
    agent_client, agent_user, queued_adapty, adapty, linked
):
    url = reverse("lookups:adapty_retry", args=[linked.pk])

    agent_client.post(url, headers=HTMX)
    again = agent_client.post(url, headers=HTMX)

    assert again.status_code == 200 and "Adapty: queued" in again.text
    assert list(linked.adapty_deliveries.values_list("outcome", "attempt")) == [("queued", 1)]
