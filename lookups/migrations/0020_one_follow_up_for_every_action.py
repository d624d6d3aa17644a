"""Every action at Apple is followed up the same way: consumption answers' follow-ups take the
engine's field names, and extensions get a follow-up of their own (until now a timed-out
extension was only a queued task, and one whose process died was never followed up)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lookups", "0019_purchases_by_order")]

    operations = [
        migrations.RenameField("consumptionanswerfollowup", "resends", "checks"),
        migrations.RenameField("consumptionanswerfollowup", "last_sent_at", "last_checked_at"),
        migrations.RenameField("consumptionanswerfollowup", "next_send_at", "next_check_at"),
        migrations.AddField(
            model_name="consumptionanswerfollowup",
            name="gave_up_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="SubscriptionExtensionFollowUp",
            fields=[
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("checks", models.PositiveIntegerField(default=0)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("next_check_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("gave_up_at", models.DateTimeField(blank=True, null=True)),
                (
                    "extension",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="follow_up",
                        serialize=False,
                        to="lookups.subscriptionextension",
                    ),
                ),
            ],
            options={"abstract": False, "default_permissions": ("view",)},
        ),
    ]
