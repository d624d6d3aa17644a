"""Apple failing in every way the simulator can fail, seen through the agent's pages.

For each fault: the agent reads one plain sentence (Apple's code where there is one, and when to
try again after a 429), the Lookup or TokenChange row records the failure, the next ordinary
request works, and nothing is lost or written twice.
"""

from __future__ import annotations

import html
import json
import re
import socket
import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from lookups.models import ApplePause, Lookup, TokenChange
from lookups.simulators.demo_data import OFFER_CODE_TRANSACTIONS, ORDER_OFFER_CODE
from tests.fixtures.pages import HTMX

pytestmark = pytest.mark.django_db


LOOKUP_PATH = f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"
ALERT = re.compile(r'<p class="notice error" role="alert">(.*?)</p>', re.DOTALL)


@pytest.fixture(autouse=True)
def fresh_rate_budget():
    """A 429's Retry-After is kept in the cache for every worker; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def look_up(client):
    response = client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}, headers=HTMX)
    assert response.status_code == 200
    return response


def alerts(response) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in ALERT.findall(response.text)
    ]


def desk_pause(seconds: str, *, after_apple_429: bool) -> re.Pattern:
    """The desk's own sentence for a request its rate budget held back, `seconds` a pattern."""
    why = (
        ": Apple asked for a pause after too many requests"
        if after_apple_429
        else " to stay within Apple's rate limit"
    )
    return re.compile(
        rf"The desk is pausing App Store calls for {seconds} s{re.escape(why)}\. Try again then\."
    )


def calls(simulator, path_prefix: str) -> int:
    return sum(1 for _, path in simulator.requests if path.startswith(path_prefix))


def assert_lookup_works(client, lookups_before: int) -> None:
    response = look_up(client)
    assert "Offer code" in response.text and not alerts(response)
    assert Lookup.objects.count() == lookups_before + 1
    assert Lookup.objects.latest("created_at").outcome == Lookup.Outcome.FOUND


# --- Look Up Order ID --------------------------------------------------------------------------

LOOKUP_FAULTS = [
    pytest.param(
        {"kind": "retryable_error", "times": 4},
        "The App Store had a temporary error. Try again in a minute. (Apple error 5000001)",
        5000001,
        4,
        id="500-retryable-gives-up",
    ),
    pytest.param(
        {"kind": "internal_error"},
        "The App Store had an internal error. Try again later. (Apple error 5000000)",
        5000000,
        1,
        id="500",
    ),
    pytest.param(
        {"kind": "slow", "delay_seconds": 1.5},
        "The App Store took too long to answer. Try again in a minute.",
        None,
        1,
        id="past-the-timeout",
    ),
    pytest.param(
        {"kind": "not_json"},
        "The App Store answered with HTTP 502 and no readable error. Try again in a minute.",
        None,
        1,
        id="not-json",
    ),
]


@pytest.mark.parametrize(("fault", "sentence", "code", "attempts"), LOOKUP_FAULTS)
def test_a_failed_lookup_tells_the_agent_and_is_recorded(
    agent_client, appstore_settings, simulator, fault, sentence, code, attempts
):
    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    simulator.inject_fault(endpoint="lookup", **fault)

    response = look_up(agent_client)

    assert alerts(response) == [sentence]
    assert "<table" not in response.text
    lookup = Lookup.objects.get()
    assert lookup.outcome == Lookup.Outcome.FAILED
    assert (lookup.error_code, lookup.error_message) == (code, sentence)
    assert lookup.transactions == [] and lookup.order_id == ORDER_OFFER_CODE
    assert calls(simulator, LOOKUP_PATH) == attempts

    assert_lookup_works(agent_client, lookups_before=1)
    assert calls(simulator, LOOKUP_PATH) == attempts + 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "retryable_error"}, id="500-retryable-once"),
        pytest.param({"kind": "rate_limit", "retry_after_ms": 300}, id="429-retry-after-soon"),
    ],
)
def test_a_lookup_apple_fails_once_is_retried_and_shown(
    agent_client, appstore_settings, simulator, fault
):
    simulator.inject_fault(endpoint="lookup", **fault)

    response = look_up(agent_client)

    assert "Offer code" in response.text and not alerts(response)
    lookup = Lookup.objects.get()
    assert lookup.outcome == Lookup.Outcome.FOUND
    assert len(lookup.transactions) == len(OFFER_CODE_TRANSACTIONS)
    assert calls(simulator, LOOKUP_PATH) == 2


