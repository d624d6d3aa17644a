"""The staff roles: the groups the migrations make hold exactly the permissions of the table, and a
flushed database gets them back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from lookups import roles


@pytest.mark.django_db
def test_migration_creates_each_role_with_its_permissions():
    made = {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }
    assert made == {name: set(perms) for name, perms in roles.GROUP_PERMISSIONS.items()}


def test_each_fixture_user_holds_exactly_its_roles_permissions(
    agent_user, auditor_user, manager_user
):
    assert agent_user.has_perms(["lookups.look_up_orders", "lookups.link_purchases"])
    assert not agent_user.has_perm("lookups.view_tokenchange")
    assert auditor_user.has_perm("lookups.view_tokenchange")
    assert not auditor_user.has_perm("lookups.link_purchases")
    assert not auditor_user.has_perm("lookups.export_csv")
    assert manager_user.has_perms(["lookups.view_reports", "lookups.export_csv"])
    assert manager_user.has_perm("lookups.look_up_orders")
    assert not manager_user.has_perm("lookups.link_purchases")
    assert not manager_user.has_perm("lookups.extend_subscriptions")


@pytest.mark.django_db
def test_a_flushed_database_gets_each_group_and_its_permissions_back():
    Group.objects.all().delete()

    roles.ensure_groups()
    roles.ensure_groups()

    for name, perms in roles.GROUP_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        assert group.permissions.count() == len(perms)
