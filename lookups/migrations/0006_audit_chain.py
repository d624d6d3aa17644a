"""The audit log's hash chain: chain fields on token changes, the chain head, and the rows so far.

Rows settled before this migration join the chain in the order they settled.
"""

from __future__ import annotations

from django.db import migrations, models

from lookups.audit_chain import GENESIS_HASH, HASHED_FIELDS
from lookups.audit_chain import unkeyed_chain_hash as chain_hash

CHUNK_SIZE = 1000


def chain_settled_rows(apps, schema_editor):
    TokenChange = apps.get_model("lookups", "TokenChange")
    AuditChainHead = apps.get_model("lookups", "AuditChainHead")
    rows = TokenChange.objects.using(schema_editor.connection.alias)

    settled_ids = list(
        rows.exclude(outcome="pending").order_by("settled_at", "id").values_list("id", flat=True)
    )
    sequence, previous_hash = 0, GENESIS_HASH
    for start in range(0, len(settled_ids), CHUNK_SIZE):
        chunk = settled_ids[start : start + CHUNK_SIZE]
        by_id = {row["id"]: row for row in rows.filter(id__in=chunk).values(*HASHED_FIELDS)}
        for row_id in chunk:
            sequence += 1
            digest = chain_hash(by_id[row_id], sequence=sequence, previous_hash=previous_hash)
            rows.filter(id=row_id).update(
                chain_sequence=sequence, chain_previous_hash=previous_hash, chain_hash=digest
            )
            previous_hash = digest

    AuditChainHead.objects.using(schema_editor.connection.alias).create(
        id=1, last_sequence=sequence, last_hash=previous_hash
    )


class Migration(migrations.Migration):
    dependencies = [("lookups", "0005_auditors_see_exports_and_adapty")]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("last_sequence", models.PositiveBigIntegerField(default=0)),
                ("last_hash", models.CharField(default=GENESIS_HASH, max_length=64)),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="auditchainhead_one_row"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="tokenchange",
            name="chain_sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="tokenchange",
            name="chain_previous_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="tokenchange",
            name="chain_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(chain_settled_rows, migrations.RunPython.noop),
    ]
