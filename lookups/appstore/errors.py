"""Every way a call to the App Store Server API can fail, each with a sentence for the agent.

Apple answers errors with `{"errorCode": <int>, "errorMessage": "<text>"}`; each known code has a
subclass of `AppStoreError` here, found through `error_for_response`. Failures that carry no code
(401, a proxy's HTML page, a dropped connection) have classes of their own.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime


class AppStoreError(Exception):
    """A call to Apple failed. `agent_message` is the sentence to show a support agent."""

    error_code: int | None = None
    retryable: bool = False
    agent_message: str = "The App Store could not complete the request."

    def __init__(
        self,
        *,
        http_status: int | None = None,
        error_code: int | None = None,
        apple_message: str = "",
        agent_message: str | None = None,
    ) -> None:
        if error_code is not None:
            self.error_code = error_code
        if agent_message is not None:
            self.agent_message = agent_message
        self.http_status = http_status
        self.apple_message = apple_message
        super().__init__(self.describe())

    @property
    def answered_code(self) -> int | None:
        """Apple's errorCode, only when Apple answered: a client-side refusal has none."""
        return self.error_code if self.http_status is not None else None

    def describe(self) -> str:
        """The agent's sentence followed by Apple's code, as shown on the page and recorded.

        A request refused on our side before it was sent names no code: Apple never answered.
        """
        if self.error_code is None or self.http_status is None:
            return self.agent_message
        return f"{self.agent_message} (Apple error {self.error_code})"


class AppStoreUnavailableError(AppStoreError):
    """No usable answer: connection refused or reset, DNS failure, or a timeout."""

    retryable = True
    agent_message = "The App Store could not be reached. Try again in a minute."


class AppStoreTimeoutError(AppStoreUnavailableError):
    # A read timeout is not retried: the request may still be running at Apple.
    retryable = False
    agent_message = "The App Store took too long to answer. Try again in a minute."


class UnreadableResponseError(AppStoreError):
    """An answer whose body is empty or not Apple's JSON (a proxy's error page, say)."""

    retryable = False
    agent_message = "The App Store sent an answer that could not be read. Try again in a minute."


class OrderLookupUnavailableError(AppStoreError):
    """Look Up Order ID exists in Production only: Apple has no sandbox URL for it."""

    agent_message = (
        "Order IDs can be looked up only in the App Store's Production environment, and this "
        "desk is set to Sandbox. Open the purchase's history by its transaction ID instead."
    )


class AuthenticationError(AppStoreError):
    """401: Apple refused our bearer token. A configuration problem, not the agent's."""

    agent_message = (
        "The App Store refused Supportdesk's credentials. Ask an administrator to check "
        "the App Store Connect key."
    )


class RateLimitExceededError(AppStoreError):
    error_code = 4290000
    retryable = True
    agent_message = "The App Store is receiving too many requests from us right now."

    def __init__(self, *, retry_at: datetime | None = None, **kwargs) -> None:
        self.retry_at = retry_at
        super().__init__(**kwargs)

    def describe(self) -> str:
        when = ""
        if self.retry_at is not None:
            seconds = max(1, math.ceil((self.retry_at - datetime.now(UTC)).total_seconds()))
            when = f" Try again in {seconds} second{'s' if seconds != 1 else ''}."
        if self.http_status is None:
            # Held back on our side to stay within the budget: Apple never answered.
            return f"{self.agent_message}{when}"
        return f"{self.agent_message}{when} (Apple error {self.error_code})"


class DeskRateHold(RateLimitExceededError):
    """Held back on our side by the rate budget every worker shares: never sent to Apple.

    Apple said nothing, so it names no Apple error. `after_apple_429` says the pause honours a
    Retry-After Apple gave an earlier request; otherwise the budget for the second is spent.
    """

    error_code = None

    def __init__(self, *, retry_at: datetime, after_apple_429: bool = False) -> None:
        self.after_apple_429 = after_apple_429
        super().__init__(retry_at=retry_at)

    @property
    def seconds(self) -> int:
        assert self.retry_at is not None
        return max(1, math.ceil((self.retry_at - datetime.now(UTC)).total_seconds()))

    def describe(self) -> str:
        why = (
            ": Apple asked for a pause after too many requests"
            if self.after_apple_429
            else " to stay within Apple's rate limit"
        )
        return f"The desk is pausing App Store calls for {self.seconds} s{why}. Try again then."


# One class per errorCode Apple documents for the endpoints we call.
class GeneralBadRequestError(AppStoreError):
    error_code = 4000000
    agent_message = "The App Store rejected the request as malformed."


class InvalidAppIdentifierError(AppStoreError):
    error_code = 4000002
    agent_message = (
        "The App Store does not accept this app's bundle ID. Ask an administrator to check it."
    )


class InvalidRequestRevisionError(AppStoreError):
    error_code = 4000005
    agent_message = (
        "The history page marker is no longer valid. Open the history again from the start."
    )


