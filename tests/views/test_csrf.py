"""CSRF: every form and every htmx request carries the token, and nothing is done without it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from lookups.models import Lookup, TokenChange
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import (
    HTMX,
    csrf_client,
    link_form,
    token_from_page,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# --- CSRF --------------------------------------------------------------------------------------


def test_an_htmx_link_without_the_csrf_token_is_refused_and_sends_nothing(
    agent_user, appstore_settings, simulator, maya
):
    client = csrf_client(agent_user)
    client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    lookup = Lookup.objects.get()
    url = reverse("lookups:link", args=[PURCHASE_OFFER_CODE])

    refused = client.post(url, link_form(lookup, maya), headers=HTMX)

    assert refused.status_code == 403
    assert not TokenChange.objects.exists()
    assert "PUT" not in [method for method, _ in simulator.requests]

    token = token_from_page(client, url)
    made = client.post(url, link_form(lookup, maya), headers={**HTMX, "X-CSRFToken": token})
    assert made.status_code == 200 and "Linked to" in made.text


def test_signing_in_and_out_need_the_csrf_token(staff):
    client = csrf_client()
    credentials = {"username": "river", "password": staff["river"]}
    assert client.post(reverse("login"), credentials).status_code == 403

    token = token_from_page(client, reverse("login"))
    signed_in = client.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302

    assert client.post(reverse("logout")).status_code == 403
    assert client.get(reverse("lookups:look_up")).status_code == 200


def test_the_admin_refuses_a_change_without_the_csrf_token(superuser, customer_account):
    client = csrf_client(superuser)
    url = reverse("admin:lookups_customeraccount_change", args=[customer_account.pk])
    data = {
        "external_id": "changed",
        "email": customer_account.email,
        "display_name": "Changed",
        "app_account_token": str(customer_account.app_account_token),
    }
    assert client.post(url, data).status_code == 403
    customer_account.refresh_from_db()
    assert customer_account.display_name == "Jane Doe"


def test_every_template_form_that_posts_carries_the_token():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, re.DOTALL | re.IGNORECASE):
            if re.search(r"""method=["']post["']""", form, re.IGNORECASE):
                assert "{% csrf_token %}" in form, f"{template.name}: a POST form has no token"
