"""JWS signing as Apple signs: the header tests may change."""

from __future__ import annotations

import base64

from lookups.simulators.appstore import make_signing_chain, sign_jws
from tests.fixtures.simulator_api import (
    decode,
    verify_with_leaf,
)


def test_sign_jws_header_can_be_changed_for_tests():
    chain = make_signing_chain()
    unsigned = sign_jws({"a": 1}, chain, header={"alg": "none"})
    assert unsigned.endswith(".")
    assert decode(unsigned)[0]["alg"] == "none"
    short = sign_jws({"a": 1}, chain, header={"x5c": chain.x5c[:2], "kid": "x"})
    assert decode(short)[0] == {"alg": "ES256", "x5c": chain.x5c[:2], "kid": "x"}
    verify_with_leaf(short)
    assert "x5c" not in decode(sign_jws({}, chain, header={"x5c": None}))[0]
    assert short.split(".")[1] == base64.urlsafe_b64encode(b'{"a":1}').rstrip(b"=").decode()
