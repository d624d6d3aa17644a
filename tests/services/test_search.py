"""The one search box's service: what each kind of input finds, ranked, and what reaches Apple."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from lookups.models import App, CustomerNote, Purchase
from lookups.services.app_scope import scope_of
from lookups.services.search import search
from tests.fixtures.rows import make_lookup, make_token_change

pytestmark = pytest.mark.django_db


def make_purchase(account=None, **fields) -> Purchase:
    original = fields.pop("original_transaction_id", "2000000111111111")
    latest = fields.pop("transaction_id", original)
    app_transaction_id = fields.pop("app_transaction_id", "705000000000009999")
    return Purchase.objects.create(
        environment=fields.pop("environment", settings.APPSTORE_ENVIRONMENT),
        original_transaction_id=original,
        latest_transaction={
            "transactionId": latest,
            "originalTransactionId": original,
            "appTransactionId": app_transaction_id,
            "productId": "com.example.pro.monthly",
        },
        product_id="com.example.pro.monthly",
        app_account_token=account.app_account_token if account else None,
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
        **fields,
    )


@pytest.fixture
def ana(make_account):
    return make_account(display_name="Ana Lindqvist", email="ana.lindqvist@example.com")


@pytest.fixture
def others(make_account):
    return [
        make_account(display_name="Bob Analyst", email="bob@example.com"),
        make_account(display_name="Cleo Park", email="cleo@example.org"),
    ]


def names(found) -> list[str]:
    return [hit.account.display_name for hit in found.customers]


def test_an_email_finds_its_customer_and_offers_no_apple_lookup(ana, others):
    found = search("ANA.lindqvist@example.com")
    assert names(found) == ["Ana Lindqvist"]
    assert found.customers[0].matched == "email"
    assert found.apple is None


def test_a_name_prefix_ranks_before_a_name_that_only_contains_it(ana, others):
    found = search("ana")
    assert names(found) == ["Ana Lindqvist", "Bob Analyst"]
    assert found.apple is None


def test_a_name_with_a_space_is_a_name_not_an_order(ana, others):
    found = search("Ana Lindqvist")
    assert names(found) == ["Ana Lindqvist"]
    assert found.apple is None


def test_a_token_finds_its_customer_and_their_purchases(ana, others):
    make_purchase(ana)
    found = search(str(ana.app_account_token).upper())
    assert names(found) == ["Ana Lindqvist"]
    assert found.customers[0].matched == "token"
    assert [hit.purchase.original_transaction_id for hit in found.purchases] == ["2000000111111111"]
    assert found.apple is None


def test_the_account_id_finds_its_customer(ana, others):
    found = search(ana.external_id)
    assert names(found)[0] == "Ana Lindqvist"
    assert found.customers[0].matched == "account ID"


@pytest.mark.parametrize(
    "typed, matched",
    [
        ("2000000111111111", "original transaction"),
        ("2000000111119999", "transaction"),
        ("705000000000000555", "appTransactionId"),
    ],
)
def test_any_transaction_id_finds_the_purchase_its_customer_and_offers_apple(
    ana, others, typed, matched
):
    make_purchase(ana, transaction_id="2000000111119999", app_transaction_id="705000000000000555")
    found = search(typed)
    assert [(hit.purchase.original_transaction_id, hit.matched) for hit in found.purchases] == [
        ("2000000111111111", matched)
    ]
    assert found.purchases[0].account == ana
    assert names(found) == ["Ana Lindqvist"]
    assert (found.apple.kind, found.apple.value) == ("transaction", typed)


def test_an_order_id_finds_the_desks_purchases_and_offers_an_apple_lookup(ana, others):
    make_purchase(ana, order_id="MK5TTTVWJH")
    found = search(" mk5tttvwjh ")
    assert [hit.matched for hit in found.purchases] == ["order"]
    assert names(found) == ["Ana Lindqvist"]
    assert (found.apple.kind, found.apple.value) == ("order", "MK5TTTVWJH")


def test_an_unknown_order_id_is_still_offered_to_apple(ana):
    found = search("MZ8Q4KDJ7V")
    assert found.customers == [] and found.purchases == []
    assert (found.apple.kind, found.apple.value) == ("order", "MZ8Q4KDJ7V")


def test_a_ticket_finds_the_customers_it_names_and_lists_their_tickets(ana, others, agent_user):
    make_token_change(agent_user, ana, lookup=make_lookup(agent_user), ticket_reference="SD-4821")
    CustomerNote.objects.create(
        account=ana, author=agent_user, text="Called back", ticket_reference="SD-5000"
    )
    found = search("sd-4821")
    assert names(found) == ["Ana Lindqvist"]
    assert found.customers[0].matched == "ticket SD-4821"
    assert found.customers[0].tickets == ("SD-4821", "SD-5000")


def test_a_notes_text_finds_its_customer(ana, others, agent_user):
    CustomerNote.objects.create(
        account=ana, author=agent_user, text="Prefers email; travelling until March"
    )
    found = search("travelling until")
    assert names(found) == ["Ana Lindqvist"]
    assert found.customers[0].matched == "note"
    assert "travelling until March" in found.customers[0].detail


def test_nothing_typed_finds_nothing(ana):
    found = search("   ")
    assert found.customers == [] and found.purchases == [] and found.apple is None


def test_an_exact_match_ranks_before_a_partial_one(make_account):
    make_account(display_name="Zed", email="zed.other@example.com", external_id="zed")
    exact = make_account(display_name="Zed Exact", email="zed@example.com")
    found = search("zed@example.com")
    assert found.customers[0].account == exact


def test_a_uuid_nobody_has_finds_nobody(ana):
    assert search(str(uuid.uuid4())).customers == []


@pytest.mark.parametrize(
    "typed", ["mayapatel", "Maya Patel", "maya.patel@example.com", "Maya", "SD-4821"]
)
def test_nothing_but_an_order_or_transaction_id_is_offered_to_apple(typed):
    assert search(typed).apple is None


@pytest.mark.parametrize(
    "typed, offer",
    [
        ("MK5TTTVWJH", ("order", "MK5TTTVWJH")),
        ("mk5tttvwjh", ("order", "MK5TTTVWJH")),
        ("Order ID: MK5TTTVWJH", ("order", "MK5TTTVWJH")),
        ("2000000815627301", ("transaction", "2000000815627301")),
    ],
)
def test_order_and_transaction_ids_are_offered_to_apple(typed, offer):
    found = search(typed)
    assert (found.apple.kind, found.apple.value) == offer


def test_a_transaction_id_typed_in_groups_of_digits_finds_its_purchase(ana):
    make_purchase(ana)
    found = search("2000 0001 1111 1111")
    assert [hit.purchase.original_transaction_id for hit in found.purchases] == ["2000000111111111"]
    assert (found.apple.kind, found.apple.value) == ("transaction", "2000000111111111")


@pytest.fixture
def coach_and_journal() -> tuple[App, App]:
    """Coach uses both environments, Journal only Production."""
    coach = App.objects.create(name="Coach", bundle_id="com.example.coach", uses_sandbox=True)
    journal = App.objects.create(name="Journal", bundle_id="com.example.journal")
    return coach, journal


def found_purchases(found) -> list[tuple[str, str]]:
    return sorted(
        (hit.purchase.original_transaction_id, hit.purchase.environment) for hit in found.purchases
    )


def test_a_token_finds_its_customers_purchases_of_both_environments(ana, coach_and_journal):
    coach, _ = coach_and_journal
    make_purchase(ana, app=coach, original_transaction_id="2000000111111111")
    make_purchase(ana, app=coach, environment="Sandbox", original_transaction_id="2000000222222222")

    found = search(str(ana.app_account_token))

    assert found_purchases(found) == [
        ("2000000111111111", "Production"),
        ("2000000222222222", "Sandbox"),
    ]
    assert names(found) == ["Ana Lindqvist"]


@pytest.mark.parametrize("typed", ["2000000222222222", "2000000222229999", "MK5SANDBOX1"])
def test_an_id_or_order_finds_a_sandbox_purchase(ana, coach_and_journal, typed):
    coach, _ = coach_and_journal
    make_purchase(
        ana,
        app=coach,
        environment="Sandbox",
        original_transaction_id="2000000222222222",
        transaction_id="2000000222229999",
        order_id="MK5SANDBOX1",
    )

    assert found_purchases(search(typed)) == [("2000000222222222", "Sandbox")]


def test_a_sandbox_purchase_of_an_app_not_using_sandbox_is_not_found(ana, coach_and_journal):
    _, journal = coach_and_journal
    make_purchase(ana, app=journal, environment="Sandbox", order_id="MK5SANDBOX1")
    make_purchase(ana, environment="Sandbox", original_transaction_id="2000000333333333")

    assert search("MK5SANDBOX1").purchases == []
    assert search("2000000333333333").purchases == []
    assert search(str(ana.app_account_token)).purchases == []


def test_an_agent_finds_both_environments_of_their_apps_only(ana, agent_user, coach_and_journal):
    coach, journal = coach_and_journal
    journal.limited_agents.add(agent_user)
    make_purchase(ana, app=coach, environment="Sandbox", original_transaction_id="2000000222222222")
    make_purchase(ana, app=journal, original_transaction_id="2000000111111111")

    found = search(str(ana.app_account_token), apps=scope_of(agent_user))

    assert found_purchases(found) == [("2000000111111111", "Production")]
