"""How the admin's big lists count and page (lookups/admin_paging.py): a search runs once, its
matches are counted up to a bound and "more than" past it, and the pages still lead on."""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookups.admin_paging import SearchPaginator
from lookups.models import CustomerAccount, TokenChange
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

ACCOUNTS = reverse("admin:lookups_customeraccount_changelist")
TOKEN_CHANGES = reverse("admin:lookups_tokenchange_changelist")


def searched(client, url: str, params: dict) -> tuple[str, object, list[str]]:
    """The page, its changelist and the SQL it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return response.text, response.context["cl"], [q["sql"] for q in captured.captured_queries]


def searching_accounts(queries: list[str]) -> list[str]:
    """The queries that looked for the words in the accounts' text columns."""
    return [
        sql for sql in queries if 'FROM "lookups_customeraccount"' in sql and "LIKE" in sql.upper()
    ]


@pytest.fixture
def accounts(make_account):
    def make(count: int) -> list[CustomerAccount]:
        return [make_account(display_name=f"Robin Sample {n}") for n in range(count)]

    return make


@pytest.fixture
def short_pages(monkeypatch):
    """Two rows a page and three matches counted, so a handful of rows is a "long" list."""
    monkeypatch.setattr(django_admin.site._registry[CustomerAccount], "list_per_page", 2)
    monkeypatch.setattr(SearchPaginator, "MATCHES_COUNTED", 3)


def test_a_search_runs_once_and_counts_without_count(superuser_client, accounts):
    accounts(5)
    page, cl, queries = searched(superuser_client, ACCOUNTS, {"q": "robin sample"})

    assert len(searching_accounts(queries)) == 1
    assert not any("COUNT(" in sql for sql in queries)
    assert len(cl.result_list) == 5
    assert "5 results" in page and "5 customer accounts" in page


def test_a_searched_page_is_fetched_by_key_in_the_lists_order(
    superuser_client, accounts, short_pages
):
    made = accounts(3)
    _, cl, queries = searched(superuser_client, ACCOUNTS, {"q": "robin", "p": "2"})

    assert len(searching_accounts(queries)) == 1
    # The accounts are listed by name: the second page holds the last name.
    assert [account.pk for account in cl.result_list] == [made[2].pk]


def test_past_the_bound_the_count_says_more_than_and_next_still_leads_on(
    superuser_client, accounts, short_pages
):
    accounts(8)
    page, cl, _ = searched(superuser_client, ACCOUNTS, {"q": "robin"})

    assert "more than 3 customer accounts" in page
    assert "more than 3 results" in page
    assert len(cl.result_list) == 2
    assert "?p=2&amp;q=robin" in page or "?q=robin&amp;p=2" in page

    # A page past the bound counts on from there: the fourth of eight rows' pages exists.
    page, cl, _ = searched(superuser_client, ACCOUNTS, {"q": "robin", "p": "4"})
    assert len(cl.result_list) == 2
    assert cl.paginator.count == 8
    assert "8 customer accounts" in page


def test_a_search_matching_nothing_says_so(superuser_client, accounts):
    accounts(2)
    page, cl, queries = searched(superuser_client, ACCOUNTS, {"q": "nobody-here"})

    assert list(cl.result_list) == []
    assert "0 results" in page
    assert len(searching_accounts(queries)) == 1


def test_a_searched_lists_queries_do_not_grow_with_its_matches(
    superuser_client, accounts, short_pages
):
    accounts(3)
    _, _, few = searched(superuser_client, ACCOUNTS, {"q": "robin"})
    accounts(12)
    _, _, many = searched(superuser_client, ACCOUNTS, {"q": "robin"})

    assert len(many) == len(few)


def test_the_token_change_search_runs_once_and_keeps_its_joins(
    superuser_client, agent_user, customer_account
):
    for _ in range(3):
        make_token_change(agent_user, customer_account, ticket_reference="ZD-77")
    make_token_change(agent_user, customer_account, ticket_reference="ZD-78")

    page, cl, queries = searched(superuser_client, TOKEN_CHANGES, {"q": "zd-77"})

    assert len(cl.result_list) == 3
    assert "3 token changes" in page
    searches = [sql for sql in queries if 'UPPER("lookups_tokenchange"."ticket_reference")' in sql]
    assert len(searches) == 1
    # The page's rows come by key with their customers joined, not a query per row.
    (rows,) = [sql for sql in queries if '"lookups_tokenchange"."id" IN' in sql]
    assert 'JOIN "lookups_customeraccount"' in rows


def test_an_unsearched_list_keeps_its_exact_count(superuser_client, agent_user, customer_account):
    for _ in range(2):
        make_token_change(agent_user, customer_account)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE lookups_tokenchange")

    page, cl, _ = searched(superuser_client, TOKEN_CHANGES, {})

    assert not isinstance(cl.paginator, SearchPaginator)
    assert "2 token changes" in page
    assert TokenChange.objects.count() == 2


def test_each_row_links_to_its_own_change_page(superuser_client, accounts):
    made = accounts(2)
    page, _, _ = searched(superuser_client, ACCOUNTS, {"q": "robin"})

    for account in made:
        change = reverse("admin:lookups_customeraccount_change", args=[account.pk])
        assert f'href="{change}?_changelist_filters=q%3Drobin"' in page
