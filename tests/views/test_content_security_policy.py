"""The Content-Security-Policy: strict on every page, and no inline code for it to refuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from lookups.models import Lookup
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import (
    HTMX,
    assert_strict_policy,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# --- Content-Security-Policy ----------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_CODE = re.compile(r"javascript:|\shx-on[:-]", re.IGNORECASE)


def inline_code(text: str) -> list[str]:
    """Everything in HTML that a strict Content-Security-Policy would refuse to run."""
    found = [
        f"<script{attributes}>{body[:40]}"
        for attributes, body in INLINE_SCRIPT.findall(text)
        if body.strip() or "src=" not in attributes
    ]
    for pattern in (STYLE_ATTRIBUTE, STYLE_ELEMENT, EVENT_HANDLER, INLINE_CODE):
        found += [text[max(0, m.start() - 30) : m.end() + 30] for m in pattern.finditer(text)]
    return found


def test_no_template_holds_inline_script_style_or_event_handlers():
    templates = list(TEMPLATES.rglob("*.html"))
    assert templates
    for template in templates:
        assert inline_code(template.read_text()) == [], template


def test_every_page_is_served_with_a_strict_policy_and_no_inline_code(
    agent_client, manager_client, appstore_settings, simulator, maya
):
    pages = [
        Client().get(reverse("login")),
        agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}),
        agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}, headers=HTMX),
        agent_client.get(reverse("lookups:history", args=[PURCHASE_OFFER_CODE])),
        agent_client.get(reverse("lookups:link", args=[PURCHASE_OFFER_CODE]), {"q": "maya"}),
        agent_client.get(reverse("lookups:accounts"), {"q": "maya"}),
        agent_client.get(reverse("lookups:account", args=[maya.pk])),
        manager_client.get(reverse("lookups:reports")),
    ]
    lookup = Lookup.objects.filter(kind=Lookup.Kind.ORDER).first()
    pages.append(
        agent_client.get(
            reverse("lookups:link", args=[PURCHASE_OFFER_CODE]),
            {"account": maya.pk, "lookup": lookup.pk},
        )
    )
    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert_strict_policy(response)
        assert inline_code(response.text) == [], response.request["PATH_INFO"]


def test_the_admin_and_error_pages_carry_the_policy_too(auditor_client, agent_client):
    assert_strict_policy(auditor_client.get(reverse("admin:index")))
    assert_strict_policy(agent_client.get("/no-such-page/"))
    assert_strict_policy(agent_client.get(reverse("lookups:reports")))
