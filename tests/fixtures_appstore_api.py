"""Our App Store client and verifier pointed at the simulator, and a raw signed-request helper.

Imported by the test files of the subscription-status, extension and consumption endpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lookups.appstore.client import AppStoreClient, RetryPolicy
from lookups.appstore.verify import TransactionVerifier, load_root_certificates
from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.events import EventListener
from tests.fixtures_simulator import AppStoreCredentials

__all__ = [
    "RecordingRateLimiter",
    "api_client",
    "api_verifier",
    "error_of",
    "rate_limiter",
    "signed_request",
    "store_listener",
]

TIMEOUT = 5
FAST_RETRY = RetryPolicy(
    max_attempts=3, backoff_base_seconds=0.01, backoff_cap_seconds=0.02, call_budget_seconds=5
)


class RecordingRateLimiter:
    """Counts the endpoint names the client asks the shared budget for; never refuses."""

    def __init__(self) -> None:
        self.endpoints: list[str] = []

    def acquire(self, endpoint: str) -> None:
        self.endpoints.append(endpoint)

    def blocked_until(self, endpoint: str, retry_at: Any) -> None:
        pass


@pytest.fixture
def rate_limiter() -> RecordingRateLimiter:
    return RecordingRateLimiter()


@pytest.fixture
def api_client(
    simulator: AppStoreSimulator,
    appstore_credentials: AppStoreCredentials,
    rate_limiter: RecordingRateLimiter,
) -> Iterator[AppStoreClient]:
    client = AppStoreClient(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=appstore_credentials.private_key_pem,
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        base_url=simulator.url,
        retry=FAST_RETRY,
        rate_limiter=rate_limiter,
    )
    yield client
    client.session.close()


@pytest.fixture
def api_verifier(
    appstore_credentials: AppStoreCredentials, simulator_root_path: Path
) -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates([simulator_root_path]),
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        app_apple_id=appstore_credentials.app_apple_id,
    )


@pytest.fixture
def signed_request(
    simulator: AppStoreSimulator, api_client: AppStoreClient
) -> Callable[..., requests.Response]:
    """Any request to the simulator with a valid bearer token, past our client's own checks."""

    def send(method: str, path: str, **options: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {api_client.signer.token()}"}
        return requests.request(
            method, simulator.url + path, headers=headers, timeout=TIMEOUT, **options
        )

    return send


@pytest.fixture
def store_listener(simulator: AppStoreSimulator) -> Iterator[Callable[[EventListener], None]]:
    """Register listeners on the simulator's store for this test only."""
    added: list[EventListener] = []

    def add(listener: EventListener) -> None:
        simulator.store.add_listener(listener)
        added.append(listener)

    yield add
    for listener in added:
        simulator.store.remove_listener(listener)


def error_of(response: requests.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["errorCode"], body["errorMessage"]
