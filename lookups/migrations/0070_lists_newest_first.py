from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0082_usernames_of_outages_and_finishes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="appstorenotification",
            index=models.Index(fields=["received_at"], name="notification_received"),
        ),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(fields=["learnt_at"], name="purchase_learnt"),
        ),
    ]
