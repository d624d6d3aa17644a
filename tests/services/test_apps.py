"""The apps the desk serves: the settings' app, keys named not stored, who sees which app."""

from __future__ import annotations

import pytest

from lookups.models import App
from lookups.services import apps
from lookups.services.apps import AppKeyMissing, apps_for, desk_apps, private_key_pem, setup_of

pytestmark = pytest.mark.django_db


def test_a_desk_with_no_app_registered_serves_the_app_of_its_settings(settings):
    App.objects.all().delete()
    settings.APPSTORE_BUNDLE_ID = "com.example.only"
    settings.APPSTORE_ISSUER_ID = "issuer-of-the-settings"

    [app] = desk_apps()

    assert app.follows_settings
    setup = setup_of(app)
    assert (setup.bundle_id, setup.issuer_id) == ("com.example.only", "issuer-of-the-settings")
    assert setup.environments == (settings.APPSTORE_ENVIRONMENT,)


def test_a_registered_app_uses_its_own_ids_and_environments():
    app = App.objects.create(
        name="Trainer",
        bundle_id="com.example.trainer",
        app_apple_id=987,
        uses_sandbox=True,
        issuer_id="issuer-t",
        key_id="KEYT",
        private_key_source="TRAINER_P8",
    )

    setup = setup_of(app)

    assert (setup.bundle_id, setup.app_apple_id, setup.key_id) == (
        "com.example.trainer",
        987,
        "KEYT",
    )
    assert setup.environments == ("Production", "Sandbox")


def test_the_key_is_read_from_the_variable_its_file_or_a_path(monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINER_P8", "pem from the variable")
    assert private_key_pem("TRAINER_P8") == "pem from the variable"

    key_file = tmp_path / "trainer.p8"
    key_file.write_text("pem from the file")
    monkeypatch.delenv("TRAINER_P8")
    monkeypatch.setenv("TRAINER_P8_FILE", str(key_file))
    assert private_key_pem("TRAINER_P8") == "pem from the file"
    assert private_key_pem(str(key_file)) == "pem from the file"

    monkeypatch.delenv("TRAINER_P8_FILE")
    with pytest.raises(AppKeyMissing, match="TRAINER_P8"):
        private_key_pem("TRAINER_P8")


def test_an_agent_named_on_an_app_sees_only_the_apps_naming_them(agent_user, manager_user):
    first = desk_apps()[0]
    second = App.objects.create(name="Second", bundle_id="com.example.second")
    third = App.objects.create(name="Third", bundle_id="com.example.third")
    second.limited_agents.add(agent_user)

    assert apps_for(agent_user) == [second]
    assert set(apps_for(manager_user)) == {first, second, third}


def test_each_app_has_its_own_rate_budget(settings):
    settings.APPSTORE_ENVIRONMENT = "Production"
    first = desk_apps()[0]
    second = App.objects.create(
        name="Second", bundle_id="com.example.second", rate_limits={"lookup": 3}
    )

    assert apps.rate_limits_for(setup_of(second), "Production")["lookup"] == 3
    assert apps.rate_limits_for(setup_of(first), "Production")["lookup"] == 10
    assert apps.rate_limits_for(setup_of(first), "Sandbox")["lookup"] == 1


def test_which_apps_an_agent_sees_is_told_by_one_query(
    agent_user, manager_user, django_assert_num_queries
):
    first = desk_apps()[0]
    second = App.objects.create(name="Second", bundle_id="com.example.second")
    second.limited_agents.add(agent_user)

    with django_assert_num_queries(1):
        assert apps_for(agent_user) == [second]
    with django_assert_num_queries(1):
        assert set(apps_for(manager_user)) == {first, second}
