"""The link's call and read-back against the simulator: the token Apple shows settles it."""

from __future__ import annotations

import pytest

from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, StillUnknown
from lookups.services.apple_actions.link import KIND as LINK
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db


def test_a_call_apple_never_carried_out_reads_back_as_failed(pending, simulator):
    settled = LINK.read_back(pending)

    assert settled.outcome == FAILED
    assert settled.error_message == "reconciled: Apple shows token none"


def test_the_token_apple_shows_after_the_call_reads_back_as_succeeded(pending, simulator):
    assert LINK.call(pending).outcome == SUCCEEDED

    settled = LINK.read_back(pending)

    assert settled.outcome == SUCCEEDED
    assert settled.error_message == f"reconciled: Apple shows token {pending.token_after}"


def test_a_purchase_apple_does_not_know_reads_back_as_failed_with_apples_code(
    agent_user, customer_account, appstore_settings, simulator
):
    unknown = make_token_change(agent_user, customer_account)

    settled = LINK.read_back(unknown)

    assert settled.outcome == FAILED and settled.error_code is not None
    assert settled.error_message.startswith("reconciled: Apple has no such purchase.")


def test_apple_out_of_reach_leaves_the_link_unknown(pending, simulator):
    simulator.inject_fault("internal_error", endpoint="history")

    with pytest.raises(StillUnknown, match="Apple could not be asked"):
        LINK.read_back(pending)


def test_a_link_written_against_the_other_environment_is_not_read_here(pending, settings):
    pending.environment = "Sandbox" if settings.APPSTORE_ENVIRONMENT != "Sandbox" else "Production"

    with pytest.raises(StillUnknown, match="this server asks"):
        LINK.read_back(pending)


def test_a_person_reads_which_purchase_and_ticket_it_was(pending):
    assert LINK.describe(pending) == (
        f"purchase {pending.original_transaction_id}, ticket {pending.ticket_reference}"
    )
