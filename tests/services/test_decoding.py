"""Many signed transactions verified at once, in their order, each failure in its place."""

from __future__ import annotations

import pytest

from lookups.appstore import VerificationError
from lookups.services.decoding import SPLIT_FROM, decode_transactions
from lookups.simulators.appstore import sign_jws
from lookups.simulators.demo_data import PURCHASE_LONG_HISTORY

pytestmark = pytest.mark.usefixtures("appstore_settings")


def signed_history(simulator) -> tuple[list[str], list[str]]:
    """Aiko's two years of monthly renewals (a page of Apple's history), signed as Apple signs."""
    _, payloads = simulator.store.history(PURCHASE_LONG_HISTORY, {}, version=2)
    return (
        [payload["transactionId"] for payload in payloads],
        [sign_jws(payload, simulator.chain) for payload in payloads],
    )


@pytest.mark.parametrize("how_many", [SPLIT_FROM - 1, SPLIT_FROM, SPLIT_FROM * 2 + 1])
def test_each_comes_back_decoded_in_the_order_given(simulator, how_many):
    ids, signed = signed_history(simulator)
    assert len(ids) >= how_many

    decoded = decode_transactions(signed[:how_many])

    assert [txn.transaction_id for txn in decoded] == ids[:how_many]


def test_a_tampered_one_is_its_error_in_its_place_and_the_others_still_verify(simulator):
    ids, signed = signed_history(simulator)
    signed[3] = signed[3][:-4] + "AAAA"

    decoded = decode_transactions(signed[: SPLIT_FROM * 2])

    assert isinstance(decoded[3], VerificationError)
    assert [d.transaction_id for i, d in enumerate(decoded) if i != 3] == [
        tid for i, tid in enumerate(ids[: SPLIT_FROM * 2]) if i != 3
    ]
