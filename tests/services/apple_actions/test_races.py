"""Many people acting on one subject at once: the engine lets one call through to Apple.

PostgreSQL only (SQLite serialises writers, so there is no race), real threads, and Apple's
calls counted at the simulator.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from lookups.models import (
    ConsumptionAnswer,
    OutageCompensation,
    RefundRequest,
    SubscriptionExtension,
    TransferRequest,
)
from lookups.roles import AGENTS, MANAGERS
from lookups.services.apple_actions import ActionRefused
from lookups.services.extending import ExtensionRequest, extend_subscription
from lookups.services.outage_compensation import (
    CompensationRequest,
    approve_compensation,
    request_compensation,
)
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from lookups.simulators.demo_data import (
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    ORDER_PAY_AS_YOU_GO,
    ORDER_UPGRADED,
)
from tests.fixtures.links import SOFIAS_PURCHASE, look_up, post_link, puts
from tests.services.test_refund_requests import AGENTS_ANSWER, consumption_request

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so there is no race to test",
    ),
]


def at_once(count: int, act: Callable[[int], object]) -> list[object]:
    """Run `act(n)` in `count` threads released together; each returns or raises."""
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = act(n)
        except Exception as error:
            results[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twelve_concurrent_extensions_never_pass_the_agents_daily_limit_at_apple(
    agent_client, agent_user, appstore_settings, simulator, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 30
    orders = [ORDER_OFFER_CODE, ORDER_PAY_AS_YOU_GO, ORDER_LINKED_IN_APP, ORDER_UPGRADED]
    originals = []
    for order in orders:
        look_up(agent_client, order)
        originals.append(simulator.order_transaction_ids(order)[0])
    # Apple answers slowly, so every extension is in flight while the others decide.
    simulator.inject_fault("slow", endpoint="extend", delay_seconds=0.5)

    def extend(n: int) -> SubscriptionExtension:
        return extend_subscription(
            agent_user,
            ExtensionRequest(
                original_transaction_id=originals[n % len(originals)],
                extend_by_days=30,
                reason_code=SubscriptionExtension.Reason.SERVICE_ISSUE,
                ticket_reference=f"ZD-{n}",
                request_id=uuid.uuid4(),
            ),
        )

    results = at_once(12, extend)

    assert not [r for r in results if not isinstance(r, SubscriptionExtension | ActionRefused)]
    days_at_apple = sum(
        days
        for original in originals
        for _, days in simulator.store.renewal_state(original).extensions
    )
    assert days_at_apple <= 30
    sent = SubscriptionExtension.objects.exclude(
        outcome=SubscriptionExtension.Outcome.AWAITING_APPROVAL
    )
    assert sum(sent.values_list("extend_by_days", flat=True)) <= 30


def test_five_agents_answering_one_refund_request_make_one_call(
    appstore_settings, simulator, make_user
):
    agents = [make_user(f"answerer{n}", AGENTS) for n in range(5)]
    case = open_refund_request(consumption_request(simulator))
    # Each agent opened the case while it was still waiting for an answer.
    seen = [RefundRequest.objects.get(pk=case.pk) for _ in agents]

    def answer(n: int) -> ConsumptionAnswer:
        time.sleep(n * 0.1)  # clicks a moment apart: some land after the first has settled
        return answer_refund_request(agents[n], seen[n], AGENTS_ANSWER)

    results = at_once(5, answer)

    answers = [r for r in results if isinstance(r, ConsumptionAnswer)]
    refusals = [r for r in results if isinstance(r, ActionRefused)]
    assert len(answers) == 1 and len(refusals) == 4, results
    assert len(simulator.store.consumption_answers.get(answers[0].transaction_id, [])) == 1
    assert ConsumptionAnswer.objects.count() == 1
    assert all(refusal.status == 409 and refusal.message for refusal in refusals)


def test_five_managers_approving_one_transfer_make_one_call_and_no_error(
    agent_client, appstore_settings, simulator, sofia, maya, make_user
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    assert post_link(agent_client, SOFIAS_PURCHASE, maya, confirm_relink="on").status_code == 202
    transfer = TransferRequest.objects.get()
    managers = [make_user(f"approver{n}", MANAGERS) for n in range(5)]
    clients = []
    for manager in managers:
        client = Client()
        client.force_login(manager)
        clients.append(client)
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=0.5)
    url = reverse("lookups:decide_transfer", args=[transfer.pk, "approve"])

    results = at_once(5, lambda n: clients[n].post(url, headers={"HX-Request": "true"}))

    statuses = sorted(response.status_code for response in results)
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(200) == 1, statuses
    assert puts(simulator) == 1
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.APPROVED


def test_two_managers_approving_an_outage_compensation_at_once_make_one_call(
    appstore_settings, simulator, make_user
):
    requester = make_user("requester", MANAGERS)
    approvers = [make_user(f"approver{n}", MANAGERS) for n in range(2)]
    asked = request_compensation(
        requester,
        CompensationRequest(
            "com.example.supportdesk.demo.pro.monthly", 3, 3, "Outage INC-9", None, uuid.uuid4()
        ),
    )
    # Apple answers slowly, so the first approval is still in flight when the second decides.
    simulator.inject_fault("slow", endpoint="mass_extend", delay_seconds=0.5)
    seen = [OutageCompensation.objects.get(pk=asked.pk) for _ in approvers]

    results = at_once(2, lambda n: approve_compensation(approvers[n], seen[n]))

    approved = [r for r in results if isinstance(r, OutageCompensation)]
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(approved) == 1 and len(refused) == 1, results
    assert "already approved" in refused[0].message
    calls = [path for method, path in simulator.requests if path.endswith("/extend/mass")]
    assert len(calls) == 1
