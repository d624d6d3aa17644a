"""Notifications name the app whose URL they came to (null: the desk's one URL)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0201_purchases_name_their_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="appstorenotification",
            name="app",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="lookups.app",
            ),
        ),
    ]
