"""Which apps' rows a person may see, and what a row naming no app is called.

A row naming no app was written before apps were registered: it is the settings' app's (the
one registered with `follows_settings`, else the one with the settings' bundle ID). Whoever may
see that app sees those rows; someone limited to other apps does not.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.functional import SimpleLazyObject

from lookups.models import App
from lookups.services.apps import PRODUCTION, SANDBOX

# Agents' lists show both of Apple's environments: a tester's Sandbox purchase beside the real
# ones, labelled (templates/lookups/row_app.html).
BOTH_ENVIRONMENTS = (PRODUCTION, SANDBOX)


def settings_app() -> App | None:
    """The app the settings describe, if it is registered."""
    return (
        App.objects.filter(Q(follows_settings=True) | Q(bundle_id=settings.APPSTORE_BUNDLE_ID))
        .order_by("-follows_settings", "pk")
        .first()
    )


def settings_app_name() -> str:
    """What a row naming no app is shown as: the settings' app's name, else its bundle ID."""
    app = settings_app()
    return app.name if app is not None else settings.APPSTORE_BUNDLE_ID


def settings_app_name_when_shown() -> SimpleLazyObject:
    """`settings_app_name`, read only if a page shows a row naming no app, and then once."""
    return SimpleLazyObject(settings_app_name)


def app_name_of(field: str = "app") -> Coalesce:
    """The app's name as an SQL expression (one join, no query per row); the settings' for none."""
    return Coalesce(F(f"{field}__name"), Value(settings_app_name()))


@dataclass(frozen=True)
class AppScope:
    """The apps whose rows are in view: `app_ids` None for every app."""

    app_ids: tuple[int, ...] | None
    # Whether the rows naming no app (the settings' app's) are in view.
    includes_unnamed: bool = True

    @property
    def is_everything(self) -> bool:
        return self.app_ids is None

    def rows(self, field: str = "app") -> Q:
        """A filter for a table's rows in view, by its app column."""
        if self.app_ids is None:
            return Q()
        named = Q(**{f"{field}__in": self.app_ids})
        return named | Q(**{f"{field}__isnull": True}) if self.includes_unnamed else named

    def rows_of_both_environments(self, field: str = "app") -> Q:
        """A filter for the rows in view of either environment: each in an environment its app
        uses (a row naming no app in the settings' one, where it was written).

        No query of its own: the apps using each environment are a subquery. The environments
        are named as a list too, so an index led by the environment still finds the rows.
        """
        in_use = []
        for environment in BOTH_ENVIRONMENTS:
            apps = App.objects.using_environment(environment).values("pk")
            used = Q(**{f"{field}__in": apps})
            if environment == settings.APPSTORE_ENVIRONMENT:
                used |= Q(**{f"{field}__isnull": True})
            in_use.append(Q(environment=environment) & used)
        return (
            Q(environment__in=BOTH_ENVIRONMENTS)
            & self.rows(field)
            & functools.reduce(operator.or_, in_use)
        )

    def tally_ids(self) -> list[int] | None:
        """The app IDs as the daily tallies key them (0 for none), or None for every app."""
        if self.app_ids is None:
            return None
        return [*self.app_ids, *([0] if self.includes_unnamed else [])]

    def narrowed_to(self, app: App | None) -> AppScope:
        """Only `app`'s rows (within this scope); None leaves the scope as it is."""
        if app is None:
            return self
        if self.app_ids is not None and app.pk not in self.app_ids:
            return AppScope(app_ids=(), includes_unnamed=False)
        own = settings_app()
        return AppScope(app_ids=(app.pk,), includes_unnamed=own is not None and own.pk == app.pk)


EVERY_APP = AppScope(app_ids=None)


def scope_of(user) -> AppScope:
    """The apps `user` may see (the apps naming them, in one query): every app, with
    no filter at all, unless some apps name them."""
    ids = tuple(App.objects.filter(limited_agents=user).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return EVERY_APP
    own = settings_app()
    return AppScope(app_ids=ids, includes_unnamed=own is not None and own.pk in ids)
