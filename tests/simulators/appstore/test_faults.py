"""The simulator's faults as the README tells them: every kind, endpoint and parameter."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from lookups.simulators.appstore.faults import ENDPOINTS, FAULT_KINDS, Fault

README = Path(__file__).resolve().parents[3] / "README.md"


def _fault_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("The simulator takes faults on demand")
    return text[start : text.index("\n## ", start)]


def test_the_readme_lists_every_fault_kind_and_endpoint():
    section = _fault_section()
    kinds = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    assert kinds >= FAULT_KINDS
    for endpoint in ENDPOINTS - {"*"}:
        assert f"`{endpoint}`" in section, endpoint


def test_the_readme_names_every_parameter_a_fault_takes():
    section = _fault_section()
    for field in dataclasses.fields(Fault):
        assert f"`{field.name}`" in section, field.name


def test_the_readme_says_a_long_retry_after_holds_every_worker():
    section = _fault_section()
    assert "A long `Retry-After` holds every worker" in section
