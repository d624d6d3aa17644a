"""Outage compensation and finishing a transaction join the audit log.

Both settle into the one hash chain (lookups/audit_chain.py) and get the guards the other audited
rows have (migrations 0007, 0010, 0011, 0016, 0017):
- a row is inserted open (outage compensation: waiting for a second manager or pending; a finish:
  pending), never settled;
- a row settles only where the chain head has just moved to;
- a settled row never changes;
- a row is never deleted, nor the table truncated, except by the owner's flush.
"""

# ruff: noqa: S608 (the schema is the connection's own, quoted; every other name a constant)

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# SQLite's triggers: SQLite has no schemas nor roles to resolve a name against.
AT_THE_HEAD = (
    "EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 "
    "AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)"
)
FLUSH_UNDER_WAY = "EXISTS (SELECT 1 FROM lookups_auditlogflush)"


def _at_the_head(schema: str) -> str:
    """PostgreSQL's: the head named with its schema, as migration 0030 does for every function."""
    return (
        f"EXISTS (SELECT 1 FROM {schema}.lookups_auditchainhead h WHERE h.id = 1 "
        "AND h.last_sequence = NEW.chain_sequence AND h.last_hash = NEW.chain_hash)"
    )


# table, trigger name, the outcomes a row may still change in.
TABLES = (
    ("lookups_outagecompensation", "outagecompensation", ("awaiting_approval", "pending")),
    ("lookups_transactionfinish", "transactionfinish", ("pending",)),
)


def _open(column: str, outcomes: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(o) for o in outcomes)})"


def _postgresql(schema: str, table: str, name: str, outcomes: tuple[str, ...]) -> list[str]:
    insert = f"INSERT refused on {table}: a row is written open and joins the chain by settling"
    update = f"UPDATE refused on {table}: settled rows of the audit log never change"
    place = f"UPDATE refused on {table}: a row settles only where the chain head now is"
    return [
        f"""
        CREATE FUNCTION {schema}.lookups_refuse_{name}_change() RETURNS trigger
        LANGUAGE plpgsql
        SET search_path = pg_catalog, {schema}, pg_temp
        AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                RAISE EXCEPTION '{insert}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF NOT {_open("OLD.outcome", outcomes)} THEN
                RAISE EXCEPTION '{update}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF NOT {_open("NEW.outcome", outcomes)} AND NOT {_at_the_head(schema)} THEN
                RAISE EXCEPTION '{place}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END;
        $$
        """,
        f"""
        CREATE TRIGGER lookups_{name}_inserted_open
        BEFORE INSERT ON {schema}.{table}
        FOR EACH ROW WHEN (NOT {_open("NEW.outcome", outcomes)})
        EXECUTE FUNCTION {schema}.lookups_refuse_{name}_change()
        """,
        f"""
        CREATE TRIGGER lookups_{name}_settles_once_at_the_head
        BEFORE UPDATE ON {schema}.{table}
        FOR EACH ROW EXECUTE FUNCTION {schema}.lookups_refuse_{name}_change()
        """,
        f"""
        CREATE TRIGGER lookups_{name}_never_deleted
        BEFORE DELETE ON {schema}.{table}
        FOR EACH ROW EXECUTE FUNCTION {schema}.lookups_refuse_audit_log_removal()
        """,
        f"""
        CREATE TRIGGER lookups_{name}_never_truncated
        BEFORE TRUNCATE ON {schema}.{table}
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.lookups_refuse_audit_log_removal()
        """,
    ]


def _postgresql_reverse(schema: str, table: str, name: str, outcomes: tuple[str, ...]) -> list[str]:
    return [
        *(
            f"DROP TRIGGER lookups_{name}_{what} ON {schema}.{table}"
            for what in (
                "never_truncated",
                "never_deleted",
                "settles_once_at_the_head",
                "inserted_open",
            )
        ),
        f"DROP FUNCTION {schema}.lookups_refuse_{name}_change()",
    ]


def _sqlite(table: str, name: str, outcomes: tuple[str, ...]) -> list[str]:
    return [
        f"""
        CREATE TRIGGER lookups_{name}_inserted_open
        BEFORE INSERT ON {table}
        FOR EACH ROW WHEN NOT {_open("NEW.outcome", outcomes)}
        BEGIN SELECT RAISE(ABORT, 'INSERT refused on {table}: a row is written open'); END
        """,
        f"""
        CREATE TRIGGER lookups_{name}_settled_rows_stay
        BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN NOT {_open("OLD.outcome", outcomes)}
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on {table}: settled rows never change'); END
        """,
        f"""
        CREATE TRIGGER lookups_{name}_settles_at_the_head
        BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN NOT {_open("NEW.outcome", outcomes)} AND NOT {AT_THE_HEAD}
        BEGIN SELECT RAISE(ABORT, 'UPDATE refused on {table}: settles only at the head'); END
        """,
        f"""
        CREATE TRIGGER lookups_{name}_never_deleted
        BEFORE DELETE ON {table}
        FOR EACH ROW WHEN NOT {FLUSH_UNDER_WAY}
        BEGIN SELECT RAISE(ABORT, 'DELETE refused on {table}: the audit log is append-only'); END
        """,
    ]


def _sqlite_reverse(table: str, name: str, outcomes: tuple[str, ...]) -> list[str]:
    return [
        f"DROP TRIGGER lookups_{name}_{what}"
        for what in ("never_deleted", "settles_at_the_head", "settled_rows_stay", "inserted_open")
    ]


STATEMENTS = {
    "postgresql": (_postgresql, _postgresql_reverse),
    "sqlite": (_sqlite, _sqlite_reverse),
}


