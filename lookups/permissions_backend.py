"""Django's model backend, reading a user's permissions in one query instead of two.

Every page checks a permission, so every request asked the database twice: the user's own
permissions, then their groups'. The answer is the same set, read at once. Superusers, inactive
users and per-object checks are answered as Django's backend answers them.

The same query also says which of SECOND_FACTOR_GROUPS the user is in (`second_factor_groups`):
the second-factor middleware asks that on every page, and the page asks for permissions after
it, so one round trip to the database answers both, read afresh on every request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Q, Value

# Marks a group's row among the permissions' rows: no app is labelled with the empty string.
_GROUP_ROW = ""


class ModelBackendInOneQuery(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            _read_permissions_and_groups(user_obj)
        return user_obj._perm_cache


def second_factor_groups(user) -> set[str]:
    """Which of SECOND_FACTOR_GROUPS this (active, signed-in) user is in, read with their
    permissions when they were not read yet."""
    if not hasattr(user, "_second_factor_groups"):
        _read_permissions_and_groups(user)
    return user._second_factor_groups


def _read_permissions_and_groups(user) -> None:
    if user.is_superuser:
        permissions = Permission.objects.all()
    else:
        permissions = Permission.objects.filter(Q(user=user) | Q(group__user=user))
    rows = permissions.values_list("content_type__app_label", "codename").order_by()
    # "superusers" names no group: second_factor.required_for answers it from is_superuser.
    named = [name for name in settings.SECOND_FACTOR_GROUPS if name != "superusers"]
    if named:
        groups = Group.objects.filter(user=user, name__in=named).values_list(
            Value(_GROUP_ROW, output_field=CharField()), "name"
        )
        # No order: the model's own ordering names columns the union does not have.
        rows = rows.union(groups).order_by()
    else:
        rows = rows.distinct()
    user._perm_cache = set()
    user._second_factor_groups = set()
    for label, name in rows:
        if label == _GROUP_ROW:
            user._second_factor_groups.add(name)
        else:
            user._perm_cache.add(f"{label}.{name}")
