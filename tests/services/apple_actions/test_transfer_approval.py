"""Deciding a transfer: the second person's approval sends one link to Apple; the asker can't
decide; a transfer is decided once, and whoever comes later is told who did."""

from __future__ import annotations

import pytest

from lookups import roles
from lookups.models import RefusedLink, TokenChange, TransferRequest
from lookups.services.apple_actions.transfer_approval import approve_transfer, reject_transfer
from lookups.services.linking import LinkRefused
from tests.fixtures.links import (
    SOFIAS_LATEST,
    puts,
    token_at_apple,
)
from tests.views import test_transfers

pytestmark = pytest.mark.django_db

# The agent's request to move Sofia's purchase to Maya, made through the pages.
transfer = test_transfers.transfer


def test_an_approval_links_the_purchase_to_the_new_customer_with_one_call(
    transfer, manager_user, simulator, maya
):
    change = approve_transfer(manager_user, transfer)

    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert (change.agent, change.token_after) == (manager_user, maya.app_account_token)
    assert transfer.status == TransferRequest.Status.APPROVED
    assert transfer.token_change == change
    assert puts(simulator) == 1
    assert token_at_apple(simulator, SOFIAS_LATEST) == str(maya.app_account_token)


def test_the_one_who_asked_cannot_decide_and_the_refusal_is_recorded(
    transfer, agent_user, simulator
):
    for decide in (approve_transfer, reject_transfer):
        with pytest.raises(LinkRefused) as refused:
            decide(agent_user, transfer)
        assert refused.value.status == 403
        assert refused.value.reason == RefusedLink.Reason.OWN_TRANSFER

    assert RefusedLink.objects.filter(reason=RefusedLink.Reason.OWN_TRANSFER).count() == 2
    assert TransferRequest.objects.get().status == TransferRequest.Status.OPEN
    assert puts(simulator) == 0


def test_a_decided_transfer_tells_the_next_manager_who_decided(
    transfer, manager_user, make_user, simulator
):
    second = make_user("second-manager", roles.MANAGERS)
    reject_transfer(manager_user, transfer)

    with pytest.raises(LinkRefused, match="manager has already rejected this transfer"):
        approve_transfer(second, TransferRequest.objects.get())

    assert puts(simulator) == 0 and not TokenChange.objects.exists()
    refusal = RefusedLink.objects.get()
    assert (refusal.agent, refusal.reason) == (second, RefusedLink.Reason.TRANSFER_DECIDED)
