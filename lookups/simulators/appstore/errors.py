"""The App Store Server API errors the simulator answers with: HTTP status, code and message.

Codes and, where Apple documents them, messages are Apple's own; the few messages Apple leaves
undocumented are worded in the same style.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AppleError:
    status: int
    code: int
    message: str

    def body(self) -> dict[str, int | str]:
        return {"errorCode": self.code, "errorMessage": self.message}


class ApiError(Exception):
    """Raised inside the simulator to answer a request with one of Apple's errors."""

    def __init__(self, error: AppleError) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


GENERAL_BAD_REQUEST = AppleError(400, 4000000, "Bad request.")
INVALID_REQUEST_REVISION = AppleError(400, 4000005, "Invalid request revision.")
INVALID_TRANSACTION_ID = AppleError(400, 4000006, "Invalid transaction id.")
START_DATE_AFTER_END_DATE = AppleError(
    400, 4000013, "Invalid request. The end date precedes the start date or the dates are the same."
)
INVALID_START_DATE = AppleError(
    400,
    4000015,
    "Invalid request. The start date is not a timestamp value represented in milliseconds.",
)
INVALID_END_DATE = AppleError(
    400,
    4000016,
    "Invalid request. The end date is not a timestamp value represented in milliseconds.",
)
INVALID_SORT = AppleError(400, 4000021, "Invalid request. The sort parameter is invalid.")
INVALID_PRODUCT_TYPE = AppleError(
    400, 4000022, "Invalid request. The product type parameter is invalid."
)
INVALID_PRODUCT_ID = AppleError(
    400, 4000023, "Invalid request. The product id parameter is invalid."
)
INVALID_SUBSCRIPTION_GROUP_IDENTIFIER = AppleError(
    400, 4000024, "Invalid request. The subscription group identifier parameter is invalid."
)
INVALID_EXCLUDE_REVOKED = AppleError(
    400, 4000025, "Invalid request. The exclude revoked parameter is invalid."
)
INVALID_IN_APP_OWNERSHIP_TYPE = AppleError(
    400, 4000026, "Invalid request. The in-app ownership type parameter is invalid."
)
INVALID_REVOKED = AppleError(400, 4000030, "Invalid request. The revoked parameter is invalid.")
APP_TRANSACTION_ID_NOT_SUPPORTED = AppleError(
    400, 4000048, "Invalid request. App transactions aren't supported by this endpoint."
)
INVALID_APP_ACCOUNT_TOKEN_UUID = AppleError(
    400, 4000183, "Invalid request. The app account token field must be a valid UUID."
)
FAMILY_TRANSACTION_NOT_SUPPORTED = AppleError(
    400, 4000185, "Invalid request. Family Sharing transactions aren't supported by this endpoint."
)
TRANSACTION_ID_IS_NOT_ORIGINAL_TRANSACTION_ID = AppleError(
    400, 4000187, "Invalid request. The transaction ID provided is not an original transaction ID."
)
# Subscription statuses, renewal-date extensions and consumption information.
INVALID_ORIGINAL_TRANSACTION_ID = AppleError(400, 4000008, "Invalid original transaction id.")
INVALID_EXTEND_BY_DAYS = AppleError(400, 4000009, "Invalid extend by days value.")
INVALID_EXTEND_REASON_CODE = AppleError(400, 4000010, "Invalid extend reason code.")
INVALID_REQUEST_IDENTIFIER = AppleError(400, 4000011, "Invalid request identifier.")
INVALID_STATUS = AppleError(400, 4000031, "Invalid request. The status parameter is invalid.")
INVALID_CUSTOMER_CONSENTED = AppleError(
    400, 4000035, "Invalid request. The customer consented field is invalid."
)
INVALID_DELIVERY_STATUS = AppleError(
    400, 4000036, "Invalid request. The delivery status field is invalid."
)
INVALID_SAMPLE_CONTENT_PROVIDED = AppleError(
    400, 4000041, "Invalid request. The sample content provided field is invalid."
)
# Apple's pages give no code for these two; both answer as a general bad request.
CONSUMPTION_PERCENTAGE_OUT_OF_RANGE = AppleError(
    400, 4000000, "Invalid request. The consumption percentage is outside the valid range."
)
UNDELIVERED_CONSUMPTION_PERCENTAGE_NON_ZERO = AppleError(
    400,
    4000000,
    "Invalid request. The consumption percentage must be zero for the provided delivery status.",
)
INVALID_REFUND_PREFERENCE = AppleError(
    400, 4000044, "Invalid request. The refund preference field is invalid."
)
CONSUMPTION_PERCENTAGE_AUTO_RENEWABLE_SUBSCRIPTION = AppleError(
    400,
    4000209,
    "Invalid request. The consumption percentage field is not supported for auto-renewable "
    "subscription transactions.",
)
# Send Consumption Information V1's fields.
INVALID_ACCOUNT_TENURE = AppleError(
    400, 4000032, "Invalid request. The account tenure field is invalid."
)
INVALID_APP_ACCOUNT_TOKEN = AppleError(
    400, 4000033, "Invalid request. The app account token field is invalid."
)
INVALID_CONSUMPTION_STATUS = AppleError(
    400, 4000034, "Invalid request. The consumption status field is invalid."
)
INVALID_LIFETIME_DOLLARS_PURCHASED = AppleError(
    400, 4000037, "Invalid request. The lifetime dollars purchased field is invalid."
)
INVALID_LIFETIME_DOLLARS_REFUNDED = AppleError(
    400, 4000038, "Invalid request. The lifetime dollars refunded field is invalid."
)
INVALID_PLATFORM = AppleError(400, 4000039, "Invalid request. The platform field is invalid.")
INVALID_PLAY_TIME = AppleError(400, 4000040, "Invalid request. The playtime field is invalid.")
INVALID_USER_STATUS = AppleError(400, 4000042, "Invalid request. The user status field is invalid.")
# Extend Subscription Renewal Dates for All Active Subscribers and its status.
INVALID_EMPTY_STOREFRONT_COUNTRY_CODE_LIST = AppleError(
    400, 4000027, "Invalid request. The storefront country code list is empty."
)
INVALID_STOREFRONT_COUNTRY_CODE = AppleError(
    400, 4000028, "Invalid request. A storefront country code is invalid."
)
STATUS_REQUEST_NOT_FOUND = AppleError(
    404, 4040009, "The server didn't find a subscription-renewal-date extension request."
)
APP_TRANSACTION_DOES_NOT_EXIST = AppleError(
    404, 4040019, "No app transaction exists for the customer."
)
SUBSCRIPTION_EXTENSION_INELIGIBLE = AppleError(
    403, 4030004, "Forbidden - subscription state ineligible for extension."
)
SUBSCRIPTION_MAX_EXTENSION = AppleError(
    403, 4030005, "Forbidden - subscription has reached maximum extension count."
)
FAMILY_SHARED_SUBSCRIPTION_EXTENSION_INELIGIBLE = AppleError(
    403, 4030007, "Forbidden - Family Sharing subscriptions can't be extended."
)
ORIGINAL_TRANSACTION_ID_NOT_FOUND = AppleError(404, 4040005, "Original transaction id not found.")
ORIGINAL_TRANSACTION_ID_NOT_FOUND_RETRYABLE = AppleError(
    404, 4040006, "Original transaction id not found. Please try again."
)
TRANSACTION_ID_NOT_FOUND = AppleError(404, 4040010, "Transaction id not found.")
RATE_LIMIT_EXCEEDED = AppleError(429, 4290000, "Rate limit exceeded.")
GENERAL_INTERNAL = AppleError(500, 5000000, "An unknown error occurred.")
GENERAL_INTERNAL_RETRYABLE = AppleError(
    500, 5000001, "An unknown error occurred. Please try again."
)


