"""Token changes a crash left pending are settled from what Apple shows on the purchase now."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from lookups.management.commands.reconcile_token_changes import shortest_wait_minutes
from lookups.models import CustomerAccount, TokenChange
from lookups.services.reconciling import Settlement, reconcile_token_change
from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.demo_data import ORDER_OFFER_CODE, TRANSACTION_NOT_FOUND
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def purchase(simulator) -> str:
    """The offer-code subscription: an original transaction, then renewals; no token yet."""
    return simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]


@pytest.fixture
def stranded(agent_user, customer_account, purchase) -> TokenChange:
    """What a crash between the pending write and Apple's answer leaves behind."""
    return make_token_change(
        agent_user,
        customer_account,
        original_transaction_id=purchase,
        created_at=timezone.now() - timedelta(minutes=30),
    )


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile_token_changes", *args, stdout=out, stderr=out)
    return out.getvalue()


def set_token_at_apple(simulator: AppStoreSimulator, purchase: str, token: uuid.UUID) -> None:
    simulator.store.set_app_account_token(purchase, {"appAccountToken": str(token)})


def apple_token(simulator: AppStoreSimulator, purchase: str) -> str | None:
    """The token on the purchase's newest transaction, where Apple keeps it."""
    transactions = [
        simulator.transaction(transaction_id)
        for transaction_id in simulator.order_transaction_ids(ORDER_OFFER_CODE)
    ]
    ours = [t for t in transactions if t["originalTransactionId"] == purchase]
    return max(ours, key=lambda t: t["purchaseDate"]).get("appAccountToken")


def test_a_change_apple_carried_out_settles_as_succeeded(
    appstore_settings, simulator, stranded, purchase
):
    set_token_at_apple(simulator, purchase, stranded.token_after)

    output = reconcile()

    stranded.refresh_from_db()
    assert stranded.outcome == TokenChange.Outcome.SUCCEEDED
    assert stranded.error_message == f"reconciled: Apple shows token {stranded.token_after}"
    assert stranded.chain_sequence == 1
    assert f"token change {stranded.pk} (purchase {purchase}, ticket ZD-1234): succeeded" in output
    assert output.endswith(
        "1 token changes pending for over 10 minutes: 1 succeeded, 0 failed, "
        "0 settled meanwhile, 0 left pending.\n"
    )
    # Asked newest first: the token is on the latest renewal, not on the original purchase.
    assert simulator.requests == [("GET", f"/inApps/v2/history/{purchase}")]


def test_a_change_that_never_reached_apple_settles_as_failed(
    appstore_settings, simulator, stranded
):
    reconcile()

    stranded.refresh_from_db()
    assert stranded.outcome == TokenChange.Outcome.FAILED
    assert stranded.error_message == "reconciled: Apple shows token none"
    assert stranded.error_code is None


def test_a_purchase_apple_shows_linked_elsewhere_settles_as_failed(
    appstore_settings, simulator, stranded, purchase
):
    elsewhere = uuid.uuid4()
    set_token_at_apple(simulator, purchase, elsewhere)

    reconcile()

    stranded.refresh_from_db()
    assert stranded.outcome == TokenChange.Outcome.FAILED
    assert stranded.error_message == f"reconciled: Apple shows token {elsewhere}"


def test_a_purchase_apple_does_not_know_settles_as_failed(
    appstore_settings, simulator, agent_user, customer_account
):
    change = make_token_change(
        agent_user,
        customer_account,
        original_transaction_id=TRANSACTION_NOT_FOUND,
        created_at=timezone.now() - timedelta(hours=2),
    )

    reconcile()

    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.FAILED
    assert change.error_code == 4040010
    assert change.error_message.startswith("reconciled: Apple has no such purchase.")


def test_changes_younger_than_the_threshold_are_left_alone(
    appstore_settings, simulator, stranded, agent_user, make_account
):
    recent = make_token_change(
        agent_user, make_account(), created_at=timezone.now() - timedelta(minutes=5)
    )

    assert "1 token changes pending for over 10 minutes" in reconcile()
    recent.refresh_from_db()
    assert not recent.is_settled

    assert "1 token changes pending for over 3 minutes" in reconcile("--older-than", "3")
    recent.refresh_from_db()
    assert recent.is_settled


def test_a_negative_threshold_is_refused():
    # The default call budget (20 s) and margin (30 s) round up to one minute.
    with pytest.raises(CommandError, match="must be at least 1 minute: "):
        reconcile("--older-than", "-1")


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("internal_error", "Apple could not be asked: The App Store had an internal error."),
        ("untrusted_chain", "Apple's answer could not be verified (root:"),
    ],
)
def test_a_change_apple_cannot_vouch_for_stays_pending_and_the_command_fails(
    appstore_settings, simulator, stranded, purchase, fault, problem
):
    set_token_at_apple(simulator, purchase, stranded.token_after)
    simulator.inject_fault(fault, endpoint="history")

    with pytest.raises(CommandError, match=r"1 left pending\. The next run tries them again\."):
        call_command("reconcile_token_changes", stdout=StringIO(), stderr=(errors := StringIO()))

    assert f"token change {stranded.pk} " in errors.getvalue()
    assert problem in errors.getvalue()
    stranded.refresh_from_db()
    assert stranded.outcome == TokenChange.Outcome.PENDING

    assert "1 succeeded" in reconcile()


def test_a_change_written_against_another_environment_is_left_pending(
    appstore_settings, simulator, stranded
):
    TokenChange.objects.filter(pk=stranded.pk).update(environment="Sandbox")
    stranded.refresh_from_db()

    result = reconcile_token_change(stranded)

    assert result.settlement == Settlement.LEFT_PENDING
    assert result.detail == "written against Sandbox, and this server asks Production"
    assert simulator.requests == []


