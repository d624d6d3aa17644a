"""Apple's rate limits hold for the whole deployment: one budget per endpoint in the shared cache.

The first tests drive SharedRateBudget and the client in this process. The last ones start
several worker processes configured like a deployment (CACHE_URL pointing at Redis) against the
simulator, and read the simulator's request log to see what reached "Apple".
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.cache.backends.locmem import LocMemCache

from lookups.appstore.client import AppStoreClient, RetryPolicy
from lookups.appstore.errors import DeskRateHold, RateLimitExceededError
from lookups.services.shared_rate_budget import WINDOW_SECONDS, SharedRateBudget
from lookups.simulators.demo_data import ORDER_NOT_FOUND, ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.counted_redis import emptied_redis
from tests.fixtures.parallel import redis_url

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = redis_url()
LOOKUP_PATH = "/inApps/v1/lookup/"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def local_cache() -> LocMemCache:
    cache = LocMemCache("rate-budget-tests", {})
    cache.clear()
    return cache


def test_it_lets_the_budget_through_each_window_and_refuses_the_rest(local_cache):
    clock = FakeClock(1_800_000_000.25)
    budget = SharedRateBudget(local_cache, {"lookup": 3}, scope="app", clock=clock)

    for _ in range(3):
        budget.acquire("lookup")
    with pytest.raises(DeskRateHold) as refusal:
        budget.acquire("lookup")

    assert refusal.value.retry_at.timestamp() == pytest.approx(
        1_800_000_000.25 + WINDOW_SECONDS, abs=1e-5
    )
    # Held back here, not answered by Apple: the sentence names no Apple error.
    assert re.fullmatch(
        r"The desk is pausing App Store calls for \d+ s to stay within Apple's rate limit\."
        r" Try again then\.",
        refusal.value.describe(),
    )
    clock.now += WINDOW_SECONDS + 0.001
    budget.acquire("lookup")


def test_each_endpoint_and_each_app_has_a_budget_of_its_own(local_cache):
    clock = FakeClock(1_800_000_000.0)
    budget = SharedRateBudget(local_cache, {"lookup": 1, "set_token": 1}, scope="a", clock=clock)
    other_app = SharedRateBudget(local_cache, {"lookup": 1}, scope="b", clock=clock)

    budget.acquire("lookup")
    budget.acquire("set_token")
    other_app.acquire("lookup")
    budget.acquire("history")  # no per-second budget given: not counted
    with pytest.raises(RateLimitExceededError):
        budget.acquire("lookup")


def test_after_a_429_the_endpoint_waits_until_retry_after(local_cache):
    clock = FakeClock(1_800_000_000.0)
    budget = SharedRateBudget(local_cache, {"lookup": 10}, scope="app", clock=clock)
    retry_at = datetime.fromtimestamp(clock.now + 30, tz=UTC)

    budget.blocked_until("lookup", retry_at)
    # An earlier Retry-After that arrives late does not shorten the wait.
    budget.blocked_until("lookup", retry_at - timedelta(seconds=20))

    with pytest.raises(DeskRateHold) as refusal:
        budget.acquire("lookup")
    assert refusal.value.retry_at == retry_at
    # Apple's 429 was an earlier request's; this one was never sent.
    assert refusal.value.after_apple_429 and refusal.value.answered_code is None
    assert "Apple error" not in refusal.value.describe()
    assert "Apple asked for a pause" in refusal.value.describe()
    budget.acquire("set_token")
    clock.now += 30
    budget.acquire("lookup")


def test_it_refuses_a_limit_that_is_not_a_positive_whole_number(local_cache):
    for limit in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            SharedRateBudget(local_cache, {"lookup": limit}, scope="app")


class RecordingLimiter:
    """Refuses the first `refusals` acquisitions for `wait` seconds; records every call."""

    def __init__(self, refusals: int = 0, wait: float = 0.0) -> None:
        self.refusals = refusals
        self.wait = wait
        self.acquired: list[str] = []
        self.blocked: list[tuple[str, datetime]] = []

    def acquire(self, endpoint: str) -> None:
        if self.refusals:
            self.refusals -= 1
            retry_at = datetime.now(UTC) + timedelta(seconds=self.wait)
            raise RateLimitExceededError(retry_at=retry_at)
        self.acquired.append(endpoint)

    def blocked_until(self, endpoint: str, retry_at: datetime) -> None:
        self.blocked.append((endpoint, retry_at))


def make_client(credentials, simulator, limiter, **options) -> AppStoreClient:
    return AppStoreClient(
        issuer_id=credentials.issuer_id,
        key_id=credentials.key_id,
        private_key_pem=credentials.private_key_pem,
        bundle_id=credentials.bundle_id,
        base_url=simulator.url,
        rate_limiter=limiter,
        **options,
    )


def test_the_client_waits_for_a_short_refusal_without_using_an_attempt(
    simulator, appstore_credentials
):
    limiter = RecordingLimiter(refusals=5, wait=0.01)
    client = make_client(
        appstore_credentials, simulator, limiter, retry=RetryPolicy(max_attempts=1)
    )

    assert client.look_up_order(ORDER_OFFER_CODE).found
    assert limiter.acquired == ["lookup"] and len(simulator.requests) == 1


def test_the_client_fails_at_once_on_a_long_refusal_and_sends_nothing(
    simulator, appstore_credentials
):
    limiter = RecordingLimiter(refusals=1, wait=60)
    client = make_client(appstore_credentials, simulator, limiter)

    with pytest.raises(RateLimitExceededError) as refusal:
        client.set_app_account_token(PURCHASE_OFFER_CODE, "7e3fb20b-4cdb-47cc-936d-99d65f608138")
    assert "Try again in 60 seconds" in refusal.value.describe()
    assert simulator.requests == []


def test_the_client_reports_apples_retry_after_to_the_limiter(simulator, appstore_credentials):
    limiter = RecordingLimiter()
    client = make_client(appstore_credentials, simulator, limiter)
    simulator.inject_fault("rate_limit", endpoint="history", retry_after_ms=200)

    client.transaction_history(PURCHASE_OFFER_CODE)

    [(endpoint, retry_at)] = limiter.blocked
    assert endpoint == "history"
    assert abs((retry_at - datetime.now(UTC)).total_seconds()) < 1
    assert limiter.acquired == ["history", "history"]


@pytest.mark.django_db
def test_apples_pause_outlives_the_cache_being_emptied(appstore_settings, simulator):
    from django.core.cache import cache

    from lookups.services.clients import app_store_client

    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=30_000)
    with pytest.raises(RateLimitExceededError):
        app_store_client().look_up_order(ORDER_OFFER_CODE)
    sent = len(lookup_times(simulator))

    cache.clear()  # the shared cache restarted empty
    with pytest.raises(DeskRateHold) as held:
        app_store_client().look_up_order(ORDER_OFFER_CODE)

    assert len(lookup_times(simulator)) == sent, "Apple was called before its Retry-After"
    assert held.value.after_apple_429


# --- Many processes, one Redis ------------------------------------------------------------------


@pytest.fixture
def redis_db():
    """The dedicated Redis database these tests use, emptied; skipped without a Redis server."""
    connection = emptied_redis(REDIS_URL)
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def worker_environment(simulator, appstore_credentials, simulator_root_path, redis_db):
    """The environment of a worker process: a deployment pointed at the simulator and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_", "WORKER_")) and key != "CACHE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        CACHE_URL=REDIS_URL,
        APPSTORE_BASE_URL=simulator.url,
        APPSTORE_PRIVATE_KEY=appstore_credentials.private_key_pem,
        APPSTORE_ISSUER_ID=appstore_credentials.issuer_id,
        APPSTORE_KEY_ID=appstore_credentials.key_id,
        APPSTORE_BUNDLE_ID=appstore_credentials.bundle_id,
        APPSTORE_APP_APPLE_ID=str(appstore_credentials.app_apple_id),
        APPSTORE_ENVIRONMENT=appstore_credentials.environment,
        APPSTORE_ROOT_CERTIFICATES=str(simulator_root_path),
        APPSTORE_RATE_LIMITS="lookup=5,set_token=20,history=50",
        # Above the tests' 5-second Retry-After, however late a busy machine reads it.
        APPSTORE_MAX_RETRY_AFTER_SECONDS="10",
    )
    return env


