"""The bearer token: Apple's claims and headers, reuse until near expiry, a shared store."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lookups.appstore.auth import (
    AUDIENCE,
    RENEW_BEFORE_EXPIRY_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    BearerTokenSigner,
    InvalidPrivateKeyError,
)
from tests.fixtures.appstore_simulator import AppStoreCredentials

RENEW_AFTER_SECONDS = TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_EXPIRY_SECONDS


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class MemoryTokenStore:
    """A shared store as simple as a cache: get and set, timeouts ignored."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object, timeout: float | None = None) -> None:
        self.values[key] = value


def make_signer(credentials: AppStoreCredentials, **options) -> BearerTokenSigner:
    options.setdefault("bundle_id", credentials.bundle_id)
    options.setdefault("private_key_pem", credentials.private_key_pem)
    return BearerTokenSigner(issuer_id=credentials.issuer_id, key_id=credentials.key_id, **options)


def public_key(credentials: AppStoreCredentials) -> ec.EllipticCurvePublicKey:
    private_key = serialization.load_pem_private_key(
        credentials.private_key_pem.encode(), password=None
    )
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    return private_key.public_key()


def issued_at(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["iat"]


def test_it_signs_the_claims_and_headers_apple_requires(appstore_credentials):
    before = int(time.time())
    token = make_signer(appstore_credentials).token()
    after = int(time.time())

    assert jwt.get_unverified_header(token) == {
        "alg": "ES256",
        "kid": appstore_credentials.key_id,
        "typ": "JWT",
    }
    claims = jwt.decode(
        token,
        public_key(appstore_credentials),
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        issuer=appstore_credentials.issuer_id,
    )
    assert set(claims) == {"iss", "iat", "exp", "aud", "bid"}
    assert claims["aud"] == AUDIENCE
    assert claims["bid"] == appstore_credentials.bundle_id
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + TOKEN_LIFETIME_SECONDS
    assert claims["exp"] - claims["iat"] <= 3600


def test_it_reuses_the_token_until_shortly_before_it_expires(appstore_credentials):
    clock = FakeClock(1_780_000_000.0)
    signer = make_signer(appstore_credentials, clock=clock)
    first = signer.token()

    clock.now += RENEW_AFTER_SECONDS - 1
    assert signer.token() == first
    assert signer.tokens_signed == 1

    clock.now += 1
    second = signer.token()
    assert second != first
    assert issued_at(second) == issued_at(first) + RENEW_AFTER_SECONDS
    assert signer.token() == second
    assert signer.tokens_signed == 2


def test_it_signs_anew_after_invalidate(appstore_credentials):
    clock = FakeClock(1_780_000_000.0)
    signer = make_signer(appstore_credentials, clock=clock)
    first = signer.token()
    clock.now += 5

    signer.invalidate()

    assert signer.token() != first
    assert signer.tokens_signed == 2


def test_it_takes_a_token_from_the_shared_store_instead_of_signing(appstore_credentials):
    store = MemoryTokenStore()
    first = make_signer(appstore_credentials, store=store)
    second = make_signer(appstore_credentials, store=store)

    token = first.token()

    assert second.token() == token
    assert first.tokens_signed == 1
    assert second.tokens_signed == 0


class LockingTokenStore(MemoryTokenStore):
    """A store that can lock, like a cache's `add`; runs `before_lock` once, as another process."""

    def __init__(self) -> None:
        super().__init__()
        self.before_lock = None

    def add(self, key: str, value: object, timeout: float | None = None) -> bool:
        if (run := self.before_lock) is not None:
            self.before_lock = None
            run()
        if key in self.values:
            return False
        self.values[key] = value
        return True

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def test_a_token_stored_just_before_the_lock_is_taken_is_used_not_signed_again(
    appstore_credentials,
):
    store = LockingTokenStore()
    late = make_signer(appstore_credentials, store=store)
    early = make_signer(appstore_credentials, store=store)
    # `late` found no token; before it takes the signing lock, `early` signs, stores and unlocks.
    store.before_lock = early.token

    assert late.token() == early.token()
    assert (early.tokens_signed, late.tokens_signed) == (1, 0)


def test_it_keeps_one_stored_token_per_app(appstore_credentials):
    store = MemoryTokenStore()
    demo = make_signer(appstore_credentials, store=store)
    other = make_signer(appstore_credentials, store=store, bundle_id="com.example.other")

    assert demo.token() != other.token()
    assert jwt.decode(other.token(), options={"verify_signature": False})["bid"] == (
        "com.example.other"
    )
    assert len(store.values) == 2


def test_it_signs_anew_when_the_stored_token_is_due_for_renewal(appstore_credentials):
    store = MemoryTokenStore()
    clock = FakeClock(1_780_000_000.0)
    stale = make_signer(appstore_credentials, store=store, clock=clock).token()
    clock.now += RENEW_AFTER_SECONDS

    fresh_signer = make_signer(appstore_credentials, store=store, clock=clock)
    fresh = fresh_signer.token()

    assert fresh != stale
    assert fresh_signer.tokens_signed == 1
    assert [token for token, _ in store.values.values()] == [fresh]


def test_invalidate_drops_the_rejected_token_from_the_shared_store(appstore_credentials):
    store = MemoryTokenStore()
    clock = FakeClock(1_780_000_000.0)
    signer = make_signer(appstore_credentials, store=store, clock=clock)
    rejected = signer.token()
    clock.now += 5

    signer.invalidate()

    assert signer.token() != rejected
    assert signer.tokens_signed == 2


def test_invalidate_leaves_a_newer_token_another_process_stored(appstore_credentials):
    store = MemoryTokenStore()
    clock = FakeClock(1_780_000_000.0)
    signer = make_signer(appstore_credentials, store=store, clock=clock)
    signer.token()
    clock.now += 5
    newer = make_signer(appstore_credentials, clock=clock).token()
    (key,) = store.values
    store.values[key] = (newer, clock.now + RENEW_AFTER_SECONDS)

    signer.invalidate()

    assert signer.token() == newer
    assert signer.tokens_signed == 1


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
    ],
    ids=["garbage", "broken-pem", "p384-key"],
)
def test_it_refuses_a_key_that_is_not_an_ec_p256_pem(appstore_credentials, pem):
    with pytest.raises(InvalidPrivateKeyError):
        make_signer(appstore_credentials, private_key_pem=pem)
