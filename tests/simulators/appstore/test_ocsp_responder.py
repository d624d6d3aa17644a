"""The simulator's certificates name an OCSP responder it serves, so Apple's own verifier works
with online checks on (as Apple recommends in production); a fault revokes a certificate."""

from __future__ import annotations

import pytest
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import (
    SignedDataVerifier,
    VerificationException,
    VerificationStatus,
)
from cryptography.hazmat.primitives import serialization

from lookups.appstore.revocation import responder_url
from lookups.simulators.demo_data import CREDITS_UNFINISHED


@pytest.fixture
def online_verifier(simulator, appstore_credentials) -> SignedDataVerifier:
    return SignedDataVerifier(
        root_certificates=[simulator.chain.root.public_bytes(serialization.Encoding.DER)],
        enable_online_checks=True,
        environment=Environment.PRODUCTION,
        bundle_id=appstore_credentials.bundle_id,
        app_apple_id=appstore_credentials.app_apple_id,
    )


def signed_transaction(apple_client) -> str:
    return apple_client.get_transaction_info(CREDITS_UNFINISHED).signedTransactionInfo


def test_the_leaf_and_the_intermediate_name_the_simulators_responder(simulator):
    assert responder_url(simulator.chain.leaf) == simulator.ocsp_url
    assert responder_url(simulator.chain.intermediate) == simulator.ocsp_url
    assert simulator.ocsp_url == f"{simulator.url}/ocsp"


def test_apples_verifier_with_online_checks_trusts_what_the_simulator_signs(
    apple_client, online_verifier, simulator
):
    transaction = online_verifier.verify_and_decode_signed_transaction(
        signed_transaction(apple_client)
    )
    assert transaction.transactionId == CREDITS_UNFINISHED
    assert simulator.ocsp_requests == 2  # the leaf and the intermediate


@pytest.mark.parametrize("target", ["leaf", "intermediate"])
def test_a_revoked_certificate_is_refused(apple_client, online_verifier, simulator, target):
    simulator.inject_fault("revoked_certificate", endpoint="ocsp", target=target)
    with pytest.raises(VerificationException) as refused:
        online_verifier.verify_and_decode_signed_transaction(signed_transaction(apple_client))
    assert refused.value.status == VerificationStatus.VERIFICATION_FAILURE


def test_a_responder_in_trouble_is_a_retryable_failure(apple_client, online_verifier, simulator):
    simulator.inject_fault("internal_error", endpoint="ocsp")
    with pytest.raises(VerificationException) as refused:
        online_verifier.verify_and_decode_signed_transaction(signed_transaction(apple_client))
    assert refused.value.status == VerificationStatus.RETRYABLE_VERIFICATION_FAILURE


def test_api_faults_leave_the_responder_alone(apple_client, online_verifier, simulator):
    simulator.inject_fault("internal_error", times=5)
    signed = simulator._sign(
        "transaction_info", CREDITS_UNFINISHED, [simulator.transaction(CREDITS_UNFINISHED)]
    )[0]
    assert online_verifier.verify_and_decode_signed_transaction(signed).transactionId == (
        CREDITS_UNFINISHED
    )
    assert len(simulator.pending_faults()) == 1


def test_a_revocation_fault_must_name_the_leaf_or_the_intermediate(simulator):
    with pytest.raises(ValueError, match="revoked_certificate"):
        simulator.inject_fault("revoked_certificate", endpoint="lookup")
    with pytest.raises(ValueError, match="revoked_certificate"):
        simulator.inject_fault("revoked_certificate", target="root")