class Workers:
    """Worker processes started together; each group waits for its own signal to begin."""

    def __init__(self, environment: dict[str, str], folder: Path) -> None:
        self.environment = environment
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.ready_files: list[Path] = []

    def start(self, group: str, order_ids: list[str], count: int = 1) -> None:
        for _ in range(count):
            ready = self.folder / f"ready-{len(self.processes)}"
            env = {
                **self.environment,
                "WORKER_ORDER_IDS": ",".join(order_ids),
                "WORKER_READY_FILE": str(ready),
                "WORKER_GO_FILE": str(self.folder / f"go-{group}"),
            }
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.services.rate_budget_worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            self.ready_files.append(ready)

    def wait_until_ready(self) -> None:
        give_up = time.monotonic() + 60
        while not all(ready.exists() for ready in self.ready_files):
            assert time.monotonic() < give_up, "the workers did not start"
            assert all(p.poll() is None for p in self.processes), self.reports()
            time.sleep(0.02)

    def go(self, group: str, at: float | None = None) -> None:
        target = self.folder / f"go-{group}"
        staging = target.with_suffix(".tmp")
        staging.write_text("" if at is None else f"{at:.3f}")
        staging.rename(target)

    def reports(self) -> list[dict]:
        reports = []
        for process in self.processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture
