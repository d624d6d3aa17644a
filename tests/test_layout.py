"""The tests mirror the code: every module of `lookups/` and `supportdesk/` that defines a
function or a class has its tests at `tests/<same folders>/test_<module>.py`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"lookups": Path(), "supportdesk": Path("supportdesk")}
# Modules that only declare data for others: nothing of their own to test.
DATA_ONLY = {
    # Django's app declaration.
    "lookups/apps.py",
    # The simulated store's event record and its names, exercised by the store's tests.
    "lookups/simulators/appstore/events.py",
}


def defines_behaviour(module: Path) -> bool:
    tree = ast.parse(module.read_text(), filename=str(module))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) for node in tree.body)


def mirrored_test(module: Path, package: str) -> Path:
    inside = module.relative_to(ROOT / package)
    return ROOT / "tests" / PACKAGES[package] / inside.parent / f"test_{inside.stem}.py"


def modules_without_tests() -> list[str]:
    missing = []
    for package in PACKAGES:
        for module in sorted((ROOT / package).rglob("*.py")):
            name = module.relative_to(ROOT).as_posix()
            if "migrations" in module.parts or name in DATA_ONLY:
                continue
            if defines_behaviour(module) and not mirrored_test(module, package).exists():
                missing.append(f"{name} -> {mirrored_test(module, package).relative_to(ROOT)}")
    return missing


def test_every_module_with_behaviour_has_its_tests_at_the_mirrored_path():
    assert modules_without_tests() == []


def test_the_data_only_list_names_modules_that_still_exist():
    assert all((ROOT / name).exists() for name in DATA_ONLY)
