"""The OCSP responder the simulator's certificates name, answering as a CA's responder does.

Verifiers with online checks on (Apple recommends them in production) ask it whether the leaf and
the intermediate still stand. Each answer is signed, as Apple's are, by a delegated responder
certificate (OCSP signing) that the certificate's own issuer issued (the intermediate for the
leaf, the root for the intermediate), sent along in the answer and named by key hash; it echoes
the request's certificate ID with its hash algorithm and holds for `validity_seconds`. A
`revoked_certificate` fault makes it answer "revoked" for the leaf, the intermediate or both.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from lookups.simulators.appstore.certificates import SigningChain, make_ocsp_responder

DEFAULT_VALIDITY_SECONDS = 3600.0
LEAF, INTERMEDIATE = "leaf", "intermediate"


class UnknownCertificate(Exception):
    """The request asks about a certificate this responder never issued an answer for."""


def _issued(
    chain: SigningChain,
) -> list[tuple[str, x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]]:
    return [
        (LEAF, chain.leaf, chain.intermediate, chain.intermediate_key),
        (INTERMEDIATE, chain.intermediate, chain.root, chain.root_key),
    ]


def find_certificate(request_der: bytes, chains: Sequence[SigningChain]):
    """(request, which, certificate, issuer, issuer key) for what the OCSP request asks about.

    Raises ValueError for a request that is not OCSP, UnknownCertificate for one about a
    certificate of no chain here.
    """
    request = ocsp.load_der_ocsp_request(request_der)
    for chain in chains:
        for which, certificate, issuer, issuer_key in _issued(chain):
            if certificate.serial_number != request.serial_number:
                continue
            expected = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(certificate, issuer, request.hash_algorithm)
                .build()
            )
            if (expected.issuer_key_hash, expected.issuer_name_hash) == (
                request.issuer_key_hash,
                request.issuer_name_hash,
            ):
                return request, which, certificate, issuer, issuer_key
    raise UnknownCertificate(str(request.serial_number))


def answer(
    request_der: bytes,
    chains: Sequence[SigningChain],
    *,
    revoked: set[str],
    validity_seconds: float = DEFAULT_VALIDITY_SECONDS,
) -> bytes:
    """The DER OCSP response to `request_der`; `revoked` names the certificates to call revoked."""
    try:
        request, which, certificate, issuer, issuer_key = find_certificate(request_der, chains)
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    except UnknownCertificate:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = datetime.now(UTC).replace(microsecond=0)
    is_revoked = which in revoked
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=certificate,
        issuer=issuer,
        algorithm=request.hash_algorithm,
        cert_status=ocsp.OCSPCertStatus.REVOKED if is_revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=now,
        next_update=now + timedelta(seconds=validity_seconds),
        revocation_time=now - timedelta(minutes=5) if is_revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if is_revoked else None,
    )
    responder, responder_key = _responder(issuer, issuer_key)
    builder = builder.certificates([responder])
    response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).sign(
        responder_key, hashes.SHA256()
    )
    return response.public_bytes(serialization.Encoding.DER)


_responders: dict[bytes, tuple[x509.Certificate, ec.EllipticCurvePrivateKey]] = {}
_responders_lock = threading.Lock()


def _responder(
    issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The delegated responder of `issuer`, made once per issuer."""
    fingerprint = issuer.fingerprint(hashes.SHA256())
    with _responders_lock:
        if fingerprint not in _responders:
            _responders[fingerprint] = make_ocsp_responder(issuer, issuer_key)
        return _responders[fingerprint]


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )
