"""Who must pass a second factor, and what the middleware lets them reach before they have."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from lookups import roles, second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def managers_and_superusers(settings):
    settings.SECOND_FACTOR_GROUPS = [roles.MANAGERS, second_factor.SUPERUSERS]


def test_the_named_groups_and_superusers_need_one(
    managers_and_superusers, manager_user, superuser, agent_user, auditor_user
):
    assert second_factor.required_for(manager_user)
    assert second_factor.required_for(superuser)
    assert not second_factor.required_for(agent_user)
    assert not second_factor.required_for(auditor_user)
    assert not second_factor.required_for(AnonymousUser())


def test_superusers_need_one_only_when_the_setting_names_them(settings, superuser, manager_user):
    settings.SECOND_FACTOR_GROUPS = [roles.MANAGERS]
    assert not second_factor.required_for(superuser)
    assert second_factor.required_for(manager_user)


def test_local_mode_names_nobody(settings, manager_user, superuser):
    settings.SECOND_FACTOR_GROUPS = []
    assert not second_factor.required_for(manager_user)
    assert not second_factor.required_for(superuser)


def test_someone_with_a_device_is_asked_for_its_code_and_comes_back_after(
    managers_and_superusers, manager_client, manager_user
):
    TOTPDevice.objects.create(user=manager_user, name="phone", confirmed=True)
    wanted = reverse("lookups:reports") + "?start=2026-11-16"

    answer = manager_client.get(wanted)

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("lookups:second_factor") + "?next=")
    assert "start%3D2026-11-16" in answer["Location"]


def test_the_second_factor_pages_signing_out_and_files_stay_reachable(
    managers_and_superusers, manager_client, settings
):
    assert manager_client.get(reverse("lookups:second_factor_enrol")).status_code == 200
    for path in (reverse("logout"), settings.STATIC_URL + "css/none.css"):
        answer = manager_client.get(path)
        assert not answer.get("Location", "").startswith(reverse("lookups:second_factor_enrol"))


def test_a_page_asks_who_must_pass_one_and_what_they_may_do_in_one_query(
    managers_and_superusers, agent_client, django_assert_num_queries
):
    agent_client.get(reverse("lookups:look_up"))
    # The user, then their permissions with their second-factor groups (the page's own reads
    # come after: none here, the bare orders page reads nothing else).
    with django_assert_num_queries(2):
        assert agent_client.get(reverse("lookups:look_up")).status_code == 200


def test_joining_a_named_group_asks_for_a_second_factor_on_the_next_page(
    managers_and_superusers, agent_client, agent_user
):
    from django.contrib.auth.models import Group

    assert agent_client.get(reverse("lookups:look_up")).status_code == 200

    agent_user.groups.add(Group.objects.get(name=roles.MANAGERS))

    response = agent_client.get(reverse("lookups:look_up"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("lookups:second_factor_enrol"))
