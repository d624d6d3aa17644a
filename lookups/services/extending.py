"""Goodwill extensions of a subscription's renewal date, audited around the call to Apple.

The extension row is written pending before Apple is called and settled with Apple's answer; its
own id is the requestIdentifier, so a double click or a retry is the same request at Apple. Above
the agent's daily limit of days the row waits for a manager's approval and Apple is not called.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from lookups.appstore import AppStoreError, VerificationError
from lookups.appstore.errors import (
    AppStoreTimeoutError,
    FamilySharedSubscriptionExtensionIneligibleError,
    SubscriptionExtensionIneligibleError,
)
from lookups.models import Purchase, SubscriptionExtension
from lookups.services.clients import app_store_client, transaction_verifier
from lookups.services.purchase_picture import current_purchase
from lookups.services.settling import first_check_time
from lookups.services.task_queue import enqueue_at, retry_delay

Outcome = SubscriptionExtension.Outcome
AUTO_RENEWABLE = "Auto-Renewable Subscription"
# Apple allows two extensions of one subscription in any 365 days.
EXTENSIONS_PER_YEAR = 2


class ExtensionRefused(Exception):
    """The extension was not attempted; `message` says why. Nothing was sent to Apple."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class ExtensionRequest:
    """What the agent chose; the purchase's state comes from Apple."""

    original_transaction_id: str
    extend_by_days: int
    reason_code: int
    ticket_reference: str
    # Rendered into the form: becomes the row's id and Apple's requestIdentifier.
    request_id: uuid.UUID


@dataclass(frozen=True)
class ExpectedRefusal:
    """Why Apple will refuse, known before the click, with the code Apple would answer."""

    code: int
    message: str

    @property
    def described(self) -> str:
        return f"{self.message} (Apple error {self.code})"


def renewal_date(purchase: Purchase) -> datetime | None:
    expires = purchase.latest_transaction.get("expiresDate")
    return datetime.fromtimestamp(expires / 1000, tz=UTC) if isinstance(expires, int) else None


def is_subscription(purchase: Purchase) -> bool:
    return purchase.latest_transaction.get("type") == AUTO_RENEWABLE


def expected_refusals(purchase: Purchase, *, now: datetime | None = None) -> list[ExpectedRefusal]:
    """What Apple will refuse, from the purchase's known state and the desk's past extensions."""
    now = now or timezone.now()
    latest = purchase.latest_transaction
    found: list[ExpectedRefusal] = []
    if purchase.is_family_shared:
        found.append(
            ExpectedRefusal(
                FamilySharedSubscriptionExtensionIneligibleError.error_code,
                "This subscription is shared through Family Sharing; only the organizer's own "
                "purchase can be extended.",
            )
        )
    renews = renewal_date(purchase)
    if latest.get("revocationDate"):
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "Apple refunded this subscription: it is no longer active.",
            )
        )
    elif renews is None or renews <= now:
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "The subscription's paid period has ended: it is expired, in billing retry, or "
                "in a grace period whose expiry date has passed.",
            )
        )
    if latest.get("offerDiscountType") == "FREE_TRIAL" and renews is not None and renews > now:
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "The customer is in a free offer period: Apple extends only paid periods.",
            )
        )
    if past_year_extensions(purchase, now=now) >= EXTENSIONS_PER_YEAR:
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "This subscription was already extended twice in the past 365 days.",
            )
        )
    return found


def past_year_extensions(purchase: Purchase, *, now: datetime) -> int:
    return SubscriptionExtension.objects.filter(
        environment=purchase.environment,
        original_transaction_id=purchase.original_transaction_id,
        outcome=Outcome.SUCCEEDED,
        settled_at__gte=now - timedelta(days=365),
    ).count()


def days_granted_today(agent, *, now: datetime | None = None) -> int:
    """Days this agent has granted or asked Apple for since midnight UTC (refused ones aside)."""
    now = now or timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    granted = (
        SubscriptionExtension.objects.filter(agent=agent, created_at__gte=midnight)
        .filter(outcome__in=[Outcome.PENDING, Outcome.SUCCEEDED])
        .aggregate(days=Sum("extend_by_days"))["days"]
    )
    return granted or 0


def needs_approval(agent, days: int) -> bool:
    return days_granted_today(agent) + days > settings.EXTENSION_DAYS_PER_AGENT_PER_DAY


def extend_subscription(agent, request: ExtensionRequest) -> SubscriptionExtension:
    """Ask Apple to extend the subscription, or leave the request for a manager above the limit.

    A second submission of the same form returns the first one's row without calling Apple.
    """
    earlier = SubscriptionExtension.objects.filter(pk=request.request_id).first()
    if earlier is not None:
        return earlier
    purchase = _purchase(request.original_transaction_id)
    if not is_subscription(purchase):
        raise ExtensionRefused("Only auto-renewable subscriptions can be extended.")
    awaiting = needs_approval(agent, request.extend_by_days)
    try:
        with transaction.atomic():
            extension = SubscriptionExtension.objects.create(
                id=request.request_id,
                agent=agent,
                environment=purchase.environment,
                original_transaction_id=purchase.original_transaction_id,
                product_id=purchase.product_id,
                account=_account_of(purchase),
                extend_by_days=request.extend_by_days,
                reason_code=request.reason_code,
                ticket_reference=request.ticket_reference,
                renewal_date_before=renewal_date(purchase),
                outcome=Outcome.AWAITING_APPROVAL if awaiting else Outcome.PENDING,
            )
    except IntegrityError:
        earlier = SubscriptionExtension.objects.filter(pk=request.request_id).first()
        if earlier is not None:
            return earlier
        raise ExtensionRefused(
            "Another extension of this subscription is waiting for Apple's answer: "
            "try again in a minute."
        ) from None
    if awaiting:
        return extension
    return send_extension(extension)


