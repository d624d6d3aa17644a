"""Our verifier's online checks against the simulator's OCSP responder: the leaf and the
intermediate are checked against the responder they name, answers cached while they hold, a
revoked certificate refused, and a responder that can't be reached a retryable failure."""

from __future__ import annotations

import time

import pytest

from lookups.appstore.revocation import OnlineChecks, RevocationUnavailableError
from lookups.appstore.verify import TransactionVerifier, VerificationError, load_root_certificates
from lookups.simulators.appstore.certificates import make_signing_chain
from lookups.simulators.appstore.ocsp_responder import DEFAULT_VALIDITY_SECONDS
from lookups.simulators.appstore.signing import sign_jws
from lookups.simulators.demo_data import CREDITS_UNFINISHED


@pytest.fixture
def online_verifier(appstore_credentials, simulator_root_path) -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates([simulator_root_path]),
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        app_apple_id=appstore_credentials.app_apple_id,
        online_checks=OnlineChecks(timeout_seconds=2),
    )


def signed(simulator, transaction_id: str = CREDITS_UNFINISHED) -> str:
    payload = {**simulator.transaction(transaction_id), "signedDate": simulator.store.now_ms()}
    return sign_jws(payload, simulator.chain)


def test_a_good_chain_passes_and_its_answers_are_cached(online_verifier, simulator):
    assert online_verifier.decode_transaction(signed(simulator)).transaction_id == (
        CREDITS_UNFINISHED
    )
    assert simulator.ocsp_requests == 2  # the leaf and the intermediate
    for _ in range(5):
        online_verifier.decode_transaction(signed(simulator))
    assert simulator.ocsp_requests == 2  # held for the response's validity


@pytest.mark.parametrize("target", ["leaf", "intermediate"])
def test_a_revoked_certificate_is_refused(online_verifier, simulator, target):
    simulator.inject_fault("revoked_certificate", endpoint="ocsp", target=target)
    with pytest.raises(VerificationError) as refused:
        online_verifier.decode_transaction(signed(simulator))
    assert (refused.value.check, refused.value.retryable) == ("revoked", False)
    assert target in refused.value.detail


def test_a_responder_answering_an_error_is_retryable(online_verifier, simulator):
    simulator.inject_fault("internal_error", endpoint="ocsp")
    with pytest.raises(RevocationUnavailableError) as unavailable:
        online_verifier.decode_transaction(signed(simulator))
    assert unavailable.value.retryable is True
    assert "HTTP 500" in unavailable.value.detail
    # Nothing was cached from the failure: the next try asks again and passes.
    assert online_verifier.decode_transaction(signed(simulator))


def test_a_responder_that_cannot_be_reached_is_retryable(simulator, online_verifier):
    # A chain under the trusted root whose certificates name a port nobody listens on.
    away = make_signing_chain(root=simulator.chain, ocsp_url="http://127.0.0.1:9/ocsp")
    token = sign_jws({**simulator.transaction(CREDITS_UNFINISHED), "signedDate": 1}, away)
    with pytest.raises(RevocationUnavailableError) as unavailable:
        online_verifier.decode_transaction(token)
    assert unavailable.value.check == "revocation_unavailable"
    assert "could not be reached" in unavailable.value.detail


def test_a_chain_naming_no_responder_is_refused(simulator, online_verifier):
    bare = make_signing_chain(root=simulator.chain)
    token = sign_jws({**simulator.transaction(CREDITS_UNFINISHED), "signedDate": 1}, bare)
    with pytest.raises(VerificationError) as refused:
        online_verifier.decode_transaction(token)
    assert (refused.value.check, refused.value.retryable) == ("revocation", False)


class Clock:
    """The time the caches go by, moved on by the test; the responder keeps the real one."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_good_answer_is_kept_only_for_its_validity(
    appstore_credentials, simulator_root_path, simulator
):
    clock = Clock()
    verifier = TransactionVerifier(
        load_root_certificates([simulator_root_path]),
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        online_checks=OnlineChecks(timeout_seconds=2, clock=clock),
        clock=clock,
    )
    verifier.decode_transaction(signed(simulator))
    assert simulator.ocsp_requests == 2
    simulator.inject_fault("revoked_certificate", endpoint="ocsp", target="leaf", times=2)
    clock.now += DEFAULT_VALIDITY_SECONDS - 60
    verifier.decode_transaction(signed(simulator))  # the answer still holds: not asked
    assert simulator.ocsp_requests == 2
    clock.now += 120  # past the answer's nextUpdate: asked again, and now revoked
    with pytest.raises(VerificationError) as refused:
        verifier.decode_transaction(signed(simulator))
    assert refused.value.check == "revoked"
    # A refusal is never kept as an answer: the next token asks again.
    with pytest.raises(VerificationError):
        verifier.decode_transaction(signed(simulator))
    assert simulator.ocsp_requests == 4
