"""The trainers' steps through the simulator's demo life, over real HTTP."""

from __future__ import annotations

import pytest

from lookups.services import trainer_life
from lookups.simulators.demo_data import OFFER_CODE_LATEST, PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db


def test_a_renewal_names_the_notification_the_simulator_sent(appstore_settings, simulator):
    step = trainer_life.take_step("renew", PURCHASE_OFFER_CODE)
    assert not step.refusal
    assert step.notification_type == "DID_RENEW" and step.notification_uuid
    assert step.original_transaction_id == PURCHASE_OFFER_CODE
    sent = simulator.notifications.all()[-1]
    assert sent.notification_uuid == step.notification_uuid
    assert simulator.store.latest_transaction(PURCHASE_OFFER_CODE)["transactionId"] != (
        OFFER_CODE_LATEST
    )


def test_redeeming_an_offer_code_gives_a_new_order(appstore_settings, simulator):
    step = trainer_life.take_step(trainer_life.REDEEM_OFFER_CODE)
    assert step.notification_type == "OFFER_REDEEMED" and step.subtype == "INITIAL_BUY"
    assert step.order_id and simulator.order_transaction_ids(step.order_id) == [
        step.original_transaction_id
    ]


def test_a_step_the_simulator_refuses_says_why(appstore_settings, simulator):
    step = trainer_life.take_step("revoke", PURCHASE_OFFER_CODE)
    assert "Family Sharing" in step.refusal
    assert not step.notification_uuid


def test_there_is_no_panel_off_local_mode(appstore_settings, simulator):
    appstore_settings.SUPPORTDESK_LOCAL = False
    assert not trainer_life.trainer_panel_on()
    with pytest.raises(ValueError):
        trainer_life.take_step("renew", PURCHASE_OFFER_CODE)
    assert not simulator.notifications.all()
