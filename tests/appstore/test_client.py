"""AppStoreClient against the simulator over real HTTP: endpoints, auth, retries, signatures."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from lookups.appstore.auth import (
    RENEW_BEFORE_EXPIRY_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    BearerTokenSigner,
)
from lookups.appstore.client import (
    PRODUCTION_URL,
    SANDBOX_URL,
    AppStoreClient,
    HistoryFilters,
    RetryPolicy,
)
from lookups.appstore.errors import (
    AppStoreTimeoutError,
    AppStoreUnavailableError,
    AppTransactionIdNotSupportedError,
    AuthenticationError,
    FamilyTransactionNotSupportedError,
    GeneralInternalError,
    GeneralInternalRetryableError,
    InvalidAppAccountTokenUUIDError,
    InvalidRequestRevisionError,
    OriginalTransactionIdNotFoundError,
    RateLimitExceededError,
    TransactionIdIsNotOriginalTransactionIdError,
    TransactionIdNotFoundError,
    UnreadableResponseError,
)
from lookups.appstore.transactions import OfferType, Transaction, TransactionReason
from lookups.appstore.verify import TransactionVerifier, VerificationError, load_root_certificates
from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.catalog import (
    CREDITS_10,
    LIFETIME,
    PRO_GROUP,
    PRO_MONTHLY,
    SEASON_PASS,
)
from lookups.simulators.appstore.local import generate_private_key_pem
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    CREDITS_FINISHED,
    CREDITS_UNFINISHED,
    DEMO_ACCOUNTS,
    DEMO_ORDERS,
    EARLIER_CREDIT_PACKS,
    LONG_HISTORY_CREDIT_PACKS,
    LONG_HISTORY_FINISHED_CREDIT_PACKS,
    LONG_HISTORY_RENEWALS,
    LUKAS,
    LUKAS_FINISHED_CONSUMABLES,
    LUKAS_TRANSACTIONS,
    MAYA,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_LONG_HISTORY,
    ORDER_NON_CONSUMABLE,
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    ORDER_PAY_AS_YOU_GO,
    ORDER_REFUNDED,
    ORDER_UPGRADED,
    PURCHASE_LIFETIME,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.appstore_simulator import AppStoreCredentials

# Short waits between attempts, so the retry tests stay fast.
FAST_RETRY = RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05)
RENEW_AFTER_SECONDS = TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_EXPIRY_SECONDS


class MemoryTokenStore:
    """A shared store as simple as a cache: get and set, timeouts ignored."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object, timeout: float | None = None) -> None:
        self.values[key] = value


def make_client(
    credentials: AppStoreCredentials, base_url: str | None, **options
) -> AppStoreClient:
    options.setdefault("private_key_pem", credentials.private_key_pem)
    options.setdefault("environment", credentials.environment)
    options.setdefault("retry", FAST_RETRY)
    return AppStoreClient(
        issuer_id=credentials.issuer_id,
        key_id=credentials.key_id,
        bundle_id=credentials.bundle_id,
        base_url=base_url,
        **options,
    )


@pytest.fixture
def client(
    simulator: AppStoreSimulator, appstore_credentials: AppStoreCredentials
) -> Iterator[AppStoreClient]:
    client = make_client(appstore_credentials, simulator.url)
    yield client
    client.session.close()


@pytest.fixture
def verifier(
    appstore_credentials: AppStoreCredentials, simulator_root_path: Path
) -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates([simulator_root_path]),
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        app_apple_id=appstore_credentials.app_apple_id,
    )


def history(
    client: AppStoreClient,
    verifier: TransactionVerifier,
    any_transaction_id: str,
    *,
    version: int = 2,
    **filters,
) -> list[Transaction]:
    """Every page of a customer's history, verified and decoded, in the order Apple sent it."""
    transactions: list[Transaction] = []
    for page in client.iter_transaction_history(
        any_transaction_id, filters=HistoryFilters(**filters), version=version
    ):
        verifier.check_app(bundle_id=page.bundle_id, app_apple_id=page.app_apple_id)
        transactions += [verifier.decode_transaction(s) for s in page.signed_transactions]
    return transactions


def ids(transactions: list[Transaction]) -> list[str | None]:
    return [t.transaction_id for t in transactions]