def test_a_rate_limited_lookup_says_when_to_try_again_and_later_ones_wait_for_it(
    agent_client, appstore_settings, simulator
):
    # Retry-After further away than the client will wait: it fails at once.
    appstore_settings.APPSTORE_MAX_RETRY_AFTER_SECONDS = 0.5
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=1500)
    limited_at = time.monotonic()

    first = look_up(agent_client)

    [sentence] = alerts(first)
    assert re.fullmatch(
        r"The App Store is receiving too many requests from us right now\. "
        r"Try again in [12] seconds?\. \(Apple error 4290000\)",
        sentence,
    )
    lookup = Lookup.objects.get()
    assert (lookup.outcome, lookup.error_code) == (Lookup.Outcome.FAILED, 4290000)
    assert "Try again in" in lookup.error_message
    assert calls(simulator, LOOKUP_PATH) == 1

    # Before Retry-After nobody calls Apple again: the desk holds the lookup back, and says so.
    second = look_up(agent_client)
    assert desk_pause("[12]", after_apple_429=True).fullmatch(alerts(second)[0])
    held = Lookup.objects.latest("created_at")
    assert (held.outcome, held.error_code) == (Lookup.Outcome.HELD, None)
    assert calls(simulator, LOOKUP_PATH) == 1

    time.sleep(max(0.0, 1.6 - (time.monotonic() - limited_at)))
    assert_lookup_works(agent_client, lookups_before=2)
    assert calls(simulator, LOOKUP_PATH) == 2


def test_apples_429s_and_the_desks_own_holds_read_and_count_apart(
    agent_client, manager_client, appstore_settings, simulator
):
    # The client gives up at once rather than wait for a free place in the budget.
    appstore_settings.APPSTORE_MAX_RETRY_AFTER_SECONDS = 0
    appstore_settings.APPSTORE_RATE_LIMITS = {**appstore_settings.APPSTORE_RATE_LIMITS, "lookup": 1}
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=30_000)

    [apples] = alerts(look_up(agent_client))
    assert apples.endswith("Try again in 30 seconds. (Apple error 4290000)")
    [after_apples] = alerts(look_up(agent_client))
    assert desk_pause("(29|30)", after_apple_429=True).fullmatch(after_apples)
    assert calls(simulator, LOOKUP_PATH) == 1

    # Apple's pause over (as if 30 s had passed), the desk's own budget of one a second.
    ApplePause.objects.update(until=timezone.now())
    cache.clear()
    assert_lookup_works(agent_client, lookups_before=2)
    [budget] = alerts(look_up(agent_client))
    assert desk_pause("[12]", after_apple_429=False).fullmatch(budget)
    assert calls(simulator, LOOKUP_PATH) == 2
    outcomes = list(Lookup.objects.order_by("created_at").values_list("outcome", "error_code"))
    assert outcomes == [("failed", 4290000), ("held", None), ("found", None), ("held", None)]

    page = manager_client.get(reverse("lookups:reports")).text
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    assert "4290000 RateLimitExceededError 1 0 1" in text
    assert "Held by the desk, never sent to Apple: 2 lookups." in text


def test_a_retry_after_a_minute_away_is_given_in_seconds(
    agent_client, appstore_settings, simulator
):
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=60_000)
    response = look_up(agent_client)
    assert alerts(response) == [
        "The App Store is receiving too many requests from us right now. Try again in 60 "
        "seconds. (Apple error 4290000)"
    ]
    assert calls(simulator, LOOKUP_PATH) == 1


