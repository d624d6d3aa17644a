"""What each purchase waiting for a manager's decision is now, so nobody approves blind."""

from __future__ import annotations

from collections.abc import Iterable

from lookups.services.purchase_picture import pictures_of


def attach_purchases(requests: Iterable) -> None:
    """Give each request (anything with an original transaction ID) the desk's picture of its
    purchase (in the request's environment) as `purchase`, or None if the desk has none: read
    for all of them in one query."""
    requests = list(requests)
    pictures = pictures_of(requests)
    for request in requests:
        request.purchase = pictures.get((request.environment, request.original_transaction_id))
