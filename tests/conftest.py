"""Fixtures for every test: the simulators over real HTTP, users per role, demo customers."""

import os

import pytest
from django.conf import global_settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.testcases import LiveServerThread
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.live_server import OneRequestAtATime

pytest_plugins = [
    "tests.fixtures.appstore_simulator",
    "tests.fixtures.adapty_simulator",
    "tests.fixtures.users",
    "tests.fixtures.demo_customers",
    "tests.fixtures.appstore_api",
    "tests.fixtures.apple_library",
    "tests.fixtures.database_roles",
    "tests.fixtures.registered_apps",
    "tests.fixtures.background_work",
    "tests.fixtures.simulator_api",
    "tests.fixtures.counted_redis",
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


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashes():
    """Production hashes passwords slowly on purpose (PBKDF2, a million rounds): a second or more
    of CPU per sign-in on a busy machine, paid by every browser test's sign-in. The tests check
    who may sign in, not how hard a stolen hash is to crack."""
    # Hashes made the production way (the demo logins' among them) still check.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher", *global_settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as its database starts empty."""
    cache.clear()
    yield


if connection.vendor == "sqlite":
    LiveServerThread.server_class = OneRequestAtATime
