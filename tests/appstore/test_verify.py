"""TransactionVerifier: trusts only tokens that chain to a configured root and pass every check."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from lookups.appstore import TransactionVerifier, VerificationError, verify
from lookups.appstore.transactions import OfferType, ProductType
from lookups.simulators.appstore.certificates import make_signing_chain
from lookups.simulators.appstore.signing import sign_jws

BUNDLE_ID = "com.example.verify"
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def payload(**overrides) -> dict:
    now_ms = int(time.time() * 1000)
    base = {
        "transactionId": "2000000000000001",
        "originalTransactionId": "2000000000000001",
        "bundleId": BUNDLE_ID,
        "productId": "com.example.pro.monthly",
        "purchaseDate": now_ms - 86_400_000,
        "originalPurchaseDate": now_ms - 86_400_000,
        "expiresDate": now_ms + 29 * 86_400_000,
        "quantity": 1,
        "type": "Auto-Renewable Subscription",
        "inAppOwnershipType": "PURCHASED",
        "signedDate": now_ms,
        "environment": "Production",
        "transactionReason": "PURCHASE",
        "storefront": "USA",
        "storefrontId": "143441",
        "price": 9990,
        "currency": "USD",
        "offerType": 3,
        "offerIdentifier": "SPRING2026",
    }
    base.update(overrides)
    return base


@pytest.fixture(scope="module")
def chain():
    return make_signing_chain()


@pytest.fixture
def verifier(chain):
    return TransactionVerifier([chain.root], bundle_id=BUNDLE_ID, environment="Production")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def check_of(verifier: TransactionVerifier, token) -> str:
    with pytest.raises(VerificationError) as caught:
        verifier.decode_transaction(token)
    return caught.value.check


def test_it_decodes_a_valid_token(verifier, chain):
    txn = verifier.decode_transaction(sign_jws(payload(), chain))
    assert txn.transaction_id == "2000000000000001"
    assert txn.type is ProductType.AUTO_RENEWABLE
    assert txn.offer_type is OfferType.OFFER_CODE and txn.is_offer_code
    assert str(txn.price) == "9.99"
    assert txn.purchase_date.tzinfo is UTC


def test_it_reuses_a_verified_chain_for_the_next_token(verifier, chain):
    first = verifier.decode_transaction(sign_jws(payload(), chain))
    second = verifier.decode_transaction(sign_jws(payload(transactionId="2000000000000002"), chain))
    assert (first.transaction_id, second.transaction_id) == ("2000000000000001", "2000000000000002")
    assert len(verifier._chains) == 1


def test_it_keeps_unknown_fields_and_enum_values(verifier, chain):
    token = sign_jws(payload(type="Mystery Product", offerType=9, newField={"a": 1}), chain)
    txn = verifier.decode_transaction(token)
    assert txn.type == "Mystery Product" and txn.type.name == "UNKNOWN_Mystery Product"
    assert txn.offer_type == 9
    assert txn.unknown_fields == {"newField": {"a": 1}}


def test_it_refuses_a_tampered_payload(verifier, chain):
    header, _, signature = sign_jws(payload(), chain).split(".")
    forged = b64url(json.dumps(payload(productId="com.example.lifetime")).encode())
    assert check_of(verifier, f"{header}.{forged}.{signature}") == "signature"


def test_it_refuses_a_tampered_header(verifier, chain):
    token = sign_jws(payload(), chain)
    _, body, signature = token.split(".")
    header = {"alg": "ES256", "x5c": chain.x5c, "kid": "extra"}
    assert check_of(verifier, f"{b64url(json.dumps(header).encode())}.{body}.{signature}") == (
        "signature"
    )


def test_it_refuses_an_untrusted_root(verifier):
    stranger = make_signing_chain()
    assert check_of(verifier, sign_jws(payload(), stranger)) == "root"


def test_it_ignores_a_trusted_root_swapped_into_x5c(verifier, chain):
    stranger = make_signing_chain()
    header = {"alg": "ES256", "x5c": [*stranger.x5c[:2], chain.x5c[2]]}
    assert check_of(verifier, sign_jws(payload(), stranger, header=header)) == "root"


def test_it_refuses_a_leaf_without_apples_marker(chain):
    no_leaf_oid = make_signing_chain(leaf_oid=False)
    verifier = TransactionVerifier(
        [no_leaf_oid.root], bundle_id=BUNDLE_ID, environment="Production"
    )
    assert check_of(verifier, sign_jws(payload(), no_leaf_oid)) == "oid"


def test_it_refuses_an_intermediate_without_apples_marker():
    no_oid = make_signing_chain(intermediate_oid=False)
    verifier = TransactionVerifier([no_oid.root], bundle_id=BUNDLE_ID, environment="Production")
    assert check_of(verifier, sign_jws(payload(), no_oid)) == "oid"


def test_it_refuses_a_two_certificate_chain(verifier, chain):
    header = {"alg": "ES256", "x5c": chain.x5c[:2]}
    assert check_of(verifier, sign_jws(payload(), chain, header=header)) == "chain_length"


def test_it_refuses_a_certificate_not_valid_at_signed_date():
    now = datetime.now(UTC)
    expired = make_signing_chain(
        not_valid_before=now - timedelta(days=30), not_valid_after=now - timedelta(days=1)
    )
    verifier = TransactionVerifier([expired.root], bundle_id=BUNDLE_ID, environment="Production")
    assert check_of(verifier, sign_jws(payload(), expired)) == "validity"
    # The same chain stays usable for a token signed while the leaf was valid.
    then = int((now - timedelta(days=10)).timestamp() * 1000)
    assert verifier.decode_transaction(sign_jws(payload(signedDate=then), expired))


def test_a_cached_chain_is_not_reused_outside_its_validity(verifier, chain):
    verifier.decode_transaction(sign_jws(payload(), chain))
    too_late = int((chain.leaf.not_valid_after_utc + timedelta(days=1)).timestamp() * 1000)
    assert check_of(verifier, sign_jws(payload(signedDate=too_late), chain)) == "validity"


def test_it_refuses_another_apps_bundle_id(verifier, chain):
    assert check_of(verifier, sign_jws(payload(bundleId="com.other.app"), chain)) == "bundle_id"


def test_it_refuses_another_environment(verifier, chain):
    assert check_of(verifier, sign_jws(payload(environment="Sandbox"), chain)) == "environment"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", None])
def test_it_refuses_any_algorithm_but_es256(verifier, chain, alg):
    header = {"alg": alg, "x5c": chain.x5c}
    token = sign_jws(payload(), chain, header=header)
    assert check_of(verifier, token) == "algorithm"


def test_it_refuses_alg_none_with_an_empty_signature(verifier, chain):
    header = b64url(json.dumps({"alg": "none", "x5c": chain.x5c}).encode())
    body = b64url(json.dumps(payload()).encode())
    assert check_of(verifier, f"{header}.{body}.") == "algorithm"


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", None, 42, "x" * 40_000],
)
def test_it_refuses_garbage(verifier, garbage):
    assert check_of(verifier, garbage) in {"format", "algorithm", "chain_length"}


def test_it_refuses_a_payload_field_of_the_wrong_type(verifier, chain):
    assert check_of(verifier, sign_jws(payload(purchaseDate="yesterday"), chain)) == "payload"
    assert check_of(verifier, sign_jws(payload(signedDate="now"), chain)) == "payload"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("expiresDate", 10**15),
        ("quantity", "one"),
        ("type", 1),
        ("offerType", "3"),
        ("isUpgraded", "yes"),
        ("currency", ["USD"]),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_when_verified_not_when_read(
    verifier, chain, key, value
):
    # Fields are converted when read, but their values are checked before the token is taken.
    assert check_of(verifier, sign_jws(payload(**{key: value}), chain)) == "payload"


def test_it_refuses_a_certificate_that_is_not_der(verifier, chain):
    header = {"alg": "ES256", "x5c": ["bm90IGEgY2VydA==", *chain.x5c[1:]]}
    assert check_of(verifier, sign_jws(payload(), chain, header=header)) == "certificate"


def test_check_app_refuses_another_app(chain):
    verifier = TransactionVerifier(
        [chain.root], bundle_id=BUNDLE_ID, environment="Production", app_apple_id=42
    )
    verifier.check_app(bundle_id=BUNDLE_ID, app_apple_id=42)
    with pytest.raises(VerificationError):
        verifier.check_app(bundle_id=BUNDLE_ID, app_apple_id=43)
    with pytest.raises(VerificationError):
        verifier.check_app(bundle_id="com.other", app_apple_id=42)


def test_a_chain_differing_from_a_cached_one_by_one_byte_is_checked_afresh(verifier, chain):
    verifier.decode_transaction(sign_jws(payload(), chain))
    leaf = bytearray(base64.b64decode(chain.x5c[0]))
    leaf[-1] ^= 0x01  # the last byte of the leaf certificate's own signature
    altered = [base64.b64encode(bytes(leaf)).decode(), *chain.x5c[1:]]
    # Signed with the leaf's key, so only a fresh chain check can refuse it.
    token = sign_jws(payload(), chain, header={"alg": "ES256", "x5c": altered})
    assert check_of(verifier, token) == "chain"
    assert len(verifier._chains) == 1


def test_a_cached_chain_still_verifies_every_tokens_signature(verifier, chain):
    first = sign_jws(payload(), chain)
    second = sign_jws(payload(transactionId="2000000000000002"), chain)
    verifier.decode_transaction(first)
    header, body, _ = first.split(".")
    assert check_of(verifier, f"{header}.{body}.{second.split('.')[2]}") == "signature"


def test_tokens_of_two_chains_taking_turns_are_each_checked_against_their_own(verifier, chain):
    other = make_signing_chain(root=chain)  # another leaf and intermediate under the same root
    for signer in (chain, other, chain, other):
        assert verifier.decode_transaction(sign_jws(payload(), signer)).bundle_id == BUNDLE_ID
    # One chain's certificates over the other's signature: whichever chain came last, the
    # signature is checked with the key of the leaf the token names.
    for last, named, signer in ((chain, chain, other), (chain, other, chain)):
        verifier.decode_transaction(sign_jws(payload(), last))
        forged = sign_jws(payload(), signer, header={"alg": "ES256", "x5c": named.x5c})
        assert check_of(verifier, forged) == "signature"


def test_a_header_extending_the_cached_one_is_not_taken_for_it(verifier, chain):
    token = sign_jws(payload(), chain)
    verifier.decode_transaction(token)
    header, body, signature = token.split(".")
    # The signature covers the cached header, so only reading the whole header can refuse it.
    assert check_of(verifier, f"{header}e30.{body}.{signature}") == "format"


def signed_over(chain, body: bytes) -> str:
    """A token whose payload is exactly these bytes, signed with the chain's leaf key."""
    header = sign_jws(payload(), chain).split(".")[0]
    signing_input = f"{header}.{b64url(body)}"
    r, s = decode_dss_signature(chain.leaf_key.sign(signing_input.encode(), ECDSA_SHA256))
    return f"{signing_input}.{b64url(r.to_bytes(32) + s.to_bytes(32))}"


