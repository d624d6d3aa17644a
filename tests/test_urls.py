"""The desk's URL table (lookups/urls.py): each address reaches the view that serves it."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from lookups.views import notifications, orders


@pytest.mark.parametrize(
    ("name", "kwargs", "path"),
    [
        ("lookups:look_up", {}, "/orders/"),
        (
            "lookups:history",
            {"transaction_id": "2000000000000001"},
            "/purchases/2000000000000001/history/",
        ),
        ("lookups:appstore_notifications", {}, "/appstore/notifications/"),
        (
            "lookups:app_notifications",
            {"app_id": 2, "environment": "sandbox"},
            "/appstore/notifications/2/sandbox/",
        ),
    ],
)
def test_a_named_address_and_its_path_agree(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    assert resolve(path).view_name == name


def test_each_app_has_notification_addresses_of_its_own():
    found = resolve("/appstore/notifications/7/production/")

    assert found.func == notifications.app_notifications
    assert found.kwargs == {"app_id": 7, "environment": "production"}
    # The settings' one app keeps its address from before apps were registered.
    assert resolve("/appstore/notifications/").func == notifications.app_store_notifications
    assert resolve("/orders/").func == orders.look_up
