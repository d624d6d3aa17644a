"""Settings fail closed: production refuses to start without a value, naming it; local mode is one
switch. Every run here is a real `manage.py` process with only the environment it is given."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lookups.appstore.client import PRODUCTION_URL
from lookups.simulators.appstore.certificates import make_signing_chain
from lookups.simulators.appstore.local import generate_private_key_pem

ROOT = Path(__file__).resolve().parents[2]

# The first variable settings.py asks for; with nothing set, start-up names it.
FIRST_REQUIRED = "SECRET_KEY"

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-test-value-that-is-long-enough-for-django-0123456789",
    "ALLOWED_HOSTS": "desk.example.com",
    "DATABASE_URL": "postgres://desk@db.example.com:5432/supportdesk",
    "CACHE_URL": "redis://cache.example.com:6379/0",
    "APPSTORE_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
    "APPSTORE_KEY_ID": "ABC123DEFG",
    "APPSTORE_PRIVATE_KEY_PATH": "/run/secrets/appstore.p8",
    "APPSTORE_BUNDLE_ID": "com.example.app",
    "APPSTORE_APP_APPLE_ID": "1234567890",
    "APPSTORE_ROOT_CERTIFICATES": "/etc/supportdesk/AppleRootCA-G3.cer",
    "AUDIT_CHAIN_KEY": "a-test-chain-key-that-is-long-enough-0123456789",
}

# Prints the settings a process ended up with (no secrets: only whether they are what was given).
SHOW_SETTINGS = """
import json, sys, django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SUPPORTDESK_LOCAL": settings.SUPPORTDESK_LOCAL,
    "DATABASE_ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "APPSTORE_BASE_URL": settings.APPSTORE_BASE_URL,
    "APPSTORE_PRIVATE_KEY_PATH": settings.APPSTORE_PRIVATE_KEY_PATH,
    "APPSTORE_ROOT_CERTIFICATES": settings.APPSTORE_ROOT_CERTIFICATES,
    "ADAPTY_BASE_URL": settings.ADAPTY_BASE_URL,
    "adapty_key_is_the_simulators": (
        settings.ADAPTY_SECRET_KEY == settings.ADAPTY_SIMULATOR_SECRET_KEY
    ),
    "adapty_key_is_set": bool(settings.ADAPTY_SECRET_KEY),
    "secret_key_length": len(settings.SECRET_KEY),
    "secret_key_matches": settings.SECRET_KEY == EXPECTED_SECRET_KEY,
    "postgres_app": "django.contrib.postgres" in settings.INSTALLED_APPS,
    "psycopg_imported": "psycopg" in sys.modules,
}))
"""


def run(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    """A process with nothing in its environment but PATH and `environment`."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)


def refusal(result: subprocess.CompletedProcess) -> str:
    """The line start-up ended with: Django's ImproperlyConfigured and its message."""
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


def shown_settings(environment: dict[str, str], expected_secret_key: str = "") -> dict:
    code = f"EXPECTED_SECRET_KEY = {expected_secret_key!r}\n{SHOW_SETTINGS}"
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "supportdesk.settings", **environment})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def without(*names: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key not in names}


# --- Production ---------------------------------------------------------------------------------


def test_with_no_environment_at_all_check_deploy_refuses_naming_the_first_variable():
    line = refusal(check_deploy({}))

    assert line == (
        "django.core.exceptions.ImproperlyConfigured: Set the SECRET_KEY environment variable "
        "(or SUPPORTDESK_LOCAL=true for a local run)."
    )
    assert FIRST_REQUIRED in line


def test_production_settings_with_every_value_given_pass_check_deploy():
    """Everything but the database role passes; the role is checked where the database is
    reachable (tests/test_deploy_checks.py), and this one is not."""
    result = check_deploy(PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "(desk.I005) The database could not be reached" in result.stderr
    assert "System check identified 1 issue" in result.stderr


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CACHE_URL",
        "APPSTORE_ISSUER_ID",
        "APPSTORE_KEY_ID",
        "APPSTORE_PRIVATE_KEY_PATH",
        "APPSTORE_BUNDLE_ID",
        "APPSTORE_APP_APPLE_ID",
        "APPSTORE_ROOT_CERTIFICATES",
    ],
)
def test_production_start_up_names_the_missing_variable(missing):
    line = refusal(check_deploy(without(missing)))

    assert f"Set the {missing} environment variable" in line


def test_a_required_variable_set_to_nothing_counts_as_missing():
    line = refusal(check_deploy({**PRODUCTION, "SECRET_KEY": "  "}))

    assert "Set the SECRET_KEY environment variable" in line


