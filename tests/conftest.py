"""Shared fixtures: the App Store simulator over real HTTP, and signed-in users per role."""

from tests.fixtures_adapty import *  # noqa: F403
from tests.fixtures_simulator import *  # noqa: F403
from tests.fixtures_users import *  # noqa: F403
