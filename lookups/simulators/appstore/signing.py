"""Compact JWS the way the App Store signs transactions: ES256 with the x5c chain in the header."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from lookups.simulators.appstore.certificates import SigningChain

_P256_COORDINATE_BYTES = 32


def sign_jws(
    payload: dict[str, Any], chain: SigningChain, *, header: dict[str, Any] | None = None
) -> str:
    """Sign `payload` with the chain's leaf key: header {"alg": "ES256", "x5c": chain.x5c}.

    `header` adds or replaces header fields so tests can build tokens a verifier must refuse; a
    field set to None is left out. With "alg": "none" the signature part is empty, as in an
    unsecured JWS (RFC 7515, appendix A.5).
    """
    protected: dict[str, Any] = {"alg": "ES256", "x5c": list(chain.x5c)}
    for name, value in (header or {}).items():
        if value is None:
            protected.pop(name, None)
        else:
            protected[name] = value
    encoded_header = (
        _b64url(_compact_json(protected)) if header else _standard_header(tuple(chain.x5c))
    )
    signing_input = f"{encoded_header}.{_b64url(_compact_json(payload))}"
    if protected.get("alg") == "none":
        return f"{signing_input}."
    der = chain.leaf_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    # JWS carries ECDSA signatures as fixed-width r || s (RFC 7518, 3.4), not as DER.
    raw = r.to_bytes(_P256_COORDINATE_BYTES, "big") + s.to_bytes(_P256_COORDINATE_BYTES, "big")
    return f"{signing_input}.{_b64url(raw)}"


@functools.lru_cache(maxsize=16)
def _standard_header(x5c: tuple[str, ...]) -> str:
    # The same few kilobytes of certificates head every JWS a chain signs: encoded once.
    return _b64url(_compact_json({"alg": "ES256", "x5c": list(x5c)}))


def _compact_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
