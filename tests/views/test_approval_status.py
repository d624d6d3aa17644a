"""Each request waiting for a manager carries the desk's picture of its purchase."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookups.models import Purchase
from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, ORDER_OFFER_CODE
from lookups.views.approval_status import attach_purchases
from tests.fixtures.links import SOFIAS_PURCHASE, look_up
from tests.fixtures.rows import make_transfer_request, make_waiting_extension

pytestmark = pytest.mark.django_db


def test_each_request_gets_its_purchases_picture_or_none_in_one_query(
    agent_client, agent_user, customer_account, appstore_settings, simulator
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    look_up(agent_client, ORDER_OFFER_CODE)
    known = make_transfer_request(
        agent_user, customer_account, original_transaction_id=SOFIAS_PURCHASE
    )
    unknown = make_waiting_extension(agent_user, original_transaction_id="2000000000000555")
    requests = [known, unknown]

    with CaptureQueriesContext(connection) as queries:
        attach_purchases(requests)

    assert len(queries) == 1
    assert known.purchase == Purchase.objects.get(original_transaction_id=SOFIAS_PURCHASE)
    assert unknown.purchase is None


def test_a_sandbox_request_gets_its_sandbox_purchases_picture(agent_user, customer_account):
    from django.utils import timezone

    sandbox = Purchase.objects.create(
        environment="Sandbox",
        original_transaction_id="2000000000000777",
        latest_transaction={"transactionId": "2000000000000777"},
        product_id="com.example.pro.monthly",
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )
    request = make_transfer_request(
        agent_user,
        customer_account,
        original_transaction_id="2000000000000777",
        environment="Sandbox",
    )
    in_production = make_waiting_extension(agent_user, original_transaction_id="2000000000000777")

    attach_purchases([request, in_production])

    assert request.purchase == sandbox
    # The same ID in the other environment is another purchase, which the desk has no picture of.
    assert in_production.purchase is None