# Get Notification History and the test notification.
START_DATE_TOO_FAR_IN_PAST = AppleError(
    400, 4000012, "Invalid request. The start date is earlier than the allowed start date."
)
INVALID_PAGINATION_TOKEN = AppleError(
    400, 4000014, "Invalid request. The pagination token is invalid."
)
PAGINATION_TOKEN_EXPIRED = AppleError(
    400, 4000017, "Invalid request. The pagination token is expired."
)
INVALID_NOTIFICATION_TYPE = AppleError(
    400, 4000018, "Invalid request. The notification type or subtype is invalid."
)
MULTIPLE_FILTERS_SUPPLIED = AppleError(
    400,
    4000019,
    "Invalid request. Include either the transactionId or the notificationType in your query, "
    "but not both.",
)
INVALID_TEST_NOTIFICATION_TOKEN = AppleError(
    400, 4000020, "Invalid request. The test notification token is invalid."
)
SERVER_NOTIFICATION_URL_NOT_FOUND = AppleError(
    404,
    4040007,
    "Server notification URL not found.",
)
TEST_NOTIFICATION_NOT_FOUND = AppleError(
    404,
    4040008,
    "Test notification not found.",
)
NOTIFICATION_ERRORS = (
    START_DATE_TOO_FAR_IN_PAST,
    INVALID_PAGINATION_TOKEN,
    PAGINATION_TOKEN_EXPIRED,
    INVALID_NOTIFICATION_TYPE,
    MULTIPLE_FILTERS_SUPPLIED,
    INVALID_TEST_NOTIFICATION_TOKEN,
    SERVER_NOTIFICATION_URL_NOT_FOUND,
    TEST_NOTIFICATION_NOT_FOUND,
)

