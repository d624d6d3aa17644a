"""Apple's own `app-store-server-library`, unchanged, drives the simulator over real HTTP.

Its `AppStoreServerAPIClient` has no base-URL parameter: the constructor picks Apple's host from
the environment and keeps it in `_base_url`, which prefixes every path. Setting that one attribute
after construction points the client at the simulator; everything else (its bearer token without
`iat`, a new connection per call, its request bodies and query strings) is Apple's. Its
`SignedDataVerifier` trusts the simulator's root, with online checks off.
"""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from appstoreserverlibrary.api_client import (
    APIException,
    GetTransactionHistoryVersion,
)
from appstoreserverlibrary.models.ConsumptionRequest import ConsumptionRequest
from appstoreserverlibrary.models.DeliveryStatus import DeliveryStatus
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.models.ExtendReasonCode import ExtendReasonCode
from appstoreserverlibrary.models.ExtendRenewalDateRequest import (
    ExtendRenewalDateRequest,
)
from appstoreserverlibrary.models.RefundPreference import RefundPreference
from appstoreserverlibrary.models.Status import Status
from appstoreserverlibrary.models.TransactionHistoryRequest import (
    Order,
    TransactionHistoryRequest,
)
from appstoreserverlibrary.models.UpdateAppAccountTokenRequest import (
    UpdateAppAccountTokenRequest,
)
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore.catalog import DAY_MS, LIFETIME
from lookups.simulators.appstore.events import REFUND, RENEWAL_EXTENDED
from lookups.simulators.demo_data import (
    AIKO,
    APP_TRANSACTION_IDS,
    LUKAS,
    ORDER_BILLING_RETRY,
    ORDER_CONSUMABLES,
    ORDER_EXPIRED,
    ORDER_FAMILY_SHARED,
    ORDER_GRACE_PERIOD,
    ORDER_OFFER_CODE,
    ORDER_REVOKED_SUBSCRIPTION,
)


def test_apple_signs_its_bearer_token_without_iat(apple_client):
    claims = jwt.decode(apple_client._generate_token(), options={"verify_signature": False})
    assert "iat" not in claims
    assert set(claims) == {"bid", "iss", "aud", "exp"}


def test_look_up_order_id(apple_client, apple_verifier, simulator):
    answer = apple_client.look_up_order_id(ORDER_OFFER_CODE)
    decoded = [
        apple_verifier.verify_and_decode_signed_transaction(s) for s in answer.signedTransactions
    ]
    assert answer.rawStatus == 0
    assert [t.transactionId for t in decoded] == simulator.order_transaction_ids(ORDER_OFFER_CODE)
    assert apple_client.look_up_order_id("MZ8Q4KDJ7V").rawStatus == 1


@pytest.mark.parametrize(
    "version", [GetTransactionHistoryVersion.V1, GetTransactionHistoryVersion.V2]
)
def test_transaction_history_with_paging(apple_client, apple_verifier, version):
    customer = APP_TRANSACTION_IDS[AIKO]
    request = TransactionHistoryRequest(sort=Order.ASCENDING, revoked=False)
    revision, pages = None, []
    while True:
        page = apple_client.get_transaction_history(customer, revision, request, version)
        pages.append(page)
        if not page.hasMore:
            break
        revision = page.revision
    decoded = [
        apple_verifier.verify_and_decode_signed_transaction(s)
        for page in pages
        for s in page.signedTransactions
    ]
    # Aiko has 36 transactions; V1 leaves out the ten credit packs the app finished.
    expected = 36 if version == GetTransactionHistoryVersion.V2 else 26
    assert len(decoded) == expected
    assert [len(p.signedTransactions) for p in pages] == [20, expected - 20]
    assert len({t.transactionId for t in decoded}) == expected


@pytest.mark.parametrize(
    ("order_id", "status"),
    [
        (ORDER_OFFER_CODE, Status.ACTIVE),
        (ORDER_EXPIRED, Status.EXPIRED),
        (ORDER_BILLING_RETRY, Status.BILLING_RETRY),
        (ORDER_GRACE_PERIOD, Status.BILLING_GRACE_PERIOD),
        (ORDER_REVOKED_SUBSCRIPTION, Status.REVOKED),
    ],
)
def test_all_subscription_statuses_and_their_renewal_info(
    apple_client, apple_verifier, simulator, order_id, status
):
    original = simulator.order_transaction_ids(order_id)[0]
    answer = apple_client.get_all_subscription_statuses(original)

    assert answer.environment == Environment.PRODUCTION
    assert answer.appAppleId == simulator.app_apple_id
    [group] = answer.data
    [last] = group.lastTransactions
    assert last.status == status
    transaction = apple_verifier.verify_and_decode_signed_transaction(last.signedTransactionInfo)
    renewal = apple_verifier.verify_and_decode_renewal_info(last.signedRenewalInfo)
    assert renewal.originalTransactionId == transaction.originalTransactionId == original
    assert renewal.renewalDate == transaction.expiresDate
    assert renewal.environment == Environment.PRODUCTION
    assert renewal.rawAutoRenewStatus in (0, 1)

    filtered = apple_client.get_all_subscription_statuses(original, [Status.ACTIVE])
    assert bool(filtered.data) == (status == Status.ACTIVE)