class InvalidTransactionIdError(AppStoreError):
    error_code = 4000006
    agent_message = "That is not a valid transaction ID."


class InvalidOriginalTransactionIdError(AppStoreError):
    error_code = 4000008
    agent_message = "That is not a valid original transaction ID."


class StartDateTooFarInPastError(AppStoreError):
    error_code = 4000012
    agent_message = "The start date is further in the past than the App Store allows."


class StartDateAfterEndDateError(AppStoreError):
    error_code = 4000013
    agent_message = "The start date must be before the end date."


class InvalidStartDateError(AppStoreError):
    error_code = 4000015
    agent_message = "The start date is not valid."


class InvalidEndDateError(AppStoreError):
    error_code = 4000016
    agent_message = "The end date is not valid."


class InvalidSortError(AppStoreError):
    error_code = 4000021
    agent_message = "The sort order is not valid."


class InvalidProductTypeError(AppStoreError):
    error_code = 4000022
    agent_message = "The product type filter is not valid."


class InvalidProductIdError(AppStoreError):
    error_code = 4000023
    agent_message = "The product ID filter is not valid."


class InvalidSubscriptionGroupIdentifierError(AppStoreError):
    error_code = 4000024
    agent_message = "The subscription group filter is not valid."


class InvalidExcludeRevokedError(AppStoreError):
    error_code = 4000025
    agent_message = "The revoked filter is not valid."


class InvalidInAppOwnershipTypeError(AppStoreError):
    error_code = 4000026
    agent_message = "The ownership type filter is not valid."


class InvalidRevokedError(AppStoreError):
    error_code = 4000030
    agent_message = "The revoked filter is not valid."


class AppTransactionIdNotSupportedError(AppStoreError):
    error_code = 4000048
    agent_message = (
        "That is an app transaction ID; use the purchase's original transaction ID instead."
    )


class InvalidAppAccountTokenUUIDError(AppStoreError):
    error_code = 4000183
    agent_message = "The customer account's token is not a valid UUID, so Apple refused it."


class FamilyTransactionNotSupportedError(AppStoreError):
    error_code = 4000185
    agent_message = (
        "This purchase is shared through Family Sharing and cannot be linked to an "
        "account. Link the family organizer's own purchase instead."
    )


class TransactionIdIsNotOriginalTransactionIdError(AppStoreError):
    error_code = 4000187
    agent_message = (
        "That is a renewal's transaction ID; link the purchase by its original transaction ID."
    )


class AccountNotFoundError(AppStoreError):
    error_code = 4040001
    agent_message = "The App Store has no account for this request."


class AccountNotFoundRetryableError(AppStoreError):
    error_code = 4040002
    retryable = True
    agent_message = "The App Store could not find the account yet. Try again in a minute."


class AppNotFoundError(AppStoreError):
    error_code = 4040003
    agent_message = "The App Store does not know this app. Ask an administrator to check it."


class AppNotFoundRetryableError(AppStoreError):
    error_code = 4040004
    retryable = True
    agent_message = "The App Store could not find this app just now. Try again in a minute."


class OriginalTransactionIdNotFoundError(AppStoreError):
    error_code = 4040005
    agent_message = "The App Store has no purchase with that original transaction ID for this app."


class OriginalTransactionIdNotFoundRetryableError(AppStoreError):
    error_code = 4040006
    retryable = True
    agent_message = "The App Store could not find that purchase yet. Try again in a minute."


class TransactionIdNotFoundError(AppStoreError):
    error_code = 4040010
    agent_message = "The App Store has no transaction with that ID for this app."


class GeneralInternalError(AppStoreError):
    error_code = 5000000
    agent_message = "The App Store had an internal error. Try again later."


class GeneralInternalRetryableError(AppStoreError):
    error_code = 5000001
    retryable = True
    agent_message = "The App Store had a temporary error. Try again in a minute."


# Subscription statuses, renewal-date extensions and consumption information.
class InvalidExtendByDaysError(AppStoreError):
    error_code = 4000009
    agent_message = "An extension must be between 1 and 90 days."


class InvalidExtendReasonCodeError(AppStoreError):
    error_code = 4000010
    agent_message = "Choose one of the App Store's reasons for the extension."


class InvalidRequestIdentifierError(AppStoreError):
    error_code = 4000011
    agent_message = "The extension's request reference is missing or longer than 128 characters."


class InvalidStatusError(AppStoreError):
    error_code = 4000031
    agent_message = "The subscription status filter is not valid."


class InvalidCustomerConsentedError(AppStoreError):
    error_code = 4000035
    agent_message = (
        "Apple accepts consumption information only when the customer has consented to share it."
    )


class InvalidDeliveryStatusError(AppStoreError):
    error_code = 4000036
    agent_message = "Choose whether and how the purchase was delivered."


class InvalidSampleContentProvidedError(AppStoreError):
    error_code = 4000041
    agent_message = "Say whether the customer could try the content before buying it."


