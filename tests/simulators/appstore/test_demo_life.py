"""The demo's life of a purchase, on the simulator's own store: each action changes the store as
the App Store would and names the notification it sends; what cannot happen is refused.

Over HTTP, with the notifications Apple's library verifies: tests/simulators/appstore/
test_notifications.py, "the demo's life".
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lookups.simulators.appstore import subscriptions
from lookups.simulators.appstore.demo_life import ACTIONS, DemoLife, LifeError
from lookups.simulators.demo_data import PURCHASE_LIFETIME, PURCHASE_OFFER_CODE


@pytest.fixture
def life(simulator):
    """The life of the simulator's store, and every notification it sends, in order."""
    sent: list[tuple[str, str | None]] = []

    def emit(notification_type, subtype, **_):
        sent.append((notification_type, subtype))
        return SimpleNamespace(
            notification_uuid=str(len(sent)), notification_type=notification_type, subtype=subtype
        )

    demo = DemoLife(simulator.store)
    return demo, sent, lambda **options: demo.act(options, emit, lambda event: None)


def test_a_renewal_adds_a_transaction_and_sends_did_renew(life, simulator):
    _, sent, act = life
    before = simulator.store.latest_transaction(PURCHASE_OFFER_CODE)["transactionId"]

    answer = act(action="renew", original_transaction_id=PURCHASE_OFFER_CODE)

    latest = simulator.store.latest_transaction(PURCHASE_OFFER_CODE)["transactionId"]
    assert answer["action"] == "renew" and latest != before
    assert sent[-1][0] == "DID_RENEW"
    assert answer["notification"]["notificationType"] == "DID_RENEW"


def test_a_failed_renewal_is_billing_retry_and_cannot_fail_twice(life, simulator):
    _, sent, act = life

    act(action="fail_renewal", original_transaction_id=PURCHASE_OFFER_CODE)

    status, _ = simulator.store.subscription(PURCHASE_OFFER_CODE)
    assert status == subscriptions.BILLING_RETRY and sent[-1][0] == "DID_FAIL_TO_RENEW"
    with pytest.raises(LifeError) as refused:
        act(action="fail_renewal", original_transaction_id=PURCHASE_OFFER_CODE)
    assert refused.value.status == 409


def test_an_offer_code_makes_a_new_purchase_each_time(life, simulator):
    _, _, act = life
    first = act(action="redeem_offer_code")
    second = act(action="redeem_offer_code")
    assert first["original_transaction_id"] != second["original_transaction_id"]


@pytest.mark.parametrize(
    "options",
    [{}, {"action": "dance"}, {"action": "renew", "original_transaction_id": PURCHASE_LIFETIME}],
)
def test_what_cannot_happen_is_refused_with_a_status_and_a_sentence(life, options):
    _, sent, act = life
    with pytest.raises(LifeError) as refused:
        act(**options)
    assert refused.value.status in (400, 404, 409) and refused.value.message
    assert sent == []


def test_every_action_is_said_in_words():
    assert all(sentence and sentence[0].isupper() for sentence in ACTIONS.values())