def lukas_transaction_id(simulator: AppStoreSimulator) -> str:
    return simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def stalled_body_url() -> Iterator[str]:
    """A server that sends a 200's headers and the first byte of its body, then nothing more."""
    listener = socket.create_server(("127.0.0.1", 0))
    finished = threading.Event()

    def answer_once() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            finished.wait(5)

    server = threading.Thread(target=answer_once, daemon=True)
    server.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finished.set()
    server.join(5)
    listener.close()


# --- Look Up Order ID ----------------------------------------------------------------------------


def test_it_looks_up_an_order_and_every_transaction_verifies(client, verifier, simulator):
    lookup = client.look_up_order(ORDER_OFFER_CODE)

    assert lookup.found and lookup.status == 0
    transactions = [verifier.decode_transaction(s) for s in lookup.signed_transactions]
    expected_ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    assert ids(transactions) == expected_ids
    assert {t.product_id for t in transactions} == {PRO_MONTHLY}
    assert {t.original_transaction_id for t in transactions} == {expected_ids[0]}
    assert [t.transaction_reason for t in transactions] == [TransactionReason.PURCHASE] + [
        TransactionReason.RENEWAL
    ] * 3
    first = transactions[0]
    assert first.offer_type == OfferType.OFFER_CODE
    assert first.offer_identifier == "PROFREEMONTH"
    assert first.app_transaction_id == APP_TRANSACTION_IDS[MAYA]
    assert all(t.app_account_token is None for t in transactions)
    assert simulator.requests == [("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")]


@pytest.mark.parametrize("order_id", [o for o in DEMO_ORDERS if o != ORDER_NOT_FOUND])
def test_it_decodes_every_demo_order_as_the_app_store_holds_it(
    client, verifier, simulator, order_id
):
    lookup = client.look_up_order(order_id)

    transactions = [verifier.decode_transaction(s) for s in lookup.signed_transactions]
    assert ids(transactions) == simulator.order_transaction_ids(order_id)
    for transaction in transactions:
        signed = dict(transaction.raw)
        assert abs(signed.pop("signedDate") - time.time() * 1000) < 60_000
        assert signed == simulator.transaction(transaction.transaction_id)


def test_it_reports_an_unknown_order_as_status_1(client):
    lookup = client.look_up_order(ORDER_NOT_FOUND)

    assert lookup.status == 1
    assert not lookup.found
    assert lookup.signed_transactions == ()


def test_it_escapes_an_order_id_so_it_stays_one_path_segment(client, simulator):
    lookup = client.look_up_order(f"../history/{PURCHASE_LIFETIME}")

    assert lookup.status == 1
    assert simulator.requests == [("GET", f"/inApps/v1/lookup/..%2Fhistory%2F{PURCHASE_LIFETIME}")]


def test_it_refuses_an_empty_id_without_calling_apple(client, simulator):
    with pytest.raises(ValueError):
        client.look_up_order("")
    with pytest.raises(ValueError):
        client.transaction_history("")
    with pytest.raises(ValueError):
        client.set_app_account_token("", uuid.uuid4())
    assert simulator.requests == []


# --- Get Transaction History ---------------------------------------------------------------------


def test_it_leaves_finished_consumables_out_of_history_v1_only(client, verifier, simulator):
    any_id = lukas_transaction_id(simulator)
    finished, unfinished = simulator.order_transaction_ids(ORDER_CONSUMABLES)

    v1 = ids(history(client, verifier, any_id, version=1))
    v2 = ids(history(client, verifier, any_id, version=2))

    assert finished in v2 and finished not in v1
    assert unfinished in v1 and unfinished in v2
    assert set(v2) == set(LUKAS_TRANSACTIONS) and len(v2) == len(LUKAS_TRANSACTIONS)
    assert set(v1) == set(LUKAS_TRANSACTIONS) - set(LUKAS_FINISHED_CONSUMABLES)
    assert [path for _, path in simulator.requests] == [
        f"/inApps/v1/history/{any_id}",
        f"/inApps/v2/history/{any_id}",
    ]


def test_it_reads_the_history_page_envelope(client, simulator, appstore_credentials):
    page = client.transaction_history(lukas_transaction_id(simulator))

    assert page.bundle_id == appstore_credentials.bundle_id
    assert page.app_apple_id == appstore_credentials.app_apple_id
    assert page.environment == "Production"
    assert page.revision
    assert page.has_more is False
    assert len(page.signed_transactions) == len(LUKAS_TRANSACTIONS)


