"""What Apple shows now about a purchase, read and verified: how a pending action is read back."""

from __future__ import annotations

from datetime import datetime

from lookups.appstore import HistoryFilters, Transaction
from lookups.services.clients import app_store_client, transaction_verifier
from lookups.services.purchases import latest_transaction


def latest_transaction_at_apple(original_transaction_id: str) -> Transaction | None:
    """The purchase's newest transaction as Apple lists it now, verified; None if none is listed.

    Get Transaction History lists the most recently modified first, so the first page that
    mentions the purchase holds its newest transaction, the one that carries its current token.
    """
    verifier = transaction_verifier()
    pages = app_store_client().iter_transaction_history(
        original_transaction_id, filters=HistoryFilters(sort="DESCENDING")
    )
    for page in pages:
        verifier.check_app(bundle_id=page.bundle_id, app_apple_id=page.app_apple_id)
        found = latest_transaction(
            map(verifier.decode_transaction, page.signed_transactions), original_transaction_id
        )
        if found is not None:
            return found
    return None


def renewal_date_at_apple(original_transaction_id: str) -> datetime | None:
    """The subscription's next renewal date, from its signed renewal info at Apple."""
    statuses = app_store_client().get_all_subscription_statuses(original_transaction_id)
    for group in statuses.groups:
        for last in group.last_transactions:
            if last.original_transaction_id == original_transaction_id and last.signed_renewal_info:
                info = transaction_verifier().decode_renewal_info(last.signed_renewal_info)
                return info.renewal_date
    return None
