"""Rows for tests that need lookups and token changes without going through Apple."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from unittest import mock

from lookups.models import Lookup, TokenChange, TransferRequest

_transaction_ids = itertools.count(2_000_000_123_456_789)


def make_lookup(agent, **fields) -> Lookup:
    values = {
        "agent": agent,
        "order_id": "MK5TTTVWJH",
        "environment": "Production",
        "outcome": Lookup.Outcome.FOUND,
        "duration_ms": 120,
    }
    values.update(fields)
    return Lookup.objects.create(**values)


def make_token_change(agent, account, **fields) -> TokenChange:
    """A pending change; each gets its own purchase unless one is given."""
    values = {
        "request_id": uuid.uuid4(),
        "agent": agent,
        "account": account,
        "original_transaction_id": str(next(_transaction_ids)),
        "product_id": "com.example.premium.yearly",
        "environment": "Production",
        "order_id": "MK5TTTVWJH",
        "token_before": None,
        "token_after": account.app_account_token,
        "ticket_reference": "ZD-1234",
    }
    values.update(fields)
    return TokenChange.objects.create(**values)


def settle_token_change(
    change: TokenChange, outcome: str, *, at: datetime, **answer
) -> TokenChange:
    """Settle a change the way the link flow does, as if Apple had answered at `at`."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        change.settle(outcome, **answer)
    return change


def make_transfer_request(agent, account, **fields) -> TransferRequest:
    """An open request to move a purchase, linked to someone else, over to `account`."""
    values = {
        "request_id": uuid.uuid4(),
        "requested_by": agent,
        "environment": "Production",
        "original_transaction_id": str(next(_transaction_ids)),
        "product_id": "com.example.premium.yearly",
        "token_before": uuid.uuid4(),
        "account": account,
        "ticket_reference": "ZD-5678",
    }
    values.update(fields)
    return TransferRequest.objects.create(**values)