def test_an_unreachable_app_store_is_retried_then_reported(
    agent_client, appstore_settings, simulator
):
    appstore_settings.APPSTORE_BASE_URL = f"http://127.0.0.1:{closed_port()}"

    response = look_up(agent_client)

    sentence = "The App Store could not be reached. Try again in a minute."
    assert alerts(response) == [sentence]
    lookup = Lookup.objects.get()
    assert (lookup.outcome, lookup.error_code, lookup.error_message) == (
        Lookup.Outcome.FAILED,
        None,
        sentence,
    )

    appstore_settings.APPSTORE_BASE_URL = simulator.url
    assert_lookup_works(agent_client, lookups_before=1)


def test_an_order_signed_by_an_untrusted_chain_shows_no_purchase(
    agent_client, appstore_settings, simulator
):
    simulator.inject_fault("untrusted_chain", endpoint="lookup")

    response = look_up(agent_client)

    assert '<tr id="txn-' not in response.text
    shown = len(OFFER_CODE_TRANSACTIONS)
    assert f"{shown} transactions failed signature verification" in response.text
    assert response.text.count("Not verified") == shown
    lookup = Lookup.objects.get()
    assert all(
        record == {"verified": False, "problem": record["problem"]}
        for record in lookup.transactions
    )
    assert_lookup_works(agent_client, lookups_before=1)


def test_one_untrusted_transaction_is_flagged_and_the_others_shown(
    agent_client, appstore_settings, simulator
):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    bad = ids[1]
    simulator.inject_fault("untrusted_chain", endpoint="lookup", target=bad)

    response = look_up(agent_client)

    shown = re.findall(r'<tr id="txn-(\d+)"', response.text)
    assert sorted(shown) == sorted(i for i in ids if i != bad)
    assert bad not in response.text
    assert "1 transaction failed signature verification and is not shown" in response.text
    assert response.text.count("Not verified") == 1
    # The link action still sits on the purchase's latest verified transaction.
    assert response.text.count("Link to customer") == 1

    lookup = Lookup.objects.get()
    assert lookup.outcome == Lookup.Outcome.FOUND
    verified = [r["payload"]["transactionId"] for r in lookup.transactions if r["verified"]]
    assert sorted(verified) == sorted(i for i in ids if i != bad)
    [flagged] = [r for r in lookup.transactions if not r["verified"]]
    assert set(flagged) == {"verified", "problem"} and "check failed: root" in flagged["problem"]
    assert bad not in json.dumps(lookup.transactions)


def test_a_history_page_signed_by_an_untrusted_chain_shows_no_purchase(
    agent_client, appstore_settings, simulator
):
    original_id = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    simulator.inject_fault("untrusted_chain", endpoint="history")
    response = agent_client.get(reverse("lookups:history", args=[original_id]), headers=HTMX)
    assert response.status_code == 200
    assert '<tr id="txn-' not in response.text and "Not verified" in response.text
    history = Lookup.objects.get(kind=Lookup.Kind.HISTORY)
    assert not any(record["verified"] for record in history.transactions)


# --- Set App Account Token -----------------------------------------------------------------------


def prepare_link(client, simulator) -> tuple[Lookup, str]:
    look_up(client)
    lookup = Lookup.objects.get()
    original_id = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    return lookup, original_id


def post_link(client, original_id: str, account, lookup: Lookup, request_id: str | None = None):
    data = {
        "account": account.pk,
        "ticket_reference": "ZD-77",
        "request_id": request_id or str(uuid.uuid4()),
        "lookup": lookup.pk,
    }
    response = client.post(reverse("lookups:link", args=[original_id]), data, headers=HTMX)
    assert response.status_code == 200
    return response


def put_calls(simulator) -> int:
    return sum(1 for method, _ in simulator.requests if method == "PUT")


def assert_link_failed(response, sentence: str, code: int | None) -> TokenChange:
    assert alerts(response) == [f"The link failed: {sentence}"]
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.FAILED and change.settled_at is not None
    assert (change.error_code, change.error_message) == (code, sentence)
    return change


