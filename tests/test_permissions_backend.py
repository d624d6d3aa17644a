"""lookups/permissions_backend.py: the same permissions as Django's backend, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User

from lookups.permissions_backend import ModelBackendInOneQuery
from lookups.roles import AGENTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_with_an_own_permission():
    user = User.objects.create_user("perm-agent")
    user.groups.add(Group.objects.get(name=AGENTS))
    user.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    return user


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_users_own_and_group_permissions_are_read_in_one_query(
    agent_with_an_own_permission, django_assert_num_queries
):
    expected = ModelBackend().get_all_permissions(fresh(agent_with_an_own_permission))
    user = fresh(agent_with_an_own_permission)
    with django_assert_num_queries(1):
        found = ModelBackendInOneQuery().get_all_permissions(user)
        assert user.has_perm("lookups.link_purchases")
        assert user.has_perm("admin.view_logentry")
    assert found == expected
    assert "admin.view_logentry" in found and "lookups.link_purchases" in found


def test_superusers_have_every_permission_and_inactive_users_none(agent_with_an_own_permission):
    boss = User.objects.create_superuser("perm-boss")
    assert ModelBackendInOneQuery().get_all_permissions(boss) == ModelBackend().get_all_permissions(
        fresh(boss)
    )
    agent_with_an_own_permission.is_active = False
    assert ModelBackendInOneQuery().get_all_permissions(agent_with_an_own_permission) == set()
    assert not agent_with_an_own_permission.has_perm("lookups.link_purchases")


def test_the_second_factor_groups_come_with_the_permissions_in_the_same_query(
    settings, agent_with_an_own_permission, django_assert_num_queries
):
    from lookups.permissions_backend import second_factor_groups
    from lookups.roles import MANAGERS

    settings.SECOND_FACTOR_GROUPS = [MANAGERS, AGENTS, "superusers"]
    user = fresh(agent_with_an_own_permission)
    with django_assert_num_queries(1):
        assert second_factor_groups(user) == {AGENTS}
        assert user.has_perm("lookups.link_purchases")
        assert user.has_perm("admin.view_logentry")
    assert user.get_all_permissions() == ModelBackend().get_all_permissions(
        fresh(agent_with_an_own_permission)
    )

    # A group joined later counts from the next request on (each request loads its user).
    user.groups.add(Group.objects.get(name=MANAGERS))
    assert second_factor_groups(fresh(user)) == {AGENTS, MANAGERS}
