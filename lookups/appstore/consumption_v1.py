"""Send Consumption Information V1's body (deprecated by V2, still offered by Apple's libraries),
checked against Apple's documented ranges when built."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from .errors import InvalidConsumptionInformationError, InvalidCustomerConsentedError

_UUID_OR_EMPTY = re.compile(r"|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Each field's documented values: the number of choices, from 0.
_CHOICES = {
    "consumption_status": 4,
    "platform": 3,
    "delivery_status": 6,
    "account_tenure": 8,
    "play_time": 8,
    "lifetime_dollars_refunded": 8,
    "lifetime_dollars_purchased": 8,
    "user_status": 5,
    "refund_preference": 4,
}


@dataclass(frozen=True)
class ConsumptionInformationV1:
    customer_consented: bool
    consumption_status: int
    platform: int
    sample_content_provided: bool
    delivery_status: int
    app_account_token: str  # the purchase's token, or "" when the app uses none
    account_tenure: int
    play_time: int
    lifetime_dollars_refunded: int
    lifetime_dollars_purchased: int
    user_status: int
    refund_preference: int = 0

    def __post_init__(self) -> None:
        if self.customer_consented is not True:
            raise InvalidCustomerConsentedError()
        for name, count in _CHOICES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
                raise InvalidConsumptionInformationError(
                    agent_message=f"{name.replace('_', ' ').capitalize()} is not one of Apple's "
                    "values."
                )
        if not isinstance(self.sample_content_provided, bool):
            raise InvalidConsumptionInformationError(
                agent_message="Say whether the customer could try the content before buying it."
            )
        token = self.app_account_token
        if not isinstance(token, str) or not _UUID_OR_EMPTY.fullmatch(token):
            raise InvalidConsumptionInformationError(
                agent_message="The app account token must be a UUID, or empty."
            )

    def body(self) -> dict[str, Any]:
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