def test_transaction_info(apple_client, apple_verifier, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[1]
    answer = apple_client.get_transaction_info(transaction_id)
    decoded = apple_verifier.verify_and_decode_signed_transaction(answer.signedTransactionInfo)
    assert decoded.transactionId == transaction_id
    assert decoded.quantity == 2


def test_refund_history_with_paging(apple_client, apple_verifier, simulator):
    customer = APP_TRANSACTION_IDS[LUKAS]
    now = simulator.store.now_ms()
    for n in range(22):
        refunded = simulator.store.add_transaction(
            customer, product_id=LIFETIME, purchase_date=now - (40 - n) * DAY_MS
        )
        simulator.revoke(refunded, revocation_date=now - (20 - n) * DAY_MS)

    first = apple_client.get_refund_history(customer, None)
    second = apple_client.get_refund_history(customer, first.revision)

    assert (len(first.signedTransactions), first.hasMore) == (20, True)
    assert (len(second.signedTransactions), second.hasMore) == (2, False)
    decoded = [
        apple_verifier.verify_and_decode_signed_transaction(s)
        for s in first.signedTransactions + second.signedTransactions
    ]
    assert all(t.revocationDate is not None for t in decoded)


def test_set_app_account_token(apple_client, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    token = str(uuid.uuid4())
    apple_client.set_app_account_token(original, UpdateAppAccountTokenRequest(token))
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    assert simulator.transaction(latest)["appAccountToken"] == token

    with pytest.raises(APIException) as refused:
        apple_client.set_app_account_token(
            simulator.order_transaction_ids(ORDER_FAMILY_SHARED)[0],
            UpdateAppAccountTokenRequest(token),
        )
    assert refused.value.raw_api_error == 4000185
    assert refused.value.error_message == (
        "Invalid request. Family Sharing transactions aren't supported by this endpoint."
    )


def test_extend_a_subscription_renewal_date(apple_client, apple_verifier, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    expires = simulator.transaction(latest)["expiresDate"]
    request = ExtendRenewalDateRequest(
        extendByDays=5,
        extendReasonCode=ExtendReasonCode.SERVICE_ISSUE_OR_OUTAGE,
        requestIdentifier=str(uuid.uuid4()),
    )

    answer = apple_client.extend_subscription_renewal_date(original, request)

    assert answer.success is True
    assert answer.originalTransactionId == original
    assert answer.effectiveDate == expires + 5 * DAY_MS
    assert [e.notification_type for e in simulator.store.events] == [RENEWAL_EXTENDED]

    with pytest.raises(APIException) as refused:
        apple_client.extend_subscription_renewal_date(
            simulator.order_transaction_ids(ORDER_EXPIRED)[0], request
        )
    assert (refused.value.http_status_code, refused.value.raw_api_error) == (403, 4030004)


def test_send_consumption_information(apple_client, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    simulator.store.request_refund(transaction_id)
    simulator.store.refund_decision_seconds = 3600  # decided below, not by the timer

    apple_client.send_consumption_information(
        transaction_id,
        ConsumptionRequest(
            customerConsented=True,
            sampleContentProvided=False,
            deliveryStatus=DeliveryStatus.UNDELIVERED_QUALITY_ISSUE,
            refundPreference=RefundPreference.GRANT_FULL,
        ),
    )

    assert simulator.store.consumption_answers[transaction_id][0]["deliveryStatus"] == (
        "UNDELIVERED_QUALITY_ISSUE"
    )
    assert simulator.store.decide_refund_request(transaction_id) == REFUND
    with pytest.raises(APIException) as refused:
        apple_client.send_consumption_information(
            transaction_id,
            ConsumptionRequest(
                customerConsented=False,
                sampleContentProvided=False,
                deliveryStatus=DeliveryStatus.DELIVERED,
            ),
        )
    assert (refused.value.http_status_code, refused.value.raw_api_error) == (400, 4000035)


def test_apple_error_bodies_use_apples_wording(apple_client, simulator):
    with pytest.raises(APIException) as unknown:
        apple_client.get_transaction_info("1999999999999999")
    assert (unknown.value.raw_api_error, unknown.value.error_message) == (
        4040010,
        "Transaction id not found.",
    )
    renewal = simulator.order_transaction_ids(ORDER_OFFER_CODE)[1]
    with pytest.raises(APIException) as not_original:
        apple_client.set_app_account_token(renewal, UpdateAppAccountTokenRequest(str(uuid.uuid4())))
    assert not_original.value.error_message == (
        "Invalid request. The transaction ID provided is not an original transaction ID."
    )


def test_a_token_without_iat_still_needs_a_near_expiry(simulator, appstore_credentials):
    key = serialization.load_pem_private_key(
        appstore_credentials.private_key_pem.encode(), password=None
    )

    def token(expires_in: int, **extra: int) -> str:
        claims = {
            "bid": appstore_credentials.bundle_id,
            "iss": appstore_credentials.issuer_id,
            "aud": "appstoreconnect-v1",
            "exp": int(time.time()) + expires_in,
            **extra,
        }
        return jwt.encode(
            claims, key, algorithm="ES256", headers={"kid": appstore_credentials.key_id}
        )

    def status(expires_in: int, **extra: int) -> int:
        return requests.get(
            f"{simulator.url}/inApps/v1/lookup/{ORDER_OFFER_CODE}",
            headers={"Authorization": f"Bearer {token(expires_in, **extra)}"},
            timeout=5,
        ).status_code

    assert status(300) == 200
    assert status(3500) == 200
    assert status(2 * 3600) == 401
    assert status(-600) == 401
    # A few seconds of drift either way is tolerated, with or without iat.
    assert status(-10) == 200
    assert status(300, iat=int(time.time()) + 20) == 200
    # With iat, the hour counts from iat, not from now.
    assert status(1800, iat=int(time.time()) - 3000) == 401
