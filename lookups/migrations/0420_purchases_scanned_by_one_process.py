"""PostgreSQL plans reads of the purchase picture for one process, without parallel workers.

Every read of the picture walks an index and stops early (a customer's purchases, the unlinked
offer codes counted up to a bound); guessing at tens of thousands of rows, the planner started
parallel workers whose start-up was nine tenths of the count's time (72 ms against 8 ms).
"""

from __future__ import annotations

from django.db import migrations


def _set_parallel_workers(value: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE lookups_purchase {value}")

    return run


class Migration(migrations.Migration):
    dependencies = [("lookups", "0390_unlinked_offer_codes_of_both_environments")]

    operations = [
        migrations.RunPython(
            _set_parallel_workers("SET (parallel_workers = 0)"),
            _set_parallel_workers("RESET (parallel_workers)"),
            elidable=False,
        )
    ]
