"""Apple's App Store Server API as a small library: no Django, plain values in, dataclasses out."""

from .client import AppStoreClient, HistoryFilters, HistoryPage, OrderLookup, RetryPolicy
from .errors import AppStoreError
from .transactions import Transaction
from .verify import TransactionVerifier, VerificationError, load_root_certificates

__all__ = [
    "AppStoreClient",
    "AppStoreError",
    "HistoryFilters",
    "HistoryPage",
    "OrderLookup",
    "RetryPolicy",
    "Transaction",
    "TransactionVerifier",
    "VerificationError",
    "load_root_certificates",
]
