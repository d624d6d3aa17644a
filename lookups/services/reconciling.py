"""Settling token changes left pending (a timeout, a crash) from the token Apple shows now.

Kept for the callers that speak of token changes; the engine does the work for every kind
(`lookups.services.apple_actions.engine.reconcile`).
"""

from __future__ import annotations

from lookups.models import TokenChange
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.engine import Reconciliation, Settlement
from lookups.services.apple_actions.link import KIND as LINK
from lookups.services.apple_reads import latest_transaction_at_apple

__all__ = ["Reconciliation", "Settlement", "latest_transaction_at_apple", "reconcile_token_change"]


def reconcile_token_change(change: TokenChange) -> Reconciliation:
    """Settle a change a crash left pending, from the token Apple shows on the purchase now."""
    return engine.reconcile(LINK, change)
