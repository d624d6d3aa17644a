"""Apps registered in the desk; the single app of the settings becomes the first of them.

The upgraded desk's app follows the `APPSTORE_*` settings (its row records what they were), so a
one-app desk keeps working from its environment alone. Nothing else changes: no audit row is
touched, and lookups made before keep no app (they were all this one's).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def the_settings_app() -> dict:
    """The row of the settings' app, as this machine's `APPSTORE_*` settings name it.

    It holds machine-local values (the key's path): `fresh_sqlite` keeps it out of the snapshot
    and writes it with these same values where the snapshot is loaded.
    """
    environment = settings.APPSTORE_ENVIRONMENT
    return {
        "name": settings.APPSTORE_BUNDLE_ID or "The desk's app",
        "bundle_id": settings.APPSTORE_BUNDLE_ID or "unnamed",
        "app_apple_id": settings.APPSTORE_APP_APPLE_ID,
        "uses_production": environment == "Production",
        "uses_sandbox": environment == "Sandbox",
        "issuer_id": settings.APPSTORE_ISSUER_ID,
        "key_id": settings.APPSTORE_KEY_ID,
        "private_key_source": settings.APPSTORE_PRIVATE_KEY_PATH or "APPSTORE_PRIVATE_KEY",
        "follows_settings": True,
    }


def register_the_settings_app(apps, schema_editor) -> None:
    App = apps.get_model("lookups", "App")
    if App.objects.using(schema_editor.connection.alias).exists():
        return
    App.objects.using(schema_editor.connection.alias).create(**the_settings_app())


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0120_managers_read_orders_and_customers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="App",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "bundle_id",
                    models.CharField(max_length=155, unique=True, verbose_name="bundle ID"),
                ),
                (
                    "app_apple_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="Apple ID"),
                ),
                (
                    "uses_production",
                    models.BooleanField(default=True, verbose_name="uses Production"),
                ),
                ("uses_sandbox", models.BooleanField(default=False, verbose_name="uses Sandbox")),
                (
                    "issuer_id",
                    models.CharField(blank=True, max_length=64, verbose_name="issuer ID"),
                ),
                ("key_id", models.CharField(blank=True, max_length=32, verbose_name="key ID")),
                (
                    "private_key_source",
                    models.CharField(
                        blank=True,
                        help_text=(
                            "The name of an environment variable holding the key's PEM text (or "
                            "of one whose _FILE form names its file), or the absolute path of the "
                            ".p8 file. Never the key."
                        ),
                        max_length=300,
                        verbose_name="where the .p8 key is",
                    ),
                ),
                (
                    "follows_settings",
                    models.BooleanField(
                        default=False,
                        help_text=(
                            "Take bundle ID, Apple ID, environment, issuer, key ID and key from "
                            "the APPSTORE_* settings (a desk upgraded from one app)."
                        ),
                    ),
                ),
                ("rate_limits", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "limited_agents",
                    models.ManyToManyField(
                        blank=True,
                        help_text=(
                            "Agents named on any app see only the apps naming them; the others "
                            "see all."
                        ),
                        related_name="limited_to_apps",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="lookup",
            name="app",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lookups",
                to="lookups.app",
            ),
        ),
        migrations.RunPython(register_the_settings_app, migrations.RunPython.noop),
    ]
