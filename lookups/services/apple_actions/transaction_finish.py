"""Finish Transaction: an agent delivered a consumable by hand and tells Apple it is finished.

Apple has no read-back for it: nothing at Apple answers "is this transaction finished?" (history
V1 leaves finished consumables out, but also refunded ones in, and a missing entry proves
nothing about which call did it). Finishing is idempotent at Apple: finishing a finished
transaction changes nothing and answers the same. So reading back is making the same call
again: an answer settles the row as succeeded, an error retrying won't change as failed, a
timeout or a retryable error leaves it for the next ask.

The rules (a consumable, not finished by the desk already, one call per transaction at a time)
are in `lookups.services.finishing`.
"""

from __future__ import annotations

from lookups.appstore import AppStoreError
from lookups.appstore.errors import AppStoreTimeoutError
from lookups.models import TransactionFinish, TransactionFinishFollowUp
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, ActionKind, Settled, StillUnknown
from lookups.services.clients import app_store_client


class TransactionFinishKind(ActionKind):
    name = "transaction_finish"
    label = "finish"
    audit_name = "transaction finish"
    model = TransactionFinish
    follow_up_model = TransactionFinishFollowUp

    def describe(self, row: TransactionFinish) -> str:
        return f"transaction {row.transaction_id} of order {row.order_id or '?'}"

    def call(self, row: TransactionFinish) -> Settled:
        app_store_client().finish_transaction(row.transaction_id)
        return Settled(SUCCEEDED)

    def read_back(self, row: TransactionFinish) -> Settled:
        try:
            return self.call(row)
        except AppStoreError as error:
            if isinstance(error, AppStoreTimeoutError) or error.retryable:
                raise StillUnknown(error.describe()) from None
            return Settled(FAILED, error.answered_code, error.describe())


KIND = TransactionFinishKind()
