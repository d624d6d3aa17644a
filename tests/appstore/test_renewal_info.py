"""Signed renewal info: why and until when a subscription renews, unknown fields and values kept,
the same chain checks as transactions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lookups.appstore.renewal_info import AutoRenewStatus, ExpirationIntent
from lookups.appstore.verify import VerificationError
from lookups.simulators.appstore import make_signing_chain, sign_jws
from lookups.simulators.appstore.catalog import DAY_MS, PRO_YEARLY
from lookups.simulators.demo_data import (
    ORDER_EXPIRED,
    ORDER_GRACE_PERIOD,
    ORDER_LINKED_IN_APP,
    ORDER_UPGRADED,
)
from tests.fixtures.appstore_api import only_subscription


def renewal_payload(simulator, **changes):
    payload = {
        "originalTransactionId": "2000000815627301",
        "autoRenewStatus": 1,
        "environment": "Production",
        "signedDate": simulator.store.now_ms(),
        "renewalDate": simulator.store.now_ms() + 10 * DAY_MS,
    }
    return {**payload, **changes}


def test_renewal_info_says_why_and_until_when(api_client, api_verifier, simulator):
    expired = only_subscription(
        api_client, api_verifier, simulator.order_transaction_ids(ORDER_EXPIRED)[0]
    )[-1]
    assert expired.auto_renew_status == AutoRenewStatus.OFF
    assert expired.expiration_intent == ExpirationIntent.CUSTOMER_CANCELLED
    assert not expired.will_renew
    assert expired.renewal_price is None

    grace = only_subscription(
        api_client, api_verifier, simulator.order_transaction_ids(ORDER_GRACE_PERIOD)[0]
    )[-1]
    assert grace.is_in_billing_retry_period is True
    assert grace.expiration_intent == ExpirationIntent.BILLING_ERROR
    assert grace.grace_period_expires_date > datetime.now(UTC)
    assert grace.will_renew
    assert grace.renewal_price is not None and grace.currency == "USD"

    sofia = only_subscription(
        api_client, api_verifier, simulator.order_transaction_ids(ORDER_LINKED_IN_APP)[0]
    )
    assert sofia[2].status == 1
    assert sofia[-1].auto_renew_status == AutoRenewStatus.OFF
    assert sofia[-1].app_account_token == sofia[3].app_account_token is not None


def test_an_upgrade_renews_as_the_product_it_moved_to(api_client, api_verifier, simulator):
    original = simulator.order_transaction_ids(ORDER_UPGRADED)[0]
    _, _, last, transaction, renewal = only_subscription(api_client, api_verifier, original)
    assert last.status == 1
    assert transaction.product_id == renewal.auto_renew_product_id == PRO_YEARLY


def test_unknown_renewal_fields_and_values_survive(api_verifier, simulator):
    renewal = api_verifier.decode_renewal_info(
        sign_jws(
            renewal_payload(simulator, expirationIntent=9, eligibleWinBackOfferIds=["WB1"]),
            simulator.chain,
        )
    )
    assert renewal.expiration_intent == 9
    assert renewal.expiration_intent.name == "UNKNOWN_9"
    assert renewal.unknown_fields == {"eligibleWinBackOfferIds": ["WB1"]}


@pytest.mark.parametrize(
    ("make_signed", "check"),
    [
        (lambda s: sign_jws(renewal_payload(s), make_signing_chain()), "root"),
        (lambda s: sign_jws(renewal_payload(s, environment="Sandbox"), s.chain), "environment"),
        (lambda s: sign_jws(renewal_payload(s, bundleId="com.example.x"), s.chain), "bundle_id"),
        (lambda s: sign_jws(renewal_payload(s, autoRenewStatus="on"), s.chain), "payload"),
        (lambda s: sign_jws(renewal_payload(s), s.chain)[:-4] + "AAAA", "signature"),
    ],
)
def test_renewal_info_gets_the_same_chain_checks(api_verifier, simulator, make_signed, check):
    with pytest.raises(VerificationError) as refused:
        api_verifier.decode_renewal_info(make_signed(simulator))
    assert refused.value.check == check
