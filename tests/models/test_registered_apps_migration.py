"""Upgrading a one-app desk: its settings become one registered app, and the chain is untouched.

The audit chain is built as the desk builds it (settled token changes), the database is taken
back to before apps were registered, and forward again: every chained row keeps its hash and
place, verify_audit_log still passes, and the one app follows the settings it came from.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lookups import audit_chain
from lookups.models import App, AuditChainHead, TokenChange
from tests.fixtures.database_roles import verify
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_APPS = [("lookups", "0120_managers_read_orders_and_customers")]


def chained_rows() -> list[tuple]:
    return list(
        TokenChange.objects.order_by("chain_sequence").values_list(
            "pk", "chain_sequence", "chain_previous_hash", "chain_hash", "outcome"
        )
    )


def test_an_existing_chain_survives_the_upgrade_to_registered_apps(
    postgresql, settings, agent_user, make_account
):
    settings.APPSTORE_BUNDLE_ID = "com.example.upgraded"
    settings.APPSTORE_ISSUER_ID = "9f3c1f0e-upgraded-issuer"
    settings.APPSTORE_KEY_ID = "UPGRADED01"
    # Settled as a desk without registered apps settled them: recipe 2 at most.
    with mock.patch.object(audit_chain, "CHAIN_VERSION", 2):
        for outcome in (TokenChange.Outcome.SUCCEEDED, TokenChange.Outcome.FAILED):
            make_token_change(agent_user, make_account()).settle(outcome)
    assert verify().startswith("Checked 2 settled ")
    before, head = chained_rows(), AuditChainHead.objects.get()

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    executor.migrate(BEFORE_APPS)
    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    assert chained_rows() == before
    assert AuditChainHead.objects.get().last_hash == head.last_hash
    assert verify().startswith("Checked 2 settled ")
    [app] = App.objects.all()
    assert (app.bundle_id, app.issuer_id, app.key_id) == (
        "com.example.upgraded",
        "9f3c1f0e-upgraded-issuer",
        "UPGRADED01",
    )
    assert app.follows_settings and app.uses_production and not app.uses_sandbox
    # Where the key is, never the key.
    assert "PRIVATE KEY" not in app.private_key_source
