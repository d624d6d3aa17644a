"""What the notification endpoint refuses on a body's bytes alone, and how refusals are counted:
one row per source and hour, a few samples kept, a source over its minute's allowance stopped."""

from __future__ import annotations

import pytest

from lookups.models import QuarantinedNotification, RefusedNotificationCount
from lookups.services import notification_door

pytestmark = pytest.mark.django_db

SOURCE = "198.51.100.23"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"signedPayload": "a.b.c"}', ""),
        (b'{"signedPayload": "a\x00b"}', "NUL byte"),
        (b'{"signedPayload": {"a": 1}}', "not a JSON object holding a signedPayload"),
        (b'[{"signedPayload": "a.b.c"}]', "not a JSON object holding a signedPayload"),
    ],
)
def test_a_body_is_judged_on_its_shape_before_any_parser_sees_it(body, problem):
    found = notification_door.shape_problem(body)
    assert (problem in found) if problem else found == ""


def test_refusals_add_to_one_row_per_source_and_keep_only_a_few_samples(settings):
    settings.NOTIFICATION_REFUSED_SAMPLES_PER_HOUR = 2

    for n in range(5):
        notification_door.record_refusal(SOURCE, "not JSON", f"body {n}".encode())
    notification_door.record_refusal(SOURCE, "too large", None)
    notification_door.count_rate_limited(SOURCE)

    (row,) = RefusedNotificationCount.objects.all()
    assert (row.source, row.refused, row.rate_limited, row.samples) == (SOURCE, 6, 1, 2)
    kept = list(QuarantinedNotification.objects.order_by("pk").values_list("body", flat=True))
    assert kept == ["body 0", "body 1"]


def test_a_sample_keeps_where_a_nul_byte_was():
    notification_door.record_refusal(SOURCE, "NUL", b"a\x00b")
    assert QuarantinedNotification.objects.get().body == "a\ufffdb"


def test_a_source_over_its_minutes_allowance_is_stopped_and_others_are_not(settings):
    settings.NOTIFICATION_REFUSALS_PER_MINUTE = 3

    for _ in range(2):
        notification_door.record_refusal(SOURCE, "not JSON", None)
    assert not notification_door.too_many_refusals(SOURCE)
    notification_door.record_refusal(SOURCE, "not JSON", None)

    assert notification_door.too_many_refusals(SOURCE)
    assert not notification_door.too_many_refusals("203.0.113.9")
