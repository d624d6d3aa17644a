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
