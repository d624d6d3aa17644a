"""Which apps' rows a person sees, and the name of a row naming no app."""

from __future__ import annotations

import pytest

from lookups.models import App, Lookup
from lookups.services.app_scope import (
    EVERY_APP,
    app_name_of,
    scope_of,
    settings_app,
    settings_app_name,
)
from lookups.services.apps import desk_apps
from tests.fixtures.rows import make_lookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def apps(settings) -> tuple[App, App]:
    [own] = desk_apps()
    return own, App.objects.create(name="Coach", bundle_id="com.example.coach")


def test_a_row_naming_no_app_is_called_by_the_settings_apps_name(settings, apps):
    own, _ = apps
    own.name = "Demo"
    own.save()

    assert settings_app() == own
    assert settings_app_name() == "Demo"


def test_with_no_app_registered_a_row_naming_none_is_called_by_the_bundle_id(settings):
    App.objects.all().delete()
    settings.APPSTORE_BUNDLE_ID = "com.example.only"

    assert settings_app() is None
    assert settings_app_name() == "com.example.only"


def test_someone_no_app_names_sees_every_app_with_no_filter(agent_user, apps):
    scope = scope_of(agent_user)

    assert scope == EVERY_APP
    assert scope.tally_ids() is None
    assert not scope.rows()


def test_someone_limited_to_another_app_sees_none_of_the_settings_apps_rows(
    agent_user, make_user, apps
):
    own, coach = apps
    coach.limited_agents.add(agent_user)
    theirs = make_lookup(agent_user, app=coach)
    make_lookup(agent_user, app=own)
    make_lookup(agent_user, app=None)

    scope = scope_of(agent_user)

    assert scope.app_ids == (coach.pk,)
    assert not scope.includes_unnamed
    assert scope.tally_ids() == [coach.pk]
    assert list(Lookup.objects.filter(scope.rows())) == [theirs]


def test_someone_limited_to_the_settings_app_sees_the_rows_naming_none(agent_user, apps):
    own, coach = apps
    own.limited_agents.add(agent_user)
    older = make_lookup(agent_user, app=None)
    newer = make_lookup(agent_user, app=own)
    make_lookup(agent_user, app=coach)

    scope = scope_of(agent_user)

    assert scope.includes_unnamed
    assert scope.tally_ids() == [own.pk, 0]
    assert set(Lookup.objects.filter(scope.rows())) == {older, newer}


def test_narrowing_to_an_app_outside_the_scope_leaves_nothing(agent_user, apps):
    own, coach = apps
    own.limited_agents.add(agent_user)

    narrowed = scope_of(agent_user).narrowed_to(coach)

    assert narrowed.app_ids == ()
    assert not narrowed.includes_unnamed
    assert EVERY_APP.narrowed_to(None) == EVERY_APP
    assert EVERY_APP.narrowed_to(own).includes_unnamed


def test_the_app_name_is_read_in_the_same_query(agent_user, apps, django_assert_num_queries):
    _, coach = apps
    make_lookup(agent_user, app=coach)
    make_lookup(agent_user, app=None)
    name = app_name_of()

    with django_assert_num_queries(1):
        names = sorted(Lookup.objects.annotate(app_name=name).values_list("app_name", flat=True))

    assert names == sorted(["Coach", settings_app_name()])


def environments_seen(scope, agent) -> set[tuple[str, str]]:
    """(app, environment) of the lookups `scope` shows of both environments."""
    rows = Lookup.objects.filter(scope.rows_of_both_environments(), agent=agent)
    return {(row.app.name if row.app else "none", row.environment) for row in rows}


@pytest.fixture
def rows_everywhere(agent_user, apps) -> None:
    """A lookup of each app, and of no app, in each environment."""
    _, coach = apps
    coach.uses_sandbox = True
    coach.save()
    App.objects.create(name="Journal", bundle_id="com.example.journal")
    for app in [None, *App.objects.all()]:
        for environment in ("Production", "Sandbox"):
            make_lookup(agent_user, app=app, environment=environment)


def test_both_environments_show_where_each_app_uses_them(settings, agent_user, rows_everywhere):
    own = settings_app()

    seen = environments_seen(EVERY_APP, agent_user)

    # The settings' app and the rows naming none live in the settings' environment; Coach uses
    # both; Journal only Production: a Sandbox row of an app not using Sandbox is not in view.
    assert settings.APPSTORE_ENVIRONMENT == "Production"
    assert seen == {
        ("none", "Production"),
        (own.name, "Production"),
        ("Coach", "Production"),
        ("Coach", "Sandbox"),
        ("Journal", "Production"),
    }


def test_an_app_following_settings_of_sandbox_shows_its_sandbox_rows(
    settings, agent_user, rows_everywhere
):
    settings.APPSTORE_ENVIRONMENT = "Sandbox"
    own = settings_app()

    seen = environments_seen(EVERY_APP, agent_user)

    assert ("none", "Sandbox") in seen and (own.name, "Sandbox") in seen
    assert ("none", "Production") not in seen and (own.name, "Production") not in seen


def test_both_environments_stay_within_the_persons_apps(agent_user, apps, rows_everywhere):
    _, coach = apps
    coach.limited_agents.add(agent_user)

    seen = environments_seen(scope_of(agent_user), agent_user)

    assert seen == {("Coach", "Production"), ("Coach", "Sandbox")}


def test_the_environments_an_app_uses_are_read_in_the_same_query(
    agent_user, rows_everywhere, django_assert_num_queries
):
    with django_assert_num_queries(1):
        list(Lookup.objects.filter(EVERY_APP.rows_of_both_environments()))
