"""manage.py sync_notifications: what the endpoint missed, from Get Notification History."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lookups.models import AppStoreNotification, Purchase
from lookups.services import notifications
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _sync(**options) -> str:
    out = StringIO()
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    call_command("sync_notifications", "--since", since, stdout=out, **options)
    return out.getvalue()


def test_missed_notifications_are_stored_and_applied_once(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)  # the desk was down: nothing reached it
    sent = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    first = _sync()
    assert first.startswith("1 stored")
    row = AppStoreNotification.objects.get(notification_uuid=sent.notification_uuid)
    assert row.received_from == AppStoreNotification.Source.HISTORY
    assert row.state == AppStoreNotification.State.PROCESSED
    assert Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE).status
    assert _sync().startswith("0 stored, 1 already known")


def test_a_notification_the_endpoint_already_has_is_not_stored_again(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)
    sent = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    assert notifications.receive_signed(sent.signed_payload).created
    assert _sync().startswith("0 stored, 1 already known")
    assert AppStoreNotification.objects.count() == 1


def test_every_page_is_read(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)
    for _ in range(25):
        simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    assert _sync().startswith("25 stored")


def test_a_bad_date_is_told_plainly():
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("sync_notifications", "--since", "yesterday")
