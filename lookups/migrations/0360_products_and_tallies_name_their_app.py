"""Products and the daily tallies name their app.

A product naming no app is named so in every app; one naming an app, in that app only. The
tallies gain the app (0 for rows naming none, the settings' app's) and the environment, so a
report narrowed to one app reads its few tally rows as before. On PostgreSQL the triggers of
migration 0340 are replaced by ones keying on both, and the tallies are counted again.
"""

# ruff: noqa: S608 (the schema is the connection's own, quoted; every other name a constant)

import importlib

import django.db.models.deletion
from django.db import migrations, models

TALLY = "lookups_dailytally"
KEY = "source, day, agent_id, outcome, error_code, offer_code, app_id, environment"
WATCHED = {
    "lookups_lookup": ("created_at", "agent_id", "outcome", "error_code", "app_id", "environment"),
    "lookups_tokenchange": (
        "created_at",
        "agent_id",
        "outcome",
        "error_code",
        "lookup_id",
        "original_transaction_id",
        "app_id",
        "environment",
    ),
}
SOURCES = (("lookups_lookup", "lookup"), ("lookups_tokenchange", "token_change"))


def _key_values(schema, source, row):
    offer = (
        f"{schema}.lookups_showed_offer_code({row}.lookup_id, {row}.original_transaction_id)"
        if source == "token_change"
        else "false"
    )
    return (
        f"'{source}', ({row}.created_at AT TIME ZONE 'UTC')::date, {row}.agent_id, "
        f"{row}.outcome, COALESCE({row}.error_code, 0), {offer}, COALESCE({row}.app_id, 0), "
        f"{row}.environment"
    )


def _tally_function(schema, table, source):
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


def _changed_trigger(schema, table):
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED[table])
    return (
        f"CREATE TRIGGER {table}_tally_changed "
        f"AFTER UPDATE OF {', '.join(WATCHED[table])} ON {schema}.{table} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {schema}.{table}_tally()"
    )


def _recount(schema):
    counts = " UNION ALL ".join(
        f"SELECT {_key_values(schema, source, 'r')}, count(*) FROM {schema}.{table} AS r "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        for table, source in SOURCES
    )
    return [
        f"DELETE FROM {schema}.{TALLY}",
        f"INSERT INTO {schema}.{TALLY} ({KEY}, row_count) {counts}",
    ]


def _schema(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return schema_editor.quote_name(schema)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    statements = []
    for table, source in SOURCES:
        # The trigger on updates names the columns it watches: made again with the new ones.
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_tally_changed ON {schema}.{table}",
            _tally_function(schema, table, source),
            _changed_trigger(schema, table),
        ]
    with schema_editor.connection.cursor() as cursor:
        # Every row's tally is counted again, with no row written in between.
        for table, _ in SOURCES:
            cursor.execute(f"LOCK TABLE {schema}.{table} IN SHARE MODE")
        for statement in [*statements, *_recount(schema)]:
            cursor.execute(statement)


def backwards(apps, schema_editor):
    """Migration 0340's triggers and tallies again, before the new columns go."""
    if schema_editor.connection.vendor != "postgresql":
        return
    before = importlib.import_module("lookups.migrations.0340_daily_tallies")
    schema = _schema(schema_editor)
    statements = []
    for table, source in SOURCES:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_tally_changed ON {schema}.{table}",
            before._tally_function(schema, table, source),
            before._triggers(schema, table)[1],
        ]
    statements += [
        # 0340's rows name neither column; both go once this has run.
        f"ALTER TABLE {schema}.{TALLY} ALTER COLUMN app_id SET DEFAULT 0, "
        "ALTER COLUMN environment SET DEFAULT ''",
        f"DELETE FROM {schema}.{TALLY}",
        before._count_existing(schema),
    ]
    with schema_editor.connection.cursor() as cursor:
        for table, _ in SOURCES:
            cursor.execute(f"LOCK TABLE {schema}.{table} IN SHARE MODE")
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0350_app_in_the_audit_chain"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="dailytally",
            name="dailytally_key",
        ),
        migrations.AddField(
            model_name="dailytally",
            name="app_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="dailytally",
            name="environment",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.AddField(
            model_name="product",
            name="app",
            field=models.ForeignKey(
                blank=True,
                help_text="The app this name is for; empty for every app.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="products",
                to="lookups.app",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="product_id",
            field=models.CharField(max_length=200),
        ),
        migrations.AddConstraint(
            model_name="dailytally",
            constraint=models.UniqueConstraint(
                fields=(
                    "source",
                    "day",
                    "agent_id",
                    "outcome",
                    "error_code",
                    "offer_code",
                    "app_id",
                    "environment",
                ),
                name="dailytally_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                condition=models.Q(("app__isnull", True)),
                fields=("product_id",),
                name="product_shared",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                condition=models.Q(("app__isnull", False)),
                fields=("product_id", "app"),
                name="product_once_per_app",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