def assert_link_can_be_made_again(client, simulator, original_id, maya, lookup, failed, puts):
    # The same form sent again is the same row, and Apple is not called again.
    again = post_link(client, original_id, maya, lookup, request_id=str(failed.request_id))
    assert "The link failed" in again.text
    assert TokenChange.objects.count() == 1 and put_calls(simulator) == puts
    # A new attempt goes through and is a row of its own.
    retried = post_link(client, original_id, maya, lookup)
    assert "Linked to <strong>Maya Patel</strong>" in retried.text
    assert TokenChange.objects.count() == 2
    assert TokenChange.objects.filter(outcome=TokenChange.Outcome.SUCCEEDED).count() == 1
    assert put_calls(simulator) == puts + 1


LINK_FAULTS = [
    pytest.param(
        {"kind": "retryable_error", "times": 4},
        "The App Store had a temporary error. Try again in a minute. (Apple error 5000001)",
        5000001,
        4,
        id="500-retryable-gives-up",
    ),
    pytest.param(
        {"kind": "internal_error"},
        "The App Store had an internal error. Try again later. (Apple error 5000000)",
        5000000,
        1,
        id="500",
    ),
    pytest.param(
        {"kind": "not_json"},
        "The App Store answered with HTTP 502 and no readable error. Try again in a minute.",
        None,
        1,
        id="not-json",
    ),
    pytest.param(
        {"kind": "apple_error", "error_code": 4000183},
        "The customer account's token is not a valid UUID, so Apple refused it. "
        "(Apple error 4000183)",
        4000183,
        1,
        id="apple-refuses",
    ),
]


@pytest.mark.parametrize(("fault", "sentence", "code", "attempts"), LINK_FAULTS)
def test_a_failed_link_tells_the_agent_and_is_recorded(
    agent_client, appstore_settings, simulator, maya, fault, sentence, code, attempts
):
    lookup, original_id = prepare_link(agent_client, simulator)
    simulator.inject_fault(endpoint="set_token", **fault)

    response = post_link(agent_client, original_id, maya, lookup)

    failed = assert_link_failed(response, sentence, code)
    assert put_calls(simulator) == attempts
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    assert "appAccountToken" not in simulator.transaction(latest)
    assert_link_can_be_made_again(
        agent_client, simulator, original_id, maya, lookup, failed, attempts
    )


def test_a_link_past_the_timeout_stays_pending_until_apple_is_asked_again(
    agent_client, appstore_settings, simulator, maya
):
    lookup, original_id = prepare_link(agent_client, simulator)
    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=1.0)

    response = post_link(agent_client, original_id, maya, lookup)

    assert response.status_code == 200
    assert "The App Store did not answer in time" in response.text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.PENDING and not change.error_message
    assert put_calls(simulator) == 1

    # A second attempt meanwhile is refused without calling Apple: the first may still land.
    again = agent_client.post(
        reverse("lookups:link", args=[original_id]),
        {"account": maya.pk, "ticket_reference": "ZD-78", "request_id": str(uuid.uuid4())},
        headers=HTMX,
    )
    assert again.status_code == 409 and "waiting for Apple since" in again.text
    assert put_calls(simulator) == 1 and TokenChange.objects.count() == 1
    # Let the slow answer land here rather than in the next test's fresh demo data.
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    deadline = time.monotonic() + 5
    while "appAccountToken" not in simulator.transaction(latest) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_link_to_an_unreachable_app_store_is_retried_then_reported(
    agent_client, appstore_settings, simulator, maya
):
    lookup, original_id = prepare_link(agent_client, simulator)
    appstore_settings.APPSTORE_BASE_URL = f"http://127.0.0.1:{closed_port()}"

    response = post_link(agent_client, original_id, maya, lookup)

    failed = assert_link_failed(
        response, "The App Store could not be reached. Try again in a minute.", None
    )
    assert put_calls(simulator) == 0
    appstore_settings.APPSTORE_BASE_URL = simulator.url
    assert_link_can_be_made_again(agent_client, simulator, original_id, maya, lookup, failed, 0)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "retryable_error"}, id="500-retryable-once"),
        pytest.param({"kind": "not_found_retryable"}, id="404-retryable-once"),
        pytest.param({"kind": "rate_limit", "retry_after_ms": 300}, id="429-retry-after-soon"),
    ],
)
def test_a_link_apple_fails_once_is_retried_and_made(
    agent_client, appstore_settings, simulator, maya, fault
):
    lookup, original_id = prepare_link(agent_client, simulator)
    simulator.inject_fault(endpoint="set_token", **fault)

    response = post_link(agent_client, original_id, maya, lookup)

    assert "Linked to <strong>Maya Patel</strong>" in response.text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED and change.error_code is None
    assert put_calls(simulator) == 2
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    assert simulator.transaction(latest)["appAccountToken"] == str(maya.app_account_token)


