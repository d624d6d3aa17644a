"""Get All Subscription Statuses, signed renewal info, Get Transaction Info and Get Refund History
V2: our client and verifier against the simulator over real HTTP."""

from __future__ import annotations

import pytest

from lookups.appstore.errors import (
    InvalidRequestRevisionError,
    InvalidStatusError,
    InvalidTransactionIdError,
    TransactionIdNotFoundError,
)
from lookups.appstore.renewal_info import RenewalInfo
from lookups.simulators.appstore.catalog import DAY_MS, LIFETIME, PRO_GROUP
from lookups.simulators.demo_data import (
    AIKO,
    APP_TRANSACTION_IDS,
    LUKAS,
    ORDER_BILLING_RETRY,
    ORDER_EXPIRED,
    ORDER_GRACE_PERIOD,
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
    ORDER_REVOKED_SUBSCRIPTION,
)
from tests.fixtures.appstore_api import error_of, only_subscription


@pytest.mark.parametrize(
    ("order_id", "status"),
    [
        (ORDER_OFFER_CODE, 1),
        (ORDER_EXPIRED, 2),
        (ORDER_BILLING_RETRY, 3),
        (ORDER_GRACE_PERIOD, 4),
        (ORDER_REVOKED_SUBSCRIPTION, 5),
    ],
)
def test_it_reports_each_subscription_state_with_verified_renewal_info(
    api_client, api_verifier, simulator, order_id, status
):
    original = simulator.order_transaction_ids(order_id)[0]
    statuses, group, last, transaction, renewal = only_subscription(
        api_client, api_verifier, original
    )

    assert statuses.environment == "Production"
    assert statuses.bundle_id == simulator.bundle_id
    assert statuses.app_apple_id == simulator.app_apple_id
    assert group.subscription_group_identifier == PRO_GROUP
    assert last.status == status
    assert last.original_transaction_id == original
    assert transaction.transaction_id == simulator.order_transaction_ids(order_id)[-1]
    assert isinstance(renewal, RenewalInfo)
    assert renewal.original_transaction_id == original
    assert renewal.renewal_date == transaction.expires_date


def test_the_status_filter_keeps_only_those_states(api_client, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    assert api_client.get_all_subscription_statuses(original, statuses=[2, 3]).groups == ()
    [group] = api_client.get_all_subscription_statuses(original, statuses=[1]).groups
    assert [t.status for t in group.last_transactions] == [1]
    assert simulator.requests[-1] == ("GET", f"/inApps/v1/subscriptions/{original}")


def test_a_customer_without_subscriptions_has_no_groups(api_client, simulator):
    lifetime = simulator.order_transaction_ids(ORDER_REFUNDED)[0]
    assert api_client.get_all_subscription_statuses(lifetime).groups == ()


def test_statuses_errors_reach_the_agent_in_plain_words(api_client, signed_request, simulator):
    with pytest.raises(InvalidStatusError) as refused:
        api_client.get_all_subscription_statuses("2000000815627301", statuses=[6])
    assert refused.value.answered_code is None
    assert simulator.requests == []

    response = signed_request("GET", "/inApps/v1/subscriptions/2000000815627301?status=6")
    assert error_of(response) == (
        400,
        4000031,
        "Invalid request. The status parameter is invalid.",
    )
    with pytest.raises(TransactionIdNotFoundError) as unknown:
        api_client.get_all_subscription_statuses("1999999999999999")
    assert unknown.value.answered_code == 4040010
    assert "(Apple error 4040010)" in unknown.value.describe()
    with pytest.raises(InvalidTransactionIdError):
        api_client.get_all_subscription_statuses("not-a-number")


def test_transaction_info_is_the_transaction_as_it_stands(api_client, api_verifier, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_REFUNDED)[0]
    transaction = api_verifier.decode_transaction(api_client.get_transaction_info(transaction_id))
    assert transaction.transaction_id == transaction_id
    assert transaction.is_revoked
    assert {k: v for k, v in transaction.raw.items() if k != "signedDate"} == (
        simulator.transaction(transaction_id)
    )
    with pytest.raises(TransactionIdNotFoundError):
        api_client.get_transaction_info("1999999999999999")
    with pytest.raises(InvalidTransactionIdError):
        api_client.get_transaction_info("abc")


def test_refund_history_pages_twenty_at_a_time(api_client, api_verifier, simulator):
    customer = APP_TRANSACTION_IDS[LUKAS]
    now = simulator.store.now_ms()
    refunded = []
    for n in range(25):
        transaction_id = simulator.store.add_transaction(
            customer, product_id=LIFETIME, purchase_date=now - (60 - n) * DAY_MS
        )
        simulator.revoke(transaction_id, revocation_date=now - (30 - n) * DAY_MS)
        refunded.append(transaction_id)

    pages = list(api_client.iter_refund_history(customer))

    assert [len(p.signed_transactions) for p in pages] == [20, 5]
    assert [p.has_more for p in pages] == [True, False]
    decoded = [api_verifier.decode_transaction(s) for p in pages for s in p.signed_transactions]
    assert [t.transaction_id for t in decoded] == refunded
    assert all(t.is_revoked for t in decoded)
    assert [path for _, path in simulator.requests] == [f"/inApps/v2/refund/lookup/{customer}"] * 2


def test_refund_history_lists_only_refunds_and_refuses_a_bad_revision(
    api_client, api_verifier, simulator
):
    james_refund = simulator.order_transaction_ids(ORDER_REFUNDED)[0]
    page = api_client.get_refund_history(james_refund)
    decoded = [api_verifier.decode_transaction(s) for s in page.signed_transactions]
    assert [t.transaction_id for t in decoded] == [james_refund]
    assert api_client.get_refund_history(APP_TRANSACTION_IDS[AIKO]).signed_transactions == ()
    with pytest.raises(InvalidRequestRevisionError):
        api_client.get_refund_history(james_refund, revision="bm90LWEtcmV2aXNpb24")


def test_each_endpoint_has_its_own_rate_budget(api_client, rate_limiter, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    api_client.get_all_subscription_statuses(original)
    api_client.get_transaction_info(original)
    api_client.get_refund_history(original)
    assert rate_limiter.endpoints == ["statuses", "transaction_info", "refund_history"]


# --- verifying signed renewal info ---------------------------------------------------------------


def test_a_429_on_statuses_is_waited_out_and_retried(api_client, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    simulator.inject_fault("rate_limit", endpoint="statuses", retry_after_ms=50)
    statuses = api_client.get_all_subscription_statuses(original)
    assert [g.subscription_group_identifier for g in statuses.groups] == [PRO_GROUP]
    assert simulator.requests == [("GET", f"/inApps/v1/subscriptions/{original}")] * 2
