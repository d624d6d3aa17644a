"""The unlinked offer codes list both environments: their index is read in the list's order
(first told first) whatever the environment, instead of one environment's part of it. Led by
the environment, an index for both would be read in full and sorted on every page."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0380_app_adapty_key_source"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="purchase", name="purchase_unlinked_offer_code"),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                condition=models.Q(
                    ("app_account_token__isnull", True), ("offer_code_told_at__isnull", False)
                ),
                fields=["offer_code_told_at", "id"],
                name="purchase_unlinked_offer_code",
            ),
        ),
    ]
