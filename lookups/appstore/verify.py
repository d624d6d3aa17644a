"""Trust a signed transaction, renewal info or notification (JWS) only when it comes from Apple.

The checks, in order: the token's form; `alg` is ES256; `x5c` holds exactly three certificates; the
leaf is issued by the intermediate and the intermediate by one of the configured roots (the root
the token carries is never trusted); the leaf and intermediate carry Apple's marker extensions;
the ES256 signature verifies with the leaf's key; every certificate is valid at the payload's
`signedDate`; and `bundleId` and `environment` match the configuration. With online checks
(`revocation.OnlineChecks`), the leaf and the intermediate must also not be revoked.

Renewal info and App Store Server Notifications pass the same chain, signature and validity
checks. Renewal info names no bundle ID, so only its environment is matched; a notification's app
(bundle ID, app Apple ID) and environment are read from its `data` (or `summary`), and the
transaction and renewal info inside it are verified on their own.

Checking a chain costs three signature verifications and certificate parsing, so a chain that
passed is remembered by the exact header that carried it (the certificates' DER bytes are in it),
with the leaf's loaded public key and the validity window the three certificates share; with
online checks, also until when its revocation answers hold. A later token with the same header
costs its own signature verification (SHA-256 of its signing input, continued from the header's),
one JSON decode and integer comparisons: no certificate parsed, no key loaded, no datetime built.
The header of the last token's chain is compared byte for byte with the next token's first, so a
run of tokens from one chain doesn't even hash their few kilobytes of header for the lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import threading
import time
from binascii import a2b_base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from .app_transactions import AppTransaction
from .notifications import Notification, NotificationData
from .renewal_info import RenewalInfo
from .transactions import DecodingError, Transaction

LEAF_MARKER_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
INTERMEDIATE_MARKER_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
MAX_TOKEN_LENGTH = 32 * 1024  # Apple's tokens are about 4 KiB; anything far larger is hostile.
MAX_CACHED_CHAINS = 64
_ECDSA_PREHASHED_SHA256 = ec.ECDSA(Prehashed(hashes.SHA256()))


class VerificationError(Exception):
    """A signed transaction failed a check; `check` names which one.

    `retryable` is true when nothing is known to be wrong and asking again later may pass (the
    certificate status service could not be reached).
    """

    retryable = False

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        self.detail = detail
        super().__init__(f"{check}: {detail}")


@dataclass(slots=True)
class _TrustedChain:
    header: bytes  # the exact base64url header that carried the chain
    leaf_key: ec.EllipticCurvePublicKey
    valid_from_ms: int
    valid_until_ms: int
    certificates: tuple[x509.Certificate, x509.Certificate, x509.Certificate]
    # SHA-256 fed with the exact header: each token's signing input begins with it and a dot,
    # so its digest is this state copied and fed the dot and the payload (the same digest, computed
    # without hashing the three certificates again).
    header_digest: hashlib._Hash
    # With online checks: the UNIX time until which the leaf's and intermediate's "good" answers
    # hold (0: never asked, or an answer without nextUpdate, which is good for one token only).
    revocation_checked_until: float = 0.0


class OnlineChecker(Protocol):
    """Revocation checks of a chain's leaf and intermediate (see `revocation.OnlineChecks`)."""

    def check_chain(
        self, leaf: x509.Certificate, intermediate: x509.Certificate, root: x509.Certificate
    ) -> float:
        """Raise unless neither is revoked; the UNIX time until which the answers hold."""
        ...


def load_root_certificates(paths: Iterable[str | Path]) -> list[x509.Certificate]:
    """Read root certificates from files in DER or PEM form (a PEM file may hold several)."""
    roots: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            roots.extend(x509.load_pem_x509_certificates(data))
        else:
            roots.append(x509.load_der_x509_certificate(data))
    return roots


