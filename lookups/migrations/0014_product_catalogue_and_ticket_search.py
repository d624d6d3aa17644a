from django.db import migrations, models
from django.db.models.functions import Upper

# Managers keep the product catalogue: the names agents read for Apple's product IDs.
PRODUCT_PERMISSIONS = {
    "view_product": "Can view product in the catalogue",
    "add_product": "Can add product in the catalogue",
    "change_product": "Can change product in the catalogue",
    "delete_product": "Can delete product in the catalogue",
}
GROUPS = ["Managers"]


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    content_type, _ = ContentType.objects.using(using).get_or_create(
        app_label="lookups", model="product"
    )
    permissions = [
        Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PRODUCT_PERMISSIONS.items()
    ]
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="lookups", codename__in=list(PRODUCT_PERMISSIONS)
    )
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0013_background_work"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("product_id", models.CharField(max_length=200, unique=True)),
                ("display_name", models.CharField(max_length=200)),
            ],
            options={
                "verbose_name": "product in the catalogue",
                "verbose_name_plural": "product catalogue",
                "ordering": ["display_name"],
            },
        ),
        # CREATE INDEX only: on SQLite, anything that rebuilt lookups_tokenchange would drop the
        # audit log's triggers (0007).
        migrations.AddIndex(
            model_name="tokenchange",
            index=models.Index(Upper("ticket_reference"), name="tokenchange_ticket_upper"),
        ),
        migrations.RunPython(grant, revoke),
    ]
