"""Goodwill extensions of a subscription's renewal date, audited around the call to Apple.

The extension row is written pending before Apple is called and settled with Apple's answer; its
own id is the requestIdentifier, so a double click or a retry is the same request at Apple. Above
the agent's daily limit of days the row waits for a manager's approval and Apple is not called.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from lookups.appstore.errors import (
    FamilySharedSubscriptionExtensionIneligibleError,
    SubscriptionExtensionIneligibleError,
)
from lookups.models import CustomerAccount, Purchase, SubscriptionExtension
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.acting_app import refuse_unless_acted_on, refuse_unless_seen
from lookups.services.apple_actions.extension import KIND as EXTENSION
from lookups.services.apple_actions.locks import agent_key, locked, purchase_key
from lookups.services.purchase_picture import purchase_to_act_on

Outcome = SubscriptionExtension.Outcome
# Apple allows two extensions of one subscription in any 365 days.
EXTENSIONS_PER_YEAR = 2

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ExtensionRefused(ActionRefused):
    """The extension was not attempted; `message` says why. Nothing was sent to Apple."""


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
    return purchase.expires_at


def is_subscription(purchase: Purchase) -> bool:
    return purchase.is_subscription


def expected_refusals(
    purchase: Purchase, *, now: datetime | None = None, past_year: int | None = None
) -> list[ExpectedRefusal]:
    """What Apple will refuse, from the purchase's known state and the desk's past extensions.

    `past_year`: its extensions in the past 365 days, when counted for many purchases at once.
    """
    now = now or timezone.now()
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
    if purchase.is_revoked:
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
    if purchase.in_free_trial and renews is not None and renews > now:
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "The customer is in a free offer period: Apple extends only paid periods.",
            )
        )
    if past_year is None:
        past_year = past_year_extensions(purchase, now=now)
    if past_year >= EXTENSIONS_PER_YEAR:
        found.append(
            ExpectedRefusal(
                SubscriptionExtensionIneligibleError.error_code,
                "This subscription was already extended twice in the past 365 days.",
            )
        )
    return found


def _past_year(now: datetime):
    return SubscriptionExtension.objects.filter(
        outcome=Outcome.SUCCEEDED, settled_at__gte=now - timedelta(days=365)
    )


def past_year_extensions(purchase: Purchase, *, now: datetime) -> int:
    return (
        _past_year(now)
        .filter(
            environment=purchase.environment,
            original_transaction_id=purchase.original_transaction_id,
        )
        .count()
    )


def past_year_extension_counts(
    purchases: Iterable[Purchase], *, now: datetime
) -> dict[tuple[str, str], int]:
    """`past_year_extensions` of many purchases in one query, by (environment, original ID)."""
    by_environment: dict[str, set[str]] = defaultdict(set)
    for purchase in purchases:
        by_environment[purchase.environment].add(purchase.original_transaction_id)
    if not by_environment:
        return {}
    match = Q()
    for environment, ids in by_environment.items():
        match |= Q(environment=environment, original_transaction_id__in=ids)
    counted = (
        _past_year(now)
        .filter(match)
        .values("environment", "original_transaction_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(row["environment"], row["original_transaction_id"]): row["n"] for row in counted}


def days_granted_today(agent: User, *, now: datetime | None = None) -> int:
    """Days this agent has granted or asked Apple for since midnight UTC (refused ones aside)."""
    now = now or timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    granted = (
        SubscriptionExtension.objects.filter(agent=agent, created_at__gte=midnight)
        .filter(outcome__in=[Outcome.PENDING, Outcome.SUCCEEDED])
        .aggregate(days=Sum("extend_by_days"))["days"]
    )
    return granted or 0


def needs_approval(agent: User, days: int) -> bool:
    return days_granted_today(agent) + days > settings.EXTENSION_DAYS_PER_AGENT_PER_DAY


def extend_subscription(agent: User, request: ExtensionRequest) -> SubscriptionExtension:
    """Ask Apple to extend the subscription, or leave the request for a manager above the limit.

    The daily limit is checked and the row written under the agent's lock and the purchase's,
    so extensions sent at once can't all fit under the limit. A second submission of the same
    form returns the first one's row without calling Apple.
    """
    earlier = SubscriptionExtension.objects.filter(pk=request.request_id).first()
    if earlier is not None:
        return earlier
    purchase = purchase_to_act_on(request.original_transaction_id, ExtensionRefused, agent)
    if not is_subscription(purchase):
        raise ExtensionRefused("Only auto-renewable subscriptions can be extended.")
    locks = (
        purchase_key(purchase.environment, purchase.original_transaction_id),
        agent_key("extension-days", agent.pk),
    )
    try:
        with locked(*locks):
            earlier = SubscriptionExtension.objects.filter(pk=request.request_id).first()
            if earlier is not None:
                return earlier
            _refuse_while_pending(purchase.environment, purchase.original_transaction_id)
            awaiting = needs_approval(agent, request.extend_by_days)
            extension = SubscriptionExtension.objects.create(
                id=request.request_id,
                agent=agent,
                app=purchase.app,
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
        raise ExtensionRefused(_pending_sentence(None)) from None
    if awaiting:
        return extension
    return send_extension(extension)


def approve_extension(manager: User, extension: SubscriptionExtension) -> SubscriptionExtension:
    """A manager lets an extension above the daily limit go to Apple, as the purchase's app.

    Whether its app can be acted on (and by this manager) is asked again at approval: an app's
    environment or key may have changed since the agent asked.
    """
    _check_approver(manager, extension)
    refuse_unless_acted_on(extension.app, extension.environment, manager)
    with locked(purchase_key(extension.environment, extension.original_transaction_id)):
        _refuse_while_pending(extension.environment, extension.original_transaction_id)
        updated = SubscriptionExtension.objects.filter(
            pk=extension.pk, outcome=Outcome.AWAITING_APPROVAL
        ).update(outcome=Outcome.PENDING, approved_by=manager)
    extension.refresh_from_db()
    if not updated:
        raise ExtensionRefused(f"This extension is already {extension.get_outcome_display()}.")
    return send_extension(extension)


def reject_extension(manager: User, extension: SubscriptionExtension) -> SubscriptionExtension:
    _check_approver(manager, extension)
    refuse_unless_seen(manager, extension.app)
    if not extension.reject(manager):
        raise ExtensionRefused(f"This extension is already {extension.get_outcome_display()}.")
    return extension


def send_extension(extension: SubscriptionExtension) -> SubscriptionExtension:
    """Call Apple for a pending row and settle it with the answer; a timeout leaves it pending."""
    return engine.perform(EXTENSION, extension)


def check_extension(extension_id: str, *, attempt: int = 1) -> str:
    """A check queued before the engine followed extensions up: handed to the engine now."""
    extension = SubscriptionExtension.objects.filter(pk=extension_id).first()
    if extension is None:
        return f"no extension {extension_id}"
    engine.follow_up(EXTENSION, extension, first_check_at=timezone.now())
    return engine.check(EXTENSION, extension.pk).summary


def _refuse_while_pending(environment: str, original_transaction_id: str) -> None:
    pending = (
        SubscriptionExtension.objects.filter(
            environment=environment,
            original_transaction_id=original_transaction_id,
            outcome=Outcome.PENDING,
        )
        .select_related("agent")
        .first()
    )
    if pending is not None:
        raise ExtensionRefused(_pending_sentence(pending))


def _pending_sentence(pending: SubscriptionExtension | None) -> str:
    if pending is None:
        return "Another extension of this subscription was sent at the same moment: try again."
    since = timezone.localtime(pending.created_at).strftime("%H:%M")
    return (
        f"{pending.agent.get_username()}'s extension of this subscription by "
        f"{pending.extend_by_days} days is waiting for Apple's answer since {since}; the desk "
        "records the answer by itself. Try again once it has settled."
    )


def _check_approver(manager: User, extension: SubscriptionExtension) -> None:
    if extension.agent_id == manager.pk:
        raise ExtensionRefused("Someone else must approve your own extension.", status=403)


def _account_of(purchase: Purchase) -> CustomerAccount | None:
    return CustomerAccount.objects.owner_of(purchase.app_account_token)
