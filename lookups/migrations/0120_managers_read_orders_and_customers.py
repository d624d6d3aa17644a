"""Managers read orders and customers: they look an approval's order up before deciding it.

Reading only: linking and extending stay the agents' own permissions. The table below is a
frozen copy of what lookups.roles gained with this migration.
"""

from django.db import migrations

GROUP_PERMISSIONS = {"Managers": ["look_up_orders"]}


def _groups_and_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    for group in Group.objects.using(using).filter(name__in=GROUP_PERMISSIONS):
        yield (
            group,
            Permission.objects.using(using).filter(
                content_type__app_label="lookups", codename__in=GROUP_PERMISSIONS[group.name]
            ),
        )


def grant(apps, schema_editor):
    for group, permissions in _groups_and_permissions(apps, schema_editor):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    for group, permissions in _groups_and_permissions(apps, schema_editor):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("lookups", "0110_unlinked_offer_codes_indexed")]

    operations = [migrations.RunPython(grant, revoke)]
