"""Property-based: random tokens, and validly signed payloads whose fields hold the wrong types,
are refused with VerificationError or decode, and never raise anything else."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import assume, example, given
from hypothesis import strategies as st

from lookups.appstore.transactions import Transaction
from lookups.appstore.verify import MAX_TOKEN_LENGTH, TransactionVerifier, VerificationError
from lookups.simulators.appstore import make_signing_chain, sign_jws
from lookups.simulators.appstore.certificates import (
    INTERMEDIATE_MARKER_OID,
    LEAF_MARKER_OID,
    SigningChain,
)

BUNDLE_ID = "com.example.properties"


@pytest.fixture(scope="module")
def chain():
    return make_signing_chain()


@pytest.fixture(scope="module")
def verifier(chain):
    return TransactionVerifier([chain.root], bundle_id=BUNDLE_ID, environment="Production")


def decode(verifier: TransactionVerifier, token) -> Transaction | None:
    """Decode; a VerificationError is an answer, anything else escapes and fails the test."""
    try:
        return verifier.decode_transaction(token)
    except VerificationError as refusal:
        assert refusal.check and str(refusal)
        return None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@given(token=st.one_of(st.text(max_size=400), st.binary(max_size=400).map(b64url)))
@example(token="a.b.c")
@example(token="..")
@example(token="x" * (MAX_TOKEN_LENGTH + 1))
@example(token="e30.e30.")
def test_random_text_is_refused(verifier, token):
    assert decode(verifier, token) is None


@given(token=st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_a_token_that_is_not_text_is_refused(verifier, token):
    assert decode(verifier, token) is None


def valid_payload(**fields) -> dict:
    return {
        "transactionId": "2000000000000001",
        "originalTransactionId": "2000000000000001",
        "bundleId": BUNDLE_ID,
        "environment": "Production",
        "signedDate": int(time.time() * 1000),
        **fields,
    }


@given(cut=st.integers(min_value=0, max_value=4000))
def test_a_truncated_token_is_refused(chain, verifier, cut):
    token = sign_jws(valid_payload(), chain)
    assume(cut < len(token))
    assert decode(verifier, token[:cut]) is None


@given(
    extra=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=5),
    padding=st.integers(min_value=0, max_value=40_000),
)
def test_a_huge_or_strange_header_is_refused_or_ignored(chain, verifier, extra, padding):
    token = sign_jws(valid_payload(), chain, header={**extra, "pad": "x" * padding})
    result = decode(verifier, token)
    if len(token) > MAX_TOKEN_LENGTH:
        assert result is None


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(),  # NaN and infinities too: Python's JSON reads them
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(), inner)),
    max_leaves=5,
)
PAYLOAD_FIELDS = [
    "transactionId",
    "originalTransactionId",
    "webOrderLineItemId",
    "bundleId",
    "productId",
    "subscriptionGroupIdentifier",
    "purchaseDate",
    "originalPurchaseDate",
    "expiresDate",
    "quantity",
    "type",
    "appAccountToken",
    "inAppOwnershipType",
    "signedDate",
    "revocationReason",
    "revocationDate",
    "revocationType",
    "isUpgraded",
    "offerType",
    "offerIdentifier",
    "offerDiscountType",
    "offerPeriod",
    "environment",
    "transactionReason",
    "storefront",
    "storefrontId",
    "price",
    "currency",
    "appTransactionId",
    "somethingApple",
]


@given(fields=st.dictionaries(st.sampled_from(PAYLOAD_FIELDS), json_values, max_size=6))
@example(fields={"price": float("nan")})
@example(fields={"purchaseDate": float("inf")})
@example(fields={"quantity": 10**400})
@example(fields={"expiresDate": 2**70})
@example(fields={"offerType": 3.5, "revocationReason": True})
def test_wrong_types_in_a_validly_signed_payload_are_refused_or_decoded(chain, verifier, fields):
    token = sign_jws(valid_payload(**fields), chain)
    transaction = decode(verifier, token)
    if transaction is not None:
        # What decodes can be shown and stored: every property reads, the record is JSON.
        for name in ("price", "is_offer_code", "is_family_shared", "is_revoked", "unknown_fields"):
            getattr(transaction, name)
        json.dumps(dict(transaction.raw), allow_nan=False)


# --- Certificate extensions ---------------------------------------------------------------------

BASIC_CONSTRAINTS = x509.oid.ExtensionOID.BASIC_CONSTRAINTS
KEY_USAGE = x509.oid.ExtensionOID.KEY_USAGE
EXTENSION_OIDS = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    INTERMEDIATE_MARKER_OID,
    LEAF_MARKER_OID,
    x509.ObjectIdentifier("1.2.3.4.5"),
]


def chain_with_extensions(
    chain: SigningChain, which: str, extensions: list[tuple[x509.ObjectIdentifier, bool, bytes]]
) -> SigningChain:
    """The chain with its intermediate or leaf issued again carrying exactly `extensions`, raw."""
    now = datetime.now(UTC)
    certificate = getattr(chain, which)
    issuer, issuer_key = (
        (chain.root, chain.root_key)
        if which == "intermediate"
        else (chain.intermediate, chain.intermediate_key)
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(issuer.subject)
        .public_key(certificate.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
    )
    for oid, critical, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, value), critical=critical)
    issued = builder.sign(issuer_key, hashes.SHA256())
    certificates = {"leaf": chain.leaf, "intermediate": chain.intermediate, which: issued}
    x5c = [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
        for c in (certificates["leaf"], certificates["intermediate"], chain.root)
    ]
    return dataclasses.replace(chain, x5c=x5c, **{which: issued})


MALFORMED_BASIC_CONSTRAINTS = b"\x30\x03\x01\x01"  # a SEQUENCE whose BOOLEAN has no value


def test_an_intermediate_with_a_malformed_basic_constraints_is_refused(chain, verifier):
    broken = chain_with_extensions(
        chain,
        "intermediate",
        [
            (BASIC_CONSTRAINTS, True, MALFORMED_BASIC_CONSTRAINTS),
            (INTERMEDIATE_MARKER_OID, False, b"\x05\x00"),
        ],
    )

    with pytest.raises(VerificationError) as refusal:
        verifier.decode_transaction(sign_jws(valid_payload(), broken))

    assert refusal.value.check == "certificate"


@given(
    which=st.sampled_from(["intermediate", "leaf"]),
    extensions=st.lists(
        st.tuples(
            st.sampled_from(EXTENSION_OIDS),
            st.booleans(),
            st.one_of(
                st.binary(max_size=12),
                st.sampled_from(
                    [b"\x30\x00", b"\x30\x03\x01\x01\xff", b"\x05\x00", b"\x03\x02\x01\x06"]
                ),
            ),
        ),
        max_size=4,
        unique_by=lambda extension: extension[0],  # a certificate names each extension once
    ),
)
@example(which="intermediate", extensions=[(BASIC_CONSTRAINTS, True, MALFORMED_BASIC_CONSTRAINTS)])
@example(which="leaf", extensions=[(KEY_USAGE, True, b"\x03")])
def test_any_certificate_extensions_get_a_transaction_or_a_verification_error(
    chain, verifier, which, extensions
):
    bent = chain_with_extensions(chain, which, extensions)

    decode(verifier, sign_jws(valid_payload(), bent))
