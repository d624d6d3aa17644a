"""APPSTORE_RATE_LIMITS: Apple's per-endpoint limits by default, a tenth in Sandbox, overridable."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from tests.supportdesk.test_settings import PRODUCTION, ROOT


def rate_limits(**environment: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_")) and key not in PRODUCTION
    }
    env.update(PRODUCTION, **environment, DJANGO_SETTINGS_MODULE="supportdesk.settings")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.APPSTORE_RATE_LIMITS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_endpoint_gets_apples_limit_by_default():
    result = rate_limits()
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout.strip()) == {
        "lookup": 10,
        "set_token": 20,
        "history": 50,
        "statuses": 50,
        "transaction_info": 50,
        "refund_history": 10,
        "extend": 20,
        "consumption": 50,
        "notification_history": 50,
        "mass_extend": 20,
        "mass_extend_status": 20,
        "app_transaction": 50,
        "finish": 50,
        "test_notification": 1,
    }


def test_sandbox_gets_a_tenth_and_an_override_wins():
    result = rate_limits(APPSTORE_ENVIRONMENT="Sandbox", APPSTORE_RATE_LIMITS="extend=3")
    assert result.returncode == 0, result.stderr
    limits = ast.literal_eval(result.stdout.strip())
    assert limits["extend"] == 3
    assert (limits["statuses"], limits["refund_history"], limits["lookup"]) == (5, 1, 1)


def test_an_unknown_endpoint_name_is_refused_naming_the_known_ones():
    result = rate_limits(APPSTORE_RATE_LIMITS="status=5")
    assert result.returncode != 0
    assert "refund_history" in result.stderr.splitlines()[-1]