def test_a_value_that_cannot_be_read_is_named():
    line = refusal(check_deploy({**PRODUCTION, "APPSTORE_APP_APPLE_ID": "the app"}))

    assert "APPSTORE_APP_APPLE_ID has a value that can't be read" in line


@pytest.mark.parametrize(
    "policy",
    [
        "decline",
        '{"delivery_status": "DELIVERED", "sample_content_provided": false}',
        '{"customer_consented": true, "delivery_status": "DELIVERED", '
        '"sample_content_provided": false, "refund": "DECLINE"}',
    ],
)
def test_a_refund_policy_that_could_not_answer_apple_stops_start_up(policy):
    line = refusal(check_deploy({**PRODUCTION, "REFUND_POLICY": policy}))

    assert "REFUND_POLICY" in line


def test_a_refund_policy_is_read_from_json():
    policy = {
        "customer_consented": True,
        "delivery_status": "DELIVERED",
        "sample_content_provided": False,
        "refund_preference": "DECLINE",
    }
    code = (
        "from django.conf import settings; import json; print(json.dumps(settings.REFUND_POLICY))"
    )
    result = run(
        ["-c", f"import django; django.setup(); {code}"],
        {
            "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
            **PRODUCTION,
            "REFUND_POLICY": json.dumps(policy),
        },
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == policy


def test_production_without_a_base_url_sends_to_apple_and_never_to_a_simulator(tmp_path):
    key_path = tmp_path / "appstore.p8"
    key_path.write_bytes(generate_private_key_pem())
    environment = {**PRODUCTION, "APPSTORE_PRIVATE_KEY_PATH": str(key_path)}

    shown = shown_settings(environment, PRODUCTION["SECRET_KEY"])
    client = run(
        [
            "-c",
            "import django; django.setup(); from lookups.services.clients import "
            "app_store_client; print(app_store_client().base_url)",
        ],
        {"DJANGO_SETTINGS_MODULE": "supportdesk.settings", **environment},
    )

    assert (shown["DEBUG"], shown["SUPPORTDESK_LOCAL"], shown["secret_key_matches"]) == (
        False,
        False,
        True,
    )
    assert shown["APPSTORE_BASE_URL"] == ""
    assert client.stdout.strip() == PRODUCTION_URL, client.stderr
    assert shown["adapty_key_is_set"] is False
    assert shown["ADAPTY_BASE_URL"] == "https://api.adapty.io"


def test_a_private_key_given_inline_replaces_the_path():
    environment = {
        **without("APPSTORE_PRIVATE_KEY_PATH"),
        "APPSTORE_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nnot-checked-here\n",
    }

    assert check_deploy(environment).returncode == 0


def test_a_sandbox_deploy_may_leave_out_the_apps_apple_id():
    environment = {**without("APPSTORE_APP_APPLE_ID"), "APPSTORE_ENVIRONMENT": "Sandbox"}

    assert check_deploy(environment).returncode == 0


def test_the_demo_commands_refuse_outside_local_mode():
    for command in ("setup_demo", "serve_demo"):
        result = run(["manage.py", command], PRODUCTION)

        assert result.returncode != 0
        assert "SUPPORTDESK_LOCAL=true" in result.stderr, command


# --- Secrets from files -------------------------------------------------------------------------


def test_secrets_are_read_from_the_files_named_by_their_FILE_variables(tmp_path):
    secret_key = tmp_path / "django-secret-key"
    secret_key.write_text("a-secret-kept-in-a-file-long-enough-for-django-0123456789\n")
    adapty_key = tmp_path / "adapty-secret-key"
    adapty_key.write_text("secret_live_from_a_file\n")
    environment = {
        **without("SECRET_KEY"),
        "SECRET_KEY_FILE": str(secret_key),
        "ADAPTY_SECRET_KEY_FILE": str(adapty_key),
    }

    shown = shown_settings(environment, "a-secret-kept-in-a-file-long-enough-for-django-0123456789")
    adapty = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ADAPTY_SECRET_KEY == 'secret_live_from_a_file')",
        ],
        {"DJANGO_SETTINGS_MODULE": "supportdesk.settings", **environment},
    )

    assert shown["secret_key_matches"] is True
    assert adapty.stdout.strip() == "True", adapty.stderr
    assert shown["ADAPTY_BASE_URL"] == "https://api.adapty.io"
    assert check_deploy(environment).returncode == 0


