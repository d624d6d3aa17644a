"""Fixtures for every test: the simulators over real HTTP, users per role, demo customers."""

import os

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytest_plugins = [
    "tests.fixtures.appstore_simulator",
    "tests.fixtures.adapty_simulator",
    "tests.fixtures.users",
    "tests.fixtures.demo_customers",
    "tests.fixtures.appstore_api",
    "tests.fixtures.apple_library",
]

# Property-based tests: modest by default so the suite stays fast; HYPOTHESIS_PROFILE=thorough
# digs deeper. Function-scoped fixtures (a signed-in client, the database) are shared by the
# examples of one test on purpose.
hypothesis_settings.register_profile(
    "supportdesk",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("supportdesk"), max_examples=1000
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "supportdesk"))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as its database starts empty."""
    cache.clear()
    yield