def test_it_filters_history_by_product_type(client, verifier, simulator):
    any_id = lukas_transaction_id(simulator)

    consumables = history(client, verifier, any_id, product_types=("CONSUMABLE",))
    one_time = history(client, verifier, any_id, product_types=("NON_CONSUMABLE", "NON_RENEWABLE"))

    assert set(ids(consumables)) == {*EARLIER_CREDIT_PACKS, CREDITS_FINISHED, CREDITS_UNFINISHED}
    assert {t.type for t in consumables} == {"Consumable"}
    assert {t.product_id for t in one_time} == {LIFETIME, SEASON_PASS}


def test_it_filters_history_by_product_id(client, verifier, simulator):
    credits = history(client, verifier, lukas_transaction_id(simulator), product_ids=(CREDITS_10,))

    assert set(ids(credits)) == {*EARLIER_CREDIT_PACKS, CREDITS_UNFINISHED}
    assert {t.product_id for t in credits} == {CREDITS_10}


def test_it_filters_history_by_purchase_date_start_inclusive_end_exclusive(
    client, verifier, simulator
):
    order = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    dates = [t.purchase_date for t in history(client, verifier, order[0])]

    between = history(client, verifier, order[0], start_date=dates[1], end_date=dates[3])

    assert ids(between) == order[1:3]


def test_it_refuses_a_date_without_a_timezone_before_calling_apple(client, simulator):
    with pytest.raises(ValueError):
        client.transaction_history(
            lukas_transaction_id(simulator),
            filters=HistoryFilters(start_date=datetime(2026, 1, 1)),
        )
    assert simulator.requests == []


def test_it_filters_history_by_revoked(client, verifier, simulator):
    refunded = simulator.order_transaction_ids(ORDER_REFUNDED)[0]

    revoked = history(client, verifier, refunded, revoked=True)
    not_revoked = history(client, verifier, refunded, revoked=False)

    assert ids(revoked) == [refunded]
    assert revoked[0].is_revoked
    assert not_revoked == []


def test_it_filters_history_by_ownership_type(client, verifier, simulator):
    shared = simulator.order_transaction_ids(ORDER_FAMILY_SHARED)

    family = history(client, verifier, shared[0], in_app_ownership_type="FAMILY_SHARED")
    purchased = history(client, verifier, shared[0], in_app_ownership_type="PURCHASED")

    assert ids(family) == shared
    assert all(t.is_family_shared for t in family)
    assert purchased == []


def test_it_filters_history_by_subscription_group(client, verifier, simulator):
    upgraded = simulator.order_transaction_ids(ORDER_UPGRADED)

    in_group = history(client, verifier, upgraded[0], subscription_group_identifiers=(PRO_GROUP,))
    elsewhere = history(
        client,
        verifier,
        lukas_transaction_id(simulator),
        subscription_group_identifiers=(PRO_GROUP,),
    )

    assert ids(in_group) == upgraded
    assert elsewhere == []


def test_it_sorts_history_either_way(client, verifier, simulator):
    any_id = lukas_transaction_id(simulator)

    ascending = history(client, verifier, any_id, sort="ASCENDING")
    descending = history(client, verifier, any_id, sort="DESCENDING")

    dates = [t.purchase_date for t in ascending]
    assert dates == sorted(dates)
    assert ids(descending) == ids(ascending)[::-1]


def test_it_pages_history_by_20_following_revision_and_has_more(client, verifier, simulator):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]

    first = client.transaction_history(any_id)
    second = client.transaction_history(any_id, revision=first.revision)

    assert (len(first.signed_transactions), first.has_more) == (20, True)
    assert (len(second.signed_transactions), second.has_more) == (16, False)
    seen = [
        verifier.decode_transaction(s).transaction_id
        for s in first.signed_transactions + second.signed_transactions
    ]
    assert len(set(seen)) == 36


def test_it_iterates_every_page_of_a_history(client, verifier, simulator):
    order = simulator.add_order("MQ7B4XW2LC", 45)

    pages = list(client.iter_transaction_history(order[-1]))

    assert [len(p.signed_transactions) for p in pages] == [20, 20, 5]
    assert [p.has_more for p in pages] == [True, True, False]
    signed = [s for p in pages for s in p.signed_transactions]
    assert [verifier.decode_transaction(s).transaction_id for s in signed] == order
    assert len(simulator.requests) == 3


