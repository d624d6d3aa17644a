"""The App Store and Adapty clients and the verifier, wired from Django's settings.

The App Store client and verifier are built once per process (and again when a test changes a
setting); an Adapty client is cheap and made per use, with the key of the app it sends for.
Inside `using_app(app, environment)` the App Store's are that app's, in that environment (see
`apps`); outside, the settings' app's.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from lookups.adapty import AdaptyClient
from lookups.appstore import (
    AppStoreClient,
    RetryPolicy,
    TransactionVerifier,
    load_root_certificates,
)
from lookups.appstore.revocation import OnlineChecks
from lookups.services import apps
from lookups.services.apple_pauses import DatabasePauses
from lookups.services.apps import current_app, using_app
from lookups.services.shared_rate_budget import SharedRateBudget


def app_store_client() -> AppStoreClient:
    app, environment = current_app()
    return apps.client_for(app, environment) if app is not None else settings_app_client()


def transaction_verifier() -> TransactionVerifier:
    app, environment = current_app()
    return apps.verifier_for(app, environment) if app is not None else settings_app_verifier()


def _private_key_pem() -> str:
    if settings.APPSTORE_PRIVATE_KEY:
        return settings.APPSTORE_PRIVATE_KEY
    return Path(settings.APPSTORE_PRIVATE_KEY_PATH).read_text()


@functools.cache
def settings_app_client() -> AppStoreClient:
    return AppStoreClient(
        issuer_id=settings.APPSTORE_ISSUER_ID,
        key_id=settings.APPSTORE_KEY_ID,
        private_key_pem=_private_key_pem(),
        bundle_id=settings.APPSTORE_BUNDLE_ID,
        environment=settings.APPSTORE_ENVIRONMENT,
        base_url=settings.APPSTORE_BASE_URL or None,
        read_timeout=settings.APPSTORE_TIMEOUT_SECONDS,
        retry=RetryPolicy(
            max_retry_after_seconds=settings.APPSTORE_MAX_RETRY_AFTER_SECONDS,
            call_budget_seconds=settings.APPSTORE_CALL_BUDGET_SECONDS,
        ),
        token_store=cache,
        rate_limiter=SharedRateBudget(
            cache,
            settings.APPSTORE_RATE_LIMITS,
            scope=f"{settings.APPSTORE_BUNDLE_ID}:{settings.APPSTORE_ENVIRONMENT}",
            pauses=DatabasePauses(),
        ),
    )


@functools.cache
def settings_app_verifier() -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates(settings.APPSTORE_ROOT_CERTIFICATES),
        bundle_id=settings.APPSTORE_BUNDLE_ID,
        environment=settings.APPSTORE_ENVIRONMENT,
        app_apple_id=settings.APPSTORE_APP_APPLE_ID,
        online_checks=(
            OnlineChecks(timeout_seconds=settings.APPSTORE_OCSP_TIMEOUT_SECONDS)
            if settings.APPSTORE_ONLINE_CHECKS
            else None
        ),
    )


def adapty_client(secret_key: str, key_name: str = "ADAPTY_SECRET_KEY") -> AdaptyClient:
    """A client sending with one app's Adapty key (`adapty_keys`); every app's goes to the one
    Adapty host of the settings."""
    return AdaptyClient(
        secret_key,
        settings.ADAPTY_BASE_URL,
        timeout=settings.ADAPTY_TIMEOUT_SECONDS,
        max_attempts=settings.ADAPTY_MAX_ATTEMPTS,
        key_name=key_name,
    )


__all__ = ["current_app", "using_app"]


@receiver(setting_changed)
def _forget_on_settings_change(*, setting: str, **kwargs) -> None:
    if setting.startswith("APPSTORE_"):
        settings_app_client.cache_clear()
        settings_app_verifier.cache_clear()
