"""A process killed between "pending" and "settled": the sweep settles the action by itself.

For every kind of action: a real process is killed with SIGKILL while Apple holds its call, a
real `db_worker` is started, and the row must settle with no person's help within the call
budget plus the sweep interval (and some slack for the worker to start); then a later action on
the same subject works. PostgreSQL only: the processes share the test database.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from lookups.models import (
    ConsumptionAnswer,
    OutageCompensation,
    SubscriptionExtension,
    TokenChange,
    TransactionFinish,
)
from lookups.roles import MANAGERS
from lookups.services.extending import ExtensionRequest, extend_subscription
from lookups.services.outage_compensation import CompensationRequest, request_compensation
from lookups.services.refund_requests import open_refund_request
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_data import CREDITS_UNFINISHED, ORDER_CONSUMABLES, ORDER_OFFER_CODE
from tests.fixtures.links import look_up
from tests.fixtures.worker_process import (
    PROJECT,
    needs_a_shared_database,
    running_worker,
    wait_for,
    worker_environment,
)
from tests.services.test_refund_requests import consumption_request
from tests.services.test_tasks_worker import quick_tasks  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quick_tasks", "appstore_settings"),
]


@pytest.fixture(autouse=True)
def shared_database() -> None:
    needs_a_shared_database()


def rescue_deadline() -> float:
    """The call budget and margin, the sweep interval, and time for a worker to start."""
    return (
        settings.APPSTORE_CALL_BUDGET_SECONDS
        + settings.TOKEN_CHECK_MARGIN_SECONDS
        + settings.SWEEP_INTERVAL_SECONDS
        + 20
    )


def killed_mid_call(simulator, endpoint: str, code: str, log: Path) -> None:
    """Run `code` in a desk process, and SIGKILL it once Apple has the call in hand."""
    seen = len(simulator.requests)
    simulator.inject_fault("slow", endpoint=endpoint, delay_seconds=1.0)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT,
        # The process would wait for Apple's answer far longer than it is given here.
        env=worker_environment(APPSTORE_TIMEOUT_SECONDS="60", APPSTORE_CALL_BUDGET_SECONDS="60"),
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: len(simulator.requests) > seen and _reached(simulator, seen, endpoint),
            seconds=60,
            what=f"the {endpoint} call to reach Apple",
            log=log,
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    time.sleep(1.2)  # Apple finishes the call it was holding; nobody hears the answer.


def settled_by_the_sweep(row, log: Path, **overrides: str) -> None:
    """A worker starts; the row must settle with nobody's help within the rescue deadline."""
    started = time.monotonic()
    with running_worker(log, **overrides):
        wait_for(
            lambda: type(row).objects.get(pk=row.pk).is_settled,
            seconds=rescue_deadline(),
            what=f"the sweep to settle {row}",
            log=log,
        )
    assert time.monotonic() - started < rescue_deadline()
    row.refresh_from_db()


def _reached(simulator, seen: int, endpoint: str) -> bool:
    marks = {
        "extend": "/subscriptions/extend/",
        "consumption": "/transactions/consumption/",
        "mass_extend": "/subscriptions/extend/mass",
        "finish": "/finish",
    }
    mark = marks.get(endpoint, "/transactions/")
    return any(mark in path for _, path in simulator.requests[seen:])


def test_an_extension_cut_off_mid_call_is_settled_by_the_sweep(
    agent_client, agent_user, simulator, tmp_path
):
    log = tmp_path / "rescue.log"
    look_up(agent_client, ORDER_OFFER_CODE)
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    killed_mid_call(
        simulator,
        "extend",
        "import uuid\n"
        "from django.contrib.auth import get_user_model\n"
        "from lookups.services.extending import ExtensionRequest, extend_subscription\n"
        f"agent = get_user_model().objects.get(pk={agent_user.pk})\n"
        f"extend_subscription(agent, ExtensionRequest('{original}', 3, 3, 'ZD-9', uuid.uuid4()))\n",
        log,
    )
    [cut_off] = SubscriptionExtension.objects.all()
    assert cut_off.outcome == SubscriptionExtension.Outcome.PENDING

    settled_by_the_sweep(cut_off, log)
    assert cut_off.outcome == SubscriptionExtension.Outcome.SUCCEEDED
    assert len(simulator.store.renewal_state(original).extensions) == 1

    later = extend_subscription(
        agent_user,
        ExtensionRequest(
            original, 2, SubscriptionExtension.Reason.SERVICE_ISSUE, "ZD-10", uuid.uuid4()
        ),
    )
    assert later.outcome == SubscriptionExtension.Outcome.SUCCEEDED


