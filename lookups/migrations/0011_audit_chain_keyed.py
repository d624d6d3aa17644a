"""The audit chain becomes keyed, and settling becomes the only way into it.

Triggers now refuse:
- inserting a token change that is not pending (it would arrive with a place in the chain);
- settling a pending row anywhere but where the chain head has just moved to, with the hash the
  head records, so a row can't take a place the head did not give it (which made every later
  settlement collide with it).

The chain's hashes become HMAC-SHA256 with settings.AUDIT_CHAIN_KEY (lookups/audit_chain.py).
Rows settled before are re-chained here with that key, rather than the chain carrying two kinds
of hash: one kind keeps verify_audit_log simple, and a keyed hash over an unkeyed prefix would
leave that prefix open to being rewritten together with the first keyed row's predecessor hash.
Re-chaining first checks the old chain and stops if it is broken, so a tampered log can't be
laundered into a valid keyed one. Anchors recorded before this migration no longer match: start a
new AUDIT_ANCHOR_FILE after running it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

from lookups.audit_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash, unkeyed_chain_hash

INSERT_REFUSED = (
    "INSERT refused on lookups_tokenchange: a token change is written pending "
    "and joins the chain only by settling"
)
PLACE_REFUSED = (
    "UPDATE refused on lookups_tokenchange: a row settles only where the chain head now is"
)

POSTGRESQL = [
    f"""
    CREATE FUNCTION lookups_refuse_settled_tokenchange_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{INSERT_REFUSED}'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('The new row is %s.', NEW.outcome);
    END;
    $$
    """,
    """
    CREATE TRIGGER lookups_tokenchange_inserted_pending
    BEFORE INSERT ON lookups_tokenchange
    FOR EACH ROW WHEN (NEW.outcome <> 'pending')
    EXECUTE FUNCTION lookups_refuse_settled_tokenchange_insert()
    """,
    # PLACE_REFUSED written out in these two: SQLite's RAISE takes only a literal.
    """
    CREATE FUNCTION lookups_refuse_settlement_off_the_head() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM lookups_auditchainhead
                   WHERE id = 1 AND last_sequence = NEW.chain_sequence
                     AND last_hash = NEW.chain_hash) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION
            'UPDATE refused on lookups_tokenchange: a row settles only where the chain head now is'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('Token change %s asked for sequence %s.',
                                  OLD.id, NEW.chain_sequence);
    END;
    $$
    """,
    """
    CREATE TRIGGER lookups_tokenchange_settles_at_the_head
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN (OLD.outcome = 'pending' AND NEW.outcome <> 'pending')
    EXECUTE FUNCTION lookups_refuse_settlement_off_the_head()
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER lookups_tokenchange_settles_at_the_head ON lookups_tokenchange",
    "DROP FUNCTION lookups_refuse_settlement_off_the_head()",
    "DROP TRIGGER lookups_tokenchange_inserted_pending ON lookups_tokenchange",
    "DROP FUNCTION lookups_refuse_settled_tokenchange_insert()",
]

