"""Verifying many signed transactions at once: the signature checks run on two cores.

`cryptography` lets go of Python's interpreter lock while it checks an ECDSA signature, so a
second thread verifying half of a long list really does run beside the first (measured with
cryptography 50; with a release that keeps the lock, the split costs a little and gains nothing).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from lookups.appstore import Transaction, VerificationError
from lookups.services.clients import transaction_verifier

# Below this many, handing half to another thread costs more than it saves.
SPLIT_FROM = 8
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")


def decode_transactions(signed: Sequence[str]) -> list[Transaction | VerificationError]:
    """Each signed transaction verified and decoded, or the reason it failed, in their order."""
    if len(signed) < SPLIT_FROM:
        return _decode_each(signed)
    middle = len(signed) // 2
    second_half = _POOL.submit(contextvars.copy_context().run, _decode_each, signed[middle:])
    first_half = _decode_each(signed[:middle])
    # Still queued behind other requests' halves: quicker done here.
    if second_half.cancel():
        return first_half + _decode_each(signed[middle:])
    return first_half + second_half.result()


def _decode_each(signed: Sequence[str]) -> list[Transaction | VerificationError]:
    verifier = transaction_verifier()
    decoded: list[Transaction | VerificationError] = []
    for item in signed:
        try:
            decoded.append(verifier.decode_transaction(item))
        except VerificationError as error:
            decoded.append(error)
    return decoded