def test_it_sends_the_same_filters_with_every_revision(client, verifier, simulator):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]

    subscriptions = history(client, verifier, any_id, product_types=("AUTO_RENEWABLE",))
    v1 = history(client, verifier, any_id, version=1)

    assert len(subscriptions) == LONG_HISTORY_RENEWALS
    assert {t.product_id for t in subscriptions} == {PRO_MONTHLY}
    unfinished = LONG_HISTORY_CREDIT_PACKS - LONG_HISTORY_FINISHED_CREDIT_PACKS
    assert len(v1) == len(set(ids(v1))) == LONG_HISTORY_RENEWALS + unfinished
    assert len(simulator.requests) == 4


def test_it_raises_invalid_request_revision_for_a_bad_revision(client, simulator):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]

    with pytest.raises(InvalidRequestRevisionError) as refused:
        client.transaction_history(any_id, revision="not-a-revision")

    assert refused.value.error_code == 4000005
    assert refused.value.http_status == 400
    assert not refused.value.retryable
    assert len(simulator.requests) == 1


def test_it_raises_invalid_request_revision_for_a_revision_of_other_filters(client, simulator):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = client.transaction_history(
        any_id, filters=HistoryFilters(product_types=("AUTO_RENEWABLE",))
    )

    with pytest.raises(InvalidRequestRevisionError):
        client.transaction_history(any_id, revision=first.revision)


def test_it_raises_not_found_for_an_unknown_transaction_without_retrying(client, simulator):
    with pytest.raises(TransactionIdNotFoundError) as refused:
        client.transaction_history(TRANSACTION_NOT_FOUND)

    assert (refused.value.error_code, refused.value.http_status) == (4040010, 404)
    assert len(simulator.requests) == 1


# --- Set App Account Token -----------------------------------------------------------------------


def test_it_sets_a_token_on_the_latest_transaction_not_earlier_renewals(
    client, verifier, simulator
):
    order = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    token = uuid.UUID(DEMO_ACCOUNTS[0]["app_account_token"])

    assert client.set_app_account_token(order[0], token) is None

    lookup = client.look_up_order(ORDER_OFFER_CODE)
    transactions = [verifier.decode_transaction(s) for s in lookup.signed_transactions]
    assert [t.app_account_token for t in transactions] == [None, None, None, str(token)]
    assert simulator.requests[0] == ("PUT", f"/inApps/v1/transactions/{order[0]}/appAccountToken")


def test_it_replaces_a_token_and_earlier_renewals_keep_the_old_one(client, verifier, simulator):
    order = simulator.order_transaction_ids(ORDER_PAY_AS_YOU_GO)
    old_token = simulator.transaction(order[-1])["appAccountToken"]
    new_token = uuid.uuid4()

    client.set_app_account_token(order[0], new_token)

    lookup = client.look_up_order(ORDER_PAY_AS_YOU_GO)
    tokens = [verifier.decode_transaction(s).app_account_token for s in lookup.signed_transactions]
    assert tokens == [None, None, None, old_token, str(new_token)]


def test_it_sets_a_token_on_a_one_time_purchase_given_as_text(client, simulator):
    lifetime = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    token = str(uuid.uuid4())

    client.set_app_account_token(lifetime, token)

    assert simulator.transaction(lifetime)["appAccountToken"] == token


@pytest.mark.parametrize(
    ("target", "token", "error_class", "error_code", "http_status"),
    [
        pytest.param(
            lambda simulator: simulator.order_transaction_ids(ORDER_FAMILY_SHARED)[0],
            uuid.uuid4(),
            FamilyTransactionNotSupportedError,
            4000185,
            400,
            id="family-shared",
        ),
        pytest.param(
            lambda simulator: simulator.order_transaction_ids(ORDER_OFFER_CODE)[2],
            uuid.uuid4(),
            TransactionIdIsNotOriginalTransactionIdError,
            4000187,
            400,
            id="renewal-not-original",
        ),
        pytest.param(
            lambda simulator: APP_TRANSACTION_IDS[MAYA],
            uuid.uuid4(),
            AppTransactionIdNotSupportedError,
            4000048,
            400,
            id="app-transaction-id",
        ),
        pytest.param(
            lambda simulator: TRANSACTION_NOT_FOUND,
            uuid.uuid4(),
            OriginalTransactionIdNotFoundError,
            4040005,
            404,
            id="unknown",
        ),
        pytest.param(
            lambda simulator: simulator.order_transaction_ids(ORDER_OFFER_CODE)[0],
            MAYA,
            InvalidAppAccountTokenUUIDError,
            4000183,
            400,
            id="not-a-uuid",
        ),
    ],
)
def test_it_raises_apples_refusal_of_a_token_as_its_own_error(
    client, simulator, target, token, error_class, error_code, http_status
):
    with pytest.raises(error_class) as refused:
        client.set_app_account_token(target(simulator), token)

    error = refused.value
    assert (error.error_code, error.http_status, error.retryable) == (
        error_code,
        http_status,
        False,
    )
    assert error.agent_message
    assert error.apple_message
    assert error.describe() == f"{error.agent_message} (Apple error {error_code})"
    assert len(simulator.requests) == 1