_KNOWN = {
    e.code: e
    for e in (
        GENERAL_BAD_REQUEST,
        INVALID_REQUEST_REVISION,
        INVALID_TRANSACTION_ID,
        START_DATE_AFTER_END_DATE,
        INVALID_START_DATE,
        INVALID_END_DATE,
        INVALID_SORT,
        INVALID_PRODUCT_TYPE,
        INVALID_PRODUCT_ID,
        INVALID_SUBSCRIPTION_GROUP_IDENTIFIER,
        INVALID_EXCLUDE_REVOKED,
        INVALID_IN_APP_OWNERSHIP_TYPE,
        INVALID_REVOKED,
        APP_TRANSACTION_ID_NOT_SUPPORTED,
        INVALID_APP_ACCOUNT_TOKEN_UUID,
        FAMILY_TRANSACTION_NOT_SUPPORTED,
        TRANSACTION_ID_IS_NOT_ORIGINAL_TRANSACTION_ID,
        INVALID_ORIGINAL_TRANSACTION_ID,
        INVALID_EXTEND_BY_DAYS,
        INVALID_EXTEND_REASON_CODE,
        INVALID_REQUEST_IDENTIFIER,
        INVALID_STATUS,
        INVALID_CUSTOMER_CONSENTED,
        INVALID_DELIVERY_STATUS,
        INVALID_SAMPLE_CONTENT_PROVIDED,
        INVALID_REFUND_PREFERENCE,
        CONSUMPTION_PERCENTAGE_AUTO_RENEWABLE_SUBSCRIPTION,
        INVALID_ACCOUNT_TENURE,
        INVALID_APP_ACCOUNT_TOKEN,
        INVALID_CONSUMPTION_STATUS,
        INVALID_LIFETIME_DOLLARS_PURCHASED,
        INVALID_LIFETIME_DOLLARS_REFUNDED,
        INVALID_PLATFORM,
        INVALID_PLAY_TIME,
        INVALID_USER_STATUS,
        INVALID_EMPTY_STOREFRONT_COUNTRY_CODE_LIST,
        INVALID_STOREFRONT_COUNTRY_CODE,
        STATUS_REQUEST_NOT_FOUND,
        APP_TRANSACTION_DOES_NOT_EXIST,
        SUBSCRIPTION_EXTENSION_INELIGIBLE,
        SUBSCRIPTION_MAX_EXTENSION,
        FAMILY_SHARED_SUBSCRIPTION_EXTENSION_INELIGIBLE,
        ORIGINAL_TRANSACTION_ID_NOT_FOUND,
        ORIGINAL_TRANSACTION_ID_NOT_FOUND_RETRYABLE,
        TRANSACTION_ID_NOT_FOUND,
        RATE_LIMIT_EXCEEDED,
        GENERAL_INTERNAL,
        GENERAL_INTERNAL_RETRYABLE,
        *NOTIFICATION_ERRORS,
    )
}


def apple_error(code: int, *, status: int | None = None, message: str | None = None) -> AppleError:
    """Any of Apple's errors by code, with Apple's message where the simulator knows it."""
    known = _KNOWN.get(code)
    return AppleError(
        status=status or (known.status if known else code // 10_000),
        code=code,
        message=message or (known.message if known else "An error occurred."),
    )
