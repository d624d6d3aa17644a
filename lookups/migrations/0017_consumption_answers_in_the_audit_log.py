"""Answers to Apple's refund requests join the audit log; refused links and transfer requests are
kept by the database too.

`ConsumptionAnswer` rows settle into the one hash chain (lookups/audit_chain.py) and get the
guards token changes and extensions have (migrations 0007, 0010, 0011, 0016):
- a row is inserted pending, never settled;
- a row settles only where the chain head has just moved to, with the hash the head records;
- a settled row never changes;
- a row is never deleted, nor the table truncated, except by the owner's flush (the shared
  lookups_refuse_audit_log_removal function).
Answers settled before this migration are given their places at the end of the chain, in the
order they settled, and the transaction each was about is copied onto it from its case.

`RefusedLink` and `TransferRequest` are records of what agents did, read by auditors beside the
chain, so the app's role can't rewrite them either (they carry no hash: nothing settles them):
- a refused link is never changed or deleted;
- a transfer request is inserted open; while open, only its decision may be written (status,
  decider, time, the token change that carried it out); once decided it never changes; it is
  never deleted.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from lookups.audit_chain import CONSUMPTION_HASHED_FIELDS, CONSUMPTION_KIND, chain_hash

ANSWERS = "lookups_consumptionanswer"
REFUSALS = "lookups_refusedlink"
TRANSFERS = "lookups_transferrequest"

ANSWER_INSERT_REFUSED = (
    f"INSERT refused on {ANSWERS}: an answer is written pending and joins the chain only by "
    "settling"
)
ANSWER_UPDATE_REFUSED = f"UPDATE refused on {ANSWERS}: settled rows of the audit log never change"
ANSWER_PLACE_REFUSED = (
    f"UPDATE refused on {ANSWERS}: a row settles only where the chain head now is"
)
REFUSAL_UPDATE_REFUSED = f"UPDATE refused on {REFUSALS}: a refused link is never changed"
TRANSFER_INSERT_REFUSED = f"INSERT refused on {TRANSFERS}: a transfer request is written open"
TRANSFER_UPDATE_REFUSED = (
    f"UPDATE refused on {TRANSFERS}: only the decision of an open request may be written"
)
AT_THE_HEAD = (
    "EXISTS (SELECT 1 FROM lookups_auditchainhead WHERE id = 1 "
    "AND last_sequence = NEW.chain_sequence AND last_hash = NEW.chain_hash)"
)
FLUSH_UNDER_WAY = "EXISTS (SELECT 1 FROM lookups_auditlogflush)"
# What a transfer request asked for; the decision's columns are the others.
TRANSFER_REQUEST_COLUMNS = (
    "id",
    "request_id",
    "requested_by_id",
    "created_at",
    "environment",
    "original_transaction_id",
    "product_id",
    "order_id",
    "token_before",
    "account_id",
    "ticket_reference",
    "lookup_id",
)


def _changed(distinct: str) -> str:
    """Whether an UPDATE touches what the request asked for, NULLs compared as values."""
    return " OR ".join(
        f"NEW.{column} {distinct} OLD.{column}" for column in TRANSFER_REQUEST_COLUMNS
    )


def _refuse(function: str, message: str) -> str:
    return f"""
    CREATE FUNCTION {function}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """


def _never_removed(table: str, name: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER lookups_{name}_never_deleted
        BEFORE DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION lookups_refuse_audit_log_removal()
        """,
        f"""
        CREATE TRIGGER lookups_{name}_never_truncated
        BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION lookups_refuse_audit_log_removal()
        """,
    ]


