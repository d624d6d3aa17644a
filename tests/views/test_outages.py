"""The outage compensation page: bad input is told plainly and writes nothing; a row under way
re-reads itself and one that is done does not."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from lookups.models import OutageCompensation
from lookups.roles import MANAGERS

pytestmark = pytest.mark.django_db


def form(**changes) -> dict:
    data = {
        "product_id": "com.example.supportdesk.demo.pro.monthly",
        "extend_by_days": "3",
        "reason_code": "3",
        "storefronts": "",
        "note": "Down Saturday, INC-12",
        "request_id": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"storefronts": "US, FRANCE"}, "three-letter country code"),
        ({"extend_by_days": "120"}, "90 days at most"),
        ({"note": ""}, "Say what happened"),
    ],
)
def test_bad_input_is_told_and_nothing_is_written(
    manager_client, appstore_settings, changes, words
):
    response = manager_client.post(reverse("lookups:outages"), form(**changes))

    assert response.status_code == 400
    assert words in response.content.decode()
    assert not OutageCompensation.objects.exists()


def test_a_request_is_listed_for_another_manager_to_decide(
    manager_client, appstore_settings, simulator
):
    response = manager_client.post(reverse("lookups:outages"), form(storefronts="usa gbr"))

    assert response.status_code == 200
    row = OutageCompensation.objects.get()
    assert row.storefronts == "USA,GBR"
    page = response.content.decode()
    assert "Waiting for another manager" in page
    assert "Approve and send" not in page


def test_only_a_run_under_way_re_reads_itself(manager_client, manager_user):
    row = OutageCompensation.objects.create(
        requested_by=manager_user,
        environment="Sandbox",
        product_id="p",
        extend_by_days=1,
        reason_code=3,
        note="n",
    )
    progress = reverse("lookups:outage_progress", args=[row.pk])
    assert "hx-trigger" not in manager_client.get(progress).content.decode()
    OutageCompensation.objects.filter(pk=row.pk).update(
        outcome="pending", approved_at=timezone.now(), accepted_at=timezone.now()
    )
    under_way = manager_client.get(progress).content.decode()
    assert 'hx-trigger="every 2s"' in under_way
    assert "0 extended, 0 failed so far" in under_way


def test_the_manager_picks_one_of_their_apps_and_its_environment(
    manager_client, manager_user, appstore_settings, three_apps
):
    three_apps.coach.limited_agents.add(manager_user)
    page = manager_client.get(reverse("lookups:outages")).content.decode()
    assert f'<option value="{three_apps.coach.pk}">Coach</option>' in page
    assert ">Journal</option>" not in page

    response = manager_client.post(
        reverse("lookups:outages"),
        form(
            product_id="com.example.supportdesk.coach.monthly",
            app=str(three_apps.coach.pk),
            environment="Sandbox",
        ),
    )

    assert response.status_code == 200
    row = OutageCompensation.objects.get()
    assert (row.app, row.environment) == (three_apps.coach, "Sandbox")
    assert "Coach · Sandbox" in response.content.decode()


def test_another_apps_runs_are_neither_listed_nor_decided(
    manager_client, manager_user, make_user, appstore_settings, three_apps
):
    journal_run = OutageCompensation.objects.create(
        requested_by=make_user("other", MANAGERS),
        app=three_apps.journal,
        environment="Production",
        product_id="com.example.supportdesk.journal.yearly",
        extend_by_days=1,
        reason_code=3,
        note="Journal down",
    )
    three_apps.coach.limited_agents.add(manager_user)

    page = manager_client.get(reverse("lookups:outages")).content.decode()
    decided = manager_client.post(
        reverse("lookups:decide_outage", args=[journal_run.pk, "approve"])
    )

    assert "Journal down" not in page
    assert decided.status_code == 404
    journal_run.refresh_from_db()
    assert journal_run.outcome == OutageCompensation.Outcome.AWAITING_APPROVAL
