"""The simulator's errors are Apple's: a code per error (the general one worded by rule), its
status the code's first three digits."""

from __future__ import annotations

from lookups.simulators.appstore import errors

APPLE_ERRORS = [value for value in vars(errors).values() if isinstance(value, errors.AppleError)]


def test_each_error_answers_with_the_status_its_code_begins_with():
    assert len(APPLE_ERRORS) > 20
    for error in APPLE_ERRORS:
        assert str(error.code).startswith(str(error.status)), error


def test_only_apples_general_bad_request_is_worded_more_than_one_way():
    codes = [error.code for error in APPLE_ERRORS]
    shared = {code for code in codes if codes.count(code) > 1}
    assert shared == {errors.GENERAL_BAD_REQUEST.code}


def test_the_body_is_apples_two_fields():
    assert errors.INVALID_TRANSACTION_ID.body() == {
        "errorCode": 4000006,
        "errorMessage": "Invalid transaction id.",
    }
    raised = errors.ApiError(errors.INVALID_TRANSACTION_ID)
    assert raised.error is errors.INVALID_TRANSACTION_ID and str(raised).startswith("4000006")