def workers(worker_environment, tmp_path):
    started = Workers(worker_environment, tmp_path)
    yield started
    started.stop()


# How late, at most, a lookup reaches the simulator after its worker took the budget.
ARRIVAL_JITTER_SECONDS = 0.2


def busiest_window(times: list[float], width: float) -> int:
    """The most arrivals within any window of `width` seconds."""
    ordered = sorted(times)
    return max(
        sum(1 for later in ordered[i:] if later < start + width) for i, start in enumerate(ordered)
    )


def lookup_times(simulator) -> list[float]:
    return [
        at
        for (_, path), at in zip(simulator.requests, simulator.request_times, strict=True)
        if path.startswith(LOOKUP_PATH)
    ]


def wait_for_retry_after_in_the_cache(redis_db) -> None:
    # Generous: on a busy machine the first worker's one lookup can take a while.
    give_up = time.monotonic() + 60
    while not redis_db.keys("*appstore:rate:*:lookup:retry-after"):
        assert time.monotonic() < give_up, "no worker stored Apple's Retry-After"
        time.sleep(0.005)


def test_workers_together_stay_within_the_budget_and_sign_one_token(workers, simulator):
    count, lookups_each, per_second = 4, 5, 5
    orders = [ORDER_OFFER_CODE, ORDER_NOT_FOUND] * lookups_each
    workers.start("all", orders[:lookups_each], count=count)
    workers.wait_until_ready()
    # All at once, just after a second begins.
    workers.go("all", at=math.floor(time.time()) + 1.05)
    reports = workers.reports()

    assert all(o["ok"] for report in reports for o in report["outcomes"]), reports
    times = lookup_times(simulator)
    assert len(times) == count * lookups_each
    # The budget is counted when a worker takes it; the simulator notes the arrival a little
    # later, by a delay that varies with load. Any window of one second less that delay holds
    # arrivals whose budget was taken within one second, so no more than the budget.
    assert busiest_window(times, 1.0 - ARRIVAL_JITTER_SECONDS) <= per_second, sorted(times)
    # Twenty lookups at five a second take at least four windows.
    assert max(times) - min(times) >= (count * lookups_each // per_second - 1) * 0.9
    assert sum(report["tokens_signed"] for report in reports) == 1


def test_after_one_worker_gets_a_429_the_others_fail_at_once_until_retry_after(
    workers, simulator, redis_db
):
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=30_000)
    workers.start("first", [ORDER_OFFER_CODE])
    workers.start("others", [ORDER_OFFER_CODE] * 2, count=2)
    workers.wait_until_ready()

    workers.go("first")
    wait_for_retry_after_in_the_cache(redis_db)
    [limited_at] = lookup_times(simulator)
    workers.go("others")
    reports = workers.reports()
    # On a busy machine the others may reach the hold a few seconds after Apple's 429: what is
    # left of the pause then is what they must say.
    waited = math.ceil(time.time() - limited_at)

    assert len(lookup_times(simulator)) == 1
    [apples], *others = [report["outcomes"] for report in reports]
    assert not apples["ok"] and apples["code"] == 4290000
    assert re.search(r"Try again in (29|30) seconds\. \(Apple error 4290000\)", apples["message"])
    held = [o for outcomes in others for o in outcomes]
    assert len(held) == 4
    # Never sent: the desk's hold, which names no Apple error.
    assert all(not o["ok"] and o["code"] is None for o in held), held
    pauses = [
        re.fullmatch(
            r"The desk is pausing App Store calls for (\d+) s: Apple asked for a pause after"
            r" too many requests\. Try again then\.",
            o["message"],
        )
        for o in held
    ]
    assert all(pauses), held
    assert all(30 - waited <= int(pause[1]) <= 30 for pause in pauses), (waited, held)


