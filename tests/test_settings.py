"""Start-up refuses to run in production with a missing secret or credential, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-test-value-that-is-long-enough-for-django-0123456789",
    "ALLOWED_HOSTS": "desk.example.com",
    "APPSTORE_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
    "APPSTORE_KEY_ID": "ABC123DEFG",
    "APPSTORE_PRIVATE_KEY_PATH": "/run/secrets/appstore.p8",
    "APPSTORE_BUNDLE_ID": "com.example.app",
    "APPSTORE_APP_APPLE_ID": "1234567890",
    "APPSTORE_ROOT_CERTIFICATES": "/etc/supportdesk/AppleRootCA-G3.cer",
    "AUDIT_CHAIN_KEY": "a-test-chain-key-that-is-long-enough-0123456789",
}


def start_django(
    environment: dict[str, str], code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_", "AUDIT_")) and key not in PRODUCTION
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="supportdesk.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_start_when_everything_is_given():
    result = start_django(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "APPSTORE_ISSUER_ID",
        "APPSTORE_KEY_ID",
        "APPSTORE_PRIVATE_KEY_PATH",
        "APPSTORE_BUNDLE_ID",
        "APPSTORE_APP_APPLE_ID",
        "APPSTORE_ROOT_CERTIFICATES",
    ],
)
def test_production_start_up_names_the_missing_variable(missing):
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = start_django(environment)
    assert result.returncode != 0
    assert f"{missing}" in result.stderr.splitlines()[-1]


def test_a_private_key_given_inline_replaces_the_path():
    environment = {key: value for key, value in PRODUCTION.items()}
    del environment["APPSTORE_PRIVATE_KEY_PATH"]
    environment["APPSTORE_PRIVATE_KEY"] = "-----BEGIN PRIVATE KEY-----\nnot-checked-here\n"
    assert start_django(environment).returncode == 0
