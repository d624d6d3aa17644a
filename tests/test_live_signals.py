"""A saved row bumps the topics of the pages that show it, once its transaction commits."""

from __future__ import annotations

import pytest
from django.db import transaction

from lookups.services import live
from tests.fixtures.rows import (
    make_consumption_answer,
    make_refund_request,
    make_token_change,
    make_transfer_request,
    make_waiting_extension,
)

pytestmark = pytest.mark.django_db


def stamps(*topics: str) -> dict[str, str]:
    return {topic: live.stamp([topic]) for topic in topics}


def moved(before: dict[str, str]) -> set[str]:
    return {topic for topic, stamp in before.items() if live.stamp([topic]) != stamp}


def test_a_link_bumps_its_purchase_and_its_customer_after_commit(
    agent_user, customer_account, django_capture_on_commit_callbacks
):
    purchase = live.purchase_topic("2000000000000777")
    customer = live.account_topic(customer_account.pk)
    before = stamps(purchase, customer, live.REFUNDS, live.APPROVALS)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_token_change(agent_user, customer_account, original_transaction_id="2000000000000777")
        assert moved(before) == set()  # not before the commit
    assert callbacks

    assert moved(before) == {purchase, customer}


def test_a_request_waiting_for_a_manager_bumps_the_approvals(
    agent_user, customer_account, django_capture_on_commit_callbacks
):
    before = stamps(live.APPROVALS, live.REFUNDS)
    with django_capture_on_commit_callbacks(execute=True):
        make_waiting_extension(agent_user)
    assert moved(before) == {live.APPROVALS}

    before = stamps(live.APPROVALS)
    with django_capture_on_commit_callbacks(execute=True):
        make_transfer_request(agent_user, customer_account)
    assert moved(before) == {live.APPROVALS}


def test_a_refund_request_and_its_answer_bump_the_queue_and_the_purchase(
    agent_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_refund_request()
    purchase = live.purchase_topic(case.original_transaction_id)
    before = stamps(live.REFUNDS, purchase, live.APPROVALS)

    with django_capture_on_commit_callbacks(execute=True):
        make_consumption_answer(agent_user, case)

    assert moved(before) == {live.REFUNDS, purchase}


def test_a_change_rolled_back_bumps_nothing(agent_user, customer_account):
    purchase = live.purchase_topic("2000000000000778")
    before = stamps(purchase)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_token_change(agent_user, customer_account, original_transaction_id="2000000000000778")
        raise RuntimeError("rolled back")
    assert moved(before) == set()
