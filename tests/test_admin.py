"""The auditors' admin (lookups/admin.py): what each list shows and to whom, search, filters,
the account token's rules, and the cost of its lists on large tables."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from lookups.admin_paging import EstimatedCountPaginator
from lookups.models import (
    AdaptyDelivery,
    App,
    AppStoreNotification,
    CustomerAccount,
    Export,
    Lookup,
    Product,
    Purchase,
    RefundRequest,
    TokenChange,
)
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.rows import make_lookup, make_token_change

pytestmark = pytest.mark.django_db

MODELS = ["customeraccount", "lookup", "tokenchange"]


def changelist(model: str) -> str:
    return reverse(f"admin:lookups_{model}_changelist")


@pytest.fixture
def token_change(agent_user, customer_account) -> TokenChange:
    lookup = make_lookup(agent_user)
    return make_token_change(agent_user, customer_account, lookup=lookup)


# --- Who may reach what ------------------------------------------------------------------------


@pytest.fixture
def one_of_each(token_change, manager_user) -> dict[str, list[str]]:
    """A row of every audit model, and what its changelist row must show of it."""
    delivery = AdaptyDelivery.objects.create(
        token_change=token_change,
        agent=token_change.agent,
        customer_user_id="adapty-jane-7",
        request_id="req-3141",
    )
    Export.objects.create(user=manager_user, table=Export.Table.TOKEN_CHANGES, row_count=7)
    return {
        "customeraccount": ["Jane Doe", "jane.doe@example.com", "cust-jane"],
        "lookup": [ORDER_OFFER_CODE, "Production", "Found", "agent"],
        "tokenchange": [token_change.original_transaction_id, "ZD-1234", "Pending", "Jane Doe"],
        "adaptydelivery": [delivery.customer_user_id, delivery.request_id, "Sent"],
        "export": ["manager", "Token changes", ">7<"],
    }


@pytest.mark.parametrize("client_fixture", ["auditor_client", "manager_client"])
@pytest.mark.parametrize(
    "model", ["customeraccount", "lookup", "tokenchange", "adaptydelivery", "export"]
)
def test_each_changelist_shows_its_rows_to_the_staff(request, one_of_each, client_fixture, model):
    page = request.getfixturevalue(client_fixture).get(changelist(model)).text
    # The results table alone: the filters beside it name outcomes and agents of their own.
    results = page[page.index('<table id="result_list">') :]
    results = results[: results.index("</table>")]
    assert results.count("<tr") == 2  # the header and the one row
    for shown in one_of_each[model]:
        assert shown in results, (model, shown)


def test_auditor_sees_only_the_support_desk_in_the_admin(auditor_client):
    response = auditor_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("admin:lookups_tokenchange_changelist") in response.text
    assert reverse("admin:auth_user_changelist") not in response.text
    assert auditor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_auditor_reads_a_token_change_without_a_save_button(auditor_client, token_change):
    url = reverse("admin:lookups_tokenchange_change", args=[token_change.pk])
    response = auditor_client.get(url)
    assert response.status_code == 200
    assert "ZD-1234" in response.text
    assert 'name="_save"' not in response.text


def test_lookup_page_shows_the_transactions_as_shown(auditor_client, agent_user):
    shown = [{"verified": True, "payload": {"transactionId": "2000000123456789"}}]
    lookup = make_lookup(agent_user, transactions=shown)
    url = reverse("admin:lookups_lookup_change", args=[lookup.pk])
    response = auditor_client.get(url)
    assert response.status_code == 200
    assert "2000000123456789" in response.text


def test_auditor_cannot_edit_a_customer_account(auditor_client, customer_account):
    url = reverse("admin:lookups_customeraccount_change", args=[customer_account.pk])
    response = auditor_client.post(
        url,
        {
            "external_id": customer_account.external_id,
            "email": "changed@example.com",
            "display_name": "Changed",
            "app_account_token": str(customer_account.app_account_token),
        },
    )
    assert response.status_code == 403
    customer_account.refresh_from_db()
    assert customer_account.email == "jane.doe@example.com"
    assert auditor_client.get(reverse("admin:lookups_customeraccount_add")).status_code == 403


def test_superuser_can_add_a_customer_account(superuser_client):
    response = superuser_client.post(
        reverse("admin:lookups_customeraccount_add"),
        {
            "external_id": "cust-new",
            "email": "new@example.com",
            "display_name": "New Customer",
            "app_account_token": str(uuid.uuid4()),
            "adapty_customer_user_id": "",
        },
    )
    assert response.status_code == 302
    assert CustomerAccount.objects.filter(external_id="cust-new").exists()


@pytest.mark.parametrize("model", ["lookup", "tokenchange"])
@pytest.mark.parametrize("role_client", ["auditor_client", "manager_client", "superuser_client"])
def test_nobody_can_add_edit_or_delete_the_log(request, token_change, model, role_client):
    client = request.getfixturevalue(role_client)
    pk = token_change.pk if model == "tokenchange" else token_change.lookup_id

    # Opening these pages is in the permission matrix; here, sending them changes nothing.
    assert client.post(reverse(f"admin:lookups_{model}_add"), {}).status_code == 403
    assert client.post(reverse(f"admin:lookups_{model}_delete", args=[pk])).status_code == 403
    assert client.post(reverse(f"admin:lookups_{model}_change", args=[pk]), {}).status_code == 403

    response = client.post(
        changelist(model), {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert list(TokenChange.objects.values_list("pk", flat=True)) == [token_change.pk]
    assert list(Lookup.objects.values_list("pk", flat=True)) == [token_change.lookup_id]


# --- Search and filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["2000000555555555", ORDER_OFFER_CODE, "jane.doe", "cust-jane", "Jane Doe", "ZD-1234"]
)
def test_token_changes_can_be_searched(
    auditor_client, agent_user, customer_account, make_account, query
):
    token_change = make_token_change(
        agent_user, customer_account, original_transaction_id="2000000555555555"
    )
    other = make_account()
    make_token_change(
        token_change.agent,
        other,
        original_transaction_id="999",
        order_id="OTHER",
        ticket_reference="T-2",
    )
    response = auditor_client.get(changelist("tokenchange"), {"q": query})
    assert list(response.context["cl"].result_list) == [token_change]


@pytest.mark.parametrize("query", [ORDER_OFFER_CODE, "2000000999"])
def test_lookups_can_be_searched_by_order_or_transaction(auditor_client, agent_user, query):
    order = make_lookup(agent_user)
    history = make_lookup(
        agent_user, kind=Lookup.Kind.HISTORY, order_id="", transaction_id="2000000999"
    )
    response = auditor_client.get(changelist("lookup"), {"q": query})
    expected = order if query == ORDER_OFFER_CODE else history
    assert list(response.context["cl"].result_list) == [expected]


def test_customer_accounts_can_be_searched_by_token(auditor_client, customer_account, make_account):
    make_account()
    for query in (str(customer_account.app_account_token), "jane.doe@example.com", "Jane"):
        response = auditor_client.get(changelist("customeraccount"), {"q": query})
        assert list(response.context["cl"].result_list) == [customer_account]


def test_lookups_can_be_filtered(auditor_client, agent_user, make_user):
    other_agent = make_user("other-agent")
    mine = make_lookup(agent_user, outcome=Lookup.Outcome.FAILED, environment="Sandbox")
    make_lookup(other_agent)

    cases = [
        {"agent__id__exact": agent_user.pk},
        {"outcome__exact": "failed"},
        {"environment": "Sandbox"},
        {"kind__exact": "order", "outcome__exact": "failed"},
        {"created_at__year": mine.created_at.year, "outcome__exact": "failed"},
    ]
    for params in cases:
        response = auditor_client.get(changelist("lookup"), params)
        assert list(response.context["cl"].result_list) == [mine], params


@pytest.mark.parametrize("model", ["lookup", "purchase", "appstorenotification", "refundrequest"])
def test_rows_can_be_filtered_by_app(superuser_client, agent_user, model):
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    row_of = {
        "lookup": lambda app: make_lookup(agent_user, app=app),
        "purchase": lambda app: Purchase.objects.create(
            app=app,
            environment="Production",
            original_transaction_id=str(uuid.uuid4().int)[:16],
            latest_transaction={},
            learnt_at=timezone.now(),
            learnt_from=Purchase.Source.LOOKUP,
        ),
        "appstorenotification": lambda app: AppStoreNotification.objects.create(
            app=app,
            notification_uuid=str(uuid.uuid4()),
            environment="Production",
            notification_type="TEST",
            signed_date=timezone.now(),
            payload={},
        ),
        "refundrequest": lambda app: RefundRequest.objects.create(
            app=app,
            notification_uuid=str(uuid.uuid4()),
            environment="Production",
            transaction_id=str(uuid.uuid4().int)[:16],
            requested_at=timezone.now(),
            deadline=timezone.now(),
        ),
    }[model]
    coachs, older = row_of(coach), row_of(None)

    for value, expected in ((coach.pk, coachs), ("none", older)):
        response = superuser_client.get(changelist(model), {"app": value})
        assert list(response.context["cl"].result_list) == [expected]
    assert "Coach" in superuser_client.get(changelist(model)).text


def test_token_changes_can_be_filtered_by_outcome(auditor_client, token_change, customer_account):
    settled = make_token_change(token_change.agent, customer_account)
    settled.settle(TokenChange.Outcome.FAILED, error_code=4000006)
    response = auditor_client.get(changelist("tokenchange"), {"outcome__exact": "failed"})
    assert list(response.context["cl"].result_list) == [settled]


@pytest.mark.parametrize("model", ["lookup", "tokenchange"])
def test_the_agent_filter_offers_only_agents_with_rows(
    auditor_client, token_change, customer_account, make_user, model
):
    other = make_user("another-agent")
    make_token_change(other, customer_account, lookup=make_lookup(other))
    make_user("never-worked")
    response = auditor_client.get(changelist(model))
    agents = next(spec for spec in response.context["cl"].filter_specs if spec.title == "agent")
    assert [label for _, label in agents.lookup_choices] == ["agent", "another-agent"]


# --- A changelist costs the same number of queries for 1 row as for 30 --------------------------


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_rows(
    auditor_client, agent_user, make_user, make_account, model
):
    def add_rows(count: int) -> None:
        for _ in range(count):
            agent = make_user(f"agent-{uuid.uuid4().hex[:8]}")
            account = make_account()
            lookup = make_lookup(agent)
            make_token_change(agent, account, lookup=lookup)

    add_rows(1)
    queries_for(auditor_client, changelist(model))  # warm per-process caches
    one_row = queries_for(auditor_client, changelist(model))
    add_rows(29)
    thirty_rows = queries_for(auditor_client, changelist(model))
    assert thirty_rows == one_row


def change_form(account: CustomerAccount, **changes) -> dict[str, str]:
    fields = {
        "external_id": account.external_id,
        "email": account.email,
        "display_name": account.display_name,
        "app_account_token": str(account.app_account_token),
        "adapty_customer_user_id": account.adapty_customer_user_id,
    }
    fields.update(changes)
    return fields


def save(client, account: CustomerAccount, **changes):
    url = reverse("admin:lookups_customeraccount_change", args=[account.pk])
    return client.post(url, change_form(account, **changes))


def test_the_admin_refuses_to_change_the_token_of_a_linked_account(
    superuser_client, agent_user, customer_account
):
    make_token_change(agent_user, customer_account)
    linked_token = customer_account.app_account_token

    response = save(superuser_client, customer_account, app_account_token=str(uuid.uuid4()))

    assert response.status_code == 200
    assert "has purchases linked to its app_account_token" in response.content.decode()
    assert "Unknown token" not in response.content.decode()
    customer_account.refresh_from_db()
    assert customer_account.app_account_token == linked_token


def test_the_admin_still_saves_other_changes_to_a_linked_account(
    superuser_client, agent_user, customer_account
):
    make_token_change(agent_user, customer_account)

    response = save(superuser_client, customer_account, display_name="Jane Q. Doe")

    assert response.status_code == 302
    customer_account.refresh_from_db()
    assert customer_account.display_name == "Jane Q. Doe"


def test_the_admin_changes_the_token_of_an_account_nothing_is_linked_to(
    superuser_client, customer_account
):
    new_token = uuid.uuid4()

    response = save(superuser_client, customer_account, app_account_token=str(new_token))

    assert response.status_code == 302
    customer_account.refresh_from_db()
    assert customer_account.app_account_token == new_token


def test_the_admin_refuses_a_token_that_belongs_to_another_account(
    superuser_client, customer_account, make_account
):
    other = make_account()

    response = save(
        superuser_client, customer_account, app_account_token=str(other.app_account_token)
    )

    assert response.status_code == 200
    assert escape(f"belongs to external_id {other.external_id!r}") in response.content.decode()


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
    if connection.vendor == "postgresql":
        # Rows an earlier test rolled back leave pages behind that the planner would count in.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE lookups_tokenchange")
    page, queries = changelist_queries(auditor_client)
    assert "2 token changes" in page
    assert any("COUNT(*)" in sql for sql in queries)


def test_the_audit_log_has_no_date_drill_down_scan(auditor_client, two_changes):
    page, queries = changelist_queries(auditor_client)
    assert not any(scans_distinct(sql, "lookups_tokenchange") for sql in queries)
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
    assert not any(
        scans_distinct(query["sql"], "lookups_appstorenotification")
        for query in captured.captured_queries
    )
    assert "?notification_type=OFFER_REDEEMED" in page.text


def scans_distinct(sql: str, table: str) -> bool:
    """A SELECT DISTINCT over a list's own table: a drill-down or choice list that reads it all.
    (The user's permissions are read with a DISTINCT of their own, over small tables.)"""
    return "DISTINCT" in sql and f'FROM "{table}"' in sql


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
    make_lookup(agent_user)
    with CaptureQueriesContext(connection) as captured:
        page = auditor_client.get(reverse("admin:lookups_lookup_changelist"))

    assert page.status_code == 200
    assert not any(
        scans_distinct(query["sql"], "lookups_lookup") for query in captured.captured_queries
    )
    assert "?created_at__gte=" in page.text


# --- Apps ---------------------------------------------------------------------------------------


def _row_of(model: str, agent, account):
    from tests.fixtures.rows import (
        make_consumption_answer,
        make_extension,
        make_refund_request,
        make_transfer_request,
    )

    return {
        "lookup": lambda: make_lookup(agent),
        "tokenchange": lambda: make_token_change(agent, account),
        "subscriptionextension": lambda: make_extension(agent),
        "refundrequest": lambda: make_refund_request(),
        "transferrequest": lambda: make_transfer_request(agent, account),
        "consumptionanswer": lambda: make_consumption_answer(agent),
    }[model]()


APP_MODELS = [
    "lookup",
    "tokenchange",
    "subscriptionextension",
    "refundrequest",
    "transferrequest",
    "consumptionanswer",
]


@pytest.fixture
def coach():
    from lookups.services.apps import desk_apps

    desk_apps()
    return App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")


@pytest.mark.parametrize("model", APP_MODELS)
def test_an_auditor_limited_to_one_app_sees_only_its_rows(
    auditor_client, auditor_user, agent_user, customer_account, coach, model
):
    coach.limited_agents.add(auditor_user)
    theirs = _row_of(model, agent_user, customer_account)
    type(theirs).objects.filter(pk=theirs.pk).update(app=coach)
    other = _row_of(model, agent_user, customer_account)  # names no app: the settings' app's

    listed = auditor_client.get(changelist(model)).text
    hidden = auditor_client.get(reverse(f"admin:lookups_{model}_change", args=[other.pk]))

    assert reverse(f"admin:lookups_{model}_change", args=[theirs.pk]) in listed
    assert reverse(f"admin:lookups_{model}_change", args=[other.pk]) not in listed
    assert hidden.status_code == 302  # "doesn't exist", as for a row never made
    # The app filter offers Coach alone, with no "before apps" choice (that was another app).
    assert f"?app={coach.pk}" in listed
    assert "?app=none" not in listed


@pytest.mark.parametrize(
    "model",
    [
        *APP_MODELS,
        "purchase",
        "appstorenotification",
        "refusedlink",
        "outagecompensation",
        "transactionfinish",
    ],
)
def test_every_list_of_rows_naming_an_app_filters_by_app_and_environment(
    superuser_client, coach, model
):
    page = superuser_client.get(changelist(model)).text

    assert f"?app={coach.pk}" in page
    assert "?app=none" in page
    assert "?environment=Sandbox" in page


def test_the_catalogue_names_a_product_per_app(superuser_client, coach):
    Product.objects.create(product_id="com.example.pro", display_name="Pro")
    Product.objects.create(product_id="com.example.pro", display_name="Coach Pro", app=coach)

    page = superuser_client.get(changelist("product")).text
    only_coach = superuser_client.get(changelist("product"), {"app": coach.pk}).text

    assert "Every app" in page and "Coach Pro" in page
    assert "Coach Pro" in only_coach and ">Pro<" not in only_coach