def test_a_secret_file_that_cannot_be_read_is_named(tmp_path):
    missing = tmp_path / "not-there"

    line = refusal(check_deploy({**without("SECRET_KEY"), "SECRET_KEY_FILE": str(missing)}))

    assert f"SECRET_KEY_FILE names {missing}, which can't be read" in line


# --- Local mode ---------------------------------------------------------------------------------


def test_local_mode_starts_with_nothing_else_set():
    result = run(["manage.py", "check"], {"SUPPORTDESK_LOCAL": "true"})

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_local_mode_uses_sqlite_the_simulators_and_keys_under_var():
    var = ROOT / "var"
    shown = shown_settings({"SUPPORTDESK_LOCAL": "true"})
    secret_key_file = var / "django-secret-key"

    assert (shown["DEBUG"], shown["SUPPORTDESK_LOCAL"]) == (True, True)
    assert shown["DATABASE_ENGINE"] == "django.db.backends.sqlite3"
    assert shown["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["APPSTORE_BASE_URL"] == "http://127.0.0.1:8001"
    assert shown["APPSTORE_PRIVATE_KEY_PATH"] == str(var / "appstore-local-key.p8")
    assert shown["APPSTORE_ROOT_CERTIFICATES"] == [str(var / "appstore-simulator-root.pem")]
    assert shown["adapty_key_is_the_simulators"] is True
    assert shown["ADAPTY_BASE_URL"] == "http://127.0.0.1:8002"
    # A key made for this clone, readable by its owner only, kept across runs.
    assert stat.S_IMODE(secret_key_file.stat().st_mode) == 0o600
    assert shown["secret_key_length"] >= 50
    again = shown_settings({"SUPPORTDESK_LOCAL": "true"}, secret_key_file.read_text().strip())
    assert again["secret_key_matches"] is True


def test_postgresqls_own_app_is_installed_on_postgresql_only():
    """On SQLite it would only import psycopg: most of a second of a first `make run`."""
    local = shown_settings({"SUPPORTDESK_LOCAL": "true"})
    assert (local["postgres_app"], local["psycopg_imported"]) == (False, False)

    deployed = shown_settings(PRODUCTION)
    assert deployed["postgres_app"] is True


def test_local_mode_follows_the_simulator_ports():
    shown = shown_settings(
        {
            "SUPPORTDESK_LOCAL": "true",
            "APPSTORE_SIMULATOR_PORT": "8121",
            "ADAPTY_SIMULATOR_PORT": "8122",
        }
    )

    assert shown["APPSTORE_BASE_URL"] == "http://127.0.0.1:8121"
    assert shown["ADAPTY_BASE_URL"] == "http://127.0.0.1:8122"


def test_a_real_adapty_key_in_local_mode_goes_to_adapty_and_an_empty_one_turns_the_step_off():
    real = shown_settings({"SUPPORTDESK_LOCAL": "true", "ADAPTY_SECRET_KEY": "secret_live_x"})
    off = shown_settings({"SUPPORTDESK_LOCAL": "true", "ADAPTY_SECRET_KEY": ""})

    assert (real["adapty_key_is_set"], real["adapty_key_is_the_simulators"]) == (True, False)
    assert real["ADAPTY_BASE_URL"] == "https://api.adapty.io"
    assert off["adapty_key_is_set"] is False


# --- Production serves HTTPS only ----------------------------------------------------------


PREFIXES_OF_OURS = ("APPSTORE_", "DJANGO_", "ADAPTY_", "CACHE_", "SUPPORTDESK_", "AUDIT_")


def run_with_production_settings(code: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("APPSTORE_", "DJANGO_", "ADAPTY_", "CACHE_", "SUPPORTDESK_", "AUDIT_")
        )
        and key not in PRODUCTION
        and key not in ("BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    }
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="supportdesk.settings", **extra)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


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


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({**PRODUCTION}, True),
        ({**PRODUCTION, "APPSTORE_ONLINE_CHECKS": "false"}, False),
        ({"SUPPORTDESK_LOCAL": "true"}, False),
    ],
)
def test_online_checks_are_on_unless_debug_or_turned_off(environment, expected, tmp_path):
    root = make_signing_chain().write_root(tmp_path / "root.pem")
    environment = {**environment, "APPSTORE_ROOT_CERTIFICATES": str(root)}
    code = (
        "import django; django.setup(); from lookups.services.clients import "
        "transaction_verifier; print(transaction_verifier()._online is not None)"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "supportdesk.settings", **environment})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(expected)