# --- the bearer token ----------------------------------------------------------------------------


def test_it_reuses_one_token_across_calls(client, simulator):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]

    client.look_up_order(ORDER_OFFER_CODE)
    client.transaction_history(original)
    client.set_app_account_token(original, uuid.uuid4())
    client.look_up_order(ORDER_NOT_FOUND)

    assert client.signer.tokens_signed == 1
    assert len(simulator.requests) == 4


def test_a_netrc_entry_for_apples_host_does_not_replace_the_bearer_token(
    simulator, appstore_credentials, tmp_path, monkeypatch
):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-a-bearer-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = make_client(appstore_credentials, simulator.url)

    assert client.look_up_order(ORDER_OFFER_CODE).found


def test_a_proxy_named_in_the_environment_carries_every_call(
    simulator, appstore_credentials, monkeypatch
):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    client = make_client(appstore_credentials, simulator.url, sleep=lambda seconds: None)

    # The proxy is not there: the call fails without reaching the simulator directly.
    with pytest.raises(AppStoreUnavailableError):
        client.look_up_order(ORDER_OFFER_CODE)
    assert simulator.requests == []


def test_it_signs_a_new_token_shortly_before_the_old_one_expires(
    client, simulator, appstore_credentials
):
    # Start late in a token's life, so both tokens are still good when the simulator checks them.
    started = time.time() - RENEW_AFTER_SECONDS - 5
    now = started
    client.signer = BearerTokenSigner(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=appstore_credentials.private_key_pem,
        bundle_id=appstore_credentials.bundle_id,
        clock=lambda: now,
    )
    tokens = []
    for seconds_later in (0, RENEW_AFTER_SECONDS - 2, RENEW_AFTER_SECONDS + 1):
        now = started + seconds_later
        client.look_up_order(ORDER_OFFER_CODE)
        tokens.append(client.signer.token())

    assert tokens[0] == tokens[1] != tokens[2]
    assert client.signer.tokens_signed == 2
    assert len(simulator.requests) == 3


def test_it_raises_authentication_error_for_a_key_apple_does_not_know(
    simulator, appstore_credentials
):
    stranger = make_client(
        appstore_credentials,
        simulator.url,
        private_key_pem=generate_private_key_pem().decode(),
    )

    with pytest.raises(AuthenticationError) as refused:
        stranger.look_up_order(ORDER_OFFER_CODE)

    assert refused.value.http_status == 401
    assert refused.value.error_code is None
    assert not refused.value.retryable
    assert refused.value.agent_message
    assert len(simulator.requests) == 1


def test_a_second_client_reuses_the_first_clients_token_through_a_shared_store(
    simulator, appstore_credentials
):
    store = MemoryTokenStore()
    first = make_client(appstore_credentials, simulator.url, token_store=store)
    second = make_client(appstore_credentials, simulator.url, token_store=store)

    first.look_up_order(ORDER_OFFER_CODE)
    second.look_up_order(ORDER_OFFER_CODE)

    assert first.signer.tokens_signed == 1
    assert second.signer.tokens_signed == 0
    assert second.signer.token() == first.signer.token()
    assert len(simulator.requests) == 2


def test_a_token_apple_refused_is_not_taken_back_from_the_shared_store(
    simulator, appstore_credentials
):
    store = MemoryTokenStore()
    # Another process, configured with the wrong key, left its token in the store.
    BearerTokenSigner(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=generate_private_key_pem(),
        bundle_id=appstore_credentials.bundle_id,
        store=store,
    ).token()
    client = make_client(appstore_credentials, simulator.url, token_store=store)

    with pytest.raises(AuthenticationError):
        client.look_up_order(ORDER_OFFER_CODE)
    lookup = client.look_up_order(ORDER_OFFER_CODE)

    assert lookup.found
    assert client.signer.tokens_signed == 1
    assert len(simulator.requests) == 2


