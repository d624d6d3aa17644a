"""One agent's token changes in order, as the reports' exports read them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0360_products_and_tallies_name_their_app"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="tokenchange",
            index=models.Index(fields=["agent", "created_at"], name="tokenchange_agent_created"),
        ),
    ]
