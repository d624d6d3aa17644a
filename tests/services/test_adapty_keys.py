"""Which Adapty key a purchase goes with: its app's own, the settings' for the settings' app, or
none; read from a variable, its file or a path, and never stored."""

from __future__ import annotations

import pytest

from lookups.models import App
from lookups.services.adapty_keys import (
    AdaptyKeyUnreadable,
    adapty_key_of,
    adapty_step_of,
    desk_sends_to_adapty,
    sends_to_adapty,
)
from lookups.services.apps import desk_apps

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainer() -> App:
    return App.objects.create(name="Trainer", bundle_id="com.example.trainer")


def test_the_settings_app_keeps_the_settings_key(settings):
    settings.ADAPTY_SECRET_KEY = "secret_live_of_the_settings"
    [app] = desk_apps()

    assert sends_to_adapty(app) and sends_to_adapty(None)
    assert adapty_key_of(app) == adapty_key_of(None) == "secret_live_of_the_settings"


def test_an_app_of_its_own_is_sent_only_with_a_key_of_its_own(settings, trainer, monkeypatch):
    settings.ADAPTY_SECRET_KEY = "secret_live_of_the_settings"
    assert not sends_to_adapty(trainer)

    monkeypatch.setenv("TRAINER_ADAPTY_KEY", "secret_live_trainer\n")
    trainer.adapty_key_source = "TRAINER_ADAPTY_KEY"

    assert sends_to_adapty(trainer)
    assert adapty_key_of(trainer) == "secret_live_trainer"


def test_a_key_named_on_the_settings_app_wins_over_the_settings(settings, monkeypatch):
    settings.ADAPTY_SECRET_KEY = "secret_live_of_the_settings"
    [app] = desk_apps()
    monkeypatch.setenv("DEMO_ADAPTY_KEY", "secret_live_demo")
    app.adapty_key_source = "DEMO_ADAPTY_KEY"

    assert adapty_key_of(app) == "secret_live_demo"


def test_the_key_is_read_from_its_file_or_a_path(trainer, monkeypatch, tmp_path):
    key_file = tmp_path / "trainer-adapty"
    key_file.write_text("secret_live_from_a_file\n")
    monkeypatch.setenv("TRAINER_ADAPTY_KEY_FILE", str(key_file))
    trainer.adapty_key_source = "TRAINER_ADAPTY_KEY"
    assert adapty_key_of(trainer) == "secret_live_from_a_file"

    trainer.adapty_key_source = str(key_file)
    assert adapty_key_of(trainer) == "secret_live_from_a_file"


def test_a_key_that_cannot_be_read_says_where_it_was_looked_for(trainer, tmp_path):
    trainer.adapty_key_source = "TRAINER_ADAPTY_KEY"
    with pytest.raises(AdaptyKeyUnreadable, match="neither TRAINER_ADAPTY_KEY nor TRAINER_ADA"):
        adapty_key_of(trainer)

    missing = tmp_path / "nowhere"
    trainer.adapty_key_source = str(missing)
    with pytest.raises(AdaptyKeyUnreadable, match=f"{missing}: No such file or directory"):
        adapty_key_of(trainer)

    empty = tmp_path / "empty"
    empty.write_text("\n")
    trainer.adapty_key_source = str(empty)
    unreadable = r"Trainer's Adapty key can't be read \(.+ is empty\)"
    with pytest.raises(AdaptyKeyUnreadable, match=unreadable):
        adapty_key_of(trainer)


def test_a_key_taken_away_since_the_send_was_queued_is_unreadable(trainer):
    with pytest.raises(AdaptyKeyUnreadable, match="Trainer has no Adapty key on this desk"):
        adapty_key_of(trainer)


def test_the_desk_uses_adapty_if_any_app_has_a_key(settings, trainer):
    settings.ADAPTY_SECRET_KEY = ""
    assert not desk_sends_to_adapty()

    trainer.adapty_key_source = "TRAINER_ADAPTY_KEY"
    trainer.save()

    assert desk_sends_to_adapty()


def test_the_admin_reads_whether_the_key_can_be_read_never_the_key(trainer, monkeypatch):
    assert adapty_step_of(trainer).startswith("Off: no Adapty key is named")

    trainer.adapty_key_source = "TRAINER_ADAPTY_KEY"
    assert adapty_step_of(trainer).startswith("On, but failing: Trainer's Adapty key can't be")

    monkeypatch.setenv("TRAINER_ADAPTY_KEY", "secret_live_trainer")
    step = adapty_step_of(trainer)
    assert step == "On: links are sent with the key in TRAINER_ADAPTY_KEY."
    assert "secret_live_trainer" not in step
