"""Get Refund History V2 for the agent: every page, each refunded transaction verified.

Apple keys refund history by customer, not by purchase: any transaction ID of the customer's
gives every refund they have had in this app. A transaction whose signature fails is counted,
never shown as a refund.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lookups.appstore import AppStoreError, Transaction, VerificationError
from lookups.services.clients import app_store_client, transaction_verifier


@dataclass(frozen=True)
class RefundHistory:
    refunds: list[Transaction] = field(default_factory=list)
    unverified: int = 0
    error: str = ""


def refund_history(any_transaction_id: str) -> RefundHistory:
    """The customer's refunded transactions, newest refund first, or Apple's error and code."""
    verifier = transaction_verifier()
    refunds: list[Transaction] = []
    unverified = 0
    try:
        for page in app_store_client().iter_refund_history(any_transaction_id):
            for signed in page.signed_transactions:
                try:
                    refunds.append(verifier.decode_transaction(signed))
                except VerificationError:
                    unverified += 1
    except AppStoreError as error:
        return RefundHistory(error=error.describe())
    refunds.sort(key=_refunded_at, reverse=True)
    return RefundHistory(refunds=refunds, unverified=unverified)


def _refunded_at(txn: Transaction) -> float:
    return txn.revocation_date.timestamp() if txn.revocation_date else 0.0
