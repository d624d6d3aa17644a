"""Production settings: start-up refuses a missing secret or credential, naming it; the deployment
checks pass; HTTPS only, behind the proxy, with secure cookies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

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
}


def start_django(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_")) and key not in PRODUCTION
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="supportdesk.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
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


# --- Production serves HTTPS only ----------------------------------------------------------


def run_with_production_settings(code: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_", "ADAPTY_", "CACHE_"))
        and key not in PRODUCTION
        and key not in ("BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    }
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="supportdesk.settings", **extra)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_deployment_checks_pass_with_production_settings():
    result = run_with_production_settings(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="desk.example.com")
plain = client.get("/")
proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "proxy_ssl_header": settings.SECURE_PROXY_SSL_HEADER,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
    "proxied_status": proxied.status_code,
    "proxied_location": proxied.headers.get("Location"),
    "hsts": proxied.headers.get("Strict-Transport-Security"),
}))
"""


def test_production_serves_https_only_behind_the_proxy_with_secure_cookies():
    result = run_with_production_settings(PRODUCTION_PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["session_cookie_secure"] and probe["csrf_cookie_secure"]
    assert probe["session_cookie_httponly"]
    assert probe["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://desk.example.com/"
    # Over HTTPS (as the proxy says) the page answers: here, by asking the visitor to sign in.
    assert probe["proxied_status"] == 302
    assert probe["proxied_location"].startswith("/login/")
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_without_a_proxy_the_forwarded_scheme_is_not_trusted():
    result = run_with_production_settings(PRODUCTION_PROBE, BEHIND_TLS_PROXY="false")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["proxy_ssl_header"] is None
    assert probe["proxied_status"] == 301
