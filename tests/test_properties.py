"""Property-based tests: whatever a user or the network sends, the answer is a clear message.

Random order IDs, searches and history filters never make a page fail; random CSV files import
or are refused with UnreadableFile; random tokens, and validly signed payloads whose fields hold
the wrong types, are refused with VerificationError or decode, and never raise anything else.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from datetime import date
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

from lookups.appstore.transactions import Transaction
from lookups.appstore.verify import MAX_TOKEN_LENGTH, TransactionVerifier, VerificationError
from lookups.forms import OrderLookupForm
from lookups.services.account_import import UnreadableFile, import_accounts
from lookups.simulators.appstore import make_signing_chain, sign_jws

BUNDLE_ID = "com.example.properties"
ORIGINAL_ID = "2000000815627301"
HTMX = {"HX-Request": "true"}

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


# --- The agent's forms -------------------------------------------------------------------------


@given(value=typed)
@example(value="mk5t ttvwjh")
@example(value="A" * 65)
@example(value="\x00MK5TTTVWJH")
@example(value="2000000815627301")
def test_the_order_id_form_accepts_order_ids_and_explains_anything_else(value):
    form = OrderLookupForm({"order_id": value})
    if form.is_valid() and form.cleaned_data["transaction_id"]:
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
@example(value="MK5TTTVWJH")
@example(value="ZZZZZZZZZZ")
def test_the_lookup_page_answers_any_order_id(agent_client, unhurried, value):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": value}, headers=HTMX)
    assert response.status_code == 200
    # A transaction ID opens its history page instead.
    assert (
        'role="alert"' in response.text
        or "Order " in response.text
        or "has no" in (response.text)
        or "/history/" in response.headers.get("HX-Redirect", "")
    )


@pytest.mark.django_db
@given(query=typed)
def test_the_account_search_answers_anything(agent_client, customer_account, query):
    for url in (reverse("lookups:accounts"), reverse("lookups:link", args=[ORIGINAL_ID])):
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
    transaction_id=st.one_of(st.just(ORIGINAL_ID), st.just(ORIGINAL_ID), digits_and_more),
)
@example(params=[("end", "9999-12-31")], transaction_id=ORIGINAL_ID)
@example(params=[("start", "0001-01-01")], transaction_id=ORIGINAL_ID)
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
def test_the_link_panel_and_account_page_answer_any_ids(agent_client, account, lookup, pk):
    url = reverse("lookups:link", args=[ORIGINAL_ID])
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


# --- The CSV import ----------------------------------------------------------------------------

field_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
rows = st.lists(st.lists(field_text, min_size=0, max_size=6), max_size=20)
headers = st.one_of(
    st.just(["external_id", "email", "name"]),
    st.just(["external_id", "email", "name", "app_account_token"]),
    st.lists(st.sampled_from(["external_id", "email", "name", "app_account_token", "x"])),
)


def import_file(tmp_path_factory, content: bytes):
    path = tmp_path_factory.mktemp("import") / "accounts.csv"
    path.write_bytes(content)
    problems: list[tuple[int, str]] = []
    try:
        summary = import_accounts(
            path,
            report_problem=lambda line, message: problems.append((line, message)),
            report_progress=lambda rows_read: None,
            max_bytes=64 * 1024,
            max_rows=50,
        )
    except UnreadableFile as refusal:
        assert str(refusal)
        return None, problems
    assert all(message for _, message in problems)
    return summary, problems


@pytest.mark.django_db
@given(content=st.binary(max_size=4096))
@example(content=b"\xff\xfe\x00e\x00x")
@example(content=b"external_id,email,name\n" + b"a,b@example.com," + b"x" * 70_000 + b"\n")
def test_a_csv_of_random_bytes_imports_or_is_refused(tmp_path_factory, content):
    import_file(tmp_path_factory, content)


@pytest.mark.django_db
@given(header=headers, body=rows, token=st.uuids().map(str))
@example(header=["external_id", "email", "name"], body=[["a\x00", "a@example.com", "A"]], token="0")
@example(
    header=["external_id", "email", "name", "app_account_token"],
    body=[["a", "a@example.com", "A", "not-a-uuid"], ["b", "b@example.com", "B", "0" * 40]],
    token="0",
)
def test_csv_rows_of_random_text_import_or_are_reported(tmp_path_factory, header, body, token):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    writer.writerow(["acct-ok", "ok@example.com", "Okay", token][: len(header)])
    summary, _ = import_file(tmp_path_factory, out.getvalue().encode("utf-8"))
    if summary is not None:
        handled = summary.created + summary.updated + summary.unchanged
        assert handled + summary.skipped + summary.conflicts >= 1


# --- The transaction decoder -------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain():
    return make_signing_chain()


@pytest.fixture(scope="module")
def verifier(chain):
    return TransactionVerifier([chain.root], bundle_id=BUNDLE_ID, environment="Production")


def decode(verifier: TransactionVerifier, token) -> Transaction | None:
    """Decode; a VerificationError is an answer, anything else escapes and fails the test."""
    try:
        return verifier.decode_transaction(token)
    except VerificationError as refusal:
        assert refusal.check and str(refusal)
        return None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@given(token=st.one_of(st.text(max_size=400), st.binary(max_size=400).map(b64url)))
@example(token="a.b.c")
@example(token="..")
@example(token="x" * (MAX_TOKEN_LENGTH + 1))
@example(token="e30.e30.")
def test_random_text_is_refused(verifier, token):
    assert decode(verifier, token) is None


@given(token=st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_a_token_that_is_not_text_is_refused(verifier, token):
    assert decode(verifier, token) is None


def valid_payload(**fields) -> dict:
    return {
        "transactionId": "2000000000000001",
        "originalTransactionId": "2000000000000001",
        "bundleId": BUNDLE_ID,
        "environment": "Production",
        "signedDate": int(time.time() * 1000),
        **fields,
    }


@given(cut=st.integers(min_value=0, max_value=4000))
def test_a_truncated_token_is_refused(chain, verifier, cut):
    token = sign_jws(valid_payload(), chain)
    assume(cut < len(token))
    assert decode(verifier, token[:cut]) is None


@given(
    extra=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=5),
    padding=st.integers(min_value=0, max_value=40_000),
)
def test_a_huge_or_strange_header_is_refused_or_ignored(chain, verifier, extra, padding):
    token = sign_jws(valid_payload(), chain, header={**extra, "pad": "x" * padding})
    result = decode(verifier, token)
    if len(token) > MAX_TOKEN_LENGTH:
        assert result is None


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(),  # NaN and infinities too: Python's JSON reads them
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(), inner)),
    max_leaves=5,
)
PAYLOAD_FIELDS = [
    "transactionId",
    "originalTransactionId",
    "webOrderLineItemId",
    "bundleId",
    "productId",
    "subscriptionGroupIdentifier",
    "purchaseDate",
    "originalPurchaseDate",
    "expiresDate",
    "quantity",
    "type",
    "appAccountToken",
    "inAppOwnershipType",
    "signedDate",
    "revocationReason",
    "revocationDate",
    "revocationType",
    "isUpgraded",
    "offerType",
    "offerIdentifier",
    "offerDiscountType",
    "offerPeriod",
    "environment",
    "transactionReason",
    "storefront",
    "storefrontId",
    "price",
    "currency",
    "appTransactionId",
    "somethingApple",
]


@given(fields=st.dictionaries(st.sampled_from(PAYLOAD_FIELDS), json_values, max_size=6))
@example(fields={"price": float("nan")})
@example(fields={"purchaseDate": float("inf")})
@example(fields={"quantity": 10**400})
@example(fields={"expiresDate": 2**70})
@example(fields={"offerType": 3.5, "revocationReason": True})
def test_wrong_types_in_a_validly_signed_payload_are_refused_or_decoded(chain, verifier, fields):
    token = sign_jws(valid_payload(**fields), chain)
    transaction = decode(verifier, token)
    if transaction is not None:
        # What decodes can be shown and stored: every property reads, the record is JSON.
        for name in ("price", "is_offer_code", "is_family_shared", "is_revoked", "unknown_fields"):
            getattr(transaction, name)
        json.dumps(dict(transaction.raw), allow_nan=False)
