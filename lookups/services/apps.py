"""The apps the desk serves, each with its own App Store client and verifier per environment.

Apple signs for any app of a team with one In-App Purchase key, but each call names one app (the
bearer token's `bid`) and each app has its own rate limits: so a client per app and environment,
each with its own share of the rate budget. An app that follows the settings reads the
`APPSTORE_*` variables, so a one-app desk configured from its environment keeps working.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from lookups.appstore import (
    AppStoreClient,
    RetryPolicy,
    TransactionVerifier,
    load_root_certificates,
)
from lookups.appstore.revocation import OnlineChecks
from lookups.models import App
from lookups.services.apple_pauses import DatabasePauses
from lookups.services.shared_rate_budget import SharedRateBudget

PRODUCTION = "Production"
SANDBOX = "Sandbox"


_current_app: contextvars.ContextVar[tuple[App, str] | None] = contextvars.ContextVar(
    "current_app", default=None
)


@contextlib.contextmanager
def using_app(app: App, environment: str) -> Iterator[None]:
    """Calls to Apple and verification in this block are for `app` in `environment`."""
    token = _current_app.set((app, environment))
    try:
        yield
    finally:
        _current_app.reset(token)


def current_app() -> tuple[App | None, str]:
    """The app and environment being served: `using_app`'s, or the settings' (no row named)."""
    current = _current_app.get()
    return current if current is not None else (None, settings.APPSTORE_ENVIRONMENT)


class AppKeyMissing(Exception):
    """The place an app names for one of its keys holds nothing."""


@dataclass(frozen=True)
class AppSetup:
    """What talking to Apple for one app takes, read from its row or from the settings."""

    bundle_id: str
    app_apple_id: int | None
    environments: tuple[str, ...]
    issuer_id: str
    key_id: str
    private_key_source: str
    rate_limits: tuple[tuple[str, int], ...]


def setup_of(app: App) -> AppSetup:
    if app.follows_settings:
        return AppSetup(
            bundle_id=settings.APPSTORE_BUNDLE_ID,
            app_apple_id=settings.APPSTORE_APP_APPLE_ID,
            environments=(settings.APPSTORE_ENVIRONMENT,),
            issuer_id=settings.APPSTORE_ISSUER_ID,
            key_id=settings.APPSTORE_KEY_ID,
            private_key_source="",
            rate_limits=tuple(sorted(app.rate_limits.items())),
        )
    return AppSetup(
        bundle_id=app.bundle_id,
        app_apple_id=app.app_apple_id,
        environments=tuple(app.environments),
        issuer_id=app.issuer_id or settings.APPSTORE_ISSUER_ID,
        key_id=app.key_id or settings.APPSTORE_KEY_ID,
        private_key_source=app.private_key_source,
        rate_limits=tuple(sorted(app.rate_limits.items())),
    )


def desk_apps() -> list[App]:
    """Every registered app; a desk with none registered serves the app of its settings."""
    apps = list(App.objects.all())
    if apps:
        return apps
    app, _ = App.objects.get_or_create(
        bundle_id=settings.APPSTORE_BUNDLE_ID,
        defaults={"name": settings.APPSTORE_BUNDLE_ID, "follows_settings": True},
    )
    return [app]


def apps_for(user) -> list[App]:
    """The apps this user may see: all of them, unless some apps name the user.

    Read on every lookup and history page: one query (a desk with no app registered yet makes
    the settings' app first, which names no one).
    """
    apps = list(App.objects.marked_for(user)) or desk_apps()
    return [app for app in apps if getattr(app, "names_agent", False)] or apps


def environments_of(app: App) -> tuple[str, ...]:
    return setup_of(app).environments


def private_key_pem(source: str) -> str:
    """The PEM text of a key: from the settings (no source), a file, or an environment variable."""
    if not source:
        if settings.APPSTORE_PRIVATE_KEY:
            return settings.APPSTORE_PRIVATE_KEY
        return Path(settings.APPSTORE_PRIVATE_KEY_PATH).read_text()
    return secret_at(source)


def secret_at(source: str) -> str:
    """A key an app names the place of: a file by its absolute path, or an environment variable
    (or the file its `_FILE` form names). AppKeyMissing if the variable is unset; OSError if the
    file can't be read."""
    if os.path.isabs(source):
        return Path(source).read_text()
    if os.environ.get(source):
        return os.environ[source]
    if os.environ.get(f"{source}_FILE"):
        return Path(os.environ[f"{source}_FILE"]).read_text()
    raise AppKeyMissing(f"Neither {source} nor {source}_FILE is set.")


def rate_limits_for(setup: AppSetup, environment: str) -> dict[str, int]:
    """The app's own limits, else the settings' (a tenth in Sandbox, as Apple allows)."""
    limits = dict(settings.APPSTORE_RATE_LIMITS)
    if environment != settings.APPSTORE_ENVIRONMENT and environment == SANDBOX:
        limits = {endpoint: max(1, limit // 10) for endpoint, limit in limits.items()}
    limits.update(setup.rate_limits)
    return limits


def base_url_for(environment: str) -> str | None:
    url = (
        settings.APPSTORE_BASE_URL
        if environment == PRODUCTION
        else settings.APPSTORE_SANDBOX_BASE_URL
    )
    if environment == settings.APPSTORE_ENVIRONMENT and settings.APPSTORE_BASE_URL:
        url = settings.APPSTORE_BASE_URL
    return url or None


def client_for(app: App, environment: str) -> AppStoreClient:
    return _client(setup_of(app), environment)


def verifier_for(app: App, environment: str) -> TransactionVerifier:
    return _verifier(setup_of(app), environment)


@functools.cache
def _client(setup: AppSetup, environment: str) -> AppStoreClient:
    return AppStoreClient(
        issuer_id=setup.issuer_id,
        key_id=setup.key_id,
        private_key_pem=private_key_pem(setup.private_key_source),
        bundle_id=setup.bundle_id,
        environment=environment,
        base_url=base_url_for(environment),
        read_timeout=settings.APPSTORE_TIMEOUT_SECONDS,
        retry=RetryPolicy(
            max_retry_after_seconds=settings.APPSTORE_MAX_RETRY_AFTER_SECONDS,
            call_budget_seconds=settings.APPSTORE_CALL_BUDGET_SECONDS,
        ),
        token_store=cache,
        rate_limiter=SharedRateBudget(
            cache,
            rate_limits_for(setup, environment),
            # The scope the one-app desk used, so its pauses carry over.
            scope=f"{setup.bundle_id}:{environment}",
            pauses=DatabasePauses(),
        ),
    )


@functools.cache
def _verifier(setup: AppSetup, environment: str) -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates(settings.APPSTORE_ROOT_CERTIFICATES),
        bundle_id=setup.bundle_id,
        environment=environment,
        app_apple_id=setup.app_apple_id,
        online_checks=(
            OnlineChecks(timeout_seconds=settings.APPSTORE_OCSP_TIMEOUT_SECONDS)
            if settings.APPSTORE_ONLINE_CHECKS
            else None
        ),
    )


@receiver(setting_changed)
def _forget_on_settings_change(*, setting: str, **kwargs) -> None:
    if setting.startswith("APPSTORE_"):
        _client.cache_clear()
        _verifier.cache_clear()
