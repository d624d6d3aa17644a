"""Get Refund History V2 through the service, against the simulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lookups.appstore.transactions import RevocationReason
from lookups.services.refund_history import refund_history
from lookups.simulators.demo_data import (
    PURCHASE_LINKED_IN_APP,
    PURCHASE_REFUNDED,
    TRANSACTION_NOT_FOUND,
)

pytestmark = pytest.mark.django_db


def test_a_refunded_purchase_is_listed_verified_with_its_reason(appstore_settings, simulator):
    history = refund_history(PURCHASE_REFUNDED)
    assert not history.error and history.unverified == 0
    [refund] = history.refunds
    assert refund.transaction_id == PURCHASE_REFUNDED
    assert refund.revocation_reason == RevocationReason.APP_ISSUE
    assert refund.revocation_date is not None


def test_a_customer_never_refunded_has_no_refunds(appstore_settings, simulator):
    history = refund_history(PURCHASE_LINKED_IN_APP)
    assert history.refunds == [] and not history.error


def test_every_page_is_read_newest_refund_first(appstore_settings, simulator):
    ids = simulator.add_order("MRFNDPAGE2", 25)
    start = simulator.store.now_ms() - 30 * 86_400_000
    for n, transaction_id in enumerate(ids):
        simulator.store.revoke(transaction_id, revocation_date=start + n * 3_600_000)
    history = refund_history(ids[0])
    assert len(history.refunds) == 25
    assert [txn.transaction_id for txn in history.refunds] == ids[::-1]
    assert sum("/refund/lookup/" in path for _, path in simulator.requests) == 2
    assert history.refunds[0].revocation_date == datetime.fromtimestamp(
        (start + 24 * 3_600_000) / 1000, tz=UTC
    )


def test_apple_s_error_is_said_in_plain_words_with_its_code(appstore_settings, simulator):
    history = refund_history(TRANSACTION_NOT_FOUND)
    assert history.refunds == []
    assert history.error.endswith("(Apple error 4040010)")


def test_a_refund_signed_by_a_stranger_is_counted_not_shown(appstore_settings, simulator):
    simulator.inject_fault("untrusted_chain", endpoint="refund_history")
    history = refund_history(PURCHASE_REFUNDED)
    assert history.refunds == [] and history.unverified == 1
