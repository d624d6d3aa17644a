"""Outage compensation: Extend Subscription Renewal Dates for All Active Subscribers.

Apple answers the call at once with the request's identifier (the row's id) and extends the
product's subscribers in the background for hours. So the call settles nothing: it records
Apple's acceptance and the row stays pending, followed up by reading Get Status of Subscription
Renewal Date Extensions every `OUTAGE_STATUS_POLL_SECONDS` until Apple says it is complete; the
RENEWAL_EXTENSION SUMMARY notification may settle it first (`lookups.services.outage_compensation`).
A call whose answer never arrived is read back the same way: a status means Apple has it; "no
such request" (4040009) means it never arrived, and nothing was extended.

The rules (managers only, a second manager approves, one run per product) are in
`lookups.services.outage_compensation`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from lookups.appstore import AppStoreError
from lookups.appstore.errors import AppStoreTimeoutError, StatusRequestNotFoundError
from lookups.appstore.mass_extension import MassExtensionRequest, MassExtensionStatus
from lookups.models import OutageCompensation, OutageCompensationFollowUp
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, ActionKind, Settled, StillUnknown
from lookups.services.clients import app_store_client

# Apple's runs take hours; the status is read until then, and a day past it the desk stops.
GIVE_UP_AFTER = timedelta(days=3)


class OutageCompensationKind(ActionKind):
    name = "outage_compensation"
    label = "outage compensation"
    audit_name = "outage compensation"
    model = OutageCompensation
    follow_up_model = OutageCompensationFollowUp
    # Bounded by `expired` instead: a run is read until Apple is done or three days pass.
    follow_up_attempts = 1_000_000

    def describe(self, row: OutageCompensation) -> str:
        where = row.storefronts or "every storefront"
        return f"{row.product_id} +{row.extend_by_days} days ({where})"

    def call(self, row: OutageCompensation) -> Settled | None:
        app_store_client().extend_renewal_dates_for_all_active_subscribers(
            MassExtensionRequest(
                product_id=row.product_id,
                extend_by_days=row.extend_by_days,
                extend_reason_code=row.reason_code,
                request_identifier=str(row.pk),
                storefront_country_codes=row.storefront_codes,
            )
        )
        record_acceptance(row)
        return None

    def read_back(self, row: OutageCompensation) -> Settled:
        try:
            status = app_store_client().get_mass_extension_status(row.product_id, str(row.pk))
        except StatusRequestNotFoundError as error:
            return Settled(
                FAILED,
                error.answered_code,
                "Apple has no record of this request: it never arrived, and nothing was "
                f"extended. Ask again if it is still wanted. ({error.describe()})",
            )
        except AppStoreError as error:
            if isinstance(error, AppStoreTimeoutError) or error.retryable:
                raise StillUnknown(f"Apple could not be asked: {error.describe()}") from None
            return Settled(FAILED, error.answered_code, error.describe())
        record_acceptance(row)
        record_progress(row, status)
        if not status.complete:
            raise StillUnknown(
                f"Apple is still extending: {status.succeeded_count or 0} extended, "
                f"{status.failed_count or 0} failed so far"
            )
        return completed(status.succeeded_count, status.failed_count, status.complete_date)

    def next_check_in(self, checks: int) -> timedelta:
        return timedelta(seconds=settings.OUTAGE_STATUS_POLL_SECONDS)

    def expired(self, row: OutageCompensation, now: datetime) -> str | None:
        if now > (row.accepted_at or row.created_at) + GIVE_UP_AFTER:
            return "Apple did not say the run was complete within three days"
        return None


def completed(succeeded: int | None, failed: int | None, when: datetime | None) -> Settled:
    """How a run Apple says is complete settles: its counts and when it ended."""
    return Settled(
        SUCCEEDED,
        extra={
            "succeeded_count": succeeded or 0,
            "failed_count": failed or 0,
            "completed_at": when or timezone.now(),
        },
    )


def record_acceptance(row: OutageCompensation) -> None:
    """Apple answered with the request's identifier: it has the run (first answer kept)."""
    now = timezone.now()
    OutageCompensation.objects.filter(
        pk=row.pk, outcome=OutageCompensation.Outcome.PENDING, accepted_at__isnull=True
    ).update(accepted_at=now)
    row.accepted_at = row.accepted_at or now


def record_progress(row: OutageCompensation, status: MassExtensionStatus) -> None:
    OutageCompensation.objects.filter(pk=row.pk, outcome=OutageCompensation.Outcome.PENDING).update(
        succeeded_count=status.succeeded_count, failed_count=status.failed_count
    )


KIND = OutageCompensationKind()