SQLITE = [
    f"""
    CREATE TRIGGER lookups_tokenchange_inserted_pending
    BEFORE INSERT ON lookups_tokenchange
    FOR EACH ROW WHEN NEW.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, '{INSERT_REFUSED}'); END
    """,
    """
    CREATE TRIGGER lookups_tokenchange_settles_at_the_head
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN OLD.outcome = 'pending' AND NEW.outcome <> 'pending'
        AND NOT EXISTS (SELECT 1 FROM lookups_auditchainhead
                        WHERE id = 1 AND last_sequence = NEW.chain_sequence
                          AND last_hash = NEW.chain_hash)
    BEGIN SELECT RAISE(ABORT,
'UPDATE refused on lookups_tokenchange: a row settles only where the chain head now is'); END
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER lookups_tokenchange_settles_at_the_head",
    "DROP TRIGGER lookups_tokenchange_inserted_pending",
]

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}

# The triggers that keep settled rows and the head still; re-chaining has to step past them.
GUARDS = {
    "lookups_tokenchange": "lookups_tokenchange_settled_rows_stay",
    "lookups_auditchainhead": "lookups_auditchainhead_moves_forward",
}


def _execute(schema_editor, direction: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"The audit log's triggers are not written for {vendor}.")
    for statement in STATEMENTS[vendor][direction]:
        # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
        schema_editor.execute(statement, params=None)


def rechain(apps, schema_editor, *, old_hash, new_hash) -> None:
    """Check every settled row against old_hash, then give it new_hash, in chain order."""
    alias = schema_editor.connection.alias
    rows = apps.get_model("lookups", "TokenChange").objects.using(alias)
    head = apps.get_model("lookups", "AuditChainHead").objects.using(alias).first()
    chain = list(
        rows.filter(chain_sequence__isnull=False)
        .order_by("chain_sequence")
        .values(*HASHED_FIELDS, "chain_sequence", "chain_previous_hash", "chain_hash")
    )
    previous_old, previous_new, rewritten = GENESIS_HASH, GENESIS_HASH, []
    for expected_sequence, row in enumerate(chain, start=1):
        sequence = row["chain_sequence"]
        if (
            sequence != expected_sequence
            or row["chain_previous_hash"] != previous_old
            or old_hash(row, sequence=sequence, previous_hash=previous_old) != row["chain_hash"]
        ):
            raise RuntimeError(
                f"The audit chain is broken at token change id={row['id']} (sequence {sequence}): "
                "it is not re-chained. Run verify_audit_log on the previous migration to see how."
            )
        previous_old = row["chain_hash"]
        digest = new_hash(row, sequence=sequence, previous_hash=previous_new)
        rewritten.append((row["id"], previous_new, digest))
        previous_new = digest
    head_sequence, head_hash = (head.last_sequence, head.last_hash) if head else (0, GENESIS_HASH)
    if (head_sequence, head_hash) != (len(chain), previous_old):
        raise RuntimeError(
            f"The audit chain head ({head_sequence}) does not match the chain's end "
            f"({len(chain)}): it is not re-chained."
        )
    if not chain:
        return

    with _guards_stepped_past(schema_editor):
        for row_id, previous_hash, digest in rewritten:
            rows.filter(id=row_id).update(chain_previous_hash=previous_hash, chain_hash=digest)
        head.last_hash = previous_new
        head.save(update_fields=["last_hash"])


class _guards_stepped_past:
    """The owner's way past the guards for the length of the re-chaining, and back."""

    def __init__(self, schema_editor) -> None:
        self.schema_editor = schema_editor
        self.saved: list[str] = []

    def __enter__(self) -> None:
        connection = self.schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table, trigger in GUARDS.items():
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            else:
                for trigger in GUARDS.values():
                    cursor.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                        [trigger],
                    )
                    self.saved.append(cursor.fetchone()[0])
                    cursor.execute(f"DROP TRIGGER {trigger}")

    def __exit__(self, *exc_info: object) -> None:
        connection = self.schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table, trigger in GUARDS.items():
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            else:
                for sql in self.saved:
                    cursor.execute(sql)


def _keyed(row, *, sequence, previous_hash):
    return chain_hash(
        row, sequence=sequence, previous_hash=previous_hash, key=settings.AUDIT_CHAIN_KEY.encode()
    )


def forwards(apps, schema_editor):
    _execute(schema_editor, 0)
    rechain(apps, schema_editor, old_hash=unkeyed_chain_hash, new_hash=_keyed)


def backwards(apps, schema_editor):
    rechain(apps, schema_editor, old_hash=_keyed, new_hash=unkeyed_chain_hash)
    _execute(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("lookups", "0010_audit_log_owner_only")]

    operations = [migrations.RunPython(forwards, backwards)]
