"""Apple's error answers turned into the matching exception, with the agent's sentence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lookups.appstore import errors


def answer(status: int, code: int, message: str = "", retry_after: str | None = None):
    body = json.dumps({"errorCode": code, "errorMessage": message}).encode()
    return errors.error_for_response(status, body, retry_after)


def test_each_documented_code_becomes_its_own_class_and_keeps_apples_words():
    error = answer(404, 4040010, "Transaction id not found.")

    assert type(error) is errors.ERROR_CLASSES[4040010]
    assert error.answered_code == 4040010 and error.http_status == 404
    assert error.apple_message == "Transaction id not found."
    assert error.describe() == f"{error.agent_message} (Apple error 4040010)"


def test_every_code_names_one_class_only():
    codes = [cls.error_code for cls in errors.AppStoreError.__subclasses__() if cls.error_code]
    assert len(codes) == len(set(codes)) == len(errors.ERROR_CLASSES)


def test_an_undocumented_code_says_apples_reason():
    error = answer(400, 4009999, "Something new.")

    assert type(error) is errors.AppStoreError
    assert error.describe() == (
        "The App Store refused the request: Something new. (Apple error 4009999)"
    )


def test_a_401_is_our_credentials_whatever_the_body():
    assert isinstance(answer(401, 4000000), errors.AuthenticationError)


def test_an_answer_without_a_code_is_unreadable_and_names_the_status():
    error = errors.error_for_response(502, b"<html>Bad gateway</html>")

    assert isinstance(error, errors.UnreadableResponseError)
    assert "HTTP 502" in error.describe()


def test_a_429_waits_until_apples_retry_after_in_milliseconds():
    soon = datetime.now(UTC) + timedelta(seconds=30)
    millis = str(int(soon.timestamp() * 1000))

    with_code = answer(429, 4290000, "Rate limit exceeded.", millis)
    without_body = errors.error_for_response(429, b"", millis)

    for error in (with_code, without_body):
        assert isinstance(error, errors.RateLimitExceededError) and error.retryable
        assert abs(error.retry_at - soon) < timedelta(milliseconds=2)
        assert "Try again in 30 seconds." in error.describe()


@pytest.mark.parametrize("value", [None, "", "soon", "Wed, 21 Oct 2026 07:28:00 GMT", "9" * 30])
def test_a_retry_after_that_is_not_milliseconds_is_ignored(value):
    assert errors.parse_retry_after(value) is None


def test_a_refusal_on_our_side_names_no_apple_code():
    refused = errors.InvalidTransactionIdError()

    assert refused.answered_code is None
    assert refused.describe() == refused.agent_message


def test_the_desks_own_pause_names_no_apple_error():
    hold = errors.DeskRateHold(retry_at=datetime.now(UTC) + timedelta(seconds=4))
    after_429 = errors.DeskRateHold(
        retry_at=datetime.now(UTC) + timedelta(seconds=4), after_apple_429=True
    )

    assert "Apple error" not in hold.describe()
    assert hold.describe().startswith("The desk is pausing App Store calls for ")
    assert "to stay within Apple's rate limit" in hold.describe()
    assert "Apple asked for a pause" in after_429.describe()
