"""What happened in the simulated App Store that Apple would tell the app about.

The store emits one `StoreEvent` for each change Apple announces with an App Store Server
Notification (a renewal date extended, a refund granted or declined, a refund request opened).
Listeners turn them into signed notifications; the store also keeps them in order, so tests and
the demo can see what was announced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

RENEWAL_EXTENDED = "RENEWAL_EXTENDED"
REFUND = "REFUND"
REFUND_DECLINED = "REFUND_DECLINED"
CONSUMPTION_REQUEST = "CONSUMPTION_REQUEST"


@dataclass(frozen=True)
class StoreEvent:
    """One change, named by the notificationType (and subtype) Apple sends for it.

    `transaction_id` is the transaction the notification's signedTransactionInfo carries;
    `details` holds what else the notification needs, such as `consumptionRequestReason`.
    """

    notification_type: str
    subtype: str | None
    transaction_id: str
    original_transaction_id: str
    occurred_at_ms: int
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


EventListener = Callable[[StoreEvent], None]