def approve_extension(manager, extension: SubscriptionExtension) -> SubscriptionExtension:
    """A manager lets an extension above the daily limit go to Apple."""
    _check_approver(manager, extension)
    try:
        with transaction.atomic():
            updated = SubscriptionExtension.objects.filter(
                pk=extension.pk, outcome=Outcome.AWAITING_APPROVAL
            ).update(outcome=Outcome.PENDING, approved_by=manager)
    except IntegrityError:
        raise ExtensionRefused(
            "Another extension of this subscription is waiting for Apple's answer."
        ) from None
    extension.refresh_from_db()
    if not updated:
        raise ExtensionRefused(f"This extension is already {extension.get_outcome_display()}.")
    return send_extension(extension)


def reject_extension(manager, extension: SubscriptionExtension) -> SubscriptionExtension:
    _check_approver(manager, extension)
    if not extension.reject(manager):
        raise ExtensionRefused(f"This extension is already {extension.get_outcome_display()}.")
    return extension


def send_extension(extension: SubscriptionExtension) -> SubscriptionExtension:
    """Call Apple for a pending row and settle it with the answer; a timeout leaves it pending."""
    try:
        answer = app_store_client().extend_subscription_renewal_date(
            extension.original_transaction_id,
            extend_by_days=extension.extend_by_days,
            extend_reason_code=extension.reason_code,
            request_identifier=str(extension.pk),
        )
    except AppStoreTimeoutError:
        # Apple may still carry it out: the row stays pending until a task reads the
        # subscription's status and sees whether the renewal date moved.
        follow_up(extension)
        return extension
    except AppStoreError as error:
        extension.settle(
            Outcome.FAILED, error_code=error.answered_code, error_message=error.describe()
        )
        return extension
    if answer.success:
        extension.settle(Outcome.SUCCEEDED, effective_date=answer.effective_date)
    else:
        extension.settle(
            Outcome.FAILED, error_message="Apple answered that the extension did not succeed."
        )
    return extension


def follow_up(extension: SubscriptionExtension, *, attempt: int = 1) -> None:
    """Have a worker settle this timed-out extension from the subscription's status later."""
    from lookups import tasks  # lookups.tasks imports this module

    when = first_check_time() if attempt == 1 else timezone.now() + retry_delay(attempt - 1)
    enqueue_at(tasks.check_extension, when, extension_id=str(extension.pk), attempt=attempt)


def check_extension(extension_id: str, *, attempt: int = 1) -> str:
    """Settle a timed-out extension from Get All Subscription Statuses: did the date move?

    Safe to run twice: settling is one conditional UPDATE. When Apple can't be read, the check
    is queued again with backoff, TOKEN_CHECK_ATTEMPTS times at most; then the row stays pending
    for someone to look at.
    """
    extension = SubscriptionExtension.objects.filter(pk=extension_id).first()
    if extension is None:
        return f"no extension {extension_id}"
    if extension.outcome != Outcome.PENDING:
        return f"extension {extension.pk} is already {extension.outcome}"
    try:
        renews = renewal_date_at_apple(extension.original_transaction_id)
    except (AppStoreError, VerificationError) as error:
        if attempt >= settings.TOKEN_CHECK_ATTEMPTS:
            return f"gave up reading extension {extension.pk} from Apple: {error}"
        follow_up(extension, attempt=attempt + 1)
        return f"extension {extension.pk}: Apple could not be read, checking again later"
    expected = (
        extension.renewal_date_before + timedelta(days=extension.extend_by_days)
        if extension.renewal_date_before is not None
        else None
    )
    if renews is not None and expected is not None and renews >= expected:
        extension.settle(Outcome.SUCCEEDED, effective_date=renews)
    else:
        extension.settle(
            Outcome.FAILED,
            error_message=(
                "Apple did not answer in time and the renewal date has not moved: "
                "nothing was extended."
            ),
        )
    return f"extension {extension.pk}: {extension.outcome}"


def renewal_date_at_apple(original_transaction_id: str) -> datetime | None:
    """The subscription's next renewal date, from its signed renewal info at Apple."""
    statuses = app_store_client().get_all_subscription_statuses(original_transaction_id)
    for group in statuses.groups:
        for last in group.last_transactions:
            if last.original_transaction_id == original_transaction_id and last.signed_renewal_info:
                info = transaction_verifier().decode_renewal_info(last.signed_renewal_info)
                return info.renewal_date
    return None


def is_still_being_sent(extension: SubscriptionExtension) -> bool:
    return extension.outcome == Outcome.PENDING


def _check_approver(manager, extension: SubscriptionExtension) -> None:
    if extension.agent_id == manager.pk:
        raise ExtensionRefused("Someone else must approve your own extension.", status=403)


def _purchase(original_transaction_id: str) -> Purchase:
    try:
        purchase = current_purchase(original_transaction_id)
    except AppStoreError as error:
        raise ExtensionRefused(
            f"Apple could not be read, so nothing was sent: {error.describe()}", status=502
        ) from None
    except VerificationError:
        raise ExtensionRefused(
            "Apple's answer could not be verified, so nothing was sent.", status=502
        ) from None
    if purchase is None:
        raise ExtensionRefused("Apple lists no purchase with this ID.", status=404)
    return purchase


def _account_of(purchase: Purchase):
    from lookups.models import CustomerAccount

    if purchase.app_account_token is None:
        return None
    return CustomerAccount.objects.filter(app_account_token=purchase.app_account_token).first()
