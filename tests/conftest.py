"""Shared fixtures: the App Store simulator over real HTTP, and signed-in users per role."""

import os

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.fixtures_adapty import *  # noqa: F403
from tests.fixtures_appstore_api import *  # noqa: F403
from tests.fixtures_simulator import *  # noqa: F403
from tests.fixtures_users import *  # noqa: F403

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
