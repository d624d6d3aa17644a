"""Each app names where its own Adapty secret key is; empty (every app so far) changes nothing:
the settings' app keeps sending with ADAPTY_SECRET_KEY."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0370_tokenchange_agent_created"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="adapty_key_source",
            field=models.CharField(
                blank=True,
                help_text="The name of an environment variable holding this app's Adapty secret "
                "API key (or of one whose _FILE form names its file), or the absolute path of a "
                "file holding it. Never the key. Empty: this app's purchases are not sent to "
                "Adapty (an app that follows the settings uses ADAPTY_SECRET_KEY).",
                max_length=300,
                verbose_name="where the Adapty secret key is",
            ),
        ),
    ]
