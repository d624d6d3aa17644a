"""The simulator's own certificate chain, shaped like the one Apple signs App Store data with.

Apple signs every transaction with a leaf certificate issued by its "Worldwide Developer Relations"
intermediate under Apple Root CA G3. The simulator builds the same three-level chain under a root
of its own, with Apple's marker extensions on the leaf and the intermediate, so the app's verifier
runs exactly the checks it runs against Apple, only trusting a different root file.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

# Apple marks the certificates it signs App Store data with; verifiers look for these.
LEAF_MARKER_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
INTERMEDIATE_MARKER_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
_DER_NULL = b"\x05\x00"

_ROOT_NAME = "Supportdesk Simulator Root CA"
_INTERMEDIATE_NAME = "Supportdesk Simulator Worldwide Developer Relations CA"
_LEAF_NAME = "Supportdesk Simulator App Store Receipt Signing"

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----\r?\n.+?\r?\n-----END \1-----\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class SigningChain:
    """Root, intermediate and leaf certificates with their keys; the leaf key signs transactions."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey
    intermediate_key: ec.EllipticCurvePrivateKey
    root_key: ec.EllipticCurvePrivateKey
    # The JWS header's x5c: standard base64 of each DER certificate, leaf first.
    x5c: list[str]

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def write_root(self, path: str | os.PathLike[str]) -> Path:
        """Write the root certificate (PEM) where the app reads its trusted roots from."""
        target = Path(path)
        _write_atomically(target, self.root_pem(), mode=0o644)
        return target

    def to_pem(self) -> bytes:
        """Certificates and keys in one PEM bundle, so a local simulator keeps its chain."""
        certificates = [self.root, self.intermediate, self.leaf]
        keys = [self.root_key, self.intermediate_key, self.leaf_key]
        return b"".join(
            [c.public_bytes(serialization.Encoding.PEM) for c in certificates]
            + [
                k.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                for k in keys
            ]
        )


def make_signing_chain(
    *,
    leaf_oid: bool = True,
    intermediate_oid: bool = True,
    not_valid_before: datetime | None = None,
    not_valid_after: datetime | None = None,
    root: SigningChain | None = None,
    ocsp_url: str | None = None,
) -> SigningChain:
    """A fresh EC P-256 chain: root CA, intermediate CA and signing leaf.

    The keyword options build the broken chains verifiers must refuse: a leaf or intermediate
    without Apple's marker extension, a leaf outside its validity period. `root` reuses another
    chain's root (certificate and key) to issue a new intermediate and leaf under it.
    `ocsp_url` names the OCSP responder (Authority Information Access) in the intermediate and
    the leaf, as Apple's certificates name Apple's.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    if root is None:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(_ROOT_NAME)
        root_certificate = _issue(
            subject=root_name,
            subject_key=root_key.public_key(),
            issuer=root_name,
            issuer_key=root_key,
            not_valid_before=now - timedelta(days=365),
            not_valid_after=now + timedelta(days=20 * 365),
            ca=True,
            path_length=None,
            marker=None,
        )
    else:
        root_key, root_certificate = root.root_key, root.root

    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = _issue(
        subject=_name(_INTERMEDIATE_NAME),
        subject_key=intermediate_key.public_key(),
        issuer=root_certificate.subject,
        issuer_key=root_key,
        not_valid_before=now - timedelta(days=365),
        not_valid_after=now + timedelta(days=10 * 365),
        ca=True,
        path_length=0,
        marker=INTERMEDIATE_MARKER_OID if intermediate_oid else None,
        ocsp_url=ocsp_url,
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue(
        subject=_name(_LEAF_NAME),
        subject_key=leaf_key.public_key(),
        issuer=intermediate.subject,
        issuer_key=intermediate_key,
        not_valid_before=not_valid_before or now - timedelta(days=365),
        not_valid_after=not_valid_after or now + timedelta(days=5 * 365),
        ca=False,
        path_length=None,
        marker=LEAF_MARKER_OID if leaf_oid else None,
        ocsp_url=ocsp_url,
    )
    return _assemble(root_certificate, intermediate, leaf, root_key, intermediate_key, leaf_key)


def make_ocsp_responder(
    issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A delegated OCSP responder certificate (OCSP signing) issued by `issuer`, and its key.

    Apple's responders sign with such certificates, and Apple's Node.js library expects one.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = str(issuer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    certificate = _issue(
        # Common names are at most 64 characters.
        subject=_name(f"{common_name[:48]} OCSP Responder"),
        subject_key=key.public_key(),
        issuer=issuer.subject,
        issuer_key=issuer_key,
        not_valid_before=now - timedelta(days=1),
        not_valid_after=now + timedelta(days=365),
        ca=False,
        path_length=None,
        marker=None,
        extended_key_usage=ExtendedKeyUsageOID.OCSP_SIGNING,
    )
    return certificate, key


def load_signing_chain(pem: bytes) -> SigningChain:
    """Read back a bundle written by `SigningChain.to_pem`."""
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(pem)]
    if len(blocks) != 6:
        raise ValueError(f"A signing chain bundle holds 6 PEM blocks, this one {len(blocks)}.")
    root, intermediate, leaf = (x509.load_pem_x509_certificate(b) for b in blocks[:3])
    keys = [serialization.load_pem_private_key(b, password=None) for b in blocks[3:]]
    if not all(isinstance(k, ec.EllipticCurvePrivateKey) for k in keys):
        raise ValueError("The signing chain bundle holds a key that is not an EC private key.")
    root_key, intermediate_key, leaf_key = keys
    return _assemble(root, intermediate, leaf, root_key, intermediate_key, leaf_key)  # type: ignore[arg-type]


def _assemble(
    root: x509.Certificate,
    intermediate: x509.Certificate,
    leaf: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    intermediate_key: ec.EllipticCurvePrivateKey,
    leaf_key: ec.EllipticCurvePrivateKey,
) -> SigningChain:
    x5c = [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
        for c in (leaf, intermediate, root)
    ]
    return SigningChain(
        root=root,
        intermediate=intermediate,
        leaf=leaf,
        leaf_key=leaf_key,
        intermediate_key=intermediate_key,
        root_key=root_key,
        x5c=x5c,
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "App Store Simulator"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Supportdesk"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )


def _issue(
    *,
    subject: x509.Name,
    subject_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_valid_before: datetime,
    not_valid_after: datetime,
    ca: bool,
    path_length: int | None,
    marker: x509.ObjectIdentifier | None,
    ocsp_url: str | None = None,
    extended_key_usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    # Strict verifiers (OpenSSL's X509_STRICT, which Apple's library turns on) want critical
    # basic constraints and key usage, and key identifiers linking each certificate to its issuer.
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_valid_before)
        .not_valid_after(not_valid_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if marker is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(marker, _DER_NULL), critical=False
        )
    if extended_key_usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([extended_key_usage]), critical=False)
    if ocsp_url is not None:
        responder = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(
            x509.AuthorityInformationAccess([responder]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_atomically(target: Path, content: bytes, *, mode: int) -> None:
    # A reader (the app starting up) never sees a half-written file.
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    os.chmod(temporary, mode)
    os.replace(temporary, target)
