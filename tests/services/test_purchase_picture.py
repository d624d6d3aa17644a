"""The desk's picture of each purchase: learnt from verified answers only, trusted while fresh."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lookups.appstore import HistoryFilters
from lookups.models import Lookup, Purchase, TokenChange
from lookups.services.apple_actions.refusal import ActionRefused
from lookups.services.looking_up import look_up_order, transaction_history
from lookups.services.purchase_picture import (
    AppleStatus,
    current_purchase,
    is_fresh,
    learn_purchases,
    order_subscription_key,
    purchase_to_act_on,
)
from lookups.simulators.demo_data import (
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.links import (
    OFFER_CODE_LATEST,
    OFFER_CODE_PURCHASE,
    SOFIAS_PURCHASE,
    look_up,
    post_link,
    set_token_at_apple,
)

pytestmark = pytest.mark.django_db


def test_an_order_lookup_records_each_purchase_as_apple_signed_it(
    agent_client, appstore_settings, simulator
):
    look_up(agent_client, ORDER_LINKED_IN_APP)

    purchase = Purchase.objects.get(original_transaction_id=SOFIAS_PURCHASE)
    assert purchase.learnt_from == Purchase.Source.LOOKUP
    assert purchase.order_id == ORDER_LINKED_IN_APP
    assert purchase.environment == "Production"
    assert purchase.product_id == "com.example.supportdesk.demo.pro.yearly"
    assert str(purchase.app_account_token) == "5c9e1a7b-3d2f-4b8a-a6c4-e0f1d2c3b4a5"
    assert purchase.latest_transaction["transactionId"] == "2000000799031265"


def test_a_history_page_updates_the_token_and_keeps_the_order(
    agent_client, appstore_settings, simulator, maya
):
    look_up(agent_client, ORDER_OFFER_CODE)
    set_token_at_apple(simulator, OFFER_CODE_PURCHASE, maya)

    page = agent_client.get(reverse("lookups:history", args=[OFFER_CODE_PURCHASE]))

    assert page.status_code == 200
    purchase = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    assert purchase.learnt_from == Purchase.Source.HISTORY
    assert purchase.app_account_token == maya.app_account_token
    assert purchase.order_id == ORDER_OFFER_CODE


def test_an_older_history_page_does_not_replace_a_newer_transaction(
    agent_user, agent_client, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    learnt = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    latest_purchased = learnt.latest_transaction["purchaseDate"]
    before_latest = datetime.fromtimestamp(latest_purchased / 1000 - 86400, UTC)

    older = transaction_history(
        agent_user, OFFER_CODE_PURCHASE, filters=HistoryFilters(end_date=before_latest)
    )

    shown = [row.transaction.transaction_id for row in older.rows]
    assert shown and OFFER_CODE_LATEST not in shown
    purchase = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    assert purchase.latest_transaction["transactionId"] == OFFER_CODE_LATEST
    assert purchase.learnt_at == learnt.learnt_at


def test_a_fresh_picture_saves_asking_apple_again(agent_client, appstore_settings, simulator, maya):
    look_up(agent_client, ORDER_OFFER_CODE)
    already = len(simulator.requests)

    assert post_link(agent_client, OFFER_CODE_PURCHASE, maya).status_code == 200

    assert [method for method, _ in simulator.requests[already:]] == ["PUT"]


def test_a_stale_picture_is_read_again_from_apple(agent_client, appstore_settings, simulator, maya):
    look_up(agent_client, ORDER_OFFER_CODE)
    appstore_settings.PURCHASE_FRESH_SECONDS = 60
    Purchase.objects.update(learnt_at=timezone.now() - timedelta(seconds=61))
    # Meanwhile the token was set in the app: the stale picture would say "not linked".
    set_token_at_apple(simulator, OFFER_CODE_PURCHASE, maya)
    already = len(simulator.requests)

    response = post_link(agent_client, OFFER_CODE_PURCHASE, maya)

    assert "already linked to <strong>Maya Patel</strong>" in response.text
    assert [method for method, _ in simulator.requests[already:]] == ["GET"]
    purchase = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    assert purchase.learnt_from == Purchase.Source.APPLE_READ
    assert purchase.app_account_token == maya.app_account_token
    assert purchase.order_id == ORDER_OFFER_CODE


def test_a_change_sent_since_makes_the_picture_stale(
    agent_client, appstore_settings, simulator, maya
):
    look_up(agent_client, ORDER_OFFER_CODE)
    purchase = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    assert is_fresh(purchase)

    assert post_link(agent_client, OFFER_CODE_PURCHASE, maya).status_code == 200

    assert not is_fresh(purchase)
    assert current_purchase(OFFER_CODE_PURCHASE).app_account_token == maya.app_account_token


def test_the_browser_cannot_write_the_picture(agent_client, appstore_settings, simulator, maya):
    look_up(agent_client, ORDER_OFFER_CODE)
    forged = uuid.uuid4()

    post_link(
        agent_client,
        OFFER_CODE_PURCHASE,
        maya,
        expected_token=str(forged),
        app_account_token=str(forged),
        product_id="com.example.forged",
        order_id="MFORGED123",
    )

    purchase = Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE)
    assert purchase.app_account_token is None and purchase.product_id.endswith(".pro.monthly")
    change = TokenChange.objects.get()
    assert change.token_before is None and change.order_id == ORDER_OFFER_CODE
    assert change.product_id == "com.example.supportdesk.demo.pro.monthly"


def test_auditors_can_read_the_picture_in_the_admin(
    auditor_client, agent_client, appstore_settings
):
    look_up(agent_client, ORDER_OFFER_CODE)
    listing = auditor_client.get(reverse("admin:lookups_purchase_changelist"))
    assert listing.status_code == 200 and OFFER_CODE_PURCHASE in listing.text
    assert auditor_client.get(reverse("admin:lookups_purchase_add")).status_code == 403


def test_a_lookup_of_an_order_seen_before_reads_apples_statuses_while_it_waits(
    agent_user, appstore_settings, simulator
):
    look_up_order(agent_user, ORDER_OFFER_CODE)
    simulator.inject_fault("slow", endpoint="lookup", delay_seconds=0.6)
    before = len(simulator.requests)

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    paths = [path for _, path in simulator.requests[before:]]
    arrivals = dict(zip(paths, simulator.request_times[before:], strict=True))
    lookup_at = arrivals[f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"]
    statuses_at = arrivals[f"/inApps/v1/subscriptions/{OFFER_CODE_PURCHASE}"]
    # Asked while Apple was still answering the lookup, not after.
    assert statuses_at < lookup_at + 0.5
    assert result.purchases[OFFER_CODE_PURCHASE].status == Purchase.Status.ACTIVE


def test_a_first_lookup_reads_the_statuses_once_the_order_names_a_subscription(
    agent_user, appstore_settings, simulator
):
    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    paths = [path for _, path in simulator.requests]
    assert paths == [
        f"/inApps/v1/lookup/{ORDER_OFFER_CODE}",
        f"/inApps/v1/subscriptions/{OFFER_CODE_PURCHASE}",
    ]
    assert result.purchases[OFFER_CODE_PURCHASE].status == Purchase.Status.ACTIVE


def test_a_subscription_remembered_wrongly_for_an_order_gives_way_to_the_orders_own(
    agent_user, appstore_settings, simulator
):
    look_up_order(agent_user, ORDER_LINKED_IN_APP)
    # As if the cache held another order's subscription under this order's ID.
    cache.set(order_subscription_key(ORDER_OFFER_CODE), SOFIAS_PURCHASE, 60)
    before = len(simulator.requests)

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    paths = [path for _, path in simulator.requests[before:]]
    assert f"/inApps/v1/subscriptions/{OFFER_CODE_PURCHASE}" in paths
    assert result.purchases[OFFER_CODE_PURCHASE].status == Purchase.Status.ACTIVE
    assert list(result.purchases) == [OFFER_CODE_PURCHASE]


def test_an_order_looked_up_again_writes_nothing_back_to_the_cache(
    redis_trips, agent_user, appstore_settings, simulator
):
    look_up_order(agent_user, ORDER_OFFER_CODE)
    assert cache.get(order_subscription_key(ORDER_OFFER_CODE)) == OFFER_CODE_PURCHASE
    redis_trips.clear()

    look_up_order(agent_user, ORDER_OFFER_CODE)

    assert "SET" not in redis_trips.commands, redis_trips.commands
    assert cache.get(order_subscription_key(ORDER_OFFER_CODE)) == OFFER_CODE_PURCHASE


def test_a_wrong_memory_of_an_order_is_written_over(
    redis_trips, agent_user, appstore_settings, simulator
):
    look_up_order(agent_user, ORDER_LINKED_IN_APP)
    cache.set(order_subscription_key(ORDER_OFFER_CODE), SOFIAS_PURCHASE, 60)

    look_up_order(agent_user, ORDER_OFFER_CODE)

    assert cache.get(order_subscription_key(ORDER_OFFER_CODE)) == OFFER_CODE_PURCHASE


def _status(original_transaction_id: str, status: str, signed_at: datetime) -> AppleStatus:
    return AppleStatus(
        original_transaction_id,
        status,
        signed_at=signed_at,
        source=Purchase.StatusSource.NOTIFICATION,
    )


def test_a_transaction_and_its_status_are_written_in_one_read_and_one_write(
    agent_user, appstore_settings, simulator, django_assert_num_queries
):
    txn = look_up_order(agent_user, ORDER_OFFER_CODE).by_purchase()[0].latest.transaction
    original_id = txn.original_transaction_id
    signed_at = timezone.now()

    with django_assert_num_queries(2):
        learnt = learn_purchases(
            [txn],
            source=Purchase.Source.NOTIFICATION,
            statuses=[_status(original_id, Purchase.Status.BILLING_RETRY, signed_at)],
        )

    assert learnt.statuses_written == {original_id}
    stored = Purchase.objects.get(original_transaction_id=original_id)
    assert (stored.status, stored.status_signed_at) == (Purchase.Status.BILLING_RETRY, signed_at)
    assert stored.learnt_from == Purchase.Source.NOTIFICATION


def test_a_status_alone_writes_only_the_status_fields(agent_user, appstore_settings, simulator):
    txn = look_up_order(agent_user, ORDER_OFFER_CODE).by_purchase()[0].latest.transaction
    original_id = txn.original_transaction_id

    with CaptureQueriesContext(connection) as queries:
        learn_purchases(
            [],
            source=Purchase.Source.NOTIFICATION,
            statuses=[_status(original_id, Purchase.Status.EXPIRED, timezone.now())],
        )

    # So a transaction another writer stored meanwhile is not put back from what was read.
    (write,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    updated = write.split("DO UPDATE SET", 1)[1]
    assert '"status" = EXCLUDED' in updated
    assert '"latest_transaction"' not in updated and '"product_id"' not in updated
    assert Purchase.objects.get(original_transaction_id=original_id).status == "expired"


def test_an_older_status_is_not_written_and_the_newer_one_stays(
    agent_user, appstore_settings, simulator
):
    txn = look_up_order(agent_user, ORDER_OFFER_CODE).by_purchase()[0].latest.transaction
    original_id = txn.original_transaction_id
    newer = timezone.now()
    learn_purchases(
        [],
        source=Purchase.Source.NOTIFICATION,
        statuses=[_status(original_id, Purchase.Status.EXPIRED, newer)],
    )

    learnt = learn_purchases(
        [txn],
        source=Purchase.Source.NOTIFICATION,
        statuses=[_status(original_id, Purchase.Status.ACTIVE, newer - timedelta(minutes=5))],
    )

    assert learnt.statuses_written == set()
    stored = Purchase.objects.get(original_transaction_id=original_id)
    assert (stored.status, stored.status_signed_at) == (Purchase.Status.EXPIRED, newer)


def test_a_status_for_a_purchase_the_desk_has_never_seen_is_skipped(appstore_settings):
    learnt = learn_purchases(
        [],
        source=Purchase.Source.NOTIFICATION,
        statuses=[_status("2000000999999999", Purchase.Status.ACTIVE, timezone.now())],
    )

    assert learnt.purchases == {}
    assert not Purchase.objects.filter(original_transaction_id="2000000999999999").exists()


def test_looking_up_an_order_the_desk_holds_already_locks_and_writes_nothing(
    agent_user, appstore_settings, simulator
):
    look_up_order(agent_user, ORDER_OFFER_CODE)

    with CaptureQueriesContext(connection) as queries:
        result = look_up_order(agent_user, ORDER_OFFER_CODE)

    on_purchases = [q["sql"] for q in queries.captured_queries if "lookups_purchase" in q["sql"]]
    assert not any("FOR UPDATE" in sql or sql.startswith("INSERT") for sql in on_purchases)
    assert result.purchases  # still shown from the picture


def test_a_held_picture_is_refreshed_halfway_through_its_freshness(
    agent_user, appstore_settings, simulator, settings
):
    look_up_order(agent_user, ORDER_OFFER_CODE)
    half_stale = timezone.now() - timedelta(seconds=settings.PURCHASE_FRESH_SECONDS / 2 + 1)
    Purchase.objects.update(learnt_at=half_stale)

    look_up_order(agent_user, ORDER_OFFER_CODE)

    assert not Purchase.objects.filter(learnt_at__lte=half_stale).exists()


# --- Read before an action ----------------------------------------------------------------------


def test_an_action_reads_the_purchase_as_apple_shows_it(appstore_settings, simulator):
    purchase = purchase_to_act_on(PURCHASE_OFFER_CODE, ActionRefused)
    assert purchase.original_transaction_id == PURCHASE_OFFER_CODE


@pytest.mark.parametrize(
    ("fault", "purchase", "status", "sentence"),
    [
        # Apple's own "no such transaction" comes as its error, with its code.
        (None, TRANSACTION_NOT_FOUND, 502, "Apple could not be read, so nothing was sent: The"),
        ("internal_error", PURCHASE_OFFER_CODE, 502, "Apple could not be read, so nothing was"),
        ("untrusted_chain", PURCHASE_OFFER_CODE, 502, "Apple's answer could not be verified"),
    ],
)
def test_an_action_on_a_purchase_apple_cannot_vouch_for_is_refused_in_its_own_words(
    appstore_settings, simulator, fault, purchase, status, sentence
):
    class Refused(ActionRefused):
        pass

    if fault:
        simulator.inject_fault(fault, endpoint="history")

    with pytest.raises(Refused) as refused:
        purchase_to_act_on(purchase, Refused)

    assert refused.value.status == status
    assert refused.value.message.startswith(sentence)


@pytest.mark.django_db(transaction=True)
def test_a_lookup_writes_its_record_with_the_picture_and_alone_when_the_picture_held_it(
    agent_user, appstore_settings, simulator, monkeypatch
):
    """A changed picture and the record commit together; a picture held already (most
    lookups) leaves the record as the lookup's one write, a statement of its own."""
    in_transaction = []
    save = Lookup.save

    def saved(lookup, *args, **kwargs):
        in_transaction.append(connection.in_atomic_block)
        return save(lookup, *args, **kwargs)

    monkeypatch.setattr(Lookup, "save", saved)
    look_up_order(agent_user, ORDER_OFFER_CODE)
    look_up_order(agent_user, ORDER_OFFER_CODE)

    assert in_transaction == [True, False]
    assert Lookup.objects.count() == 2
    assert Purchase.objects.get(original_transaction_id=OFFER_CODE_PURCHASE).order_id == (
        ORDER_OFFER_CODE
    )