POSTGRESQL = [
    f"""
    CREATE FUNCTION lookups_refuse_consumption_answer_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            RAISE EXCEPTION '{ANSWER_INSERT_REFUSED}'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.outcome <> 'pending' THEN
            RAISE EXCEPTION '{ANSWER_UPDATE_REFUSED}'
                USING ERRCODE = 'integrity_constraint_violation',
                      DETAIL = format('Consumption answer %s is already %s.', OLD.id, OLD.outcome);
        END IF;
        IF NEW.outcome <> 'pending' AND NOT {AT_THE_HEAD} THEN
            RAISE EXCEPTION '{ANSWER_PLACE_REFUSED}'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    f"""
    CREATE TRIGGER lookups_consumptionanswer_inserted_pending
    BEFORE INSERT ON {ANSWERS}
    FOR EACH ROW WHEN (NEW.outcome <> 'pending')
    EXECUTE FUNCTION lookups_refuse_consumption_answer_change()
    """,
    f"""
    CREATE TRIGGER lookups_consumptionanswer_settles_once_at_the_head
    BEFORE UPDATE ON {ANSWERS}
    FOR EACH ROW EXECUTE FUNCTION lookups_refuse_consumption_answer_change()
    """,
    *_never_removed(ANSWERS, "consumptionanswer"),
    _refuse("lookups_refuse_refusedlink_update", REFUSAL_UPDATE_REFUSED),
    f"""
    CREATE TRIGGER lookups_refusedlink_never_changed
    BEFORE UPDATE ON {REFUSALS}
    FOR EACH ROW EXECUTE FUNCTION lookups_refuse_refusedlink_update()
    """,
    *_never_removed(REFUSALS, "refusedlink"),
    _refuse("lookups_refuse_transferrequest_insert", TRANSFER_INSERT_REFUSED),
    f"""
    CREATE TRIGGER lookups_transferrequest_inserted_open
    BEFORE INSERT ON {TRANSFERS}
    FOR EACH ROW WHEN (NEW.status <> 'open')
    EXECUTE FUNCTION lookups_refuse_transferrequest_insert()
    """,
    _refuse("lookups_refuse_transferrequest_update", TRANSFER_UPDATE_REFUSED),
    f"""
    CREATE TRIGGER lookups_transferrequest_decided_once
    BEFORE UPDATE ON {TRANSFERS}
    FOR EACH ROW WHEN (OLD.status <> 'open' OR {_changed("IS DISTINCT FROM")})
    EXECUTE FUNCTION lookups_refuse_transferrequest_update()
    """,
    *_never_removed(TRANSFERS, "transferrequest"),
]

POSTGRESQL_REVERSE = [
    *(
        f"DROP TRIGGER lookups_{name}_{what} ON {table}"
        for table, name in (
            (TRANSFERS, "transferrequest"),
            (REFUSALS, "refusedlink"),
            (ANSWERS, "consumptionanswer"),
        )
        for what in ("never_truncated", "never_deleted")
    ),
    f"DROP TRIGGER lookups_transferrequest_decided_once ON {TRANSFERS}",
    "DROP FUNCTION lookups_refuse_transferrequest_update()",
    f"DROP TRIGGER lookups_transferrequest_inserted_open ON {TRANSFERS}",
    "DROP FUNCTION lookups_refuse_transferrequest_insert()",
    f"DROP TRIGGER lookups_refusedlink_never_changed ON {REFUSALS}",
    "DROP FUNCTION lookups_refuse_refusedlink_update()",
    f"DROP TRIGGER lookups_consumptionanswer_settles_once_at_the_head ON {ANSWERS}",
    f"DROP TRIGGER lookups_consumptionanswer_inserted_pending ON {ANSWERS}",
    "DROP FUNCTION lookups_refuse_consumption_answer_change()",
]


def _sqlite_never_deleted(table: str, name: str) -> str:
    return f"""
    CREATE TRIGGER lookups_{name}_never_deleted
    BEFORE DELETE ON {table}
    FOR EACH ROW WHEN NOT {FLUSH_UNDER_WAY}
    BEGIN SELECT RAISE(ABORT, 'DELETE refused on {table}: the audit log is append-only'); END
    """


SQLITE = [
    f"""
    CREATE TRIGGER lookups_consumptionanswer_inserted_pending
    BEFORE INSERT ON {ANSWERS}
    FOR EACH ROW WHEN NEW.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, '{ANSWER_INSERT_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER lookups_consumptionanswer_settled_rows_stay
    BEFORE UPDATE ON {ANSWERS}
    FOR EACH ROW WHEN OLD.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, '{ANSWER_UPDATE_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER lookups_consumptionanswer_settles_at_the_head
    BEFORE UPDATE ON {ANSWERS}
    FOR EACH ROW WHEN OLD.outcome = 'pending' AND NEW.outcome <> 'pending' AND NOT {AT_THE_HEAD}
    BEGIN SELECT RAISE(ABORT, '{ANSWER_PLACE_REFUSED}'); END
    """,
    _sqlite_never_deleted(ANSWERS, "consumptionanswer"),
    f"""
    CREATE TRIGGER lookups_refusedlink_never_changed
    BEFORE UPDATE ON {REFUSALS}
    BEGIN SELECT RAISE(ABORT, '{REFUSAL_UPDATE_REFUSED}'); END
    """,
    _sqlite_never_deleted(REFUSALS, "refusedlink"),
    f"""
    CREATE TRIGGER lookups_transferrequest_inserted_open
    BEFORE INSERT ON {TRANSFERS}
    FOR EACH ROW WHEN NEW.status <> 'open'
    BEGIN SELECT RAISE(ABORT, '{TRANSFER_INSERT_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER lookups_transferrequest_decided_once
    BEFORE UPDATE ON {TRANSFERS}
    FOR EACH ROW WHEN OLD.status <> 'open' OR {_changed("IS NOT")}
    BEGIN SELECT RAISE(ABORT, '{TRANSFER_UPDATE_REFUSED}'); END
    """,
    _sqlite_never_deleted(TRANSFERS, "transferrequest"),
]

SQLITE_REVERSE = [
    "DROP TRIGGER lookups_transferrequest_never_deleted",
    "DROP TRIGGER lookups_transferrequest_decided_once",
    "DROP TRIGGER lookups_transferrequest_inserted_open",
    "DROP TRIGGER lookups_refusedlink_never_deleted",
    "DROP TRIGGER lookups_refusedlink_never_changed",
    "DROP TRIGGER lookups_consumptionanswer_never_deleted",
    "DROP TRIGGER lookups_consumptionanswer_settles_at_the_head",
    "DROP TRIGGER lookups_consumptionanswer_settled_rows_stay",
    "DROP TRIGGER lookups_consumptionanswer_inserted_pending",
]

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}


def _execute(schema_editor, direction: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"The audit log's triggers are not written for {vendor}.")
    for statement in STATEMENTS[vendor][direction]:
        # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _execute(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _execute(schema_editor, 1)


def chain_settled_answers(apps, schema_editor):
    """Copy each answer's transaction from its case; chain the settled ones in settling order."""
    alias = schema_editor.connection.alias
    if schema_editor.connection.vendor == "postgresql":
        # Foreign-key checks left deferred by these updates would stop the ALTER TABLE after.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    answers = apps.get_model("lookups", "ConsumptionAnswer").objects.using(alias)
    heads = apps.get_model("lookups", "AuditChainHead").objects.using(alias)
    for answer in answers.select_related("refund_request"):
        answers.filter(pk=answer.pk).update(
            environment=answer.refund_request.environment,
            transaction_id=answer.refund_request.transaction_id,
        )
    settled = answers.exclude(outcome="pending").order_by("settled_at", "pk")
    if not settled.exists():
        return
    head, _ = heads.get_or_create(pk=1)
    for row in settled.values(*CONSUMPTION_HASHED_FIELDS):
        sequence = head.last_sequence + 1
        digest = chain_hash(
            row, sequence=sequence, previous_hash=head.last_hash, kind=CONSUMPTION_KIND
        )
        answers.filter(pk=row["id"]).update(
            chain_sequence=sequence, chain_previous_hash=head.last_hash, chain_hash=digest
        )
        # One step at a time: the head's trigger lets it move forward by one only.
        heads.filter(pk=1).update(last_sequence=sequence, last_hash=digest)
        head.last_sequence, head.last_hash = sequence, digest


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0016_extensions_and_refund_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsumptionAnswerFollowUp",
            fields=[
                (
                    "answer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="follow_up",
                        serialize=False,
                        to="lookups.consumptionanswer",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("resends", models.PositiveIntegerField(default=0)),
                ("last_sent_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("next_send_at", models.DateTimeField(blank=True, db_index=True, null=True)),
            ],
            options={
                "default_permissions": ("view",),
            },
        ),
        migrations.AddField(
            model_name="consumptionanswer",
            name="chain_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="consumptionanswer",
            name="chain_previous_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="consumptionanswer",
            name="chain_sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="consumptionanswer",
            name="environment",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.AddField(
            model_name="consumptionanswer",
            name="transaction_id",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="consumptionanswer",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("unconfirmed", "Never confirmed by Apple"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(chain_settled_answers, migrations.RunPython.noop),
        # On SQLite this rebuilds lookups_consumptionanswer, so it comes before the triggers.
        migrations.AddConstraint(
            model_name="consumptionanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("chain_hash", ""),
                        ("chain_previous_hash", ""),
                        ("chain_sequence__isnull", True),
                        ("outcome", "pending"),
                        ("settled_at__isnull", True),
                    ),
                    models.Q(
                        ("chain_sequence__isnull", False),
                        ("outcome__in", ["succeeded", "failed", "unconfirmed"]),
                        ("settled_at__isnull", False),
                        models.Q(("chain_previous_hash", ""), _negated=True),
                        models.Q(("chain_hash", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="consumptionanswer_chained_iff_settled",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
