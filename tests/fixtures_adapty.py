"""Fixtures for the Adapty simulator: one server for the session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from lookups.simulators.adapty import AdaptySimulator
from lookups.simulators.appstore.catalog import CREDITS_10, CREDITS_50

__all__ = ["ADAPTY_TEST_KEY", "adapty", "adapty_settings", "adapty_simulator_server"]

ADAPTY_TEST_KEY = "secret_test_7QX2.supportdesk-tests"


@pytest.fixture(scope="session")
def adapty_simulator_server() -> Iterator[AdaptySimulator]:
    simulator = AdaptySimulator(
        secret_key=ADAPTY_TEST_KEY, consumable_products=[CREDITS_10, CREDITS_50]
    )
    with simulator:
        yield simulator


@pytest.fixture
def adapty(adapty_simulator_server: AdaptySimulator) -> Iterator[AdaptySimulator]:
    """The session's Adapty simulator with no profiles, faults or logged requests."""
    adapty_simulator_server.reset()
    yield adapty_simulator_server
    adapty_simulator_server.reset()


@pytest.fixture
def adapty_settings(settings: Settings, adapty: AdaptySimulator) -> Settings:
    """Django settings that turn the Adapty step on and point it at the simulator."""
    settings.ADAPTY_SECRET_KEY = ADAPTY_TEST_KEY
    settings.ADAPTY_BASE_URL = adapty.url
    # Short enough that a "slow" fault costs the suite little; retries keep their real count.
    settings.ADAPTY_TIMEOUT_SECONDS = 0.5
    settings.ADAPTY_MAX_ATTEMPTS = 3
    # The delivery runs in the request (the immediate backend), once: these tests are about
    # what is sent and recorded; tests/test_tasks_*.py run it through the real queue.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.ADAPTY_DELIVERY_ATTEMPTS = 1
    return settings
