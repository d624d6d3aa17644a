"""Fixtures for the App Store simulator: one server for the session, reset before each test.

The in-app purchase key is generated when the tests start and never written to the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.local import generate_private_key_pem
from lookups.simulators.demo_data import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID

__all__ = [
    "TEST_ISSUER_ID",
    "TEST_KEY_ID",
    "AppStoreCredentials",
    "appstore_credentials",
    "appstore_private_key_pem",
    "appstore_settings",
    "appstore_simulator_server",
    "simulator",
    "simulator_root_path",
]

TEST_ISSUER_ID = "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
TEST_KEY_ID = "TESTKEY7QX"


@dataclass(frozen=True)
class AppStoreCredentials:
    """What both the simulator and the app's client are configured with in tests."""

    issuer_id: str
    key_id: str
    private_key_pem: str
    bundle_id: str
    app_apple_id: int
    environment: str


@pytest.fixture(scope="session")
def appstore_private_key_pem() -> str:
    return generate_private_key_pem().decode("ascii")


@pytest.fixture(scope="session")
def appstore_credentials(appstore_private_key_pem: str) -> AppStoreCredentials:
    return AppStoreCredentials(
        issuer_id=TEST_ISSUER_ID,
        key_id=TEST_KEY_ID,
        private_key_pem=appstore_private_key_pem,
        bundle_id=DEMO_BUNDLE_ID,
        app_apple_id=DEMO_APP_APPLE_ID,
        environment="Production",
    )


@pytest.fixture(scope="session")
def appstore_simulator_server(
    appstore_credentials: AppStoreCredentials,
) -> Iterator[AppStoreSimulator]:
    simulator = AppStoreSimulator(
        bearer_public_key=appstore_credentials.private_key_pem,
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        bundle_id=appstore_credentials.bundle_id,
        app_apple_id=appstore_credentials.app_apple_id,
        environment=appstore_credentials.environment,
    )
    with simulator:
        yield simulator


@pytest.fixture(scope="session")
def simulator_root_path(
    appstore_simulator_server: AppStoreSimulator, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return appstore_simulator_server.write_root(
        tmp_path_factory.mktemp("appstore") / "simulator-root.pem"
    )


@pytest.fixture
def simulator(appstore_simulator_server: AppStoreSimulator) -> Iterator[AppStoreSimulator]:
    """The session's simulator with demo data restored and no faults or logged requests."""
    appstore_simulator_server.reset()
    yield appstore_simulator_server
    appstore_simulator_server.clear_faults()


@pytest.fixture
def appstore_settings(
    settings: Settings,
    simulator: AppStoreSimulator,
    appstore_credentials: AppStoreCredentials,
    simulator_root_path: Path,
) -> Settings:
    """Django settings pointing the app's App Store client at the simulator."""
    settings.APPSTORE_BASE_URL = simulator.url
    settings.APPSTORE_PRIVATE_KEY = appstore_credentials.private_key_pem
    settings.APPSTORE_PRIVATE_KEY_PATH = ""
    settings.APPSTORE_ROOT_CERTIFICATES = [str(simulator_root_path)]
    settings.APPSTORE_ISSUER_ID = appstore_credentials.issuer_id
    settings.APPSTORE_KEY_ID = appstore_credentials.key_id
    settings.APPSTORE_BUNDLE_ID = appstore_credentials.bundle_id
    settings.APPSTORE_APP_APPLE_ID = appstore_credentials.app_apple_id
    settings.APPSTORE_ENVIRONMENT = appstore_credentials.environment
    return settings
