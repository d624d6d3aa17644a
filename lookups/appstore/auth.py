"""The ES256 bearer token every App Store Server API request carries.

Signing costs far more than a request's other work, so one token is reused until shortly before it
expires. A shared store (anything with Django-cache-like `get`/`set`) lets many processes use one;
when the store also has `add` (Django's cache does), it serves as a short lock so that processes
starting together sign one token between them rather than one each.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME_SECONDS = 20 * 60  # Apple accepts at most 60 minutes.
RENEW_BEFORE_EXPIRY_SECONDS = 60
# How long a process waits for the token another process is signing before signing its own.
SIGNING_WAIT_SECONDS = 2.0


class TokenStore(Protocol):
    def get(self, key: str) -> object: ...
    def set(self, key: str, value: object, timeout: float | None = ...) -> object: ...


class InvalidPrivateKeyError(ValueError):
    """The configured key is not an EC P-256 private key in PEM form (Apple's .p8)."""


def load_private_key(pem: str | bytes) -> ec.EllipticCurvePrivateKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidPrivateKeyError("the App Store private key is not a readable PEM key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise InvalidPrivateKeyError("the App Store private key must be an EC P-256 key (.p8)")
    return key


class BearerTokenSigner:
    """Signs and caches the JWT for one App Store Connect key and one app."""

    def __init__(
        self,
        *,
        issuer_id: str,
        key_id: str,
        private_key_pem: str | bytes,
        bundle_id: str,
        store: TokenStore | None = None,
        clock=time.time,
    ) -> None:
        self._issuer_id = issuer_id
        self._key_id = key_id
        self._key = load_private_key(private_key_pem)
        self._bundle_id = bundle_id
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.tokens_signed = 0
        self._store_key = f"appstore:bearer:{issuer_id}:{key_id}:{bundle_id}"

    def token(self) -> str:
        """A valid token, signed anew only when the cached one is about to expire."""
        now = self._clock()
        if self._token is not None and now < self._renew_at:
            return self._token
        with self._lock:
            if self._token is not None and now < self._renew_at:
                return self._token
            shared = self._shared_token(now)
            if shared is None and self._lock_shared_signing():
                try:
                    # Another process may have stored its token and let go of the lock between
                    # the look above and taking the lock: look again before signing a second.
                    shared = self._shared_token(now)
                    if shared is None:
                        shared = self._sign(now)
                        if self._store is not None:
                            self._store.set(self._store_key, shared, shared[1] - now)
                finally:
                    self._unlock_shared_signing()
                self._token, self._renew_at = shared
                return self._token
            if shared is None:
                shared = self._wait_for_shared_token(now) or self._sign(now)
            self._token, self._renew_at = shared
            return self._token

    def _shared_token(self, now: float) -> tuple[str, float] | None:
        shared = self._store.get(self._store_key) if self._store is not None else None
        if isinstance(shared, tuple) and len(shared) == 2 and now < shared[1]:
            return shared
        return None

    def _lock_shared_signing(self) -> bool:
        """True if this process should sign: no store can lock, or the lock is ours now."""
        add = getattr(self._store, "add", None)
        if add is None:
            return True
        return bool(add(self._store_key + ":signing", True, SIGNING_WAIT_SECONDS))

    def _unlock_shared_signing(self) -> None:
        delete = getattr(self._store, "delete", None)
        if delete is not None and getattr(self._store, "add", None) is not None:
            delete(self._store_key + ":signing")

    def _wait_for_shared_token(self, now: float) -> tuple[str, float] | None:
        """Another process is signing: take its token when it is stored, if that is soon."""
        give_up = time.monotonic() + SIGNING_WAIT_SECONDS
        while time.monotonic() < give_up:
            time.sleep(0.01)
            if (shared := self._shared_token(now)) is not None:
                return shared
        return None

    def invalidate(self) -> None:
        """Forget the cached token (after Apple answered 401 to it, say), in the store too."""
        with self._lock:
            rejected, self._token, self._renew_at = self._token, None, 0.0
            if self._store is None or rejected is None:
                return
            shared = self._store.get(self._store_key)
            # Otherwise the next call would take the rejected token straight back from the store;
            # a newer token another process stored meanwhile is left alone.
            if isinstance(shared, tuple) and shared[:1] == (rejected,):
                self._store.set(self._store_key, None, 1)

    def _sign(self, now: float) -> tuple[str, float]:
        issued_at = int(now)
        expires_at = issued_at + TOKEN_LIFETIME_SECONDS
        claims = {
            "iss": self._issuer_id,
            "iat": issued_at,
            "exp": expires_at,
            "aud": AUDIENCE,
            "bid": self._bundle_id,
        }
        headers = {"kid": self._key_id, "typ": "JWT"}
        token = jwt.encode(claims, self._key, algorithm="ES256", headers=headers)
        self.tokens_signed += 1
        return token, float(expires_at - RENEW_BEFORE_EXPIRY_SECONDS)