class SubscriptionExtensionIneligibleError(AppStoreError):
    error_code = 4030004
    agent_message = (
        "Apple will not extend this subscription in its current state: it is expired, in "
        "billing retry or its grace period, in a free offer period, or was already extended "
        "twice in the past year."
    )


class SubscriptionMaxExtensionError(AppStoreError):
    error_code = 4030005
    agent_message = "This subscription has already had as many extensions as Apple allows."


class FamilySharedSubscriptionExtensionIneligibleError(AppStoreError):
    error_code = 4030007
    agent_message = (
        "This subscription is shared through Family Sharing; only the family organizer's own "
        "purchase can be extended."
    )


class InvalidConsumptionInformationError(AppStoreError):
    """Refused on our side before sending: the answer breaks one of Apple's rules."""

    agent_message = "The consumption information is not complete or not valid."


class InvalidRefundPreferenceError(AppStoreError):
    error_code = 4000044
    agent_message = "The refund preference must be decline, full refund or prorated."


class ConsumptionPercentageAutoRenewableSubscriptionError(AppStoreError):
    error_code = 4000209
    agent_message = (
        "Apple works out how much of a subscription was used itself: leave the consumed share "
        "out for an auto-renewable subscription."
    )


# Outage compensation (Extend Subscription Renewal Dates for All Active Subscribers).
class InvalidStorefrontCountryCodeError(AppStoreError):
    error_code = 4000028
    agent_message = "Each storefront must be a three-letter country code, such as USA or FRA."


class InvalidEmptyStorefrontCountryCodeListError(AppStoreError):
    error_code = 4000027
    agent_message = "Choose at least one storefront, or leave the list out for all of them."


class StatusRequestNotFoundError(AppStoreError):
    error_code = 4040009
    agent_message = "The App Store has no mass extension with that reference for this product."


class AppTransactionDoesNotExistError(AppStoreError):
    error_code = 4040019
    agent_message = "The App Store has no record of this customer downloading the app."


# Get Notification History and the test notification.
class InvalidPaginationTokenError(AppStoreError):
    error_code = 4000014
    agent_message = "The notification history page marker is not valid. Start again from the top."


class PaginationTokenExpiredError(AppStoreError):
    error_code = 4000017
    agent_message = "The notification history page marker has expired. Start again from the top."


class InvalidNotificationTypeError(AppStoreError):
    error_code = 4000018
    agent_message = "The notification type or subtype filter is not valid."


class MultipleFiltersSuppliedError(AppStoreError):
    error_code = 4000019
    agent_message = "Filter notification history by type or by transaction, not both."


class InvalidTestNotificationTokenError(AppStoreError):
    error_code = 4000020
    agent_message = "That is not a valid test notification token."


class ServerNotificationUrlNotFoundError(AppStoreError):
    error_code = 4040007
    agent_message = (
        "App Store Connect has no notification URL for this app in this environment, so Apple "
        "cannot send notifications. Ask an administrator to set it."
    )


class TestNotificationNotFoundError(AppStoreError):
    __test__ = False  # a name pytest would otherwise collect
    error_code = 4040008
    agent_message = "The App Store has no result for that test notification (it may have expired)."


ERROR_CLASSES: dict[int, type[AppStoreError]] = {
    cls.error_code: cls for cls in AppStoreError.__subclasses__() if cls.error_code is not None
}


def error_for_response(
    http_status: int, body: bytes, retry_after_header: str | None = None
) -> AppStoreError:
    """Turn one of Apple's error answers into the matching exception."""
    if http_status == 401:
        return AuthenticationError(http_status=401)
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("errorCode"), int):
        if http_status == 429:
            return RateLimitExceededError(
                http_status=429, retry_at=parse_retry_after(retry_after_header)
            )
        return UnreadableResponseError(
            http_status=http_status,
            agent_message=f"The App Store answered with HTTP {http_status} and no readable "
            "error. Try again in a minute.",
        )
    code: int = parsed["errorCode"]
    message = str(parsed.get("errorMessage", ""))
    if code == RateLimitExceededError.error_code:
        return RateLimitExceededError(
            http_status=http_status,
            apple_message=message,
            retry_at=parse_retry_after(retry_after_header),
        )
    cls = ERROR_CLASSES.get(code)
    if cls is not None:
        return cls(http_status=http_status, apple_message=message)
    return AppStoreError(
        http_status=http_status,
        error_code=code,
        apple_message=message,
        # Apple's own sentence usually ends with a full stop already.
        agent_message=(
            f"The App Store refused the request: {message.rstrip('.') or 'no reason given'}."
        ),
    )


def parse_retry_after(value: str | None) -> datetime | None:
    """Apple's Retry-After is a UNIX time in milliseconds (not seconds, not an HTTP date)."""
    if not value:
        return None
    try:
        millis = int(value.strip())
    except ValueError:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