def test_a_payload_with_whitespace_around_its_json_is_read_and_trailing_data_refused(
    verifier, chain
):
    compact = json.dumps(payload(), separators=(",", ":")).encode()
    for body in (compact, b" \n" + compact + b"\r\n\t"):
        assert verifier.decode_transaction(signed_over(chain, body)).bundle_id == BUNDLE_ID
    for body in (compact + b"{}", compact + b" x", compact[:-1], b"[" + compact + b"]"):
        assert check_of(verifier, signed_over(chain, body)) == "format"


def signed_with(chain, r: int, s: int) -> str:
    """A token carrying exactly this r || s as its signature (valid only if the leaf made it)."""
    signing_input = sign_jws(payload(), chain).rpartition(".")[0]
    return f"{signing_input}.{b64url(r.to_bytes(32) + s.to_bytes(32))}"


def test_signatures_of_every_shape_verify_and_a_changed_one_does_not(verifier, chain):
    # r and s each begin with a zero byte (a shorter DER INTEGER), a byte with its high bit set
    # (a 0x00 before it) or neither: sign until each of the six has been seen, both ways round.
    shapes_seen = set()
    signing_input = sign_jws(payload(), chain).rpartition(".")[0]
    while len(shapes_seen) < 6:
        r, s = decode_dss_signature(chain.leaf_key.sign(signing_input.encode(), ECDSA_SHA256))
        shapes = {("r", shape_of(r)), ("s", shape_of(s))}
        if shapes <= shapes_seen:
            continue
        shapes_seen |= shapes
        token = f"{signing_input}.{b64url(r.to_bytes(32) + s.to_bytes(32))}"
        assert verifier.decode_transaction(token).bundle_id == BUNDLE_ID
        assert check_of(verifier, signed_with(chain, r, s ^ 1)) == "signature"
        assert check_of(verifier, signed_with(chain, r ^ (1 << 200), s)) == "signature"


def shape_of(number: int) -> str:
    first = number.to_bytes(32)[0]
    return "zero" if first == 0 else "high" if first >= 0x80 else "low"


@pytest.mark.parametrize(
    "number",
    [0, 1, 0x7F << 248, 0x80 << 248, 2**256 - 1, 2**248 - 1, 2**240, (0x80 << 248) | 1],
)
def test_an_es256_signature_is_written_in_der_as_encode_dss_signature_writes_it(number):
    for r, s in ((number, 0x42 << 248), (0x42 << 248, number), (number, number)):
        raw = r.to_bytes(32) + s.to_bytes(32)
        assert verify._der_signature(raw) == encode_dss_signature(r, s)
