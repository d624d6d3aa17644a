"""Property-based: random order IDs, searches, history filters, IDs and sign-ins never make a page
fail; the answer is a clear message."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

from lookups.forms import OrderLookupForm
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import HTMX

# Text a browser can send: any character but lone surrogates, which no URL can carry.
typed = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
digits_and_more = st.one_of(
    typed,
    st.integers().map(str),
    st.from_regex(r"[0-9]{1,40}", fullmatch=True),
    st.sampled_from(["²", "٣", "0", "-1", "1e3", " 7", "99999999999999999999999"]),
)


@pytest.fixture
def unhurried(appstore_settings):
    """The simulator and no per-second budget: fifty examples should not wait for Apple's."""
    appstore_settings.APPSTORE_RATE_LIMITS = {"lookup": 100_000, "history": 100_000}
    return appstore_settings


def assert_answered(response) -> None:
    assert response.status_code in (200, 302, 400, 404), response.status_code


@given(value=typed)
@example(value="mk5t ttvwjh")
@example(value="A" * 65)
@example(value="\x00" + ORDER_OFFER_CODE)
@example(value=PURCHASE_OFFER_CODE)
def test_the_order_id_form_accepts_order_ids_and_explains_anything_else(value):
    form = OrderLookupForm({"order_id": value})
    if form.is_valid() and form.cleaned_data["transaction_id"]:
        # A transaction ID opens its history page instead.
        assert form.cleaned_data["transaction_id"].isdigit()
        assert form.cleaned_data["order_id"] == ""
    elif form.is_valid():
        order_id = form.cleaned_data["order_id"]
        assert order_id.isascii() and order_id.isalnum() and order_id.upper() == order_id
        assert 8 <= len(order_id) <= 14
    else:
        assert form.errors["order_id"] and all(form.errors["order_id"])


@pytest.mark.django_db
@given(value=typed)
@example(value=ORDER_OFFER_CODE)
@example(value="ZZZZZZZZZZ")
def test_the_lookup_page_answers_any_order_id(agent_client, unhurried, value):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": value}, headers=HTMX)
    assert response.status_code == 200
    assert (
        'role="alert"' in response.text
        or "Order " in response.text
        or "has no" in (response.text)
        or "/history/" in response.headers.get("HX-Redirect", "")
    )


@pytest.mark.django_db
@given(query=typed)
def test_the_account_search_answers_anything(agent_client, customer_account, query):
    for url in (reverse("lookups:accounts"), reverse("lookups:link", args=[PURCHASE_OFFER_CODE])):
        response = agent_client.get(url, {"q": query}, headers=HTMX)
        assert response.status_code == 200


date_like = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2026-1-1", ""]),
    typed,
)
history_values = st.one_of(
    date_like,
    st.sampled_from(["1", "2", "3", "AUTO_RENEWABLE", "CONSUMABLE", "true", "false", ""]),
    digits_and_more,
)
sensible_dates = st.dates(min_value=date(2008, 1, 1), max_value=date(2027, 1, 1)).map(str)
SENSIBLE = {
    "version": st.sampled_from(["1", "2"]),
    "product_type": st.sampled_from(
        ["AUTO_RENEWABLE", "NON_RENEWABLE", "CONSUMABLE", "NON_CONSUMABLE"]
    ),
    "start": sensible_dates,
    "end": sensible_dates,
    "revoked": st.sampled_from(["", "true", "false"]),
    "revision": st.sampled_from(["", "0", "not-a-revision"]),
    "sort": st.sampled_from(["ASCENDING", "x"]),
}
# Most values are ones the form could take, so the filters reach Apple often; the rest is noise.
history_param = st.sampled_from([*SENSIBLE, "unknown"]).flatmap(
    lambda key: st.tuples(
        st.just(key), st.one_of(SENSIBLE.get(key, typed), SENSIBLE.get(key, typed), history_values)
    )
)


@pytest.mark.django_db
@given(
    params=st.lists(history_param, max_size=6),
    transaction_id=st.one_of(
        st.just(PURCHASE_OFFER_CODE), st.just(PURCHASE_OFFER_CODE), digits_and_more
    ),
)
@example(params=[("end", "9999-12-31")], transaction_id=PURCHASE_OFFER_CODE)
@example(params=[("start", "0001-01-01")], transaction_id=PURCHASE_OFFER_CODE)
def test_the_history_page_answers_any_filters(agent_client, unhurried, params, transaction_id):
    assume(transaction_id and "/" not in transaction_id)
    path = reverse("lookups:history", args=["0"]).replace("/0/", "/{}/")
    url = path.format(transaction_id.replace("?", "").replace("#", "")) + "?" + urlencode(params)
    response = agent_client.get(url, headers=HTMX if len(params) % 2 else {})
    assert_answered(response)
    asked = bool(response.context and response.context.get("result"))
    event(f"HTTP {response.status_code}, {'asked Apple' if asked else 'not asked'}")


@pytest.mark.django_db
@given(account=digits_and_more, lookup=digits_and_more, pk=st.integers(min_value=0))
@example(account="²", lookup="²", pk=0)
@example(account="99999999999999999999999", lookup="9" * 40, pk=2**70)
def test_the_link_panel_and_account_page_answer_any_ids(
    agent_client, appstore_settings, account, lookup, pk
):
    # The panel reads the purchase's current token from Apple (the simulator).
    url = reverse("lookups:link", args=[PURCHASE_OFFER_CODE])
    assert_answered(agent_client.get(url, {"account": account, "lookup": lookup}))
    posted = agent_client.post(url, {"account": account, "lookup": lookup, "request_id": "x"})
    assert posted.status_code == 422
    assert_answered(agent_client.get(f"/accounts/{pk}/"))


@pytest.mark.django_db
@given(username=typed, password=typed, address=st.ip_addresses(v=4).map(str))
@example(username="a\x00b", password="x", address="192.0.2.1")
@example(username="u" * 5000, password="p" * 5000, address="192.0.2.1")
def test_the_sign_in_page_answers_anything(
    client, settings, agent_user, username, password, address
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    # Asked again, or held back after too many failures from one address or for one user.
    assert response.status_code in (200, 429)
