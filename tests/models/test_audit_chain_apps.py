"""The chain records the app each call at Apple was made for (recipe version 3): its id, and the
bundle ID Apple was called with as text at settling. Rows settled with an earlier recipe keep
their version and hashes, before and after migration 0350, and the chain mixing them verifies.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lookups import audit_chain
from lookups.models import (
    App,
    ConsumptionAnswer,
    SubscriptionExtension,
    TokenChange,
    TransactionFinish,
    TransferRequest,
)
from tests.fixtures.audit_log import execute, triggers_off, verify
from tests.fixtures.rows import (
    make_consumption_answer,
    make_extension,
    make_token_change,
    make_transfer_request,
)
from tests.models.test_audit_chain_outages_and_finishes import finish as finish_pending
from tests.models.test_audit_chain_outages_and_finishes import outage as outage_asked

pytestmark = pytest.mark.django_db(transaction=True)

COACH_BUNDLE_ID = "com.example.supportdesk.coach"
BEFORE_APPS_IN_THE_CHAIN = [("lookups", "0342_action_rows_name_their_app")]


@pytest.fixture
def coach() -> App:
    return App.objects.create(name="Coach", bundle_id=COACH_BUNDLE_ID, uses_sandbox=True)


def every_kind_settled(agent, manager, account, app: App | None) -> list:
    """One settled row of each kind of the chain, each naming `app`."""
    change = make_token_change(agent, account, app=app)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    extension = make_extension(agent, app=app)
    extension.settle(SubscriptionExtension.Outcome.SUCCEEDED)
    answer = make_consumption_answer(agent)
    ConsumptionAnswer.objects.filter(pk=answer.pk).update(app=app)
    answer.settle(ConsumptionAnswer.Outcome.SUCCEEDED)
    outage = outage_asked(agent)
    finish = finish_pending(agent)
    for pending in (outage, finish):
        type(pending).objects.filter(pk=pending.pk).update(app=app)
        pending.refresh_from_db()
    outage.reject(manager)
    finish.settle(TransactionFinish.Outcome.SUCCEEDED)
    transfer = make_transfer_request(agent, account, app=app)
    transfer.settle_decision(TransferRequest.Status.REJECTED, manager, at=timezone.now())
    rows = [change, extension, answer, outage, finish, transfer]
    for row in rows:
        row.refresh_from_db()
    return rows


def test_every_kind_records_its_app_and_bundle_id(
    agent_user, manager_user, make_account, coach, settings
):
    rows = every_kind_settled(agent_user, manager_user, make_account(), coach)
    desks_own = make_token_change(agent_user, make_account())
    desks_own.settle(TokenChange.Outcome.SUCCEEDED)
    desks_own.refresh_from_db()

    assert {(row.chain_version, row.app_id, row.app_bundle_id) for row in rows} == {
        (3, coach.pk, COACH_BUNDLE_ID)
    }
    # A row naming no app is the settings' app's: Apple was called with its bundle ID.
    assert (desks_own.app_id, desks_own.app_bundle_id) == (None, settings.APPSTORE_BUNDLE_ID)
    row = TokenChange.objects.filter(pk=rows[0].pk).values(*audit_chain.fields_of(None, 3)).get()
    document = audit_chain.canonical_document(
        row, sequence=rows[0].chain_sequence, previous_hash=rows[0].chain_previous_hash
    )
    assert f'"app_bundle_id":"{COACH_BUNDLE_ID}"'.encode() in document
    assert f'"app_id":{coach.pk}'.encode() in document
    assert verify().startswith("Checked 7 settled ")


def test_a_bundle_id_changed_on_the_app_afterwards_changes_no_recorded_one(
    agent_user, make_account, coach
):
    change = make_token_change(agent_user, make_account(), app=coach)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    App.objects.filter(pk=coach.pk).update(bundle_id="com.example.renamed")

    change.refresh_from_db()
    assert change.app_bundle_id == COACH_BUNDLE_ID
    assert verify().startswith("Checked 1 settled ")


@pytest.mark.parametrize(
    ("column", "value"),
    [("app_bundle_id", "'com.example.other'"), ("app_id", "NULL")],
)
def test_a_settled_rows_app_changed_afterwards_breaks_the_chain(
    agent_user, make_account, coach, column, value
):
    change = make_token_change(agent_user, make_account(), app=coach)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    assert verify().startswith("Checked 1 settled ")

    # Only the tables' owner can take the triggers away (the test commits: they come back).
    with triggers_off("lookups_tokenchange"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE lookups_tokenchange SET {column} = {value}")

    with pytest.raises(CommandError, match="was changed after it settled"):
        verify()


def test_the_database_refuses_a_settled_rows_app_being_changed(agent_user, make_account, coach):
    change = make_token_change(agent_user, make_account(), app=coach)
    change.settle(TokenChange.Outcome.SUCCEEDED)

    with pytest.raises(IntegrityError, match="UPDATE refused"), transaction.atomic():
        execute("UPDATE lookups_tokenchange SET app_bundle_id = 'com.example.other'")
    with pytest.raises(IntegrityError, match="UPDATE refused"), transaction.atomic():
        execute("UPDATE lookups_tokenchange SET app_id = NULL")
    assert verify().startswith("Checked 1 settled ")


def test_a_chain_of_every_recipe_verifies(agent_user, manager_user, make_account, coach):
    with mock.patch.object(audit_chain, "CHAIN_VERSION", 1):
        first = make_token_change(agent_user, make_account())
        first.settle(TokenChange.Outcome.SUCCEEDED)
    with mock.patch.object(audit_chain, "CHAIN_VERSION", 2):
        second = every_kind_settled(agent_user, manager_user, make_account(), coach)
    third = every_kind_settled(agent_user, manager_user, make_account(), coach)

    first.refresh_from_db()
    assert (first.chain_version, first.app_bundle_id) == (None, None)
    assert {(row.chain_version, row.app_bundle_id) for row in second} == {(2, None)}
    assert {row.chain_version for row in third} == {3}
    assert verify().startswith("Checked 13 settled ")


def test_a_chain_settled_with_version_2_verifies_after_the_migration(
    agent_user, manager_user, make_account, coach
):
    with mock.patch.object(audit_chain, "CHAIN_VERSION", 2):
        before = every_kind_settled(agent_user, manager_user, make_account(), coach)
    stored = {(type(row), row.pk): row.chain_hash for row in before}
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    # The chain as it stood before apps joined it; then migration 0350 applied to it.
    executor.migrate(BEFORE_APPS_IN_THE_CHAIN)
    MigrationExecutor(connection).migrate(latest)

    assert verify().startswith("Checked 6 settled ")
    after = every_kind_settled(agent_user, manager_user, make_account(), coach)
    for (model, pk), chain_hash in stored.items():
        kept = model.objects.get(pk=pk)
        assert (kept.chain_version, kept.chain_hash) == (2, chain_hash)
    assert {(row.chain_version, row.app_bundle_id) for row in after} == {(3, COACH_BUNDLE_ID)}
    assert verify().startswith("Checked 12 settled ")


def test_migrating_back_past_the_recorded_apps_is_refused_once_a_row_records_one(
    agent_user, make_account, coach
):
    change = make_token_change(agent_user, make_account(), app=coach)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")

    try:
        with pytest.raises(RuntimeError, match="would break the chain"):
            executor.migrate(BEFORE_APPS_IN_THE_CHAIN)
    finally:
        MigrationExecutor(connection).migrate(latest)

    change.refresh_from_db()
    assert change.app_bundle_id == COACH_BUNDLE_ID
    assert verify().startswith("Checked 1 settled ")
