"""The check Apple makes on every request's `Authorization: Bearer <JWT>`.

The token must be ES256-signed with the in-app purchase key, name that key in `kid`, and claim
the issuer, the audience `appstoreconnect-v1` and the app's bundle ID, with an expiry no more than
an hour after it was issued. Anything else is answered 401 with no body.

Apple's page lists `iat` as required, but Apple accepts tokens without it, and Apple's own server
libraries send none (only `iss`, `aud`, `exp` and `bid`). Such a token's expiry is bounded from
now instead: at most an hour ahead. A little clock skew is tolerated either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

AUDIENCE = "appstoreconnect-v1"
MAX_LIFETIME_SECONDS = 3600
# Tolerated clock difference between client and server, in either direction.
CLOCK_SKEW_SECONDS = 60
_CACHE_LIMIT = 512


class BearerCheck:
    """Accepts a request's Authorization header, or not; remembers tokens it has verified."""

    def __init__(
        self,
        *,
        public_key: ec.EllipticCurvePublicKey,
        issuer_id: str,
        key_id: str,
        bundle_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._public_key = public_key
        self._issuer_id = issuer_id
        self._key_id = key_id
        self._bundle_id = bundle_id
        self._clock = clock
        self._lock = threading.Lock()
        # Clients reuse a token for many requests; its expiry is all that changes between them.
        self._verified: dict[str, float] = {}

    def accepts(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        token = token.strip()
        now = self._clock()
        with self._lock:
            expires = self._verified.get(token)
        if expires is not None:
            return now < expires + CLOCK_SKEW_SECONDS
        claims = self._verify(token, now)
        if claims is None:
            return False
        with self._lock:
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = float(claims["exp"])
        return True

    def _verify(self, token: str, now: float) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
            if (
                header.get("alg") != "ES256"
                or header.get("kid") != self._key_id
                or header.get("typ", "JWT") != "JWT"
            ):
                return None
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=self._issuer_id,
                options={
                    "require": ["iss", "exp", "aud", "bid"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return None
        issued, expires = claims.get("iat"), claims["exp"]
        if not _is_time(expires) or (issued is not None and not _is_time(issued)):
            return None
        if claims["bid"] != self._bundle_id:
            return None
        if expires <= now - CLOCK_SKEW_SECONDS:
            return None
        if issued is None:
            # No `iat`, as Apple's own libraries send: the hour is counted from now.
            return claims if expires <= now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS else None
        if issued > now + CLOCK_SKEW_SECONDS:
            return None
        if expires - issued > MAX_LIFETIME_SECONDS or expires <= issued:
            return None
        return claims


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_public_key(key: object) -> ec.EllipticCurvePublicKey:
    """The EC public key that checks bearer tokens, from a key object or a private or public PEM."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise TypeError("Apple's in-app purchase keys are EC P-256 keys.")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.public_key()
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(key, bytes):
        if b"PRIVATE KEY" in key:
            return load_public_key(serialization.load_pem_private_key(key, password=None))
        return load_public_key(serialization.load_pem_public_key(key))
    raise TypeError("bearer_public_key must be an EC P-256 key or its PEM.")
