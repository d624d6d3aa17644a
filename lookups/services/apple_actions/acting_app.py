"""Which app and environment an action at Apple is for, and calling Apple as that app.

Every registered app is acted on with its own key and bundle ID, in the environment its purchase
was bought in: the purchase's picture names both, the action's row records them, and the engine
calls Apple inside `acting_for(row)`. What remains refused is what truly can't be acted on: an
environment the app does not use, an app whose key can't be read, an app the acting person may
not see. Refused before any row is written or Apple is called; the pages show the same sentence
instead of the button.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from lookups.models import App, Purchase
from lookups.services.app_scope import scope_of, settings_app
from lookups.services.apple_actions.refusal import ActionRefused
from lookups.services.apps import (
    AppKeyMissing,
    environments_of,
    private_key_pem,
    setup_of,
    using_app,
)


@dataclass(frozen=True)
class ActingApp:
    """The app (None: the settings' one, for rows written before apps) and the environment."""

    app: App | None
    environment: str


def home_among(apps: list[App]) -> App | None:
    """The settings' app among `apps` (already read), if there."""
    return next(
        (
            app
            for app in apps
            if app.follows_settings or app.bundle_id == settings.APPSTORE_BUNDLE_ID
        ),
        None,
    )


def rows_of(apps: list[App]) -> Q:
    """Action rows of `apps` (already read); a row naming no app is the settings' app's."""
    mine = Q(app__in=[app.pk for app in apps])
    return mine | Q(app__isnull=True) if home_among(apps) is not None else mine


def bundle_id_of(app: App | None) -> str:
    """The bundle ID Apple is called with for `app` (None: the settings')."""
    return setup_of(app).bundle_id if app is not None else settings.APPSTORE_BUNDLE_ID


def why_not_acted_on(app: App | None, environment: str, user: Any = None) -> str:
    """Why a purchase of `app` in `environment` can't be changed at Apple by `user`; "" if it can.

    `user` None: nobody in particular (the worker, the desk's policy).
    """
    if app is None:
        if environment != settings.APPSTORE_ENVIRONMENT:
            return (
                f"This {environment} purchase was recorded before apps were registered, and the "
                f"desk's app is set up for {settings.APPSTORE_ENVIRONMENT} only: look the order "
                "up again to change it."
            )
        return ""
    if user is not None and not _sees(user, app):
        return _not_seen(app)
    if environment not in environments_of(app):
        used = " and ".join(environments_of(app)) or "no environment"
        return (
            f"{app.name} is set up for {used} only, so its {environment} purchases can be "
            "looked up but not changed at Apple. An administrator can add the environment."
        )
    if why := _unreadable_key(app):
        return why
    return ""


def refuse_unless_acted_on(app: App | None, environment: str, user: Any = None) -> None:
    """Raise `ActionRefused` with `why_not_acted_on`'s sentence (403 for an app not seen)."""
    if user is not None:
        refuse_unless_seen(user, app)
    if why := why_not_acted_on(app, environment):
        raise ActionRefused(why)


def refuse_unless_seen(user: Any, app: App | None) -> None:
    """Raise `ActionRefused` (403) when `user` may not see `app` (deciding on its rows)."""
    if app is not None and not _sees(user, app):
        raise ActionRefused(_not_seen(app), status=403)


def seen_by(user: Any) -> Q:
    """Action rows of the apps `user` may see (`app_scope`'s one rule, for action rows)."""
    return scope_of(user).rows()


def app_to_act_on(original_transaction_id: str, user: Any = None) -> ActingApp:
    """The app and environment to act on a purchase known by its ID: its picture's.

    Of its pictures (one per environment), the latest learnt one that can be acted on; if none
    can, refused with the reason of the latest. A purchase the desk doesn't picture at all is
    the settings' app's, in the settings' environment (Apple is asked about it as before).
    """
    pictures = list(
        Purchase.objects.filter(original_transaction_id=original_transaction_id)
        .select_related("app")
        .order_by("-learnt_at", "-pk")
    )
    if not pictures:
        where = ActingApp(settings_app(), settings.APPSTORE_ENVIRONMENT)
        refuse_unless_acted_on(where.app, where.environment, user)
        return where
    reasons = [why_not_acted_on(p.app, p.environment, user) for p in pictures]
    for picture, reason in zip(pictures, reasons, strict=True):
        if not reason:
            return ActingApp(picture.app or settings_app(), picture.environment)
    first = pictures[0]
    seen = user is None or first.app is None or _sees(user, first.app)
    raise ActionRefused(reasons[0], status=409 if seen else 403)


def acting_as(where: ActingApp) -> contextlib.AbstractContextManager[None]:
    """Calls to Apple in this block are `where`'s app's, in its environment.

    The settings' app in the settings' environment is the desk's own client (`clients`), as
    for a row naming no app (written before apps were registered).
    """
    app = where.app
    if app is None or (app.follows_settings and where.environment == settings.APPSTORE_ENVIRONMENT):
        return contextlib.nullcontext()
    return using_app(app, where.environment)


def acting_for(row: Any) -> contextlib.AbstractContextManager[None]:
    """Calls to Apple for an action row go to the app it names, in its environment."""
    app = row.app if getattr(row, "app_id", None) is not None else None
    return acting_as(ActingApp(app, row.environment))


def _sees(user: Any, app: App) -> bool:
    scope = scope_of(user)
    return scope.is_everything or app.pk in scope.app_ids


def _not_seen(app: App) -> str:
    return f"You don't work on {app.name}'s purchases, so you can't change them at Apple."


def _unreadable_key(app: App) -> str:
    if app.follows_settings:
        return ""
    try:
        private_key_pem(app.private_key_source)
    except (AppKeyMissing, OSError):
        where = app.private_key_source or "the settings"
        return (
            f"{app.name}'s App Store key can't be read (from {where}), so nothing can be changed "
            f"at Apple for {app.name}. An administrator can fix where its key is."
        )
    return ""
