"""Outage compensation: a manager asks to extend every active subscriber of a product, a second
manager approves, and Apple does it in the background (`apple_actions.outage_compensation`).

Each run is for one app in one environment, chosen by the requesting manager among the apps they
may see; Apple is called as that app (the engine calls as the row's app), and its notifications
are matched within that app. Who may: managers and superusers. The one who asked can't decide.
Of managers approving at once, the first to take the product's lock sends it; the others are
told who did, and Apple is called once. Apple's RENEWAL_EXTENSION notifications are followed
here too: FAILURE is counted on the run under way for its product, SUMMARY completes the run
it names. Each RENEWAL_EXTENDED carries the extended transaction, which the notification
applier writes into the purchase picture like any other.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from lookups import roles
from lookups.models import (
    App,
    AppStoreNotification,
    OutageCompensation,
    Purchase,
    SubscriptionExtension,
)
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.acting_app import (
    bundle_id_of,
    home_among,
    refuse_unless_acted_on,
    refuse_unless_seen,
    settings_app,
)
from lookups.services.apple_actions.locks import locked, product_key
from lookups.services.apple_actions.outage_compensation import KIND as OUTAGE
from lookups.services.apple_actions.outage_compensation import completed, record_acceptance

Outcome = OutageCompensation.Outcome
_COUNTRY = re.compile(r"[A-Z]{3}")


class CompensationRefused(ActionRefused):
    """Nothing was sent to Apple; `message` says why."""


@dataclass(frozen=True)
class CompensationRequest:
    """What the requesting manager chose."""

    product_id: str
    extend_by_days: int
    reason_code: int
    note: str
    # None: every storefront.
    storefronts: tuple[str, ...] | None
    # Rendered into the form: the row's id and Apple's requestIdentifier.
    request_id: uuid.UUID
    # The app whose subscribers are owed days, and the environment they bought in; unnamed,
    # the settings' app in the settings' environment.
    app: App | None = None
    environment: str = ""


def is_manager(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.groups.filter(name=roles.MANAGERS).exists())
    )


def parse_storefronts(text: str) -> tuple[str, ...] | None:
    """Storefronts as typed ("USA, fra deu"): three-letter codes; nothing means every one."""
    codes = [code.upper() for code in re.split(r"[\s,;]+", text.strip()) if code]
    if not codes:
        return None
    wrong = [code for code in codes if not _COUNTRY.fullmatch(code)]
    if wrong:
        raise CompensationRefused(
            f"{', '.join(wrong)}: each storefront is a three-letter country code "
            "(ISO 3166 alpha-3), such as USA, FRA or DEU.",
            status=400,
        )
    return tuple(dict.fromkeys(codes))


def request_compensation(manager, request: CompensationRequest) -> OutageCompensation:
    """Write the request, waiting for a second manager; a repeat of the same form returns it."""
    _check_manager(manager)
    earlier = OutageCompensation.objects.filter(pk=request.request_id).first()
    if earlier is not None:
        return earlier
    product_id = request.product_id.strip()
    if not product_id:
        raise CompensationRefused("Choose the product whose subscribers are owed days.", status=400)
    if not 1 <= request.extend_by_days <= 90:
        raise CompensationRefused("Apple extends by 1 to 90 days.", status=400)
    if request.reason_code not in SubscriptionExtension.Reason.values:
        raise CompensationRefused("Choose one of Apple's reasons.", status=400)
    if not request.note.strip():
        raise CompensationRefused(
            "Say what happened (the outage, its time, its ticket): the approver and the "
            "audit log read it.",
            status=400,
        )
    app = request.app or settings_app()
    environment = request.environment or settings.APPSTORE_ENVIRONMENT
    refuse_unless_acted_on(app, environment, manager)
    if app is not None:
        _refuse_another_apps_product(app, product_id)
    try:
        return OutageCompensation.objects.create(
            id=request.request_id,
            requested_by=manager,
            app=app,
            environment=environment,
            product_id=product_id,
            storefronts=",".join(request.storefronts or ()),
            extend_by_days=request.extend_by_days,
            reason_code=request.reason_code,
            note=request.note.strip(),
        )
    except IntegrityError:
        earlier = OutageCompensation.objects.filter(pk=request.request_id).first()
        if earlier is None:
            raise
        return earlier


def approve_compensation(manager, row: OutageCompensation) -> OutageCompensation:
    """A second manager lets it go to Apple: one call, whoever else approves at the same time.

    Whether the run's app can be acted on (and by this manager) is asked again: its environments
    or key may have changed since it was asked for.
    """
    _check_decider(manager, row)
    refuse_unless_acted_on(row.app, row.environment, manager)
    # One run per product of an app at a time: the lock names the app as Apple knows it.
    with locked(product_key(row.environment, f"{bundle_id_of(row.app)}:{row.product_id}")):
        running = (
            OutageCompensation.objects.filter(
                _within_app(row.app),
                environment=row.environment,
                product_id=row.product_id,
                outcome=Outcome.PENDING,
            )
            .exclude(pk=row.pk)
            .first()
        )
        if running is not None:
            raise CompensationRefused(
                f"Apple is still extending {row.product_id} for the compensation approved "
                f"{_when(running.approved_at)}: approve this one once that run is complete."
            )
        approved = OutageCompensation.objects.filter(
            pk=row.pk, outcome=Outcome.AWAITING_APPROVAL
        ).update(outcome=Outcome.PENDING, approved_by=manager, approved_at=timezone.now())
    row.refresh_from_db()
    if not approved:
        raise CompensationRefused(_decided_message(row))
    return engine.perform(OUTAGE, row)


def reject_compensation(manager, row: OutageCompensation) -> OutageCompensation:
    """A second manager says no: nothing is sent to Apple; the decision joins the chain."""
    _check_decider(manager, row)
    refuse_unless_seen(manager, row.app)
    if not row.reject(manager):
        raise CompensationRefused(_decided_message(row))
    return row


def follow_notification(notification: AppStoreNotification) -> str:
    """What a RENEWAL_EXTENSION notification changes in a run under way; '' if nothing.

    Only runs of the app whose address the notification came to are matched.
    """
    if notification.notification_type != "RENEWAL_EXTENSION":
        return ""
    within = _within_app(notification.app)
    if notification.subtype == "SUMMARY":
        return _complete_from_summary(notification.payload.get("summary") or {}, within)
    if notification.subtype == "FAILURE":
        product_id = (notification.transaction or {}).get("productId")
        counted = OutageCompensation.objects.filter(
            within,
            environment=notification.environment,
            product_id=product_id,
            outcome=Outcome.PENDING,
        ).update(failures_notified=F("failures_notified") + 1)
        return "failure counted on the outage compensation" if counted else ""
    return ""


def _complete_from_summary(summary: dict, within: Q) -> str:
    try:
        identifier = uuid.UUID(str(summary.get("requestIdentifier")))
    except ValueError:
        return "summary of a mass extension the desk did not ask for"
    row = OutageCompensation.objects.filter(within, pk=identifier).first()
    if row is None or row.outcome != Outcome.PENDING:
        return "summary of a mass extension the desk did not ask for, or already complete"
    # A summary is Apple's word that it had the request, even if the call's answer was lost.
    record_acceptance(row)
    succeeded, failed = summary.get("succeededCount"), summary.get("failedCount")
    won = engine.settle(
        OUTAGE,
        row,
        completed(
            succeeded if type(succeeded) is int else None,
            failed if type(failed) is int else None,
            None,
        ),
    )
    return "outage compensation complete" if won else "outage compensation already complete"


def products_of(apps: list[App]) -> list[tuple[App, str]]:
    """Each app's product IDs the desk has seen bought in it, for the form to offer (one query;
    purchases naming no app are the settings' app's)."""
    home = home_among(apps)
    by_id = {app.pk: app for app in apps}
    seen = (
        Purchase.objects.filter(Q(app__in=list(by_id)) | Q(app__isnull=True))
        .values_list("app_id", "product_id")
        .distinct()
        .order_by("app_id", "product_id")
    )
    found = {
        (by_id[app_id or (home.pk if home else 0)], product_id)
        for app_id, product_id in seen
        if (app_id or (home.pk if home else 0)) in by_id
    }
    return sorted(found, key=lambda pair: (pair[0].name, pair[1]))


def _refuse_another_apps_product(app: App, product_id: str) -> None:
    """Refuse a product the desk knows only from another app's purchases."""
    elsewhere = Purchase.objects.filter(product_id=product_id).exclude(_within_app(app))
    if (
        elsewhere.exists()
        and not Purchase.objects.filter(_within_app(app), product_id=product_id).exists()
    ):
        raise CompensationRefused(
            f"{product_id} is sold in another app, not in {app.name}: choose one of "
            f"{app.name}'s products.",
            status=400,
        )


def _within_app(app: App | None) -> Q:
    """Rows of `app`; those naming no app are the settings' app's (written before apps)."""
    home = settings_app()
    if app is not None and (home is None or app.pk != home.pk):
        return Q(app=app)
    return Q(app__isnull=True) | Q(app=home) if home is not None else Q(app__isnull=True)


def _check_manager(user) -> None:
    if not is_manager(user):
        raise CompensationRefused("Only managers can compensate an outage.", status=403)


def _check_decider(manager, row: OutageCompensation) -> None:
    _check_manager(manager)
    if row.requested_by_id == manager.pk:
        raise CompensationRefused(
            "You asked for this compensation, so another manager must approve or reject it.",
            status=403,
        )


def _decided_message(row: OutageCompensation) -> str:
    row.refresh_from_db()
    who = row.approved_by.get_username() if row.approved_by else "someone"
    verb = "rejected" if row.outcome == Outcome.REJECTED else "approved"
    return f"{who} has already {verb} this compensation."


def _when(moment: datetime | None) -> str:
    return f"at {moment.astimezone(UTC):%H:%M} UTC" if moment else "earlier"
