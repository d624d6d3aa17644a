"""Superusers register apps in the admin; the key itself is refused, only where it is."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.models import App

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Trainer",
    "bundle_id": "com.example.trainer",
    "app_apple_id": "6450000001",
    "uses_production": "on",
    "uses_sandbox": "on",
    "issuer_id": "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
    "key_id": "TRAINERKEY",
    "rate_limits": "{}",
    "created_at_0": "2026-12-01",
    "created_at_1": "10:00:00",
}


def test_a_superuser_registers_an_app_naming_where_its_key_is(superuser_client):
    page = superuser_client.post(
        reverse("admin:lookups_app_add"), {**FORM, "private_key_source": "TRAINER_P8"}
    )

    assert page.status_code == 302
    app = App.objects.get(bundle_id="com.example.trainer")
    assert app.environments == ["Production", "Sandbox"]
    assert app.private_key_source == "TRAINER_P8"


def test_the_key_itself_is_refused(superuser_client):
    pem = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\n-----END PRIVATE KEY-----"
    page = superuser_client.post(
        reverse("admin:lookups_app_add"), {**FORM, "private_key_source": pem}
    )

    assert page.status_code == 200
    assert "never the key itself" in page.text
    assert not App.objects.filter(bundle_id="com.example.trainer").exists()


def test_an_app_uses_at_least_one_environment(superuser_client):
    form = {k: v for k, v in FORM.items() if not k.startswith("uses_")}
    page = superuser_client.post(
        reverse("admin:lookups_app_add"), {**form, "private_key_source": "TRAINER_P8"}
    )

    assert "uses Production, Sandbox or both" in page.text


def test_the_app_page_shows_where_apple_posts_each_environment(superuser_client):
    app = App.objects.create(name="Trainer", bundle_id="com.example.trainer", uses_sandbox=True)

    page = superuser_client.get(reverse("admin:lookups_app_change", args=[app.pk]))

    assert f"/appstore/notifications/{app.pk}/production/" in page.text
    assert f"/appstore/notifications/{app.pk}/sandbox/" in page.text


def test_a_superuser_names_where_the_apps_adapty_key_is(superuser_client, monkeypatch):
    page = superuser_client.post(
        reverse("admin:lookups_app_add"),
        {
            **FORM,
            "private_key_source": "TRAINER_P8",
            "adapty_key_source": " TRAINER_ADAPTY_KEY ",
        },
    )

    assert page.status_code == 302
    app = App.objects.get(bundle_id="com.example.trainer")
    assert app.adapty_key_source == "TRAINER_ADAPTY_KEY"
    monkeypatch.setenv("TRAINER_ADAPTY_KEY", "secret_live_trainer")
    shown = superuser_client.get(reverse("admin:lookups_app_change", args=[app.pk]))
    assert "On: links are sent with the key in TRAINER_ADAPTY_KEY." in shown.text
    assert "secret_live_trainer" not in shown.text


def test_the_adapty_key_itself_is_refused(superuser_client):
    page = superuser_client.post(
        reverse("admin:lookups_app_add"),
        {
            **FORM,
            "private_key_source": "TRAINER_P8",
            "adapty_key_source": "secret_live_BEHrYLTr.ce5zuDEWz06lFCLSTp6S",
        },
    )

    assert page.status_code == 200
    assert "Name where the Adapty key is" in page.text
    assert not App.objects.filter(bundle_id="com.example.trainer").exists()


def test_the_app_page_says_when_its_adapty_key_cannot_be_read(superuser_client):
    app = App.objects.create(
        name="Trainer", bundle_id="com.example.trainer", adapty_key_source="TRAINER_ADAPTY_KEY"
    )

    page = superuser_client.get(reverse("admin:lookups_app_change", args=[app.pk]))

    assert "On, but failing: Trainer&#x27;s Adapty key can&#x27;t be read" in page.text
    assert "neither TRAINER_ADAPTY_KEY nor TRAINER_ADAPTY_KEY_FILE is set" in page.text
