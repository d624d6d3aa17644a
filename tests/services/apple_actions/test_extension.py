"""The extension's call and read-back against the simulator: the renewal date at Apple says
whether an extension whose answer never came was carried out."""

from __future__ import annotations

import pytest

from lookups.services.apple_actions.extension import KIND as EXTENSION
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, StillUnknown
from lookups.services.apple_reads import renewal_date_at_apple
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.rows import make_extension

pytestmark = pytest.mark.django_db


@pytest.fixture
def extension(agent_user, appstore_settings, simulator):
    """Three days for Maya's subscription, written with its renewal date as Apple had it."""
    return make_extension(
        agent_user,
        original_transaction_id=PURCHASE_OFFER_CODE,
        renewal_date_before=renewal_date_at_apple(PURCHASE_OFFER_CODE),
    )


def test_apples_answer_settles_it_with_the_new_renewal_date(extension):
    settled = EXTENSION.call(extension)

    assert settled.outcome == SUCCEEDED
    assert settled.extra["effective_date"] == renewal_date_at_apple(PURCHASE_OFFER_CODE)


def test_a_renewal_date_moved_by_its_days_reads_back_as_succeeded(extension):
    EXTENSION.call(extension)

    settled = EXTENSION.read_back(extension)

    assert settled.outcome == SUCCEEDED
    assert settled.extra["effective_date"] >= extension.renewal_date_before


def test_a_renewal_date_that_did_not_move_reads_back_as_failed(extension):
    settled = EXTENSION.read_back(extension)

    assert settled.outcome == FAILED
    assert "the renewal date has not moved" in settled.error_message


def test_the_call_carries_the_rows_id_as_apples_request_identifier(extension, simulator):
    EXTENSION.call(extension)
    EXTENSION.call(extension)

    # Apple took the second as the same request: the date moved once.
    moved = renewal_date_at_apple(PURCHASE_OFFER_CODE) - extension.renewal_date_before
    assert moved.days == extension.extend_by_days


def test_apple_out_of_reach_leaves_the_extension_unknown(extension, simulator):
    simulator.inject_fault("internal_error", endpoint="statuses")

    with pytest.raises(StillUnknown, match="Apple could not be asked"):
        EXTENSION.read_back(extension)
