"""The search box's indexes that only PostgreSQL has, and auditors' reading of customer notes.

On PostgreSQL, with pg_trgm:
- trigram GIN indexes on the upper-cased name, email and account ID, and on notes' text, serve
  `icontains` (Django writes it as `UPPER(col::text) LIKE UPPER('%...%')`);
- btree indexes with `text_pattern_ops` on the same upper-cased columns serve `istartswith`
  (a plain btree can't serve LIKE 'x%' under a non-C collation).
SQLite has neither: it scans, slower but with the same answers.
The permissions table is a frozen copy of what lookups.roles gained here.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM = [
    ("customeraccount", "display_name", "account_name_trgm"),
    ("customeraccount", "email", "account_email_trgm"),
    ("customeraccount", "external_id", "account_external_id_trgm"),
    ("customernote", "text", "note_text_trgm"),
]
PREFIX = [
    ("customeraccount", "display_name", "account_name_prefix"),
    ("customeraccount", "email", "account_email_prefix"),
    ("customeraccount", "external_id", "account_external_id_prefix"),
]


def _indexes():
    for model_name, column, name in TRIGRAM:
        yield model_name, GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=name)
    for model_name, column, name in PREFIX:
        yield model_name, models.Index(OpClass(Upper(column), name="text_pattern_ops"), name=name)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    TrigramExtension().database_forwards("lookups", schema_editor, None, None)
    for model_name, index in _indexes():
        schema_editor.add_index(apps.get_model("lookups", model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes():
        schema_editor.remove_index(apps.get_model("lookups", model_name), index)


NEW_PERMISSIONS = {
    "view_customernote": ("customernote", "Can view customer note"),
    "view_customernoterevision": ("customernoterevision", "Can view customer note revision"),
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
    dependencies = [("lookups", "0050_search_notes_and_visits")]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
        migrations.RunPython(grant, revoke),
    ]
