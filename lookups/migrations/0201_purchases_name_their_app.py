"""The purchase picture names the app each purchase was bought in (null: before apps)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0200_registered_apps"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
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
