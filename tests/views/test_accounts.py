"""Customer accounts: the agents' search and each account's page."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from lookups.models import Purchase
from lookups.views import accounts

pytestmark = pytest.mark.django_db


def test_agents_search_customer_accounts(agent_client, customer_account):
    response = agent_client.get(reverse("lookups:accounts"), {"q": customer_account.email[:5]})
    assert response.status_code == 200
    assert customer_account.display_name in response.text


def test_an_account_without_links_says_no_purchase_has_been_linked(agent_client, customer_account):
    response = agent_client.get(reverse("lookups:account", args=[customer_account.pk]))
    assert response.status_code == 200
    assert customer_account.email in response.text
    assert "No purchase has been linked" in response.text


def test_the_account_search_refuses_post(agent_client):
    assert agent_client.post(reverse("lookups:accounts")).status_code == 405


def test_the_account_search_lists_matches_by_name(agent_client, make_account):
    for name in ("Zoe Adams", "Anna Berg", "Mia Chen"):
        make_account(display_name=name)
    page = agent_client.get(reverse("lookups:accounts"), {"q": "customer"}).text
    assert page.index("Anna Berg") < page.index("Mia Chen") < page.index("Zoe Adams")


def test_the_customers_page_opens_on_the_customers_the_agent_touched_last(
    agent_client, make_account, manager_user
):
    first, second = (
        make_account(display_name="First Opened"),
        make_account(display_name="Second Opened"),
    )
    make_account(display_name="Never Opened")
    assert "Customers you opened last" not in agent_client.get("/accounts/").text
    agent_client.get(f"/accounts/{first.pk}/")
    agent_client.get(f"/accounts/{second.pk}/")
    page = agent_client.get("/accounts/").text
    assert "Customers you opened last" in page
    assert page.index("Second Opened") < page.index("First Opened")
    assert "Never Opened" not in page


def account_url(account) -> str:
    return f"/accounts/{account.pk}/"


def notes_url(account) -> str:
    return f"/accounts/{account.pk}/notes/"


def test_an_agent_adds_a_note_and_it_shows_on_the_customer_page(agent_client, agent_user, maya):
    answer = agent_client.post(
        notes_url(maya), {"text": "Called: wants the yearly plan", "ticket_reference": "SD-77"}
    )
    assert answer.status_code == 302 and answer["Location"] == account_url(maya) + "#notes"
    page = agent_client.get(account_url(maya)).text
    notes = page[page.index('id="notes"') :]
    assert "Called: wants the yearly plan" in notes
    assert "SD-77" in notes and agent_user.get_username() in notes


def test_a_note_with_a_token_is_refused_and_the_text_is_kept(agent_client, maya):
    text = f"Her token: {maya.app_account_token}"
    answer = agent_client.post(notes_url(maya), {"text": text, "ticket_reference": ""})
    assert answer.status_code == 200
    assert "never hold app account tokens" in html.unescape(answer.text)
    assert text in answer.text
    assert maya.notes.count() == 0


def test_the_author_edits_a_note_and_the_earlier_text_stays_for_auditors(
    agent_client, agent_user, auditor_client, maya
):
    from lookups.services.notes import add_note

    note = add_note(agent_user, maya, "Before", ticket="")
    answer = agent_client.post(
        f"{notes_url(maya)}{note.pk}/", {"text": "After", "ticket_reference": ""}
    )
    assert answer.status_code == 302
    page = agent_client.get(account_url(maya)).text
    assert "After" in page and "edited" in page
    admin_page = auditor_client.get(f"/admin/lookups/customernote/{note.pk}/change/").text
    assert "Before" in admin_page and "After" in admin_page


def test_another_agent_may_not_edit_a_note(agent_user, make_user, maya):
    from django.test import Client

    from lookups.services.notes import add_note

    note = add_note(agent_user, maya, "Mine", ticket="")
    other = Client()
    other.force_login(make_user("agent-two", "Support agents"))
    answer = other.post(f"{notes_url(maya)}{note.pk}/", {"text": "Theirs", "ticket_reference": ""})
    assert answer.status_code == 200 and "Only the note's author" in html.unescape(answer.text)
    note.refresh_from_db()
    assert note.text == "Mine"


def test_a_customer_with_many_purchases_shows_the_newest_and_offers_them_all(
    agent_client, customer_account, monkeypatch
):
    monkeypatch.setattr(accounts, "PURCHASES_SHOWN", 2)
    for n, hours_ago in enumerate((3, 1, 2)):
        original = f"20000009990000{n:02d}"
        Purchase.objects.create(
            environment=settings.APPSTORE_ENVIRONMENT,
            original_transaction_id=original,
            latest_transaction={"transactionId": original, "productId": "com.example.pro"},
            product_id="com.example.pro",
            app_account_token=customer_account.app_account_token,
            learnt_at=timezone.now() - timedelta(hours=hours_ago),
            learnt_from=Purchase.Source.LOOKUP,
        )
    url = reverse("lookups:account", args=[customer_account.pk])

    page = agent_client.get(url).text
    everything = agent_client.get(url, {"purchases": "all"}).text

    assert "purchase-2000000999000001" in page and "purchase-2000000999000002" in page
    assert "purchase-2000000999000000" not in page
    assert "The 2 newest of 3 purchases." in page
    assert "purchase-2000000999000000" in everything
    assert "newest of" not in everything


# --- Apps ---------------------------------------------------------------------------------------


def _purchase(account, original: str, app, product_id: str = "com.example.pro") -> Purchase:
    return Purchase.objects.create(
        environment=settings.APPSTORE_ENVIRONMENT,
        original_transaction_id=original,
        latest_transaction={"transactionId": original, "productId": product_id},
        product_id=product_id,
        app=app,
        app_account_token=account.app_account_token,
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )


@pytest.fixture
def coach():
    from lookups.models import App
    from lookups.services.apps import desk_apps

    [own] = desk_apps()
    own.name = "Supportdesk Demo"
    own.save()
    return App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")


def test_the_customer_page_names_each_purchases_app_and_its_products_there(
    agent_client, customer_account, coach
):
    from lookups.models import Product

    Product.objects.create(product_id="com.example.pro", display_name="Pro")
    Product.objects.create(product_id="com.example.pro", display_name="Coach Pro", app=coach)
    _purchase(customer_account, "2000000999100001", None)
    _purchase(customer_account, "2000000999100002", coach)

    page = agent_client.get(reverse("lookups:account", args=[customer_account.pk])).text

    def row(original: str) -> str:
        start = page.index(f'id="purchase-{original}"')
        return page[start : page.index("</tr>", start)]

    assert "Supportdesk Demo" in row("2000000999100001") and ">Pro<" in row("2000000999100001")
    assert "Coach" in row("2000000999100002") and "Coach Pro" in row("2000000999100002")
    assert "Sandbox" not in page


def test_a_sandbox_purchase_is_labelled_plainly(agent_client, customer_account, coach, settings):
    settings.APPSTORE_ENVIRONMENT = "Sandbox"
    _purchase(customer_account, "2000000999100003", coach)

    page = agent_client.get(reverse("lookups:account", args=[customer_account.pk])).text

    assert "Sandbox: a test purchase, no money moved" in page


def test_an_agent_limited_to_one_app_sees_only_its_purchases(
    agent_client, agent_user, customer_account, coach
):
    coach.limited_agents.add(agent_user)
    _purchase(customer_account, "2000000999100004", None)  # the settings' app's
    _purchase(customer_account, "2000000999100005", coach)

    url = reverse("lookups:account", args=[customer_account.pk])
    page = agent_client.get(url).text
    refunds = agent_client.get(
        reverse("lookups:account_refunds", args=[customer_account.pk, "2000000999100004"])
    )

    assert "purchase-2000000999100005" in page
    assert "2000000999100004" not in page
    assert refunds.status_code == 404