class TransactionVerifier:
    """Verifies and decodes signed transactions for one app in one environment."""

    def __init__(
        self,
        root_certificates: Sequence[x509.Certificate | bytes],
        bundle_id: str,
        environment: str,
        app_apple_id: int | None = None,
        online_checks: OnlineChecker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._roots = [_as_certificate(root) for root in root_certificates]
        # With online checks, every token's leaf and intermediate are checked for revocation.
        self._online = online_checks
        self._clock = clock
        if not self._roots:
            raise ValueError("at least one trusted root certificate is required")
        self.bundle_id = bundle_id
        self.environment = environment
        self.app_apple_id = app_apple_id
        # The exact base64url header (x5c with every certificate's DER) -> its checked chain.
        self._chains: dict[bytes, _TrustedChain] = {}
        # Apple signs with one leaf for a long while: the chain of the last token, compared
        # byte for byte with the next token's header before hashing it for the dictionary.
        self._recent: _TrustedChain | None = None
        self._lock = threading.Lock()

    def decode_transaction(self, signed: str) -> Transaction:
        """Verify one signedTransaction and return it decoded."""
        return self._transaction_from(self._verified(signed)[0])

    def _transaction_from(self, payload: dict) -> Transaction:
        if payload.get("bundleId") != self.bundle_id:
            raise VerificationError("bundle_id", f"signed for {payload.get('bundleId')!r}")
        if payload.get("environment") != self.environment:
            raise VerificationError("environment", f"signed for {payload.get('environment')!r}")
        try:
            # The payload was decoded for this call alone: no one else holds it.
            return Transaction.from_payload(payload, handed_over=True)
        except DecodingError as exc:
            raise VerificationError("payload", str(exc)) from exc

    def decode_app_transaction(self, signed: str) -> AppTransaction:
        """Verify Get App Transaction Info's signedAppTransactionInfo (same chain checks): the
        app must be ours, and its receipt type our environment."""
        payload = self._verified_payload(signed)
        if payload.get("bundleId") != self.bundle_id:
            raise VerificationError("bundle_id", f"signed for {payload.get('bundleId')!r}")
        app_apple_id = payload.get("appAppleId")
        if self.app_apple_id is not None and app_apple_id not in (None, self.app_apple_id):
            raise VerificationError("app_apple_id", f"signed for app {app_apple_id!r}")
        if payload.get("receiptType") != self.environment:
            raise VerificationError("environment", f"signed for {payload.get('receiptType')!r}")
        try:
            return AppTransaction.from_payload(payload)
        except DecodingError as exc:
            raise VerificationError("payload", str(exc)) from exc

    def decode_renewal_info(self, signed: str) -> RenewalInfo:
        """Verify one signedRenewalInfo (same chain checks) and return it decoded.

        Apple's renewal info names no bundle ID; the environment must match, and a bundle ID, if
        Apple ever adds one, must be ours.
        """
        return self._renewal_info_from(self._verified_payload(signed))

    def _renewal_info_from(self, payload: dict) -> RenewalInfo:
        if "bundleId" in payload and payload["bundleId"] != self.bundle_id:
            raise VerificationError("bundle_id", f"signed for {payload.get('bundleId')!r}")
        if payload.get("environment") != self.environment:
            raise VerificationError("environment", f"signed for {payload.get('environment')!r}")
        try:
            return RenewalInfo.from_payload(payload)
        except DecodingError as exc:
            raise VerificationError("payload", str(exc)) from exc

    def decode_notification(self, signed_payload: str) -> Notification:
        """Verify an App Store Server Notification V2's `signedPayload` and return it decoded.

        The notification's own app and environment (in `data`, or `summary` for mass
        extensions) must be ours; a signed transaction or renewal info inside is verified too.
        """
        payload, text = self._verified(signed_payload)
        data = payload.get("data")
        about_app = data if data is not None else payload.get("summary", payload.get("appData"))
        if not isinstance(about_app, dict):
            raise VerificationError("payload", "the notification names no app")
        self._check_notification_app(about_app)
        try:
            decoded_data = None
            if isinstance(data, dict):
                signed_transaction = data.get("signedTransactionInfo")
                signed_renewal = data.get("signedRenewalInfo")
                decoded_data = NotificationData.from_payload(
                    data,
                    transaction=_inner(
                        self._nested_transaction, signed_transaction, "signedTransactionInfo"
                    ),
                    renewal_info=_inner(
                        self._nested_renewal_info, signed_renewal, "signedRenewalInfo"
                    ),
                )
            return Notification.from_payload(payload, data=decoded_data, text=text)
        except DecodingError as exc:
            raise VerificationError("payload", str(exc)) from exc

    # A token inside a notification: its bytes are part of the notification's payload, whose
    # signature was checked against a trusted chain already, so they are Apple's as they stand.
    # Its own chain, validity at its signedDate, app and environment are checked as for any
    # token; its signature is not computed a second time (Apple's library checks nested tokens
    # not at all). That halves what verifying a notification costs the endpoint.
    def _nested_transaction(self, signed: str) -> Transaction:
        return self._transaction_from(self._verified_payload(signed, covered=True))

    def _nested_renewal_info(self, signed: str) -> RenewalInfo:
        return self._renewal_info_from(self._verified_payload(signed, covered=True))

    def _check_notification_app(self, about_app: dict) -> None:
        if about_app.get("bundleId") != self.bundle_id:
            raise VerificationError("bundle_id", f"sent for {about_app.get('bundleId')!r}")
        app_apple_id = about_app.get("appAppleId")
        # Apple leaves appAppleId out of some sandbox notifications, never production ones.
        may_lack_it = self.environment != "Production" and app_apple_id is None
        if self.app_apple_id is not None and app_apple_id != self.app_apple_id and not may_lack_it:
            raise VerificationError("app_apple_id", f"sent for app {app_apple_id!r}")
        if about_app.get("environment") != self.environment:
            raise VerificationError("environment", f"sent for {about_app.get('environment')!r}")

    def _verified_payload(self, signed: str, *, covered: bool = False) -> dict:
        """The payload of a JWS whose chain, signature and signedDate validity all check out.

        `covered`: the token came inside a payload whose signature checked out, which covers
        these bytes; all but its own signature is checked.
        """
        return self._verified(signed, covered=covered)[0]

    def _verified(self, signed: str, *, covered: bool = False) -> tuple[dict, str]:
        """`_verified_payload`'s payload, and the JSON text it was read from."""
        # Every token takes this path: splitting, decoding and reading are written out here
        # rather than called, as each call costs about as much as the check it would make.
        if not isinstance(signed, str):
            raise VerificationError("format", "a signed transaction is text")
        if len(signed) > MAX_TOKEN_LENGTH:
            raise VerificationError("format", "the token is too long")
        try:
            token = signed.encode("ascii")
        except UnicodeEncodeError:
            raise VerificationError(
                "format", "the token has characters outside base64url"
            ) from None
        header_end = token.find(b".")
        payload_end = token.find(b".", header_end + 1)
        if (
            header_end < 1
            or payload_end <= header_end + 1
            or token.find(b".", payload_end + 1) >= 0
        ):
            raise VerificationError("format", "not a compact JWS (three dot-separated parts)")

        chain = self._recent
        if chain is None or len(chain.header) != header_end or not token.startswith(chain.header):
            header_part = token[:header_end]
            chain = self._chains.get(header_part) or self._trust_header(header_part)
            self._recent = chain
        if self._online is not None and chain.revocation_checked_until <= self._clock():
            chain.revocation_checked_until = self._online.check_chain(*chain.certificates)

        signature = _b64url(token[payload_end + 1 :], "signature")
        if len(signature) != 64:
            raise VerificationError("signature", "an ES256 signature is 64 bytes")
        if not covered:
            digest = chain.header_digest.copy()
            digest.update(token[header_end:payload_end])
            try:
                chain.leaf_key.verify(
                    _der_signature(signature), digest.digest(), _ECDSA_PREHASHED_SHA256
                )
            except InvalidSignature:
                raise VerificationError("signature", "the signature does not match") from None

        payload_part = token[header_end + 1 : payload_end]
        try:
            payload_bytes = a2b_base64(
                payload_part.translate(_URLSAFE_TO_STANDARD) + _PADDING[len(payload_part) % 4],
                strict_mode=True,
            )
        except (binascii.Error, ValueError):
            raise VerificationError("format", "the payload is not base64url") from None
        try:
            text = payload_bytes.decode("utf-8")
        except ValueError:
            raise VerificationError("format", "the payload is not JSON") from None
        payload = _json_object_from(text, "payload")
        signed_date = payload.get("signedDate")
        if signed_date is None:
            signed_date = int(self._clock() * 1000)
        if type(signed_date) is not int:
            raise VerificationError("payload", "signedDate is not a number")
        if not chain.valid_from_ms <= signed_date <= chain.valid_until_ms:
            raise VerificationError(
                "validity", "a certificate in the chain was not valid at signedDate"
            )
        return payload, text

    def check_app(self, *, bundle_id: str | None, app_apple_id: int | None) -> None:
        """Check the app named by an unsigned envelope (a history page) is ours."""
        if bundle_id is not None and bundle_id != self.bundle_id:
            raise VerificationError("bundle_id", f"answer is for {bundle_id!r}")
        if self.app_apple_id is not None and app_apple_id not in (None, self.app_apple_id):
            raise VerificationError("app_apple_id", f"answer is for app {app_apple_id!r}")

    def _trust_header(self, header_part: bytes) -> _TrustedChain:
        header = _json_object(_b64url(header_part, "header"), "header")
        if header.get("alg") != "ES256":
            raise VerificationError("algorithm", f"alg is {header.get('alg')!r}, not ES256")
        x5c = header.get("x5c")
        if not isinstance(x5c, list) or not all(isinstance(item, str) for item in x5c):
            raise VerificationError("chain_length", "x5c is missing")
        if len(x5c) != 3:
            raise VerificationError("chain_length", f"x5c has {len(x5c)} certificates, not 3")
        leaf, intermediate = (_certificate_from_x5c(item) for item in x5c[:2])

        root = self._root_that_issued(intermediate)
        if root is None:
            raise VerificationError("root", "the intermediate was not issued by a trusted root")
        try:
            leaf.verify_directly_issued_by(intermediate)
        except (ValueError, TypeError, InvalidSignature):
            raise VerificationError(
                "chain", "the leaf was not issued by the intermediate"
            ) from None
        if not _is_ca(intermediate):
            raise VerificationError("chain", "the intermediate is not a certificate authority")
        if not _has_extension(intermediate, INTERMEDIATE_MARKER_OID):
            raise VerificationError("oid", "the intermediate lacks Apple's marker extension")
        if not _has_extension(leaf, LEAF_MARKER_OID):
            raise VerificationError("oid", "the leaf lacks Apple's marker extension")
        leaf_key = leaf.public_key()
        if not isinstance(leaf_key, ec.EllipticCurvePublicKey) or leaf_key.curve.name != (
            "secp256r1"
        ):
            raise VerificationError("algorithm", "the leaf key is not EC P-256")

        chain = (leaf, intermediate, root)
        trusted = _TrustedChain(
            header=header_part,
            leaf_key=leaf_key,
            valid_from_ms=max(_millis(cert.not_valid_before_utc) for cert in chain),
            valid_until_ms=min(_millis(cert.not_valid_after_utc) for cert in chain),
            certificates=chain,
            header_digest=hashlib.sha256(header_part),
        )
        with self._lock:
            if len(self._chains) >= MAX_CACHED_CHAINS:
                self._chains.clear()
            self._chains[header_part] = trusted
        return trusted

    def _root_that_issued(self, intermediate: x509.Certificate) -> x509.Certificate | None:
        for root in self._roots:
            try:
                intermediate.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return root
        return None


def _inner[T](decode: Callable[[str], T], signed: object, name: str) -> T | None:
    """A JWS inside a notification, verified on its own; a refusal says which one failed."""
    if signed is None:
        return None
    try:
        return decode(signed)
    except VerificationError as refusal:
        raise VerificationError(refusal.check, f"{name}: {refusal.detail}") from refusal


# An ES256 signature is r || s, 32 bytes each; DER wants SEQUENCE { INTEGER r, INTEGER s }, each
# INTEGER minimal and positive: a leading 0x00 when its first byte has the high bit set. Indexed by
# those two high bits: the bytes before r, and those between r and s.
def _der_parts(r_high: int, s_high: int) -> tuple[bytes, bytes]:
    r_length, s_length = 32 + r_high, 32 + s_high
    before_r = bytes((0x30, 4 + r_length + s_length, 0x02, r_length)) + b"\0" * r_high
    return before_r, bytes((0x02, s_length)) + b"\0" * s_high


_DER_PARTS = tuple(_der_parts(high >> 1, high & 1) for high in range(4))


def _der_signature(signature: bytes) -> bytes:
    """The DER form of a 64-byte ES256 signature, as encode_dss_signature writes it."""
    r_first, s_first = signature[0], signature[32]
    if r_first and s_first:
        before_r, before_s = _DER_PARTS[(r_first >> 6 & 2) | s_first >> 7]
        return b"".join((before_r, signature[:32], before_s, signature[32:]))
    # A leading zero byte (one signature in 128): the minimal INTEGER is shorter.
    return encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))


