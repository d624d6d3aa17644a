"""A consumption answer keeps its form's request id: a resubmit gets the first answer.

A nullable column and a partial unique index: neither rebuilds the table on SQLite, so the
audit log's triggers on it stay in place.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0100_transfer_decisions_in_the_audit_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="consumptionanswer",
            name="request_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="consumptionanswer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("request_id__isnull", False)),
                fields=("request_id",),
                name="consumptionanswer_one_per_request_id",
            ),
        ),
    ]
