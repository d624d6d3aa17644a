"""Adapty's server-side API as a small library: no Django, plain values in, dataclasses out."""

from lookups.adapty.client import AdaptyClient, AdaptyError, AdaptyResult
from lookups.adapty.transaction_body import TransactionBodyError, transaction_body

__all__ = [
    "AdaptyClient",
    "AdaptyError",
    "AdaptyResult",
    "TransactionBodyError",
    "transaction_body",
]
