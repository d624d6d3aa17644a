"""Which Adapty secret key a linked purchase is sent with: its own app's.

In Adapty each app has its own secret API key. An app names where its key is
(`App.adapty_key_source`, read like its .p8 key: a variable, its `_FILE` form, or a file); the
key never enters the database. The settings' app, and links naming no app (made before apps were
registered), use `ADAPTY_SECRET_KEY`, so a one-app desk keeps working as it was. An app with no
key is not sent to Adapty.
"""

from __future__ import annotations

from django.conf import settings

from lookups.models import App
from lookups.services.apps import AppKeyMissing, secret_at

SETTINGS_KEY = "ADAPTY_SECRET_KEY"


class AdaptyKeyUnreadable(Exception):
    """An app names where its Adapty key is, and nothing can be read there."""


def adapty_key_source(app: App | None) -> str:
    """Where `app`'s Adapty key is named: its own place, the settings' variable, or "" (none)."""
    if app is not None and app.adapty_key_source:
        return app.adapty_key_source
    if (app is None or app.follows_settings) and settings.ADAPTY_SECRET_KEY:
        return SETTINGS_KEY
    return ""


def sends_to_adapty(app: App | None) -> bool:
    """Whether `app`'s linked purchases go to Adapty: it has a key, readable or not."""
    return bool(adapty_key_source(app))


def desk_sends_to_adapty() -> bool:
    """Whether any app of the desk is sent to Adapty (the step exists at all)."""
    return bool(settings.ADAPTY_SECRET_KEY) or App.objects.exclude(adapty_key_source="").exists()


def adapty_key_of(app: App | None) -> str:
    """`app`'s Adapty secret key, read now; AdaptyKeyUnreadable, in words for the page, if it
    names a place that holds nothing (or, since the send was queued, no place at all)."""
    source = adapty_key_source(app)
    if source == SETTINGS_KEY:
        return settings.ADAPTY_SECRET_KEY
    if not source:
        raise AdaptyKeyUnreadable(f"{_name(app)} has no Adapty key on this desk any more.")
    try:
        key = secret_at(source).strip()
    except AppKeyMissing as problem:
        raise AdaptyKeyUnreadable(
            _unreadable(app, f"neither {source} nor {source}_FILE is set")
        ) from problem
    except OSError as problem:
        raise AdaptyKeyUnreadable(
            _unreadable(app, f"{problem.filename or source}: {problem.strerror or problem}")
        ) from problem
    if not key:
        raise AdaptyKeyUnreadable(_unreadable(app, f"{source} is empty"))
    return key


def _unreadable(app: App | None, why: str) -> str:
    return (
        f"{_name(app)}'s Adapty key can't be read ({why}). An administrator can fix where its "
        "key is on the app's page in the admin."
    )


def _name(app: App | None) -> str:
    return app.name if app is not None else "The desk's app"


def adapty_step_of(app: App) -> str:
    """In words for the app's admin page: whether its links go to Adapty, with which key's place,
    and whether the key can be read now (never the key)."""
    source = adapty_key_source(app)
    if not source:
        return "Off: no Adapty key is named, so this app's links are not sent to Adapty."
    try:
        adapty_key_of(app)
    except AdaptyKeyUnreadable as problem:
        return f"On, but failing: {problem}"
    return f"On: links are sent with the key in {source}."
