"""Background work: follow-ups of unanswered token changes, and queued Adapty deliveries.

A new table beside lookups_tokenchange rather than columns on it: on SQLite, altering that table
rebuilds it and drops the audit log's triggers (see 0007). lookups_adaptydelivery has none.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0012_link_purchases_transfers_refusals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenChangeFollowUp",
            fields=[
                (
                    "token_change",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="follow_up",
                        serialize=False,
                        to="lookups.tokenchange",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("checks", models.PositiveIntegerField(default=0)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("next_check_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("gave_up_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "default_permissions": ("view",),
            },
        ),
        migrations.AddField(
            model_name="adaptydelivery",
            name="attempt",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="adaptydelivery",
            name="not_before",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="adaptydelivery",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="adaptydelivery",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("sent", "Sent"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                ],
                db_index=True,
                default="sent",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="adaptydelivery",
            index=models.Index(
                condition=models.Q(("outcome__in", ["queued", "sent"])),
                fields=["outcome", "not_before"],
                name="adaptydelivery_unsettled",
            ),
        ),
    ]