def _execute(schema_editor, direction: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"The audit log's triggers are not written for {vendor}.")
    # PostgreSQL's statements name the connection's own schema (see migration 0030).
    where = (_schema(schema_editor),) if vendor == "postgresql" else ()
    for table in TABLES:
        for statement in STATEMENTS[vendor][direction](*where, *table):
            # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
            schema_editor.execute(statement, params=None)


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return schema_editor.quote_name(schema)


def create_triggers(apps, schema_editor):
    _execute(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _execute(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0033_audit_checks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OutageCompensation",
            fields=[
                ("error_code", models.IntegerField(blank=True, null=True)),
                ("error_message", models.TextField(blank=True)),
                ("settled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "chain_sequence",
                    models.PositiveBigIntegerField(blank=True, null=True, unique=True),
                ),
                ("chain_previous_hash", models.CharField(blank=True, max_length=64)),
                ("chain_hash", models.CharField(blank=True, max_length=64)),
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("environment", models.CharField(max_length=16)),
                ("product_id", models.CharField(max_length=200)),
                ("storefronts", models.CharField(blank=True, max_length=1000)),
                ("extend_by_days", models.PositiveSmallIntegerField()),
                (
                    "reason_code",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Not declared"),
                            (1, "Customer satisfaction"),
                            (2, "Other"),
                            (3, "Service issue or outage"),
                        ]
                    ),
                ),
                ("note", models.TextField()),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("awaiting_approval", "Waiting for a second manager"),
                            ("pending", "Under way at Apple"),
                            ("succeeded", "Complete"),
                            ("failed", "Failed"),
                            ("rejected", "Rejected by a manager"),
                        ],
                        db_index=True,
                        default="awaiting_approval",
                        max_length=24,
                    ),
                ),
                ("succeeded_count", models.PositiveIntegerField(blank=True, null=True)),
                ("failed_count", models.PositiveIntegerField(blank=True, null=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("failures_notified", models.PositiveIntegerField(default=0)),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outage_compensations_decided",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outage_compensations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="TransactionFinish",
            fields=[
                ("error_code", models.IntegerField(blank=True, null=True)),
                ("error_message", models.TextField(blank=True)),
                ("settled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "chain_sequence",
                    models.PositiveBigIntegerField(blank=True, null=True, unique=True),
                ),
                ("chain_previous_hash", models.CharField(blank=True, max_length=64)),
                ("chain_hash", models.CharField(blank=True, max_length=64)),
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("environment", models.CharField(max_length=16)),
                ("transaction_id", models.CharField(db_index=True, max_length=64)),
                ("original_transaction_id", models.CharField(max_length=64)),
                ("product_id", models.CharField(blank=True, max_length=200)),
                ("order_id", models.CharField(blank=True, max_length=32)),
                ("note", models.TextField()),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("succeeded", "Finished"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=16,
                    ),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transaction_finishes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="OutageCompensationFollowUp",
            fields=[
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("checks", models.PositiveIntegerField(default=0)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("next_check_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("gave_up_at", models.DateTimeField(blank=True, null=True)),
                (
                    "compensation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="follow_up",
                        serialize=False,
                        to="lookups.outagecompensation",
                    ),
                ),
            ],
            options={
                "abstract": False,
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="TransactionFinishFollowUp",
            fields=[
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("checks", models.PositiveIntegerField(default=0)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("next_check_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("gave_up_at", models.DateTimeField(blank=True, null=True)),
                (
                    "finish",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="follow_up",
                        serialize=False,
                        to="lookups.transactionfinish",
                    ),
                ),
            ],
            options={
                "abstract": False,
                "default_permissions": ("view",),
            },
        ),
        migrations.AddConstraint(
            model_name="outagecompensation",
            constraint=models.CheckConstraint(
                condition=models.Q(("extend_by_days__gte", 1), ("extend_by_days__lte", 90)),
                name="outage_days_1_to_90",
            ),
        ),
        migrations.AddConstraint(
            model_name="outagecompensation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("chain_hash", ""),
                        ("chain_previous_hash", ""),
                        ("chain_sequence__isnull", True),
                        ("outcome__in", ["awaiting_approval", "pending"]),
                        ("settled_at__isnull", True),
                    ),
                    models.Q(
                        ("chain_sequence__isnull", False),
                        ("outcome__in", ["succeeded", "failed", "rejected"]),
                        ("settled_at__isnull", False),
                        models.Q(("chain_previous_hash", ""), _negated=True),
                        models.Q(("chain_hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="outage_chained_iff_settled",
            ),
        ),
        migrations.AddConstraint(
            model_name="outagecompensation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("outcome", "pending")),
                fields=("environment", "product_id"),
                name="outage_one_pending_per_product",
            ),
        ),
        migrations.AddConstraint(
            model_name="transactionfinish",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("chain_hash", ""),
                        ("chain_previous_hash", ""),
                        ("chain_sequence__isnull", True),
                        ("outcome__in", ["pending"]),
                        ("settled_at__isnull", True),
                    ),
                    models.Q(
                        ("chain_sequence__isnull", False),
                        ("outcome__in", ["succeeded", "failed"]),
                        ("settled_at__isnull", False),
                        models.Q(("chain_previous_hash", ""), _negated=True),
                        models.Q(("chain_hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="finish_chained_iff_settled",
            ),
        ),
        migrations.AddConstraint(
            model_name="transactionfinish",
            constraint=models.UniqueConstraint(
                condition=models.Q(("outcome", "pending")),
                fields=("environment", "transaction_id"),
                name="finish_one_pending_per_transaction",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