def test_a_rate_limited_link_says_when_to_try_again_and_waits_for_it(
    agent_client, appstore_settings, simulator, maya
):
    lookup, original_id = prepare_link(agent_client, simulator)
    appstore_settings.APPSTORE_MAX_RETRY_AFTER_SECONDS = 0.5
    simulator.inject_fault("rate_limit", endpoint="set_token", retry_after_ms=1500)
    limited_at = time.monotonic()

    response = post_link(agent_client, original_id, maya, lookup)

    [sentence] = alerts(response)
    assert re.fullmatch(
        r"The link failed: The App Store is receiving too many requests from us right now\. "
        r"Try again in [12] seconds?\. \(Apple error 4290000\)",
        sentence,
    )
    first = TokenChange.objects.get()
    assert (first.outcome, first.error_code) == (TokenChange.Outcome.FAILED, 4290000)
    assert put_calls(simulator) == 1

    # A second try before Retry-After is recorded, but never reaches Apple: the desk held it.
    early = post_link(agent_client, original_id, maya, lookup)
    assert alerts(early)[0].startswith("The link failed: The desk is pausing App Store calls for")
    assert "Apple error" not in alerts(early)[0]
    assert TokenChange.objects.filter(error_code=4290000).count() == 1
    assert TokenChange.objects.filter(outcome="failed", error_code=None).count() == 1
    assert put_calls(simulator) == 1
    # Looking orders up is another endpoint with a budget of its own.
    assert "Offer code" in look_up(agent_client).text

    time.sleep(max(0.0, 1.6 - (time.monotonic() - limited_at)))
    made = post_link(agent_client, original_id, maya, lookup)
    assert "Linked to <strong>Maya Patel</strong>" in made.text
    assert TokenChange.objects.count() == 3 and put_calls(simulator) == 2


def test_an_unreachable_certificate_status_service_is_a_try_again_not_a_forgery(
    agent_client, appstore_settings, simulator
):
    appstore_settings.APPSTORE_ONLINE_CHECKS = True
    simulator.inject_fault("internal_error", endpoint="ocsp", times=100)

    response = look_up(agent_client)

    assert "certificate status service could not be reached" in html.unescape(response.text)
    [problem] = {r["problem"] for r in Lookup.objects.get().transactions}
    assert "look it up again in a minute" in problem and "forged" in problem
    assert "report it to an administrator" not in problem

    simulator.clear_faults()
    assert '<tr id="txn-' in look_up(agent_client).text


def test_a_revoked_certificate_is_refused_with_online_checks_on(
    agent_client, appstore_settings, simulator
):
    appstore_settings.APPSTORE_ONLINE_CHECKS = True
    simulator.inject_fault("revoked_certificate", endpoint="ocsp", target="leaf", times=100)

    response = look_up(agent_client)

    assert '<tr id="txn-' not in response.text
    [problem] = {r["problem"] for r in Lookup.objects.get().transactions}
    assert "check failed: revoked" in problem
