"""Several apps on one simulator host, driven by Apple's own Python client with each app's key.

Each app answers only for its own orders and transactions (another app's order is `status: 1`,
as at Apple), checks tokens made with its own key, and keeps a Sandbox apart from Production.
"""

from __future__ import annotations

import pytest
from appstoreserverlibrary.api_client import APIException
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.models.OrderLookupStatus import OrderLookupStatus
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier
from cryptography.hazmat.primitives import serialization

from lookups.simulators.demo_apps import (
    COACH_TRANSACTIONS,
    ORDER_COACH,
    SANDBOX_TESTER_PURCHASE,
)
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.apple_library import apple_client_for
from tests.fixtures.appstore_simulator import AppStoreCredentials


def verifier(simulator, credentials, environment=Environment.PRODUCTION) -> SignedDataVerifier:
    return SignedDataVerifier(
        root_certificates=[simulator.chain.root.public_bytes(serialization.Encoding.DER)],
        enable_online_checks=False,
        environment=environment,
        bundle_id=credentials.bundle_id,
        app_apple_id=credentials.app_apple_id,
    )


def test_each_app_answers_its_own_orders_only(simulator, appstore_credentials, coach_credentials):
    demo = apple_client_for(simulator, appstore_credentials)
    coach = apple_client_for(simulator, coach_credentials)

    assert demo.look_up_order_id(ORDER_OFFER_CODE).status == OrderLookupStatus.VALID
    assert demo.look_up_order_id(ORDER_COACH).status == OrderLookupStatus.INVALID
    assert coach.look_up_order_id(ORDER_OFFER_CODE).status == OrderLookupStatus.INVALID
    answer = coach.look_up_order_id(ORDER_COACH)

    assert answer.status == OrderLookupStatus.VALID
    decoded = [
        verifier(simulator, coach_credentials).verify_and_decode_signed_transaction(signed)
        for signed in answer.signedTransactions
    ]
    assert sorted(t.transactionId for t in decoded) == sorted(COACH_TRANSACTIONS)
    assert {t.bundleId for t in decoded} == {coach_credentials.bundle_id}


def test_an_app_takes_only_tokens_made_with_its_own_key(
    simulator, appstore_credentials, coach_credentials
):
    borrowed = AppStoreCredentials(
        **{**vars(coach_credentials), "private_key_pem": appstore_credentials.private_key_pem}
    )

    with pytest.raises(APIException) as refused:
        apple_client_for(simulator, borrowed).look_up_order_id(ORDER_COACH)

    assert refused.value.http_status_code == 401


def test_the_sandbox_holds_the_testers_purchase_and_production_does_not(
    simulator, coach_credentials
):
    sandbox = apple_client_for(simulator, coach_credentials, Environment.SANDBOX)
    production = apple_client_for(simulator, coach_credentials)

    signed = sandbox.get_transaction_info(SANDBOX_TESTER_PURCHASE).signedTransactionInfo
    tester = verifier(
        simulator, coach_credentials, Environment.SANDBOX
    ).verify_and_decode_signed_transaction(signed)

    assert tester.environment == Environment.SANDBOX
    with pytest.raises(APIException) as missing:
        production.get_transaction_info(SANDBOX_TESTER_PURCHASE)
    assert missing.value.http_status_code == 404


def test_rate_limits_are_counted_per_app(simulator, appstore_credentials, coach_credentials):
    for app in simulator.apps.values():
        app.rate_limits.window_seconds = 1
    demo = apple_client_for(simulator, appstore_credentials)
    coach = apple_client_for(simulator, coach_credentials)
    with pytest.raises(APIException) as limited:
        for _ in range(11):
            demo.look_up_order_id(ORDER_OFFER_CODE)
    assert limited.value.http_status_code == 429

    # Look Up Order ID's ten a second were the demo app's: Coach still has its own.
    assert coach.look_up_order_id(ORDER_COACH).status == OrderLookupStatus.VALID
