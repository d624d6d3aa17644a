"""Auditors and managers read outage compensations and finished transactions in the admin.

The table below is a frozen copy of what lookups.roles gained with this migration.
"""

from django.db import migrations

NEW_PERMISSIONS = {
    "view_outagecompensation": ("outagecompensation", "Can view outage compensation"),
    "view_transactionfinish": ("transactionfinish", "Can view transaction finish"),
}
GROUP_PERMISSIONS = {
    "Auditors": list(NEW_PERMISSIONS),
    "Managers": list(NEW_PERMISSIONS),
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    permissions = {}
    for codename, (model_name, name) in NEW_PERMISSIONS.items():
        content_type, _ = ContentType.objects.using(using).get_or_create(
            app_label="lookups", model=model_name
        )
        permissions[codename], _ = Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for group in Group.objects.using(using).filter(name__in=GROUP_PERMISSIONS):
        group.permissions.add(*(permissions[c] for c in GROUP_PERMISSIONS[group.name]))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="lookups", codename__in=list(NEW_PERMISSIONS)
    )
    for group in Group.objects.using(using).filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0080_outage_compensation_and_finishing"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
