"""Running the simulator on a developer's machine: a local API key and a chain kept across restarts.

Plain values in, so the management command, `make run` and the test fixtures share it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lookups.simulators.appstore.certificates import (
    SigningChain,
    load_signing_chain,
    make_signing_chain,
)
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.demo_apps import serve_coach

CHAIN_FILE_NAME = "appstore-simulator-chain.pem"
# A kept chain is replaced this long before its leaf expires, so a demo never signs with a dead one.
_RENEW_BEFORE = timedelta(days=30)


def generate_private_key_pem() -> bytes:
    """A new EC P-256 key in PKCS#8 PEM, the form of the .p8 file App Store Connect hands out."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_private_key(path: str | os.PathLike[str]) -> bytes:
    """The PEM at `path`, generated there first (readable by its owner only) if it is missing."""
    target = Path(path)
    try:
        return target.read_bytes()
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it meanwhile; use theirs.
        return target.read_bytes()
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(pem)
    return pem


def load_or_create_signing_chain(path: str | os.PathLike[str]) -> SigningChain:
    """The chain kept at `path`, or a new one written there if it is missing, broken or ageing."""
    target = Path(path)
    try:
        chain = load_signing_chain(target.read_bytes())
    except (OSError, ValueError):
        chain = None
    if chain is not None and chain.leaf.not_valid_after_utc - datetime.now(UTC) > _RENEW_BEFORE:
        return chain
    chain = make_signing_chain()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(chain.to_pem())
    os.replace(temporary, target)
    return chain


def local_simulator(
    *,
    private_key_pem: bytes | str,
    issuer_id: str,
    key_id: str,
    bundle_id: str,
    app_apple_id: int | None,
    environment: str,
    root_certificate_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    notification_url: str | None = None,
    rate_limits: bool = True,
) -> AppStoreSimulator:
    """A simulator (not yet started) that checks bearer tokens made with `private_key_pem`.

    Its chain is kept beside the root certificate file and reused across restarts, and the root
    is (re)written to `root_certificate_path` so the app trusts what the simulator signs.
    `notification_url` is where it sends App Store Server Notifications (the desk's endpoint).
    `rate_limits` False switches Apple's rate limits off.
    """
    root_path = Path(root_certificate_path)
    chain = load_or_create_signing_chain(root_path.parent / CHAIN_FILE_NAME)
    chain.write_root(root_path)
    simulator = AppStoreSimulator(
        bearer_public_key=private_key_pem,
        issuer_id=issuer_id,
        key_id=key_id,
        bundle_id=bundle_id,
        app_apple_id=app_apple_id,
        environment=environment,
        host=host,
        port=port,
        chain=chain,
        notification_url=notification_url,
        rate_limits=rate_limits,
    )
    # The studio's second app, signed for by the same team key, as App Store Connect does.
    serve_coach(simulator, bearer_public_key=private_key_pem, issuer_id=issuer_id, key_id=key_id)
    return simulator
