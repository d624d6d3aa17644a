"""The reports read daily tallies instead of every lookup and token change of their range.

On PostgreSQL, triggers keep `lookups_dailytally` in step with `lookups_lookup` and
`lookups_tokenchange`: each row written adds one to its key (UTC day, agent, outcome, error
code, and for a token change whether its lookup showed the purchase as an offer code), each
row removed or moved to another key takes one away. The tallies of the rows kept so far are
counted here once. Their functions fix their search_path and name their tables with the schema,
as migration 0030's do. SQLite keeps the table empty: there the reports count the rows.
"""

# ruff: noqa: S608 (the schema is the connection's own, quoted; every other name a constant)

from __future__ import annotations

from django.db import migrations, models

TALLY = "lookups_dailytally"
KEY = "source, day, agent_id, outcome, error_code, offer_code"
# The columns each table's tally key is made of, the trigger only runs when one of them changes.
WATCHED = {
    "lookups_lookup": ("created_at", "agent_id", "outcome", "error_code"),
    "lookups_tokenchange": (
        "created_at",
        "agent_id",
        "outcome",
        "error_code",
        "lookup_id",
        "original_transaction_id",
    ),
}


def _showed_offer_code(schema: str) -> str:
    """Whether lookup `looked` showed purchase `original` as redeemed with an offer code.

    The reports' ShowedOfferCode (lookups/reporting/figures.py) in a function of its own.
    """
    return f"""
    CREATE OR REPLACE FUNCTION {schema}.lookups_showed_offer_code(looked bigint, original text)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, {schema}, pg_temp
    AS $$
        SELECT looked IS NOT NULL AND EXISTS (
            SELECT 1 FROM {schema}.lookups_lookup AS l,
                jsonb_array_elements(CASE WHEN jsonb_typeof(l.transactions) = 'array'
                    THEN l.transactions ELSE '[]'::jsonb END) AS shown(record)
            WHERE l.id = looked
              AND shown.record -> 'payload' ->> 'originalTransactionId' = original
              AND shown.record -> 'payload' -> 'offerType' = '3'::jsonb
        )
    $$
    """


def _key_values(schema: str, source: str, row: str) -> str:
    offer = (
        f"{schema}.lookups_showed_offer_code({row}.lookup_id, {row}.original_transaction_id)"
        if source == "token_change"
        else "false"
    )
    return (
        f"'{source}', ({row}.created_at AT TIME ZONE 'UTC')::date, {row}.agent_id, "
        f"{row}.outcome, COALESCE({row}.error_code, 0), {offer}"
    )


def _tally_function(schema: str, table: str, source: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {schema}.{table}_tally() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, {schema}, pg_temp
    AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE {schema}.{TALLY} SET row_count = row_count - 1
            WHERE ({KEY}) = ({_key_values(schema, source, "OLD")});
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO {schema}.{TALLY} AS t ({KEY}, row_count)
            VALUES ({_key_values(schema, source, "NEW")}, 1)
            ON CONFLICT ({KEY}) DO UPDATE SET row_count = t.row_count + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """


def _triggers(schema: str, table: str) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED[table])
    return [
        f"CREATE TRIGGER {table}_tally_written AFTER INSERT OR DELETE ON {schema}.{table} "
        f"FOR EACH ROW EXECUTE FUNCTION {schema}.{table}_tally()",
        f"CREATE TRIGGER {table}_tally_changed "
        f"AFTER UPDATE OF {', '.join(WATCHED[table])} ON {schema}.{table} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {schema}.{table}_tally()",
    ]


def _count_existing(schema: str) -> str:
    return f"""
    INSERT INTO {schema}.{TALLY} ({KEY}, row_count)
    SELECT {_key_values(schema, "lookup", "r")}, count(*)
    FROM {schema}.lookups_lookup AS r GROUP BY 1, 2, 3, 4, 5, 6
    UNION ALL
    SELECT {_key_values(schema, "token_change", "r")}, count(*)
    FROM {schema}.lookups_tokenchange AS r GROUP BY 1, 2, 3, 4, 5, 6
    """


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return schema_editor.quote_name(schema)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    statements = [_showed_offer_code(schema)]
    for table, source in (("lookups_lookup", "lookup"), ("lookups_tokenchange", "token_change")):
        statements += [_tally_function(schema, table, source), *_triggers(schema, table)]
    statements.append(_count_existing(schema))
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in WATCHED:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_tally_written ON {schema}.{table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_tally_changed ON {schema}.{table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {schema}.{table}_tally()")
        cursor.execute(f"DROP FUNCTION IF EXISTS {schema}.lookups_showed_offer_code(bigint, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0203_refund_requests_name_their_app"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "source",
                    models.CharField(
                        choices=[("lookup", "Lookup"), ("token_change", "Token change")],
                        max_length=16,
                    ),
                ),
                ("agent_id", models.BigIntegerField()),
                ("outcome", models.CharField(max_length=16)),
                ("error_code", models.IntegerField()),
                ("offer_code", models.BooleanField()),
                ("row_count", models.BigIntegerField()),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source", "day", "agent_id", "outcome", "error_code", "offer_code"),
                        name="dailytally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
