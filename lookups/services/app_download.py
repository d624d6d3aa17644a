"""The customer's download of the app, from Get App Transaction Info, verified.

A read, not a change at Apple: nothing to audit. Apple keys it by customer, so any transaction ID
of theirs will do.
"""

from __future__ import annotations

from dataclasses import dataclass

from lookups.appstore import AppStoreError, VerificationError
from lookups.appstore.app_transactions import AppTransaction
from lookups.services.clients import app_store_client, transaction_verifier


@dataclass(frozen=True)
class AppDownload:
    app: AppTransaction | None = None
    error: str = ""


def app_download(any_transaction_id: str) -> AppDownload:
    """The customer's app download, or Apple's error with its code, or why it is not shown."""
    try:
        signed = app_store_client().get_app_transaction_info(any_transaction_id)
    except AppStoreError as error:
        return AppDownload(error=error.describe())
    try:
        return AppDownload(app=transaction_verifier().decode_app_transaction(signed))
    except VerificationError as error:
        if error.retryable:
            return AppDownload(
                error="Apple's certificate status service could not be reached, so the app "
                "download could not be checked yet. Try again in a minute."
            )
        return AppDownload(
            error="The App Store's answer could not be verified, so it is not shown "
            f"(check failed: {error.check})."
        )
