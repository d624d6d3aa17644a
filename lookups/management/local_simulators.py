"""The local App Store and Adapty simulators, configured from the settings the desk runs with.

The App Store simulator trusts the key the desk signs its bearer tokens with and signs with a
chain whose root it writes where the desk reads its root certificates from; the Adapty simulator
takes the key local mode gives the desk, and Coach's own. So the desk talks to them with nothing
else configured.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from lookups.simulators.adapty import AdaptySimulator
from lookups.simulators.appstore.catalog import CREDITS_10, CREDITS_50
from lookups.simulators.appstore.local import ensure_private_key, local_simulator
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.demo_apps import COACH_ADAPTY_SECRET_KEY


def appstore_simulator(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    notification_url: str | None = None,
    rate_limits: bool = True,
) -> AppStoreSimulator:
    """The App Store simulator (not yet started), on APPSTORE_SIMULATOR_PORT unless told.

    It sends notifications to `notification_url`, else APPSTORE_SIMULATOR_NOTIFICATION_URL.
    """
    private_key = settings.APPSTORE_PRIVATE_KEY or ensure_private_key(
        settings.APPSTORE_PRIVATE_KEY_PATH
    )
    return local_simulator(
        private_key_pem=private_key,
        issuer_id=settings.APPSTORE_ISSUER_ID,
        key_id=settings.APPSTORE_KEY_ID,
        bundle_id=settings.APPSTORE_BUNDLE_ID,
        app_apple_id=settings.APPSTORE_APP_APPLE_ID,
        environment=settings.APPSTORE_ENVIRONMENT,
        root_certificate_path=Path(settings.APPSTORE_ROOT_CERTIFICATES[0]),
        host=host,
        port=settings.APPSTORE_SIMULATOR_PORT if port is None else port,
        notification_url=notification_url or settings.APPSTORE_SIMULATOR_NOTIFICATION_URL or None,
        rate_limits=rate_limits,
    )


def adapty_simulator(*, port: int | None = None) -> AdaptySimulator:
    """The Adapty simulator (not yet started), on ADAPTY_SIMULATOR_PORT unless told."""
    return AdaptySimulator(
        secret_key=settings.ADAPTY_SIMULATOR_SECRET_KEY,
        port=settings.ADAPTY_SIMULATOR_PORT if port is None else port,
        consumable_products=[CREDITS_10, CREDITS_50],
        other_app_keys=[COACH_ADAPTY_SECRET_KEY],
    )
