"""Pages run a fixed number of queries, whatever the number of rows or transactions they show."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookups.models import TokenChange
from tests.fixtures.rows import make_lookup, make_refund_request, make_token_change

pytestmark = pytest.mark.django_db


def queries_for(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(captured)


def queries_for_lookup(client, order_id: str) -> int:
    return queries_for(client, reverse("lookups:look_up"), {"order_id": order_id})


def link_in_simulator(simulator, original_transaction_id: str, account) -> None:
    simulator.store.set_app_account_token(
        original_transaction_id, {"appAccountToken": str(account.app_account_token)}
    )


def test_the_lookup_page_runs_the_same_queries_for_1_or_100_transactions(
    agent_client, appstore_settings, simulator
):
    simulator.add_order("QC1TXN0001", 1)
    simulator.add_order("QC100TXN01", 100)
    simulator.add_order("QCWARM0001", 1)
    queries_for_lookup(agent_client, "QCWARM0001")  # warm the session and permission caches

    # The first lookup of an order, then another once the desk has seen its purchases.
    first = [queries_for_lookup(agent_client, order) for order in ("QC1TXN0001", "QC100TXN01")]
    again = [queries_for_lookup(agent_client, order) for order in ("QC1TXN0001", "QC100TXN01")]

    assert first[0] == first[1]
    assert again[0] == again[1] <= first[0]
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": "QC100TXN01"}).text
    assert page.count('<tr id="txn-') == 100


def test_the_lookup_page_finds_linked_accounts_in_one_query_for_any_number(
    agent_client, appstore_settings, simulator, make_account
):
    one_id = simulator.add_order("QCLINKED01", 1)[0]
    many_ids = simulator.add_order("QCLINKED50", 50)
    link_in_simulator(simulator, one_id, make_account())
    link_in_simulator(simulator, many_ids[0], make_account())
    # Renewals after a link carry the token too: half of this order points at an account.
    for _ in range(25):
        simulator.renew(many_ids[0])
    queries_for_lookup(agent_client, "QCLINKED01")
    queries_for_lookup(agent_client, "QCLINKED50")

    one = queries_for_lookup(agent_client, "QCLINKED01")
    many = queries_for_lookup(agent_client, "QCLINKED50")

    assert one == many


def history_url(transaction_id: str) -> str:
    return reverse("lookups:history", args=[transaction_id])


def test_the_history_page_and_its_next_page_run_the_same_queries_for_1_or_20_rows(
    agent_client, appstore_settings, simulator, make_account
):
    short = simulator.add_order("QCHIST0001", 1)
    long = simulator.add_order("QCHIST0045", 1)
    link_in_simulator(simulator, short[0], make_account())
    link_in_simulator(simulator, long[0], make_account())
    # Renewals carry the token, so every page has accounts to find.
    for _ in range(44):
        simulator.renew(long[0])
    # Each purchase seen once: the first sight of a purchase also stores it.
    queries_for(agent_client, history_url(short[0]))
    queries_for(agent_client, history_url(long[0]))

    one_row = queries_for(agent_client, history_url(short[0]))
    full_page = queries_for(agent_client, history_url(long[0]))
    first = agent_client.get(history_url(long[0])).text
    revision = html.unescape(re.search(r'revision=([^"&]+)', first).group(1))
    next_page = queries_for(agent_client, history_url(long[0]), {"revision": revision})

    assert one_row == full_page
    # Neither a page seen before nor an older page teaches the picture anything new: both only
    # read it, and neither locks or writes it.
    assert next_page == full_page
    assert first.count('<tr id="txn-') == 20


@pytest.mark.parametrize("where", ["accounts", "link panel"])
def test_account_search_runs_the_same_queries_for_1_or_50_matches(
    agent_client, make_account, where
):
    make_account(display_name="Quinn Solo", email="quinn@example.com")
    for n in range(50):
        make_account(display_name=f"Morgan Many {n}", email=f"morgan{n}@example.com")
    if where == "accounts":
        url = reverse("lookups:accounts")
    else:
        url = reverse("lookups:link", args=["2000000123450001"])
    queries_for(agent_client, url, {"q": "quinn"})

    one = queries_for(agent_client, url, {"q": "quinn"})
    fifty = queries_for(agent_client, url, {"q": "morgan"})

    assert one == fifty


def test_the_account_page_runs_the_same_queries_for_1_or_50_token_changes(
    agent_client, make_user, make_account
):
    def add_changes(account, count: int) -> None:
        for n in range(count):
            agent = make_user(f"linker-{uuid.uuid4().hex[:8]}")
            change = make_token_change(agent, account, lookup=make_lookup(agent))
            if n % 2 == 0:
                change.settle(TokenChange.Outcome.SUCCEEDED)
            else:
                change.settle(TokenChange.Outcome.FAILED, error_message="Apple said no")

    few, many = make_account(), make_account()
    add_changes(few, 1)
    add_changes(many, 50)
    queries_for(agent_client, reverse("lookups:account", args=[few.pk]))

    one = queries_for(agent_client, reverse("lookups:account", args=[few.pk]))
    fifty = queries_for(agent_client, reverse("lookups:account", args=[many.pk]))

    assert one == fifty


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("customeraccount", {}),
        ("customeraccount", {"q": "example.com"}),
        ("lookup", {}),
        ("lookup", {"outcome__exact": "found", "environment": "Production"}),
        ("tokenchange", {}),
        ("tokenchange", {"outcome__exact": "pending", "environment": "Production"}),
        ("tokenchange", {"q": "ZD-1234"}),
    ],
)
def test_admin_changelists_run_the_same_queries_for_1_or_50_rows(
    superuser_client, make_user, make_account, model, params
):
    url = reverse(f"admin:lookups_{model}_changelist")

    def add_rows(count: int) -> None:
        for _ in range(count):
            agent = make_user(f"agent-{uuid.uuid4().hex[:8]}")
            make_token_change(agent, make_account(), lookup=make_lookup(agent))

    add_rows(1)
    queries_for(superuser_client, url, params)  # warm per-process caches
    one_row = queries_for(superuser_client, url, params)
    add_rows(49)
    fifty_rows = queries_for(superuser_client, url, params)

    assert fifty_rows == one_row


def test_the_account_page_runs_the_same_queries_for_1_or_30_purchases(
    agent_client, agent_user, make_account
):
    from django.conf import settings
    from django.utils import timezone

    from lookups.models import AppStoreNotification, Purchase
    from lookups.services.notes import add_note

    def add_purchases(account, count: int) -> None:
        for n in range(count):
            original = f"{account.pk}{n:04d}000000001"
            Purchase.objects.create(
                environment=settings.APPSTORE_ENVIRONMENT,
                original_transaction_id=original,
                # Subscriptions: each gets an "Extend" offer, weighed against its past year.
                latest_transaction={
                    "transactionId": original,
                    "productId": "com.example.pro",
                    "type": "Auto-Renewable Subscription",
                },
                product_id="com.example.pro",
                order_id=f"MQ{n:04d}ABCD",
                app_account_token=account.app_account_token,
                learnt_at=timezone.now(),
                learnt_from=Purchase.Source.LOOKUP,
                status=Purchase.Status.ACTIVE,
            )
            AppStoreNotification.objects.create(
                notification_uuid=f"{original}-renewed",
                environment=settings.APPSTORE_ENVIRONMENT,
                notification_type="DID_RENEW",
                signed_date=timezone.now(),
                original_transaction_id=original,
                payload={},
            )
            make_lookup(agent_user, order_id=f"MQ{n:04d}ABCD")
            add_note(agent_user, account, f"Note {n}", ticket="")

    few, many = make_account(), make_account()
    add_purchases(few, 1)
    add_purchases(many, 30)
    queries_for(agent_client, reverse("lookups:account", args=[few.pk]))

    one = queries_for(agent_client, reverse("lookups:account", args=[few.pk]))
    thirty = queries_for(agent_client, reverse("lookups:account", args=[many.pk]))

    assert one == thirty


def test_the_refund_queue_runs_the_same_queries_for_1_or_30_open_cases(agent_client):
    make_refund_request()
    queries_for(agent_client, reverse("lookups:refund_requests"))  # warm caches
    one = queries_for(agent_client, reverse("lookups:refund_requests"))
    for _ in range(29):
        make_refund_request()
    thirty = queries_for(agent_client, reverse("lookups:refund_requests"))

    assert thirty == one


def test_a_lookup_seen_before_pays_seven_queries_and_five_redis_trips(
    redis_trips, agent_client, appstore_settings, simulator, django_assert_num_queries
):
    from lookups import roles, second_factor

    # As in production: a second factor is named for some, so every page asks who must pass one.
    appstore_settings.SECOND_FACTOR_GROUPS = [roles.MANAGERS, second_factor.SUPERUSERS]
    simulator.add_order("QCTRIPS001", 1)
    queries_for_lookup(agent_client, "QCTRIPS001")  # the desk learns the order's purchase
    redis_trips.clear()

    # The user; their permissions with their second-factor groups; the apps they see; the
    # purchase's picture; the lookup's record; the products' names; the extensions of the year.
    with django_assert_num_queries(7):
        queries_for_lookup(agent_client, "QCTRIPS001")

    # The session; the order's remembered subscription; the rate budget (pause included) for
    # each of the two calls to Apple; the page's live stamp. Nothing written back.
    assert sorted(redis_trips.commands) == ["EVALSHA", "EVALSHA", "GET", "GET", "MGET"]


def _offer_code_purchases(count: int, apps, start: int, **fields) -> None:
    """`count` purchases of both environments and of each app, told of as offer codes."""
    from django.utils import timezone

    from lookups.models import Purchase

    now = timezone.now()
    for n in range(count):
        app = apps[n % len(apps)]
        original = f"{start + n:016d}"
        in_sandbox = app is not None and app.uses_sandbox and n % 2
        Purchase.objects.create(
            app=app,
            environment="Sandbox" if in_sandbox else "Production",
            original_transaction_id=original,
            latest_transaction={"transactionId": original, "productId": f"com.example.p{n % 3}"},
            product_id=f"com.example.p{n % 3}",
            learnt_from=Purchase.Source.NOTIFICATION,
            learnt_at=now,
            offer_code_told_at=now,
            **fields,
        )


@pytest.fixture
def apps_of_both_environments():
    from lookups.models import App
    from lookups.services.apps import desk_apps

    [own] = desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.coach", uses_sandbox=True)
    return [None, own, coach]


def test_the_unlinked_list_runs_the_same_queries_for_1_or_30_rows_of_both_environments(
    agent_client, apps_of_both_environments
):
    url = reverse("lookups:unlinked")
    _offer_code_purchases(1, apps_of_both_environments, 2000000700000000)
    queries_for(agent_client, url)  # warm per-process caches

    one = queries_for(agent_client, url)
    _offer_code_purchases(29, apps_of_both_environments, 2000000700001000)
    page = agent_client.get(url).text
    thirty = queries_for(agent_client, url)

    assert page.count('<tr id="unlinked-') == 30
    assert "Sandbox: a test purchase, no money moved" in page
    assert thirty == one


def test_the_search_runs_the_same_queries_for_1_or_10_purchases_of_both_environments(
    agent_client, make_account, apps_of_both_environments
):
    few, many = make_account(), make_account()
    _offer_code_purchases(
        1, apps_of_both_environments, 2000000710000000, app_account_token=few.app_account_token
    )
    _offer_code_purchases(
        10, apps_of_both_environments, 2000000710001000, app_account_token=many.app_account_token
    )
    url = reverse("lookups:search")
    queries_for(agent_client, url, {"q": str(few.app_account_token)})

    one = queries_for(agent_client, url, {"q": str(few.app_account_token)})
    ten = queries_for(agent_client, url, {"q": str(many.app_account_token)})

    page = agent_client.get(url, {"q": str(many.app_account_token)}).text
    assert page.count("original transaction 2000000710001") == 10
    assert "Sandbox: a test purchase, no money moved" in page
    assert ten == one


def test_a_lookup_in_three_apps_seen_before_pays_one_apps_seven_queries(
    redis_trips, agent_client, three_apps, simulator, django_assert_num_queries
):
    from lookups.simulators.demo_apps import ORDER_COACH

    queries_for_lookup(agent_client, ORDER_COACH)  # the desk learns the order's purchase
    redis_trips.clear()

    # The user; their permissions; the apps they see; the purchase's picture; the lookup's
    # records, every app's in one statement and no transaction around it; the products' names;
    # the extensions of the year.
    with django_assert_num_queries(7):
        queries_for_lookup(agent_client, ORDER_COACH)

    # The session; which app saw the order, every app's key at once; the rate budget of each
    # app's lookup and of the status read; the page's live stamp. Nothing written back.
    assert sorted(redis_trips.commands) == ["EVALSHA"] * 4 + ["GET", "MGET", "MGET"]
