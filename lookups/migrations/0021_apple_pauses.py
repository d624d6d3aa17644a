"""Apple's Retry-After is kept in the database as well as the cache, so a cache restart can't
forget it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lookups", "0020_one_follow_up_for_every_action")]

    operations = [
        migrations.CreateModel(
            name="ApplePause",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=300)),
                ("endpoint", models.CharField(max_length=64)),
                ("until", models.DateTimeField()),
            ],
            options={"default_permissions": ()},
        ),
        migrations.AddConstraint(
            model_name="applepause",
            constraint=models.UniqueConstraint(
                fields=("scope", "endpoint"), name="applepause_one_per_endpoint"
            ),
        ),
    ]