def test_a_change_settled_while_apple_was_asked_keeps_its_first_outcome(
    appstore_settings, simulator, stranded
):
    TokenChange.objects.get(pk=stranded.pk).settle(TokenChange.Outcome.SUCCEEDED)

    result = reconcile_token_change(stranded)

    assert (result.settlement, result.detail) == (Settlement.SETTLED_ELSEWHERE, "already succeeded")
    stranded.refresh_from_db()
    assert stranded.outcome == TokenChange.Outcome.SUCCEEDED
    assert stranded.error_message == ""


# --- A real server process, killed while Apple is still answering ------------------------------

LINK_IN_ANOTHER_PROCESS = """
import sys
import uuid

import django

django.setup()

from django.contrib.auth import get_user_model

from lookups.models import CustomerAccount
from lookups.services.linking import LinkRequest, link_purchase

agent_id, account_id, original_transaction_id, request_id = sys.argv[1:]
link_purchase(
    get_user_model().objects.get(pk=agent_id),
    LinkRequest(
        original_transaction_id=original_transaction_id,
        account=CustomerAccount.objects.get(pk=account_id),
        ticket_reference="ZD-CRASH",
        request_id=uuid.UUID(request_id),
    ),
)
"""


@pytest.fixture
def own_simulator(
    appstore_simulator_server, appstore_credentials, appstore_settings
) -> Iterator[AppStoreSimulator]:
    """A simulator for this test alone, trusted like the session's one.

    Stopping it at the end drops the request the killed process left waiting, so that request
    can't set a token in some later test.
    """
    own = AppStoreSimulator(
        bearer_public_key=appstore_credentials.private_key_pem,
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        bundle_id=appstore_credentials.bundle_id,
        app_apple_id=appstore_credentials.app_apple_id,
        environment=appstore_credentials.environment,
        chain=appstore_simulator_server.chain,
    )
    with own:
        appstore_settings.APPSTORE_BASE_URL = own.url
        yield own


def database_url(database: dict) -> str:
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = f"{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(database['NAME'], safe='')}"


def start_linking(agent, account: CustomerAccount, purchase: str, request_id: uuid.UUID):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "APPSTORE_BASE_URL": settings.APPSTORE_BASE_URL,
        "APPSTORE_PRIVATE_KEY": settings.APPSTORE_PRIVATE_KEY,
        "APPSTORE_PRIVATE_KEY_PATH": "",
        "APPSTORE_ROOT_CERTIFICATES": ",".join(settings.APPSTORE_ROOT_CERTIFICATES),
        "APPSTORE_ISSUER_ID": settings.APPSTORE_ISSUER_ID,
        "APPSTORE_KEY_ID": settings.APPSTORE_KEY_ID,
        "APPSTORE_BUNDLE_ID": settings.APPSTORE_BUNDLE_ID,
        "APPSTORE_APP_APPLE_ID": str(settings.APPSTORE_APP_APPLE_ID),
        "APPSTORE_ENVIRONMENT": settings.APPSTORE_ENVIRONMENT,
        # It must still be waiting for Apple when it is killed, not give up first.
        "APPSTORE_TIMEOUT_SECONDS": "300",
        "APPSTORE_CALL_BUDGET_SECONDS": "300",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            LINK_IN_ANOTHER_PROCESS,
            *(str(agent.pk), str(account.pk), purchase, str(request_id)),
        ],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, *, seconds: float, process=None, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the linking process ended before {what}:\n{stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("apple_carries_it_out", "delay_seconds"), [(False, 30.0), (True, 3.0)], ids=["lost", "done"]
)
def test_a_link_whose_server_was_killed_waiting_for_apple_is_reconciled(
    own_simulator, agent_user, customer_account, apple_carries_it_out, delay_seconds
):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "needs a test database another process can open (PostgreSQL); "
            "SQLite's test database lives in this process's memory"
        )
    purchase = own_simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    request_id = uuid.uuid4()
    # Apple holds the request, then carries it out whether or not anyone still listens.
    own_simulator.inject_fault("slow", endpoint="set_token", delay_seconds=delay_seconds)

    process = start_linking(agent_user, customer_account, purchase, request_id)
    try:
        wait_for(
            lambda: (
                ("PUT", f"/inApps/v1/transactions/{purchase}/appAccountToken")
                in own_simulator.requests
            ),
            seconds=60,
            process=process,
            what="Set App Account Token to reach Apple",
        )
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    change = TokenChange.objects.get(request_id=request_id)
    assert change.outcome == TokenChange.Outcome.PENDING
    if apple_carries_it_out:
        wait_for(
            lambda: apple_token(own_simulator, purchase) == str(customer_account.app_account_token),
            seconds=delay_seconds + 10,
            what="Apple to set the token",
        )
    else:
        assert apple_token(own_simulator, purchase) is None

    # As if the call budget and its margin had passed: reconciling younger rows is refused.
    TokenChange.objects.filter(pk=change.pk).update(
        created_at=timezone.now() - timedelta(minutes=shortest_wait_minutes())
    )
    output = reconcile("--older-than", str(shortest_wait_minutes()))

    change.refresh_from_db()
    if apple_carries_it_out:
        assert change.outcome == TokenChange.Outcome.SUCCEEDED
        assert change.error_message == (
            f"reconciled: Apple shows token {customer_account.app_account_token}"
        )
        assert "1 succeeded, 0 failed" in output
    else:
        assert change.outcome == TokenChange.Outcome.FAILED
        assert change.error_message == "reconciled: Apple shows token none"
        assert "0 succeeded, 1 failed" in output
    verified = StringIO()
    call_command("verify_audit_log", stdout=verified)
    assert verified.getvalue().startswith("Checked 1 settled token changes: OK")
