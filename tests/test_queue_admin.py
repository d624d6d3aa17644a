"""The background queue in the superusers' admin: each task said in words, its attempts and when it
runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.services import settling

pytestmark = pytest.mark.django_db


def test_superusers_see_the_queue_with_attempts_and_run_after(superuser_client, pending):
    settling.follow_up(pending)

    page = superuser_client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))

    assert page.status_code == 200
    assert "check_action" in page.text and f"token change {pending.pk}" in page.text
    assert "0 of 10 checks" in page.text and "Run after" in page.text
