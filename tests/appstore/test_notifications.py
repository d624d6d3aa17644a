"""TransactionVerifier.decode_notification: Apple's signedPayload, trusted only when it is ours."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lookups.appstore import (
    NotificationSubtype,
    NotificationType,
    TransactionVerifier,
    VerificationError,
)
from lookups.appstore.notifications import ConsumptionRequestReason, SubscriptionStatus
from lookups.appstore.renewal_info import AutoRenewStatus, ExpirationIntent
from lookups.appstore.transactions import OfferType
from lookups.simulators.appstore.certificates import make_signing_chain
from lookups.simulators.appstore.signing import sign_jws

BUNDLE_ID = "com.example.notify"
APP_APPLE_ID = 987654321


def now_ms() -> int:
    return int(time.time() * 1000)


def transaction(**overrides) -> dict:
    base = {
        "transactionId": "2000000000000002",
        "originalTransactionId": "2000000000000001",
        "bundleId": BUNDLE_ID,
        "productId": "com.example.pro.monthly",
        "purchaseDate": now_ms() - 1000,
        "expiresDate": now_ms() + 30 * 86_400_000,
        "type": "Auto-Renewable Subscription",
        "inAppOwnershipType": "PURCHASED",
        "signedDate": now_ms(),
        "environment": "Production",
        "transactionReason": "RENEWAL",
        "offerType": 3,
    }
    return base | overrides


def renewal(**overrides) -> dict:
    base = {
        "originalTransactionId": "2000000000000001",
        "productId": "com.example.pro.monthly",
        "autoRenewProductId": "com.example.pro.monthly",
        "autoRenewStatus": 0,
        "expirationIntent": 1,
        "isInBillingRetryPeriod": False,
        "renewalDate": now_ms() + 30 * 86_400_000,
        "signedDate": now_ms(),
        "environment": "Production",
    }
    return base | overrides


def notification(chain, *, data: dict | None = None, **overrides) -> dict:
    body = {
        "bundleId": BUNDLE_ID,
        "appAppleId": APP_APPLE_ID,
        "bundleVersion": "1.0",
        "environment": "Production",
        "status": 1,
        "signedTransactionInfo": sign_jws(transaction(), chain),
        "signedRenewalInfo": sign_jws(renewal(), chain),
    }
    payload = {
        "notificationType": "DID_CHANGE_RENEWAL_STATUS",
        "subtype": "AUTO_RENEW_DISABLED",
        "notificationUUID": "0b9f7c1e-4b6a-4c8e-9d3f-2a1b0c9d8e7f",
        "data": body | (data or {}),
        "version": "2.0",
        "signedDate": now_ms(),
    }
    return payload | overrides


@pytest.fixture(scope="module")
def chain():
    return make_signing_chain()


@pytest.fixture
def verifier(chain) -> TransactionVerifier:
    return TransactionVerifier(
        [chain.root], bundle_id=BUNDLE_ID, environment="Production", app_apple_id=APP_APPLE_ID
    )


def refusal(verifier: TransactionVerifier, signed: str) -> str:
    with pytest.raises(VerificationError) as caught:
        verifier.decode_notification(signed)
    return caught.value.check


def test_it_decodes_a_notification_with_its_transaction_and_renewal_info(verifier, chain):
    decoded = verifier.decode_notification(sign_jws(notification(chain), chain))

    assert decoded.notification_type is NotificationType.DID_CHANGE_RENEWAL_STATUS
    assert decoded.subtype is NotificationSubtype.AUTO_RENEW_DISABLED
    assert decoded.notification_uuid == "0b9f7c1e-4b6a-4c8e-9d3f-2a1b0c9d8e7f"
    assert decoded.version == "2.0"
    assert decoded.signed_date.tzinfo is UTC
    assert abs(decoded.signed_date - datetime.now(UTC)).total_seconds() < 60
    assert decoded.data.bundle_id == BUNDLE_ID
    assert decoded.data.app_apple_id == APP_APPLE_ID
    assert decoded.data.bundle_version == "1.0"
    assert decoded.data.status is SubscriptionStatus.ACTIVE
    assert decoded.transaction.transaction_id == "2000000000000002"
    assert decoded.transaction.offer_type is OfferType.OFFER_CODE
    assert decoded.renewal_info.original_transaction_id == "2000000000000001"
    assert decoded.renewal_info.auto_renew_status is AutoRenewStatus.OFF
    assert decoded.renewal_info.will_renew is False
    assert decoded.renewal_info.expiration_intent is ExpirationIntent.CUSTOMER_CANCELLED
    assert decoded.summary is None


def test_a_notification_without_transaction_decodes_with_empty_parts(verifier, chain):
    payload = notification(chain, notificationType="TEST", subtype=None)
    del payload["data"]["signedTransactionInfo"], payload["data"]["signedRenewalInfo"]
    decoded = verifier.decode_notification(sign_jws(payload, chain))
    assert decoded.notification_type is NotificationType.TEST
    assert decoded.subtype is None
    assert decoded.transaction is None
    assert decoded.renewal_info is None


def test_unknown_types_subtypes_and_fields_survive(verifier, chain):
    payload = notification(
        chain,
        notificationType="SOMETHING_NEW",
        subtype="BRAND_NEW",
        data={"shinyField": [1, 2], "consumptionRequestReason": "A_NEW_REASON", "status": 9},
        futureField={"kept": True},
    )
    decoded = verifier.decode_notification(sign_jws(payload, chain))
    assert decoded.notification_type == "SOMETHING_NEW"
    assert decoded.notification_type.name == "UNKNOWN_SOMETHING_NEW"
    assert decoded.subtype == "BRAND_NEW"
    assert decoded.data.consumption_request_reason == "A_NEW_REASON"
    assert decoded.data.status == 9
    assert decoded.data.raw["shinyField"] == [1, 2]
    assert decoded.unknown_fields == {"futureField": {"kept": True}}


def test_a_consumption_request_carries_its_reason(verifier, chain):
    payload = notification(
        chain,
        notificationType="CONSUMPTION_REQUEST",
        subtype=None,
        data={"consumptionRequestReason": "FULFILLMENT_ISSUE"},
    )
    decoded = verifier.decode_notification(sign_jws(payload, chain))
    reason = decoded.data.consumption_request_reason
    assert reason is ConsumptionRequestReason.FULFILLMENT_ISSUE


def test_a_mass_extension_summary_is_kept_as_apple_wrote_it(verifier, chain):
    summary = {
        "requestIdentifier": "b5b0e1f2-mass",
        "environment": "Production",
        "appAppleId": APP_APPLE_ID,
        "bundleId": BUNDLE_ID,
        "productId": "com.example.pro.monthly",
        "storefrontCountryCodes": ["USA", "CAN"],
        "succeededCount": 12,
        "failedCount": 1,
    }
    payload = notification(
        chain, notificationType="RENEWAL_EXTENSION", subtype="SUMMARY", summary=summary
    )
    del payload["data"]
    decoded = verifier.decode_notification(sign_jws(payload, chain))
    assert decoded.data is None
    assert dict(decoded.summary) == summary
    assert decoded.subtype is NotificationSubtype.SUMMARY


def test_a_tampered_payload_is_refused(verifier, chain):
    signed = sign_jws(notification(chain), chain)
    header, payload, signature = signed.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["notificationType"] = "REFUND"
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    assert refusal(verifier, f"{header}.{forged}.{signature}") == "signature"


def test_a_payload_signed_under_another_root_is_refused(verifier, chain):
    stranger = make_signing_chain()
    assert refusal(verifier, sign_jws(notification(stranger), stranger)) == "root"


def test_a_notification_for_another_app_is_refused(verifier, chain):
    other_bundle = notification(chain, data={"bundleId": "com.example.other"})
    assert refusal(verifier, sign_jws(other_bundle, chain)) == "bundle_id"
    other_app = notification(chain, data={"appAppleId": 1})
    assert refusal(verifier, sign_jws(other_app, chain)) == "app_apple_id"
    no_app_id = notification(chain)
    del no_app_id["data"]["appAppleId"]
    assert refusal(verifier, sign_jws(no_app_id, chain)) == "app_apple_id"


def test_a_notification_from_another_environment_is_refused(verifier, chain):
    sandbox = notification(chain, data={"environment": "Sandbox"})
    assert refusal(verifier, sign_jws(sandbox, chain)) == "environment"


def test_a_sandbox_desk_accepts_a_sandbox_notification_without_app_apple_id(chain):
    sandbox_verifier = TransactionVerifier(
        [chain.root], bundle_id=BUNDLE_ID, environment="Sandbox", app_apple_id=APP_APPLE_ID
    )
    payload = notification(
        chain,
        data={
            "environment": "Sandbox",
            "signedTransactionInfo": sign_jws(transaction(environment="Sandbox"), chain),
            "signedRenewalInfo": sign_jws(renewal(environment="Sandbox"), chain),
        },
    )
    del payload["data"]["appAppleId"]
    decoded = sandbox_verifier.decode_notification(sign_jws(payload, chain))
    assert decoded.data.environment == "Sandbox"


def test_a_nested_token_is_vouched_for_by_the_notifications_signature(verifier, chain):
    # The nested tokens' bytes are part of the signed payload: checked once, with it. Their own
    # chain, app and environment are still checked (the test below).
    inner = sign_jws(transaction(), chain)
    header, payload, _ = inner.split(".")
    other_signature = sign_jws(transaction(transactionId="2000000000000009"), chain).split(".")[2]
    carried = notification(
        chain, data={"signedTransactionInfo": f"{header}.{payload}.{other_signature}"}
    )
    decoded = verifier.decode_notification(sign_jws(carried, chain))
    assert decoded.data.transaction.transaction_id == "2000000000000002"
    unsigned = notification(chain, data={"signedTransactionInfo": f"{header}.{payload}."})
    assert refusal(verifier, sign_jws(unsigned, chain)) == "signature"


def test_a_nested_transaction_of_another_app_or_chain_is_refused(verifier, chain):
    foreign = notification(
        chain,
        data={"signedTransactionInfo": sign_jws(transaction(bundleId="com.x.other"), chain)},
    )
    with pytest.raises(VerificationError) as caught:
        verifier.decode_notification(sign_jws(foreign, chain))
    assert caught.value.check == "bundle_id"
    assert caught.value.detail.startswith("signedTransactionInfo: ")
    stranger = make_signing_chain()
    untrusted = notification(chain, data={"signedRenewalInfo": sign_jws(renewal(), stranger)})
    assert refusal(verifier, sign_jws(untrusted, chain)) == "root"
    sandbox_renewal = notification(
        chain, data={"signedRenewalInfo": sign_jws(renewal(environment="Sandbox"), chain)}
    )
    assert refusal(verifier, sign_jws(sandbox_renewal, chain)) == "environment"


def test_a_notification_without_uuid_type_or_app_is_refused(verifier, chain):
    without_uuid = notification(chain)
    del without_uuid["notificationUUID"]
    assert refusal(verifier, sign_jws(without_uuid, chain)) == "payload"
    without_type = notification(chain)
    del without_type["notificationType"]
    assert refusal(verifier, sign_jws(without_type, chain)) == "payload"
    without_data = notification(chain)
    del without_data["data"]
    assert refusal(verifier, sign_jws(without_data, chain)) == "payload"


def test_mistyped_fields_are_refused_not_crashed_on(verifier, chain):
    for data in (
        {"status": "active"},
        {"signedTransactionInfo": 42},
        {"signedRenewalInfo": sign_jws(renewal(isInBillingRetryPeriod="no"), chain)},
    ):
        with pytest.raises(VerificationError):
            verifier.decode_notification(sign_jws(notification(chain, data=data), chain))
    bad_summary = notification(chain, summary="not an object")
    with pytest.raises(VerificationError):
        verifier.decode_notification(sign_jws(bad_summary, chain))


def test_garbage_is_refused_as_a_format_problem(verifier):
    assert refusal(verifier, "not.a.jws!") == "format"
    assert refusal(verifier, "") == "format"


# --- whatever Apple (or anyone) signs, the answer is a notification or a VerificationError ------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
NOTIFICATION_KEYS = [
    "notificationType",
    "subtype",
    "notificationUUID",
    "version",
    "summary",
    "signedDate",
]
DATA_KEYS = ["status", "consumptionRequestReason", "bundleVersion", "appAppleId", "environment"]


@given(
    top=st.dictionaries(st.sampled_from(NOTIFICATION_KEYS), json_values, max_size=3),
    data=st.dictionaries(st.sampled_from(DATA_KEYS), json_values, max_size=3),
)
def test_any_signed_field_values_decode_or_are_refused(chain, top, data):
    verifier = TransactionVerifier(
        [chain.root], bundle_id=BUNDLE_ID, environment="Production", app_apple_id=APP_APPLE_ID
    )
    payload = notification(chain, data=data) | top
    try:
        decoded = verifier.decode_notification(sign_jws(payload, chain))
    except VerificationError as refusal:
        assert refusal.check
    else:
        assert decoded.notification_uuid
        assert decoded.notification_type is not None


def test_the_decoded_notification_keeps_the_json_text_apple_signed(verifier, chain):
    signed = sign_jws(notification(chain), chain)
    payload_part = signed.split(".")[1]

    decoded = verifier.decode_notification(signed)

    assert decoded.text == base64.urlsafe_b64decode(payload_part + "==").decode()
    assert json.loads(decoded.text) == dict(decoded.raw)
