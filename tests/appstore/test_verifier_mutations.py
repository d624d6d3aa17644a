"""Mutated signed transactions: ours refuses each with a VerificationError, and as Apple's does.

Every token starts as a good one, signed by the simulator's chain, and is then bent the ways a
broken proxy or an attacker would bend it: characters or decoded bytes flipped, fields or parts
swapped, certificates truncated or corrupted. Two properties hold for any such token:
- our TransactionVerifier answers with a Transaction or a VerificationError, never anything else
  (a lookup page would answer 500, a reconcile run would stop);
- Apple's SignedDataVerifier (app-store-server-library) accepts it exactly when ours does.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier
from cryptography.hazmat.primitives import serialization
from hypothesis import example, given
from hypothesis import strategies as st

from lookups.appstore import TransactionVerifier, VerificationError
from lookups.simulators.appstore.certificates import make_signing_chain
from lookups.simulators.appstore.signing import sign_jws

BUNDLE_ID = "com.example.mutations"
APP_APPLE_ID = 1234567890
CHAIN = make_signing_chain()
ROOT_DER = CHAIN.root.public_bytes(serialization.Encoding.DER)
TOKEN = sign_jws(
    {
        "transactionId": "2000000000000001",
        "originalTransactionId": "2000000000000001",
        "bundleId": BUNDLE_ID,
        "productId": "com.example.pro.monthly",
        "purchaseDate": int(time.time() * 1000) - 86_400_000,
        "type": "Auto-Renewable Subscription",
        "inAppOwnershipType": "PURCHASED",
        "signedDate": int(time.time() * 1000),
        "environment": "Production",
    },
    CHAIN,
)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def ours() -> TransactionVerifier:
    # A new one per example: the chain cache must not hide what a first sight of a header does.
    return TransactionVerifier([ROOT_DER], bundle_id=BUNDLE_ID, environment="Production")


def apple() -> SignedDataVerifier:
    return SignedDataVerifier([ROOT_DER], False, Environment.PRODUCTION, BUNDLE_ID, APP_APPLE_ID)


def ours_accepts(token: str) -> bool:
    """A VerificationError is an answer; any other exception escapes and fails the test."""
    try:
        ours().decode_transaction(token)
    except VerificationError as refusal:
        assert refusal.check and str(refusal)
        return False
    return True


def apple_accepts(token: str) -> bool:
    try:
        apple().verify_and_decode_signed_transaction(token)
    except Exception:  # For the comparison, any refusal of Apple's counts as one.
        return False
    return True


# --- Ways to bend a token ------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _parts(token: str) -> list[str]:
    return token.split(".")


def _header(token: str) -> dict:
    return json.loads(_unb64url(_parts(token)[0]))


def _with_header(token: str, header: dict) -> str:
    parts = _parts(token)
    parts[0] = _b64url(json.dumps(header, separators=(",", ":")).encode())
    return ".".join(parts)


def flip_character(token: str, index: int, replacement: str) -> str:
    index %= len(token)
    return token[:index] + replacement + token[index + 1 :]


def flip_decoded_byte(token: str, part: int, index: int, mask: int) -> str:
    parts = _parts(token)
    data = bytearray(_unb64url(parts[part]))
    data[index % len(data)] ^= mask
    parts[part] = _b64url(bytes(data))
    return ".".join(parts)


def swap_parts(token: str, first: int, second: int) -> str:
    parts = _parts(token)
    parts[first], parts[second] = parts[second], parts[first]
    return ".".join(parts)


def swap_certificates(token: str, first: int, second: int) -> str:
    header = _header(token)
    x5c = header["x5c"]
    x5c[first], x5c[second] = x5c[second], x5c[first]
    return _with_header(token, header)


def swap_header_fields(token: str) -> str:
    header = _header(token)
    header["alg"], header["x5c"] = header["x5c"], header["alg"]
    return _with_header(token, header)


def change_certificate(token: str, which: int, change) -> str:
    header = _header(token)
    der = bytearray(base64.b64decode(header["x5c"][which]))
    header["x5c"][which] = base64.b64encode(bytes(change(der))).decode("ascii")
    return _with_header(token, header)


def truncate_certificate(token: str, which: int, keep: int) -> str:
    return change_certificate(token, which, lambda der: der[: keep % len(der)])


def flip_certificate_byte(token: str, which: int, index: int, mask: int) -> str:
    def flip(der: bytearray) -> bytearray:
        der[index % len(der)] ^= mask
        return der

    return change_certificate(token, which, flip)


def set_certificate_version(token: str, which: int, version: int) -> str:
    """Rewrite the certificate's version field ([0] EXPLICIT INTEGER, v3 = 2)."""

    def rewrite(der: bytearray) -> bytearray:
        at = der.index(bytes.fromhex("a003020102"))
        der[at + 4] = version
        return der

    return change_certificate(token, which, rewrite)


certificate = st.integers(min_value=0, max_value=2)
index = st.integers(min_value=0, max_value=10_000)
mask = st.integers(min_value=1, max_value=255)

mutated_tokens = st.one_of(
    st.builds(flip_character, st.just(TOKEN), index, st.sampled_from([*B64URL, ".", "=", "é"])),
    st.builds(flip_decoded_byte, st.just(TOKEN), st.integers(0, 2), index, mask),
    st.builds(swap_parts, st.just(TOKEN), st.integers(0, 2), st.integers(0, 2)),
    st.builds(swap_certificates, st.just(TOKEN), certificate, certificate),
    st.builds(swap_header_fields, st.just(TOKEN)),
    st.builds(truncate_certificate, st.just(TOKEN), certificate, index),
    st.builds(flip_certificate_byte, st.just(TOKEN), certificate, index, mask),
    st.builds(set_certificate_version, st.just(TOKEN), certificate, st.integers(0, 255)),
)

# The break that was found: the leaf's version field made invalid.
INVALID_LEAF_VERSION = set_certificate_version(TOKEN, 0, 5)


def test_the_unmutated_token_is_accepted_by_both():
    assert ours_accepts(TOKEN)
    assert apple_accepts(TOKEN)


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("version", [3, 5, 255])
def test_a_certificate_with_an_invalid_version_is_refused_with_a_verification_error(which, version):
    token = set_certificate_version(TOKEN, which, version)
    with pytest.raises(VerificationError) as refusal:
        ours().decode_transaction(token)
    assert refusal.value.check == "certificate" or which == 2


@given(token=mutated_tokens)
@example(token=INVALID_LEAF_VERSION)
@example(token=truncate_certificate(TOKEN, 0, 100))
@example(token=swap_certificates(TOKEN, 0, 1))
def test_a_mutated_token_gets_a_verification_error_or_a_transaction(token):
    ours_accepts(token)


@given(token=mutated_tokens)
@example(token=INVALID_LEAF_VERSION)
@example(token=swap_certificates(TOKEN, 1, 2))
@example(token=truncate_certificate(TOKEN, 2, 100))
def test_apples_verifier_and_ours_accept_and_refuse_the_same_mutated_tokens(token):
    assert ours_accepts(token) == apple_accepts(token)