# --- retries -------------------------------------------------------------------------------------


def test_it_retries_a_retryable_internal_error_then_succeeds(client, simulator):
    simulator.inject_fault("retryable_error", times=1)

    assert client.look_up_order(ORDER_OFFER_CODE).found

    assert len(simulator.requests) == 2


def test_it_gives_up_on_a_retryable_error_after_max_attempts(client, simulator):
    simulator.inject_fault("retryable_error", times=FAST_RETRY.max_attempts + 5)

    with pytest.raises(GeneralInternalRetryableError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    assert (refused.value.error_code, refused.value.http_status) == (5000001, 500)
    assert refused.value.retryable
    assert len(simulator.requests) == FAST_RETRY.max_attempts


def test_it_does_not_retry_a_general_internal_error(client, simulator):
    simulator.inject_fault("internal_error", times=5)

    with pytest.raises(GeneralInternalError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    assert (refused.value.error_code, refused.value.http_status) == (5000000, 500)
    assert not refused.value.retryable
    assert len(simulator.requests) == 1


def test_it_retries_a_retryable_not_found_then_sets_the_token(client, simulator):
    original = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    token = uuid.uuid4()
    simulator.inject_fault("not_found_retryable", endpoint="set_token", times=1)

    client.set_app_account_token(original, token)

    assert len(simulator.requests) == 2
    assert simulator.transaction(original)["appAccountToken"] == str(token)


def test_it_waits_for_a_near_retry_after_then_succeeds(client, simulator):
    simulator.inject_fault("rate_limit", retry_after_ms=300)
    started = time.monotonic()

    assert client.look_up_order(ORDER_OFFER_CODE).found

    assert time.monotonic() - started >= 0.29
    assert len(simulator.requests) == 2


def test_it_fails_at_once_when_retry_after_is_too_far_away(simulator, appstore_credentials):
    answers: list[requests.Response] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **kwargs: answers.append(response))
    client = make_client(appstore_credentials, simulator.url, session=session)
    simulator.inject_fault("rate_limit", retry_after_ms=60_000)

    with pytest.raises(RateLimitExceededError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    error = refused.value
    assert (error.error_code, error.http_status) == (4290000, 429)
    assert len(simulator.requests) == 1
    header_ms = int(answers[0].headers["Retry-After"])
    assert error.retry_at == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=header_ms)
    assert "Try again in 60 seconds." in error.describe()
    assert error.describe().endswith("(Apple error 4290000)")
    session.close()


def test_it_does_not_retry_an_answer_that_is_not_json(client, simulator):
    simulator.inject_fault("not_json", times=5)

    with pytest.raises(UnreadableResponseError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    assert refused.value.http_status == 502
    assert "502" in refused.value.agent_message
    assert len(simulator.requests) == 1


def test_it_gives_up_on_a_slow_answer_without_retrying(simulator, appstore_credentials):
    client = make_client(appstore_credentials, simulator.url, read_timeout=0.5)
    simulator.inject_fault("slow", delay_seconds=2, times=5)
    started = time.monotonic()

    with pytest.raises(AppStoreTimeoutError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    assert time.monotonic() - started < 1.5
    assert not refused.value.retryable
    assert len(simulator.requests) == 1


def test_it_gives_up_on_a_body_that_stops_arriving_without_retrying(
    appstore_credentials, stalled_body_url
):
    waits: list[float] = []
    client = make_client(
        appstore_credentials, stalled_body_url, read_timeout=0.3, sleep=waits.append
    )
    started = time.monotonic()

    with pytest.raises(AppStoreTimeoutError):
        client.look_up_order(ORDER_OFFER_CODE)

    assert time.monotonic() - started < 1.0
    assert waits == []


def test_it_retries_a_refused_connection_until_max_attempts(appstore_credentials):
    waits: list[float] = []
    client = make_client(
        appstore_credentials,
        f"http://127.0.0.1:{free_port()}",
        sleep=waits.append,
    )

    with pytest.raises(AppStoreUnavailableError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)

    assert type(refused.value) is AppStoreUnavailableError
    assert refused.value.retryable
    assert len(waits) == FAST_RETRY.max_attempts - 1
    assert all(0 <= wait <= FAST_RETRY.backoff_cap_seconds for wait in waits)


def test_the_call_budget_caps_retries_and_reports_apples_last_answer(
    simulator, appstore_credentials
):
    budget = RetryPolicy(
        max_attempts=50,
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.05,
        call_budget_seconds=0.3,
    )
    client = make_client(appstore_credentials, simulator.url, retry=budget)
    simulator.inject_fault("retryable_error", times=50)
    started = time.monotonic()

    # Whether the budget runs out in a wait or in a retry it cut short, Apple's error is reported.
    with pytest.raises(GeneralInternalRetryableError):
        client.look_up_order(ORDER_OFFER_CODE)

    # Fifty attempts a twentieth of a second apart would take 2.5 s; the margin is for a busy host.
    assert time.monotonic() - started < 2.0
    assert 1 < len(simulator.requests) < 50


def test_the_call_budget_caps_a_slow_answer(simulator, appstore_credentials):
    budget = RetryPolicy(call_budget_seconds=0.4)
    client = make_client(appstore_credentials, simulator.url, retry=budget, read_timeout=10)
    simulator.inject_fault("slow", delay_seconds=6)
    started = time.monotonic()

    with pytest.raises(AppStoreTimeoutError):
        client.look_up_order(ORDER_OFFER_CODE)

    # Well before Apple's six seconds, with a margin for a busy host.
    assert time.monotonic() - started < 3.0
    assert len(simulator.requests) == 1


# --- signatures ----------------------------------------------------------------------------------


def test_it_passes_on_a_transaction_signed_by_an_untrusted_chain_for_the_verifier_to_refuse(
    client, verifier, simulator
):
    order = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    simulator.inject_fault("untrusted_chain", target=order[2])

    lookup = client.look_up_order(ORDER_OFFER_CODE)

    assert lookup.found
    untrusted = lookup.signed_transactions[2]
    with pytest.raises(VerificationError) as refused:
        verifier.decode_transaction(untrusted)
    assert refused.value.check == "root"
    trusted = [s for s in lookup.signed_transactions if s != untrusted]
    assert [verifier.decode_transaction(s).transaction_id for s in trusted] == [
        order[0],
        order[1],
        order[3],
    ]


def test_it_passes_on_a_history_page_signed_by_an_untrusted_chain(client, verifier, simulator):
    any_id = lukas_transaction_id(simulator)
    simulator.inject_fault("untrusted_chain", endpoint="history")

    page = client.transaction_history(any_id)

    assert len(page.signed_transactions) == len(LUKAS_TRANSACTIONS)
    for signed in page.signed_transactions:
        with pytest.raises(VerificationError) as refused:
            verifier.decode_transaction(signed)
        assert refused.value.check == "root"


# --- configuration -------------------------------------------------------------------------------


def test_it_calls_apples_hosts_unless_given_a_base_url(appstore_credentials):
    production = make_client(appstore_credentials, None)
    sandbox = make_client(appstore_credentials, None, environment="Sandbox")
    local = make_client(appstore_credentials, "http://127.0.0.1:8765/")

    assert production.base_url == PRODUCTION_URL == "https://api.storekit.apple.com"
    assert sandbox.base_url == SANDBOX_URL == "https://api.storekit-sandbox.apple.com"
    assert local.base_url == "http://127.0.0.1:8765"
    with pytest.raises(ValueError):
        make_client(appstore_credentials, None, environment="Xcode")


def test_it_refuses_an_order_lookup_in_sandbox_without_calling_apple(
    simulator, appstore_credentials
):
    from lookups.appstore.errors import OrderLookupUnavailableError

    client = AppStoreClient(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=appstore_credentials.private_key_pem,
        bundle_id=appstore_credentials.bundle_id,
        environment="Sandbox",
        base_url=simulator.url,
    )
    with pytest.raises(OrderLookupUnavailableError) as refused:
        client.look_up_order(ORDER_OFFER_CODE)
    assert "Production" in refused.value.describe()
    assert simulator.requests == []


def test_finish_transaction(api_client, simulator):
    assert api_client.finish_transaction(CREDITS_UNFINISHED) is None
    assert simulator.store.is_finished(CREDITS_UNFINISHED)
    with pytest.raises(AppTransactionIdNotSupportedError):
        api_client.finish_transaction(APP_TRANSACTION_IDS[LUKAS])
