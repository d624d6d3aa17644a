"""The desk's rules kept by its models: accounts and their search, the audit rows."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from lookups.models import AuditLogIsAppendOnly, CustomerAccount, Lookup, TokenChange
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.rows import make_lookup, make_token_change


@pytest.fixture
def token_change(agent_user, customer_account) -> TokenChange:
    return make_token_change(agent_user, customer_account)


# --- CustomerAccount ---------------------------------------------------------------------------


def test_account_reads_as_name_and_email(customer_account):
    assert str(customer_account) == "Jane Doe (jane.doe@example.com)"


def test_two_accounts_cannot_share_a_token(make_account):
    first = make_account()
    with pytest.raises(IntegrityError):
        make_account(app_account_token=first.app_account_token)


def test_adapty_user_id_falls_back_to_external_id(make_account):
    assert make_account(external_id="c-1").adapty_user_id == "c-1"
    assert make_account(adapty_customer_user_id="ad-9").adapty_user_id == "ad-9"


@pytest.mark.parametrize("query", ["jane.doe@", "JANE.DOE@EXAMPLE.COM", "cust-ja", "doe"])
def test_search_finds_by_part_of_email_external_id_or_name(customer_account, make_account, query):
    make_account(email="someone@example.org", display_name="Someone Else")
    assert list(CustomerAccount.objects.search(query)) == [customer_account]


def test_search_finds_by_whole_token_in_any_spelling(customer_account, make_account):
    make_account()
    token = customer_account.app_account_token
    for spelling in (str(token), str(token).upper(), token.hex, f"  {token}  "):
        assert list(CustomerAccount.objects.search(spelling)) == [customer_account]


def test_search_does_not_match_part_of_a_token(customer_account):
    assert not CustomerAccount.objects.search(str(customer_account.app_account_token)[:8]).exists()


def test_search_with_nothing_typed_finds_nothing(customer_account):
    assert not CustomerAccount.objects.search("   ").exists()


def test_an_account_with_token_changes_cannot_be_deleted(token_change):
    with pytest.raises(ProtectedError):
        token_change.account.delete()


# --- Lookup ------------------------------------------------------------------------------------


def test_an_order_lookup_reads_as_its_order(agent_user):
    assert str(make_lookup(agent_user)) == f"Order lookup {ORDER_OFFER_CODE} (found)"


def test_history_lookup_reads_as_its_transaction(agent_user):
    lookup = make_lookup(
        agent_user,
        kind=Lookup.Kind.HISTORY,
        order_id="",
        transaction_id="2000000123456789",
        history_version=2,
        outcome=Lookup.Outcome.NOT_FOUND,
    )
    assert str(lookup) == "Transaction history 2000000123456789 (not found)"


def test_a_user_with_lookups_cannot_be_deleted(agent_user):
    make_lookup(agent_user)
    with pytest.raises(ProtectedError):
        agent_user.delete()


# --- TokenChange: append-only ------------------------------------------------------------------


def test_new_token_change_is_pending(token_change):
    token_change.refresh_from_db()
    assert token_change.outcome == TokenChange.Outcome.PENDING
    assert not token_change.is_settled
    assert token_change.settled_at is None


def test_one_request_id_cannot_write_two_rows(token_change, agent_user, customer_account):
    with pytest.raises(IntegrityError):
        make_token_change(agent_user, customer_account, request_id=token_change.request_id)


def test_pending_token_change_can_still_be_saved(token_change):
    token_change.ticket_reference = "ZD-9999"
    token_change.save(update_fields=["ticket_reference"])
    token_change.refresh_from_db()
    assert token_change.ticket_reference == "ZD-9999"


@pytest.mark.parametrize("outcome", [TokenChange.Outcome.SUCCEEDED, TokenChange.Outcome.FAILED])
def test_settled_token_change_refuses_save(token_change, outcome):
    assert token_change.settle(outcome)
    token_change.error_message = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        token_change.save()
    token_change.refresh_from_db()
    assert token_change.error_message == ""


def test_stale_copy_cannot_overwrite_a_row_settled_elsewhere(token_change):
    stale = TokenChange.objects.get(pk=token_change.pk)
    assert token_change.settle(TokenChange.Outcome.SUCCEEDED)
    with pytest.raises(AuditLogIsAppendOnly):
        stale.save()
    token_change.refresh_from_db()
    assert token_change.outcome == TokenChange.Outcome.SUCCEEDED


def test_token_change_refuses_delete(token_change):
    with pytest.raises(AuditLogIsAppendOnly):
        token_change.delete()
    assert TokenChange.objects.filter(pk=token_change.pk).exists()


def test_token_changes_refuse_bulk_delete(token_change):
    with pytest.raises(AuditLogIsAppendOnly):
        TokenChange.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        TokenChange.objects.filter(pk=token_change.pk).delete()
    assert TokenChange.objects.count() == 1


def test_database_refuses_settled_row_without_settle_time(agent_user, customer_account):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_token_change(agent_user, customer_account, outcome=TokenChange.Outcome.SUCCEEDED)


# --- TokenChange: settling ---------------------------------------------------------------------


def test_settle_records_success(token_change):
    assert token_change.settle(TokenChange.Outcome.SUCCEEDED) is True
    assert token_change.is_settled

    stored = TokenChange.objects.get(pk=token_change.pk)
    assert stored.outcome == TokenChange.Outcome.SUCCEEDED
    assert stored.settled_at is not None
    assert stored.error_code is None
    assert stored.error_message == ""


def test_settle_records_apples_error(token_change):
    assert token_change.settle(
        TokenChange.Outcome.FAILED, error_code=4000006, error_message="Invalid transaction id."
    )
    stored = TokenChange.objects.get(pk=token_change.pk)
    assert (stored.outcome, stored.error_code, stored.error_message) == (
        TokenChange.Outcome.FAILED,
        4000006,
        "Invalid transaction id.",
    )


def test_second_settler_loses_and_sees_the_first_outcome(token_change):
    other = TokenChange.objects.get(pk=token_change.pk)
    assert token_change.settle(TokenChange.Outcome.SUCCEEDED) is True

    assert other.settle(TokenChange.Outcome.FAILED, error_code=5000000) is False
    assert other.outcome == TokenChange.Outcome.SUCCEEDED
    assert other.error_code is None

    stored = TokenChange.objects.get(pk=token_change.pk)
    assert stored.outcome == TokenChange.Outcome.SUCCEEDED
    assert stored.settled_at == token_change.settled_at


def test_settling_twice_is_refused_quietly(token_change):
    assert token_change.settle(TokenChange.Outcome.FAILED, error_code=4040010)
    assert token_change.settle(TokenChange.Outcome.SUCCEEDED) is False
    assert token_change.outcome == TokenChange.Outcome.FAILED


def test_settle_refuses_pending_as_an_outcome(token_change):
    with pytest.raises(ValueError):
        token_change.settle(TokenChange.Outcome.PENDING)


@pytest.mark.django_db(transaction=True)
def test_concurrent_settlers_have_exactly_one_winner(agent_user, customer_account):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # A shared-cache in-memory database answers "table is locked" instead of waiting.
        pytest.skip("needs a database that lets concurrent writers wait (PostgreSQL)")
    pk = make_token_change(agent_user, customer_account).pk
    settlers = 6
    barrier = threading.Barrier(settlers)
    results: list[bool] = []

    def settle(outcome: str) -> None:
        try:
            row = TokenChange.objects.get(pk=pk)
            barrier.wait(timeout=10)
            results.append(row.settle(outcome))
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=settle,
            args=[TokenChange.Outcome.SUCCEEDED if i % 2 else TokenChange.Outcome.FAILED],
        )
        for i in range(settlers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * (settlers - 1) + [True]
    assert TokenChange.objects.get(pk=pk).is_settled


@pytest.mark.django_db
def test_a_product_is_named_once_for_every_app_and_once_more_per_app():
    from lookups.models import App, Product

    coach = App.objects.create(name="Coach", bundle_id="com.example.coach")
    Product.objects.create(product_id="com.example.pro", display_name="Pro")
    Product.objects.create(product_id="com.example.pro", display_name="Coach Pro", app=coach)

    for app in (None, coach):
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.create(product_id="com.example.pro", display_name="Again", app=app)
    assert Product.objects.names_for(["com.example.pro"], app=coach) == {
        "com.example.pro": "Coach Pro"
    }
    assert Product.objects.names_for(["com.example.pro"]) == {"com.example.pro": "Pro"}
