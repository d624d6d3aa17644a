"""The extension: Extend a Subscription Renewal Date, read back from the renewal date at Apple.

The rules of an extension (the daily limit, Apple's own refusals foreseen, approval) are in
`lookups.services.extending`.
"""

from __future__ import annotations

from datetime import timedelta

from lookups.appstore import AppStoreError, VerificationError
from lookups.models import SubscriptionExtension, SubscriptionExtensionFollowUp
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, ActionKind, Settled, StillUnknown
from lookups.services.apple_reads import renewal_date_at_apple
from lookups.services.clients import app_store_client


class ExtensionKind(ActionKind):
    name = "extension"
    label = "extension"
    audit_name = "extension"
    model = SubscriptionExtension
    follow_up_model = SubscriptionExtensionFollowUp

    def describe(self, row) -> str:
        return f"purchase {row.original_transaction_id}, ticket {row.ticket_reference}"

    def call(self, row: SubscriptionExtension) -> Settled:
        # The row's id is Apple's requestIdentifier: a retry is the same request there.
        answer = app_store_client().extend_subscription_renewal_date(
            row.original_transaction_id,
            extend_by_days=row.extend_by_days,
            extend_reason_code=row.reason_code,
            request_identifier=str(row.pk),
        )
        if answer.success:
            return Settled(SUCCEEDED, extra={"effective_date": answer.effective_date})
        return Settled(FAILED, None, "Apple answered that the extension did not succeed.")

    def read_back(self, row: SubscriptionExtension) -> Settled:
        """Succeeded if the renewal date at Apple moved by the row's days since it was written."""
        try:
            renews = renewal_date_at_apple(row.original_transaction_id)
        except AppStoreError as error:
            raise StillUnknown(f"Apple could not be asked: {error.describe()}") from None
        except VerificationError as error:
            raise StillUnknown(f"Apple's answer could not be verified ({error})") from None
        before = row.renewal_date_before
        if before and renews and renews >= before + timedelta(days=row.extend_by_days):
            return Settled(SUCCEEDED, extra={"effective_date": renews})
        return Settled(
            FAILED,
            None,
            "Apple did not answer in time and the renewal date has not moved: "
            "nothing was extended.",
        )


KIND = ExtensionKind()
