"""Which purchases the desk may change at Apple: those of the app its Apple client acts for.

Lookups reach every registered app, but actions still call Apple as the settings' app in the
settings' environment. Until they route per app, an action on another app's purchase (or on one
in the other environment) is refused here, before any row is written or Apple is called, and
the pages show the same sentence instead of the button.
"""

from __future__ import annotations

from django.conf import settings

from lookups.models import App, Purchase
from lookups.services.apple_actions.refusal import ActionRefused


def why_not_acted_on(app: App | None, environment: str) -> str:
    """Why a purchase of `app` in `environment` can't be changed at Apple here; "" if it can."""
    acting_environment = settings.APPSTORE_ENVIRONMENT
    if app is not None and not _is_acting_app(app):
        return (
            f"{app.name}'s purchases can be looked up here but not changed at Apple yet: "
            f"change it in {app.name}'s own tools."
        )
    if environment != acting_environment:
        whose = f"{app.name}'s " if app is not None else ""
        return (
            f"{whose}{environment} purchases can be looked up here but not changed at Apple "
            f"yet: the desk acts at Apple in {acting_environment} only."
        )
    return ""


def refuse_unless_acted_on(app: App | None, environment: str) -> None:
    """Raise `ActionRefused` for a subject of another app or environment than the desk acts for."""
    if why := why_not_acted_on(app, environment):
        raise ActionRefused(why)


def refuse_unless_purchase_acted_on(original_transaction_id: str) -> None:
    """The same, for a purchase known only by its ID: decided on the desk's picture of it.

    A purchase the desk pictures in the environment it acts in, for the app it acts for, passes;
    one it pictures only elsewhere is refused; one it doesn't picture at all is left to the
    kind's own rules (Apple is asked about it as before).
    """
    pictures = list(
        Purchase.objects.filter(original_transaction_id=original_transaction_id)
        .select_related("app")
        .order_by("pk")
    )
    reasons = [why_not_acted_on(picture.app, picture.environment) for picture in pictures]
    if reasons and all(reasons):
        raise ActionRefused(reasons[0])


def _is_acting_app(app: App) -> bool:
    return app.follows_settings or app.bundle_id == settings.APPSTORE_BUNDLE_ID
