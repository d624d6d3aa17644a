"""Apple's rate limits, enforced by the simulator per app and per endpoint, and switchable off."""

from __future__ import annotations

import time

import pytest
import requests

from lookups.simulators.appstore.rate_limits import RateLimits
from lookups.simulators.demo_data import CREDITS_UNFINISHED, ORDER_OFFER_CODE
from tests.fixtures.appstore_api import error_of


@pytest.fixture
def per_second(simulator):
    """Limits counted over one second instead of Apple's hour, so a test can reach them."""
    simulator.rate_limits.window_seconds = 1.0
    yield simulator.rate_limits
    simulator.rate_limits.window_seconds = 3600.0
    simulator.rate_limits.enabled = True


def test_look_up_order_id_allows_10_a_second_then_answers_429(per_second, signed_request):
    path = f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"
    started_ms = time.time() * 1000
    answers = [signed_request("GET", path) for _ in range(10)]
    refused = signed_request("GET", path)

    assert [a.status_code for a in answers] == [200] * 10
    assert error_of(refused) == (429, 4290000, "Rate limit exceeded.")
    retry_at = int(refused.headers["Retry-After"])
    # A UNIX time in milliseconds, when the first of the ten leaves the one-second window.
    assert started_ms < retry_at <= time.time() * 1000 + 1000
    # Each endpoint has its own budget.
    assert signed_request("GET", f"/inApps/v1/transactions/{CREDITS_UNFINISHED}").ok


def test_the_limit_lifts_when_the_window_moves_on(per_second, signed_request):
    path = f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"
    for _ in range(10):
        signed_request("GET", path)
    refused = signed_request("GET", path)
    wait_ms = int(refused.headers["Retry-After"]) - time.time() * 1000
    time.sleep(max(0.0, wait_ms / 1000) + 0.05)
    assert signed_request("GET", path).status_code == 200


def test_test_notifications_allow_one_a_second(per_second, signed_request, simulator):
    simulator.set_notification_url(None)
    first = signed_request("POST", "/inApps/v1/notifications/test")
    second = signed_request("POST", "/inApps/v1/notifications/test")
    assert first.status_code == 404  # no URL set: Apple's own answer, counted all the same
    assert error_of(second)[:2] == (429, 4290000)


def test_switched_off_nothing_is_refused(per_second, signed_request):
    per_second.enabled = False
    path = f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"
    assert {signed_request("GET", path).status_code for _ in range(15)} == {200}


@pytest.mark.parametrize(
    ("environment", "endpoint", "expected"),
    [
        ("Production", "lookup", (36_000, 3600.0)),
        ("Production", "set_token", (72_000, 3600.0)),
        ("Production", "extend", (72_000, 3600.0)),
        ("Production", "history", (180_000, 3600.0)),
        ("Production", "statuses", (180_000, 3600.0)),
        ("Production", "consumption", (180_000, 3600.0)),
        ("Production", "test_notification", (3_600, 3600.0)),
        ("Sandbox", "lookup", (3_600, 3600.0)),
        ("Sandbox", "test_notification", (3_600, 3600.0)),
        ("Production", "refund_history", (36_000, 3600.0)),
    ],
)
def test_budgets_are_apples_per_second_rates_over_an_hour(environment, endpoint, expected):
    assert RateLimits(environment=environment).budget(endpoint) == expected


def test_sandbox_gets_a_tenth():
    now = [1000.0]
    limits = RateLimits(environment="Sandbox", window_seconds=1.0, clock=lambda: now[0])
    assert limits.take("app", "lookup") is None  # 1 a second in Sandbox
    assert limits.take("app", "lookup") == 1_001_001
    assert limits.take("another.app", "lookup") is None  # per app
    # Set App Account Token: two a second in Sandbox.
    assert limits.take("app", "set_token") is None
    assert limits.take("app", "set_token") is None
    assert limits.take("app", "set_token") is not None
    # Test notifications: one a second, as in Production.
    assert limits.take("app", "test_notification") is None
    now[0] += 1.0
    assert limits.take("app", "test_notification") is None


def test_settings_switch_the_limits_over_http(simulator, per_second):
    changed = requests.post(
        f"{simulator.url}/simulator/settings",
        json={"rate_limits": False, "rate_limit_window_seconds": 2, "mass_extension_seconds": 1},
        timeout=5,
    )
    assert changed.json() == {
        "rate_limits": False,
        "rate_limit_window_seconds": 2,
        "mass_extension_seconds": 1,
    }
    assert simulator.rate_limits.enabled is False
    assert simulator.mass_extensions.duration_seconds == 1
    refused = requests.post(
        f"{simulator.url}/simulator/settings", json={"rate_limits": "no"}, timeout=5
    )
    assert refused.status_code == 400 and "rate_limits" in refused.json()["error"]
