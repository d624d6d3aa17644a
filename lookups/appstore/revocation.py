"""Online checks: ask the OCSP responder a certificate names whether it was revoked.

Apple recommends them in production. The leaf and the intermediate of every chain are checked
against the responder their own Authority Information Access extension names; a "good" answer is
kept until the response's nextUpdate, so a busy desk asks about each certificate once per
validity period, not once per token. A responder that can't be reached (network, timeout, an
HTTP error, an unreadable or "try later" answer) is `RevocationUnavailableError`: retryable, and
not a verdict on the certificate. A revoked or unknown certificate, or an answer not signed by the
certificate's issuer (or a responder the issuer delegated to), is a `VerificationError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from .verify import VerificationError

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_SKEW = timedelta(seconds=60)
MAX_CACHED_ANSWERS = 256


class RevocationUnavailableError(VerificationError):
    """The responder could not give an answer now: try again, nothing is known to be wrong."""

    retryable = True

    def __init__(self, detail: str) -> None:
        super().__init__("revocation_unavailable", detail)


class OnlineChecks:
    """Revocation checks with their answers cached for each response's validity; thread-safe."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        # (issuer key hash, serial) -> UNIX time until which the "good" answer holds.
        self._good_until: dict[tuple[bytes, int], float] = {}

    def check_chain(
        self, leaf: x509.Certificate, intermediate: x509.Certificate, root: x509.Certificate
    ) -> float:
        """Check the leaf and the intermediate; the UNIX time until which both answers hold."""
        return min(
            self.check(leaf, intermediate, name="leaf"),
            self.check(intermediate, root, name="intermediate"),
        )

    def check(self, certificate: x509.Certificate, issuer: x509.Certificate, *, name: str) -> float:
        """Raise unless the certificate's responder says it is good (or said so, still valid);
        the UNIX time until which that answer holds."""
        key = (_key_hash(issuer), certificate.serial_number)
        held = self._good_until.get(key, 0.0)
        if held > self._clock():
            return held
        url = responder_url(certificate)
        if url is None:
            raise VerificationError("revocation", f"the {name} names no OCSP responder")
        request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256())
        body = request.build().public_bytes(serialization.Encoding.DER)
        try:
            answer = self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/ocsp-request"},
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as problem:
            raise RevocationUnavailableError(
                f"the {name}'s OCSP responder could not be reached ({type(problem).__name__})"
            ) from None
        if answer.status_code != 200:
            raise RevocationUnavailableError(
                f"the {name}'s OCSP responder answered HTTP {answer.status_code}"
            )
        good_until = _good_until(answer.content, certificate, issuer, name=name)
        with self._lock:
            if len(self._good_until) >= MAX_CACHED_ANSWERS:
                self._good_until.clear()
            self._good_until[key] = good_until
        return good_until


def _good_until(
    content: bytes, certificate: x509.Certificate, issuer: x509.Certificate, *, name: str
) -> float:
    """Check one OCSP response; the UNIX time its "good" answer holds until."""
    try:
        response = ocsp.load_der_ocsp_response(content)
    except ValueError:
        raise RevocationUnavailableError(f"the {name}'s OCSP answer is unreadable") from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationUnavailableError(
            f"the {name}'s OCSP responder answered {response.response_status.name}"
        )
    signer = _signer(response, issuer)
    if signer is None:
        raise VerificationError("revocation", f"the {name}'s OCSP answer is not the issuer's")
    public_key = signer.public_key()
    algorithm = response.signature_hash_algorithm
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or algorithm is None:
        raise VerificationError("revocation", f"the {name}'s OCSP answer is not ECDSA-signed")
    try:
        public_key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
    except InvalidSignature:
        raise VerificationError(
            "revocation", f"the {name}'s OCSP answer has a bad signature"
        ) from None
    now = datetime.now(UTC)
    for single in response.responses:
        expected = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, single.hash_algorithm)
            .build()
        )
        if (single.serial_number, single.issuer_key_hash, single.issuer_name_hash) != (
            expected.serial_number,
            expected.issuer_key_hash,
            expected.issuer_name_hash,
        ):
            continue
        if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            raise VerificationError("revoked", f"the {name} certificate was revoked")
        if single.certificate_status != ocsp.OCSPCertStatus.GOOD:
            raise VerificationError("revocation", f"the {name} is unknown to its responder")
        next_update = single.next_update_utc
        if single.this_update_utc > now + MAX_SKEW or (
            next_update is not None and next_update < now - MAX_SKEW
        ):
            raise VerificationError("revocation", f"the {name}'s OCSP answer is out of date")
        # No nextUpdate: good for this token only.
        return next_update.timestamp() if next_update is not None else 0.0
    raise VerificationError("revocation", f"the {name}'s OCSP answer is about another certificate")


def _signer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate | None:
    """The issuer itself, or a responder certificate it issued for OCSP signing."""
    for candidate in (issuer, *response.certificates):
        named = (
            response.responder_key_hash == _key_hash(candidate)
            if response.responder_key_hash is not None
            else response.responder_name == candidate.subject
        )
        if not named:
            continue
        if candidate == issuer:
            return candidate
        try:
            candidate.verify_directly_issued_by(issuer)
            usages = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        now = datetime.now(UTC)
        in_date = (
            candidate.not_valid_before_utc - MAX_SKEW
            <= now
            <= candidate.not_valid_after_utc + MAX_SKEW
        )
        if ExtendedKeyUsageOID.OCSP_SIGNING in usages and in_date:
            return candidate
    return None


def _key_hash(certificate: x509.Certificate) -> bytes:
    # RFC 6960's key hash: SHA-1 of the subject public key's bits, as the responder ID uses it.
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


def responder_url(certificate: x509.Certificate) -> str | None:
    """The OCSP responder a certificate names (Authority Information Access), if any."""
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return None
    for description in access.value:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            location = description.access_location
            if isinstance(location, x509.UniformResourceIdentifier):
                return location.value
    return None