def test_a_consumption_answer_cut_off_mid_call_is_settled_by_the_sweep(
    agent_user, simulator, tmp_path
):
    log = tmp_path / "rescue.log"
    case = open_refund_request(consumption_request(simulator))
    killed_mid_call(
        simulator,
        "consumption",
        "from django.contrib.auth import get_user_model\n"
        "from lookups.models import RefundRequest\n"
        "from lookups.services.refund_requests import answer_refund_request\n"
        "from tests.services.test_refund_requests import AGENTS_ANSWER\n"
        f"agent = get_user_model().objects.get(pk={agent_user.pk})\n"
        f"answer_refund_request(agent, RefundRequest.objects.get(pk={case.pk}), AGENTS_ANSWER)\n",
        log,
    )
    [cut_off] = ConsumptionAnswer.objects.all()
    assert cut_off.outcome == ConsumptionAnswer.Outcome.PENDING

    settled_by_the_sweep(cut_off, log)
    assert cut_off.outcome == ConsumptionAnswer.Outcome.SUCCEEDED
    case.refresh_from_db()
    assert case.status == case.Status.ANSWERED


def test_a_link_cut_off_mid_call_is_settled_by_the_sweep(
    agent_client, agent_user, simulator, customer_account, make_account, tmp_path
):
    log = tmp_path / "rescue.log"
    look_up(agent_client, ORDER_OFFER_CODE)
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    killed_mid_call(
        simulator,
        "set_token",
        "import uuid\n"
        "from django.contrib.auth import get_user_model\n"
        "from lookups.models import CustomerAccount\n"
        "from lookups.services.linking import LinkRequest, link_purchase\n"
        f"agent = get_user_model().objects.get(pk={agent_user.pk})\n"
        f"account = CustomerAccount.objects.get(pk={customer_account.pk})\n"
        f"link_purchase(agent, LinkRequest('{original}', account, 'ZD-9', uuid.uuid4()))\n",
        log,
    )
    [cut_off] = TokenChange.objects.all()
    assert cut_off.outcome == TokenChange.Outcome.PENDING

    settled_by_the_sweep(cut_off, log)
    assert cut_off.outcome == TokenChange.Outcome.SUCCEEDED
    assert connection.vendor == "postgresql"


def test_an_outage_compensation_cut_off_mid_call_is_settled_by_the_sweep(
    manager_user, make_user, simulator, tmp_path
):
    log = tmp_path / "rescue.log"
    simulator.mass_extensions.duration_seconds = 0.5
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, None)
    approver = make_user("approver", MANAGERS)
    asked = request_compensation(
        manager_user,
        CompensationRequest(PRO_MONTHLY, 2, 3, "Outage INC-7", None, uuid.uuid4()),
    )
    killed_mid_call(
        simulator,
        "mass_extend",
        "from django.contrib.auth import get_user_model\n"
        "from lookups.models import OutageCompensation\n"
        "from lookups.services.outage_compensation import approve_compensation\n"
        f"approver = get_user_model().objects.get(pk={approver.pk})\n"
        f"approve_compensation(approver, OutageCompensation.objects.get(pk='{asked.pk}'))\n",
        log,
    )
    cut_off = OutageCompensation.objects.get(pk=asked.pk)
    assert cut_off.outcome == OutageCompensation.Outcome.PENDING

    # The worker reads the run's status every half second until Apple says it is complete.
    settled_by_the_sweep(cut_off, log, OUTAGE_STATUS_POLL_SECONDS="0.5")
    assert cut_off.outcome == OutageCompensation.Outcome.SUCCEEDED
    assert cut_off.succeeded_count + cut_off.failed_count == len(subscribers)
    assert cut_off.approved_by == approver


def test_a_finish_cut_off_mid_call_is_settled_by_the_sweep(agent_user, simulator, tmp_path):
    log = tmp_path / "rescue.log"
    killed_mid_call(
        simulator,
        "finish",
        "import uuid\n"
        "from django.contrib.auth import get_user_model\n"
        "from lookups.services.finishing import FinishRequest, finish_transaction\n"
        f"agent = get_user_model().objects.get(pk={agent_user.pk})\n"
        f"finish_transaction(agent, FinishRequest('{CREDITS_UNFINISHED}', 'ZD-41', "
        f"uuid.uuid4(), '{ORDER_CONSUMABLES}'))\n",
        log,
    )
    [cut_off] = TransactionFinish.objects.all()
    assert cut_off.outcome == TransactionFinish.Outcome.PENDING

    settled_by_the_sweep(cut_off, log)
    assert cut_off.outcome == TransactionFinish.Outcome.SUCCEEDED
    assert simulator.store.is_finished(CREDITS_UNFINISHED)
