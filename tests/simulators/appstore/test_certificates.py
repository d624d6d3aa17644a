"""The signing chains the simulator signs with, and the broken ones tests need."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore import make_signing_chain
from lookups.simulators.appstore.certificates import (
    INTERMEDIATE_MARKER_OID,
    LEAF_MARKER_OID,
)


def test_make_signing_chain_builds_the_broken_chains_tests_need():
    chain = make_signing_chain(leaf_oid=False, intermediate_oid=False)
    with pytest.raises(x509.ExtensionNotFound):
        chain.leaf.extensions.get_extension_for_oid(LEAF_MARKER_OID)
    with pytest.raises(x509.ExtensionNotFound):
        chain.intermediate.extensions.get_extension_for_oid(INTERMEDIATE_MARKER_OID)

    sibling = make_signing_chain(root=chain)
    assert sibling.root == chain.root and sibling.leaf != chain.leaf
    sibling.intermediate.verify_directly_issued_by(chain.root)

    from datetime import UTC, datetime, timedelta

    expired_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    expired = make_signing_chain(not_valid_after=expired_at)
    assert expired.leaf.not_valid_after_utc == expired_at
    assert [base64.b64decode(c) for c in expired.x5c] == [
        c.public_bytes(serialization.Encoding.DER)
        for c in (expired.leaf, expired.intermediate, expired.root)
    ]
    basic = chain.intermediate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is True and basic.critical
    assert chain.leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