def test_after_one_worker_gets_a_429_the_others_wait_for_retry_after(workers, simulator, redis_db):
    # Long enough that the others are surely let go within it, on a busy machine too.
    retry_after = 5.0
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=int(retry_after * 1000))
    workers.start("first", [ORDER_OFFER_CODE])
    workers.start("others", [ORDER_OFFER_CODE], count=2)
    workers.wait_until_ready()

    workers.go("first")
    wait_for_retry_after_in_the_cache(redis_db)
    [limited_at] = lookup_times(simulator)
    workers.go("others")
    released_at = time.time()
    reports = workers.reports()

    assert released_at < limited_at + retry_after - 1, "the others were let go too late to test"
    assert all(o["ok"] for report in reports for o in report["outcomes"]), reports
    first, *later = lookup_times(simulator)
    assert first == limited_at and len(later) == 3
    # Nothing reached the endpoint between the 429 and its Retry-After.
    assert min(later) >= limited_at + retry_after - 0.05


@pytest.mark.django_db
def test_in_redis_each_request_costs_one_round_trip_and_every_budget_sees_a_pause_at_once(
    redis_trips,
):
    from django.core.cache import cache

    from lookups.services.apple_pauses import DatabasePauses

    budget = SharedRateBudget(cache, {"lookup": 2}, scope="app", pauses=DatabasePauses())
    other_worker = SharedRateBudget(cache, {"lookup": 2}, scope="app", pauses=DatabasePauses())
    budget.acquire("lookup")  # the first loads the script and the pauses
    redis_trips.clear()

    budget.acquire("lookup")
    assert redis_trips.commands == ["EVALSHA"]
    with pytest.raises(DeskRateHold) as full:
        other_worker.acquire("lookup")
    assert not full.value.after_apple_429

    # Apple's 429 to one worker holds the other back from its very next call, in one trip.
    other_worker.blocked_until("history", datetime.now(UTC) + timedelta(seconds=30))
    redis_trips.clear()
    with pytest.raises(DeskRateHold) as paused:
        budget.acquire("history")
    assert paused.value.after_apple_429
    assert redis_trips.commands == ["EVALSHA"]

    # Redis restarted empty: the pause is read back from the database before any call goes out.
    cache.clear()
    with pytest.raises(DeskRateHold) as still_paused:
        budget.acquire("history")
    assert still_paused.value.after_apple_429
    assert still_paused.value.retry_at.timestamp() == pytest.approx(
        paused.value.retry_at.timestamp(), abs=1e-3
    )
