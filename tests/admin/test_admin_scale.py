"""The admin's audit lists stay cheap on large tables: no full count, no date drill-down scan."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookups.admin import EstimatedCountPaginator
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:lookups_tokenchange_changelist")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's"
)


def changelist_queries(client, params: dict | None = None) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST, params or {})
    assert response.status_code == 200
    return response.text, [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def two_changes(agent_user, customer_account) -> None:
    make_token_change(agent_user, customer_account)
    make_token_change(agent_user, customer_account)


def test_a_short_list_is_counted_exactly(auditor_client, two_changes):
    page, queries = changelist_queries(auditor_client)
    assert "2 token changes" in page
    assert any("COUNT(*)" in sql for sql in queries)


def test_the_audit_log_has_no_date_drill_down_scan(auditor_client, two_changes):
    page, queries = changelist_queries(auditor_client)
    assert not any("DISTINCT" in sql for sql in queries)
    assert "?created_at__gte=" in page  # the date filter is still there


@on_postgresql
def test_a_long_list_takes_the_planners_estimate_instead_of_counting(
    auditor_client, two_changes, monkeypatch
):
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 0)
    page, queries = changelist_queries(auditor_client, {"outcome__exact": "pending"})
    assert not any("COUNT(*)" in sql for sql in queries)
    assert any(sql.upper().startswith("EXPLAIN (FORMAT JSON)") for sql in queries)
    assert " token changes" in page


def test_the_row_checkbox_is_djangos_markup_written_without_the_template_engine(two_changes):
    from django.contrib import admin as django_admin
    from django.contrib.admin import ModelAdmin

    from lookups.models import TokenChange

    change = TokenChange.objects.first()
    ours = django_admin.site._registry[TokenChange]

    assert ours.action_checkbox(change) == ModelAdmin.action_checkbox(ours, change)


def test_the_notification_list_offers_apples_types_without_reading_the_table(
    superuser_client,
):
    with CaptureQueriesContext(connection) as captured:
        page = superuser_client.get(reverse("admin:lookups_appstorenotification_changelist"))

    assert page.status_code == 200
    assert not any("DISTINCT" in query["sql"] for query in captured.captured_queries)
    assert "?notification_type=OFFER_REDEEMED" in page.text


def searched(client, model: str, term: str) -> tuple[list, list[str]]:
    """The rows an admin list's search finds, and the SQL it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:lookups_{model}_changelist"), {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list), [q["sql"] for q in captured.captured_queries]


def compares_upper_cased(queries: list[str], table: str) -> bool:
    """Whether a query compared a column of `table` upper-cased: no plain index serves that."""
    return any(f'UPPER("{table}".' in sql for sql in queries)


@pytest.fixture
def purchase(customer_account):
    from django.utils import timezone

    from lookups.models import Purchase

    return Purchase.objects.create(
        environment="Production",
        original_transaction_id="2000000555000001",
        latest_transaction={"transactionId": "2000000555000001"},
        product_id="com.example.pro",
        order_id="MQ5SCALE01",
        app_account_token=customer_account.app_account_token,
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )


@pytest.mark.parametrize(
    "term", ["2000000555000001", "mq5scale01", "MQ5SCALE01", "app account token"]
)
def test_the_purchase_list_finds_ids_exactly_through_its_indexes(superuser_client, purchase, term):
    term = str(purchase.app_account_token) if term == "app account token" else term

    found, queries = searched(superuser_client, "purchase", term)

    assert found == [purchase]
    assert not compares_upper_cased(queries, "lookups_purchase")


def test_the_notification_list_finds_ids_exactly_through_its_indexes(superuser_client):
    from django.utils import timezone

    from lookups.models import AppStoreNotification

    stored = AppStoreNotification.objects.create(
        notification_uuid="3d0f4b2c-5e51-4a1f-9a55-0c1d2e3f4a5b",
        environment="Production",
        notification_type="DID_RENEW",
        signed_date=timezone.now(),
        original_transaction_id="2000000555000002",
        payload={},
    )

    for term in (stored.notification_uuid, stored.notification_uuid.upper(), "2000000555000002"):
        found, queries = searched(superuser_client, "appstorenotification", term)
        assert found == [stored], term
        assert not compares_upper_cased(queries, "lookups_appstorenotification")


def test_the_account_list_searches_as_the_desk_does(superuser_client, customer_account):
    by_email, queries = searched(superuser_client, "customeraccount", customer_account.email[2:9])
    by_token, _ = searched(
        superuser_client, "customeraccount", str(customer_account.app_account_token)
    )

    assert by_email == by_token == [customer_account]
    # Django's own would look for the words inside every token's text too.
    assert not any(
        '"app_account_token")::text' in sql or '"app_account_token"::text' in sql for sql in queries
    )


def test_the_account_list_counts_once(superuser_client, customer_account):
    with CaptureQueriesContext(connection) as captured:
        page = superuser_client.get(reverse("admin:lookups_customeraccount_changelist"))

    assert page.status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(counts) <= 1


def test_the_lookup_list_has_no_date_drill_down_scan(auditor_client, agent_user):
    from tests.fixtures.rows import make_lookup

    make_lookup(agent_user)
    with CaptureQueriesContext(connection) as captured:
        page = auditor_client.get(reverse("admin:lookups_lookup_changelist"))

    assert page.status_code == 200
    assert not any("DISTINCT" in query["sql"] for query in captured.captured_queries)
    assert "?created_at__gte=" in page.text
