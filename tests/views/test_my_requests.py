"""An agent's own requests, extensions and transfers, with what became of each."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from lookups import roles
from lookups.models import SubscriptionExtension, TransferRequest
from lookups.views.my_requests import SHOWN
from tests.fixtures.rows import make_extension, make_transfer_request, make_waiting_extension

pytestmark = pytest.mark.django_db


def items(page: str, list_id: str) -> list[str]:
    found = re.search(rf'<ul class="my-requests" id="{list_id}">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []


def test_nothing_asked_says_so(agent_client):
    page = agent_client.get(reverse("lookups:my_requests")).text
    assert "You have asked for no extension." in page
    assert "You have asked for no transfer." in page


def test_each_request_says_what_became_of_it(agent_client, agent_user, manager_user, make_account):
    make_waiting_extension(agent_user)
    rejected = make_waiting_extension(agent_user, original_transaction_id="2000000000000099")
    rejected.reject(manager_user)
    failed = make_extension(agent_user)
    failed.settle(SubscriptionExtension.Outcome.FAILED, error_message="Apple said no.")
    open_transfer = make_transfer_request(agent_user, make_account(display_name="Maya Patel"))

    page = agent_client.get(reverse("lookups:my_requests")).text

    extensions = items(page, "my-extensions")
    assert len(extensions) == 3
    assert "The App Store refused: Apple said no." in extensions[0]
    assert "Rejected by manager: nothing was sent to Apple." in extensions[1]
    assert "Waiting for a manager's approval" in extensions[2]
    (transfer,) = items(page, "my-transfers")
    assert open_transfer.original_transaction_id in transfer and "Maya Patel" in transfer


def test_an_agent_sees_only_their_own(agent_client, make_user, customer_account):
    someone = make_user("someone", roles.AGENTS)
    make_waiting_extension(someone)
    make_transfer_request(someone, customer_account)

    page = agent_client.get(reverse("lookups:my_requests")).text

    assert items(page, "my-extensions") == [] and items(page, "my-transfers") == []


def test_the_newest_are_shown_up_to_the_limit(agent_client, agent_user, customer_account):
    for _ in range(SHOWN + 2):
        make_transfer_request(agent_user, customer_account)
    newest = TransferRequest.objects.latest("created_at")

    page = agent_client.get(reverse("lookups:my_requests")).text

    shown = items(page, "my-transfers")
    assert len(shown) == SHOWN and newest.original_transaction_id in shown[0]
