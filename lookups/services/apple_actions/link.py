"""The link: Set App Account Token on a purchase, read back from the token Apple shows on it.

The rules of a link (who may link what, transfers) are in `lookups.services.linking`.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from lookups.appstore import AppStoreError, VerificationError
from lookups.appstore.errors import InvalidTransactionIdError, TransactionIdNotFoundError
from lookups.models import TokenChange, TokenChangeFollowUp
from lookups.services.adapty_delivery import adapty_enabled_for, send_to_adapty
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, ActionKind, Settled, StillUnknown
from lookups.services.apple_reads import latest_transaction_at_apple
from lookups.services.clients import app_store_client
from lookups.services.purchases import is_uuid


class LinkKind(ActionKind):
    name = "link"
    label = "link"
    audit_name = "token change"
    model = TokenChange
    follow_up_model = TokenChangeFollowUp

    def describe(self, row) -> str:
        return f"purchase {row.original_transaction_id}, ticket {row.ticket_reference}"

    def call(self, row: TokenChange) -> Settled:
        app_store_client().set_app_account_token(row.original_transaction_id, row.token_after)
        return Settled(SUCCEEDED)

    def read_back(self, row: TokenChange) -> Settled:
        """Succeeded if the purchase's latest transaction at Apple carries the row's token."""
        # The engine asks as the row's app in its environment; a row naming no app can only be
        # asked about in the settings' environment.
        if row.app_id is None and row.environment != settings.APPSTORE_ENVIRONMENT:
            raise StillUnknown(
                f"written against {row.environment}, and this server asks "
                f"{settings.APPSTORE_ENVIRONMENT}"
            )
        try:
            latest = latest_transaction_at_apple(row.original_transaction_id)
        except (InvalidTransactionIdError, TransactionIdNotFoundError) as error:
            return Settled(
                FAILED,
                error.error_code,
                f"reconciled: Apple has no such purchase. {error.describe()}",
            )
        except AppStoreError as error:
            raise StillUnknown(f"Apple could not be asked: {error.describe()}") from None
        except VerificationError as error:
            raise StillUnknown(f"Apple's answer could not be verified ({error})") from None
        if latest is None:
            return Settled(FAILED, None, "reconciled: Apple lists no transaction of this purchase")
        token = latest.app_account_token
        linked = is_uuid(token) and uuid.UUID(token) == row.token_after
        return Settled(
            SUCCEEDED if linked else FAILED,
            None,
            f"reconciled: Apple shows token {token or 'none'}",
        )

    def after_success(self, row: TokenChange) -> None:
        if adapty_enabled_for(row):
            send_to_adapty(row.agent, row)


KIND = LinkKind()
