"""The unlinked offer codes: read from the purchases alone, first told of first."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookups.models import AppStoreNotification, Purchase
from lookups.services import notifications
from lookups.services.unlinked import unlinked_offer_code_purchases
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def tell_and_apply(simulator, kind: str) -> None:
    """Apple posts one notification about the offer-code purchase; a worker applies it."""
    sent = simulator.emit_notification(kind, transaction_id=PURCHASE_OFFER_CODE)
    notifications.receive_signed(sent.signed_payload)
    notifications.apply_waiting()


def test_the_list_reads_the_purchases_not_every_notification(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    tell_and_apply(simulator, "OFFER_REDEEMED")

    with CaptureQueriesContext(connection) as read:
        listed = list(unlinked_offer_code_purchases()[:200])

    assert [purchase.original_transaction_id for purchase in listed] == [PURCHASE_OFFER_CODE]
    assert len(read.captured_queries) == 1
    assert AppStoreNotification._meta.db_table not in read.captured_queries[0]["sql"]


def test_the_earliest_news_dates_the_purchase_whatever_order_it_arrives_in(
    appstore_settings, simulator
):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    earlier = simulator.emit_notification("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    time.sleep(0.01)  # distinct signedDate milliseconds
    later = simulator.emit_notification("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    notifications.receive_signed(later.signed_payload)
    notifications.apply_waiting()
    notifications.receive_signed(earlier.signed_payload)
    notifications.apply_waiting()

    purchase = Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE)
    first = AppStoreNotification.objects.get(notification_uuid=earlier.notification_uuid)
    assert purchase.offer_code_told_at == first.signed_date
    assert unlinked_offer_code_purchases().get().first_told_at == first.signed_date


def test_a_renewal_dates_nothing(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    tell_and_apply(simulator, "DID_RENEW")
    assert (
        Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE).offer_code_told_at is None
    )
    assert not unlinked_offer_code_purchases().exists()
