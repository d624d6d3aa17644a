"""The demo's two apps in the desk: the settings' app, named, and Coach (local runs only)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from lookups.models import App
from lookups.services.apps import desk_apps
from lookups.simulators.demo_apps import (
    COACH_ADAPTY_SECRET_KEY,
    COACH_APP_APPLE_ID,
    COACH_BUNDLE_ID,
)


@transaction.atomic
def create_demo_apps() -> list[str]:
    """Register Coach beside the settings' app; an app someone changed in the admin is kept."""
    for app in desk_apps():
        if app.follows_settings and app.name == app.bundle_id:
            App.objects.filter(pk=app.pk).update(name="Supportdesk Demo")
    App.objects.get_or_create(
        bundle_id=COACH_BUNDLE_ID,
        defaults={
            "name": "Coach",
            "app_apple_id": COACH_APP_APPLE_ID,
            "uses_production": True,
            "uses_sandbox": True,
            # One team key signs for every app of the team: the local key, by its file.
            "issuer_id": settings.APPSTORE_ISSUER_ID,
            "key_id": settings.APPSTORE_KEY_ID,
            "private_key_source": settings.APPSTORE_PRIVATE_KEY_PATH or "APPSTORE_PRIVATE_KEY",
            "adapty_key_source": _coach_adapty_key_file(),
        },
    )
    return list(App.objects.values_list("name", flat=True))


def _coach_adapty_key_file() -> str:
    """Where Coach's key at the local Adapty is kept, when the desk sends to the local Adapty
    (its simulator's key); "" otherwise, leaving Coach off Adapty. Written to a file, as a
    deploy would hand it over: the key never enters the database."""
    if settings.ADAPTY_SECRET_KEY != settings.ADAPTY_SIMULATOR_SECRET_KEY:
        return ""
    path = Path(settings.VAR_DIR) / "coach-adapty-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(COACH_ADAPTY_SECRET_KEY)
    path.chmod(0o600)
    return str(path)
