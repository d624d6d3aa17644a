"""Auditors and managers may read the export records and the Adapty deliveries."""

from __future__ import annotations

from django.db import migrations

NEW_VIEW_PERMISSIONS = {
    "export": "Can view export",
    "adaptydelivery": "Can view Adapty delivery",
}
GROUPS = ["Auditors", "Managers"]


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias

    permissions = []
    for model_name, name in NEW_VIEW_PERMISSIONS.items():
        content_type, _ = ContentType.objects.using(using).get_or_create(
            app_label="lookups", model=model_name
        )
        permission, _ = Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=f"view_{model_name}", defaults={"name": name}
        )
        permissions.append(permission)
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="lookups",
        codename__in=[f"view_{model}" for model in NEW_VIEW_PERMISSIONS],
    )
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("lookups", "0004_exports_and_adapty_deliveries")]

    operations = [migrations.RunPython(grant, revoke)]