_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")


def _b64url(part: bytes, what: str) -> bytes:
    try:
        padded = part.translate(_URLSAFE_TO_STANDARD) + _PADDING[len(part) % 4]
        return binascii.a2b_base64(padded, strict_mode=True)
    except (binascii.Error, ValueError):
        raise VerificationError("format", f"the {what} is not base64url") from None


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number too large for JSON")
    return number


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


# Strict JSON, as Apple writes it: no NaN or Infinity, which Python would otherwise read and no
# database could store. One decoder for all calls: json.loads with options builds a new one.
_STRICT_JSON = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)


def _json_object(data: bytes, what: str) -> dict:
    return _json_object_from(_json_text(data, what), what)


def _json_text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except ValueError:
        raise VerificationError("format", f"the {what} is not JSON") from None


def _json_object_from(text: str, what: str) -> dict:
    try:
        try:
            # Apple's JSON has no whitespace around it: one scan reads it all. Anything else
            # (whitespace, trailing data, not JSON at all) goes to the full decoder's rules.
            value, end = _STRICT_JSON.scan_once(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _STRICT_JSON.decode(text)
    except (ValueError, RecursionError):
        raise VerificationError("format", f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise VerificationError("format", f"the {what} is not a JSON object")
    return value


def _certificate_from_x5c(item: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode(item, validate=True))
    except (binascii.Error, ValueError, x509.InvalidVersion):
        raise VerificationError("certificate", "x5c holds an unreadable certificate") from None


def _as_certificate(root: x509.Certificate | bytes) -> x509.Certificate:
    if isinstance(root, x509.Certificate):
        return root
    if b"-----BEGIN CERTIFICATE-----" in root:
        return x509.load_pem_x509_certificate(root)
    return x509.load_der_x509_certificate(root)


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    """The certificate's extensions; one that can't be read makes the certificate unreadable."""
    try:
        return cert.extensions
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        raise VerificationError("certificate", "a certificate has a malformed extension") from None


def _has_extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bool:
    try:
        _extensions(cert).get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return _extensions(cert).get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
