"""Create the staff roles as groups, with their permissions.

Django creates permissions only after all migrations have run (post_migrate), so on a fresh
database they don't exist yet here: this migration creates this app's content types and
permissions itself, exactly as post_migrate would, which then finds them and adds nothing.

The table below is a frozen copy of lookups.roles.GROUP_PERMISSIONS as it was when this
migration was written; tests/test_models.py checks they still agree.
"""

from __future__ import annotations

from django.contrib.auth import get_permission_codename
from django.db import migrations

GROUP_PERMISSIONS = {
    "Support agents": ["look_up_orders", "link_purchases", "view_customeraccount"],
    "Auditors": ["view_lookup", "view_tokenchange", "view_customeraccount"],
    "Managers": [
        "view_lookup",
        "view_tokenchange",
        "view_customeraccount",
        "view_reports",
        "export_csv",
    ],
}


def create_app_permissions(apps, using):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")

    permissions = {}
    for model in apps.get_app_config("lookups").get_models():
        opts = model._meta
        content_type, _ = ContentType.objects.using(using).get_or_create(
            app_label=opts.app_label, model=opts.model_name
        )
        builtin = [
            (get_permission_codename(action, opts), f"Can {action} {opts.verbose_name_raw}")
            for action in opts.default_permissions
        ]
        for codename, name in [*builtin, *opts.permissions]:
            permissions[codename], _ = Permission.objects.using(using).get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
    return permissions


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias

    permissions = create_app_permissions(apps, using)
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*(permissions[codename] for codename in codenames))


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("lookups", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
