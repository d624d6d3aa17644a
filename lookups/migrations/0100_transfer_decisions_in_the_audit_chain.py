"""A transfer's decision settles into the audit chain: the transfer request becomes a chained row.

Deciding writes the decision (status, decider, time, the token change of an approval), the
requester's and the decider's usernames and the chain's next place in one UPDATE (kind
`transfer_decision` in lookups/audit_chain.py), so verify_audit_log can tell a decision the desk
made from "approved" or "rejected" written straight into the table.
- The database lets a decision be written only where the chain head has just moved to, as it
  does for every other settling row; 0017's guard (only an open request's decision may be
  written, and once) stays.
- Transfers decided before this migration are given their places at the end of the chain, in the
  order they were decided, with the usernames their people have now and recipe version 2. There
  is no exception for them afterwards: every decided transfer must be in the chain.

SQLite: the same guard as a trigger of its own.
"""

from __future__ import annotations

import importlib

from django.conf import settings
from django.db import migrations, models

from lookups.audit_chain import TRANSFER_HASHED_FIELDS, TRANSFER_KIND, chain_hash

# The guards of the migrations before, reused as they were written.
_triggers_0017 = importlib.import_module(
    "lookups.migrations.0017_consumption_answers_in_the_audit_log"
)
_triggers_0030 = importlib.import_module(
    "lookups.migrations.0030_audit_triggers_see_only_real_objects"
)

TRANSFERS = "lookups_transferrequest"
DECIDED_ONCE = "lookups_transferrequest_decided_once"
OFF_THE_HEAD = f"UPDATE refused on {TRANSFERS}: a decision settles only where the chain head now is"
# The recipe decisions settled with here; later recipes leave these rows as they are.
RECIPE_VERSION = 2


def _postgresql(schema: str) -> list[str]:
    function = "lookups_refuse_transfer_decision_off_the_head"
    return [
        _triggers_0030._function(
            schema,
            function,
            f"""
    BEGIN
        IF {_triggers_0030._at_the_head(schema)} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{OFF_THE_HEAD}'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('Transfer request %s asked for sequence %s.',
                                  OLD.id, NEW.chain_sequence);
    END;
            """,
        ),
        f"""
        CREATE TRIGGER lookups_transferrequest_decided_at_the_head
        BEFORE UPDATE ON {schema}.{TRANSFERS}
        FOR EACH ROW WHEN (OLD.status = 'open' AND NEW.status <> 'open')
        EXECUTE FUNCTION {schema}.{function}()
        """,
    ]


SQLITE = f"""
    CREATE TRIGGER lookups_transferrequest_decided_at_the_head
    BEFORE UPDATE ON {TRANSFERS}
    FOR EACH ROW WHEN OLD.status = 'open' AND NEW.status <> 'open'
        AND NOT {_triggers_0017.AT_THE_HEAD}
    BEGIN SELECT RAISE(ABORT, '{OFF_THE_HEAD}'); END
"""
SQLITE_DECIDED_ONCE = next(
    statement for statement in _triggers_0017.SQLITE if DECIDED_ONCE in statement
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema = _triggers_0030._schema(schema_editor)
        # The owner runs this: 0017's guard steps aside while the old decisions get places.
        schema_editor.execute(f"ALTER TABLE {schema}.{TRANSFERS} DISABLE TRIGGER {DECIDED_ONCE}")
        _chain_decided_transfers(apps, schema_editor)
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {schema}.{TRANSFERS} ENABLE TRIGGER {DECIDED_ONCE}")
        for statement in _postgresql(schema):
            # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
            schema_editor.execute(statement, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER {DECIDED_ONCE}")
        _chain_decided_transfers(apps, schema_editor)
        schema_editor.execute(SQLITE_DECIDED_ONCE, params=None)
        schema_editor.execute(SQLITE, params=None)
    else:
        raise NotImplementedError(f"The audit log's triggers are not written for {vendor}.")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema = _triggers_0030._schema(schema_editor)
        schema_editor.execute(
            f"DROP TRIGGER lookups_transferrequest_decided_at_the_head ON {schema}.{TRANSFERS}"
        )
        schema_editor.execute(
            f"DROP FUNCTION {schema}.lookups_refuse_transfer_decision_off_the_head()"
        )
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER lookups_transferrequest_decided_at_the_head")


def _chain_decided_transfers(apps, schema_editor) -> None:
    """Give every transfer decided so far its place at the end of the chain, in deciding order."""
    alias = schema_editor.connection.alias
    transfers = apps.get_model("lookups", "TransferRequest").objects.using(alias)
    heads = apps.get_model("lookups", "AuditChainHead").objects.using(alias)
    users = apps.get_model(settings.AUTH_USER_MODEL).objects.using(alias)
    decided = transfers.exclude(status="open").order_by("decided_at", "pk")
    if not decided.exists():
        return
    names = dict(users.values_list("pk", "username"))
    head, _ = heads.get_or_create(pk=1)
    for row in decided.values(*TRANSFER_HASHED_FIELDS):
        row["requested_by_username"] = names.get(row["requested_by_id"])
        row["decided_by_username"] = names.get(row["decided_by_id"])
        row["chain_version"] = RECIPE_VERSION
        sequence = head.last_sequence + 1
        digest = chain_hash(
            row, sequence=sequence, previous_hash=head.last_hash, kind=TRANSFER_KIND
        )
        transfers.filter(pk=row["id"]).update(
            requested_by_username=row["requested_by_username"],
            decided_by_username=row["decided_by_username"],
            chain_version=RECIPE_VERSION,
            chain_sequence=sequence,
            chain_previous_hash=head.last_hash,
            chain_hash=digest,
        )
        # One step at a time: the head's trigger lets it move forward by one only.
        heads.filter(pk=1).update(last_sequence=sequence, last_hash=digest)
        head.last_sequence, head.last_hash = sequence, digest


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0070_lists_newest_first"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="transferrequest",
            name="requested_by_username",
            field=models.CharField(blank=True, max_length=150, null=True),
        ),
        migrations.AddField(
            model_name="transferrequest",
            name="decided_by_username",
            field=models.CharField(blank=True, max_length=150, null=True),
        ),
        migrations.AddField(
            model_name="transferrequest",
            name="chain_version",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="transferrequest",
            name="chain_sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="transferrequest",
            name="chain_previous_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="transferrequest",
            name="chain_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name="transferrequest",
            index=models.Index(fields=["chain_sequence"], name="transfer_chain_sequence"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
