"""Get Transaction History at the simulator, held to Apple's: versions, filters, sorting, pages of
20 and revisions."""

from __future__ import annotations

from typing import Any

import pytest

from lookups.simulators.demo_data import (
    LONG_HISTORY_CREDIT_PACKS,
    LONG_HISTORY_FINISHED_CREDIT_PACKS,
    LONG_HISTORY_RENEWALS,
    LUKAS_FINISHED_CONSUMABLES,
    LUKAS_TRANSACTIONS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_LONG_HISTORY,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    ORDER_UPGRADED,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.simulator_api import (
    assert_apple_error,
    decode,
    history_ids,
    lukas_any_id,
    payloads,
)


def test_history_v1_leaves_out_finished_consumables_and_v2_keeps_them(simulator, api):
    v1 = history_ids(api, lukas_any_id(), version=1)
    v2 = history_ids(api, lukas_any_id(), version=2)
    finished_credit, unfinished_credit = simulator.order_transaction_ids(ORDER_CONSUMABLES)
    assert finished_credit in v2 and finished_credit not in v1
    assert unfinished_credit in v1 and unfinished_credit in v2
    assert set(v2) == set(LUKAS_TRANSACTIONS) and len(v2) == len(LUKAS_TRANSACTIONS)
    assert set(v1) == set(LUKAS_TRANSACTIONS) - set(LUKAS_FINISHED_CONSUMABLES)


def test_history_v1_keeps_a_finished_consumable_once_it_is_refunded(simulator, api):
    finished_credit = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    simulator.revoke(finished_credit)
    assert finished_credit in history_ids(api, lukas_any_id(), version=1)


def test_history_answers_for_any_id_of_the_customer(simulator, api):
    renewal = simulator.order_transaction_ids(ORDER_OFFER_CODE)[2]
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    app_transaction_id = simulator.transaction(original)["appTransactionId"]
    by_renewal = history_ids(api, renewal)
    assert by_renewal == history_ids(api, original) == history_ids(api, app_transaction_id)
    assert by_renewal == simulator.order_transaction_ids(ORDER_OFFER_CODE)


def test_history_response_has_apples_fields(simulator, api):
    response = api("GET", f"/inApps/v2/history/{lukas_any_id()}")
    body = response.json()
    assert list(body) == [
        "revision",
        "hasMore",
        "bundleId",
        "appAppleId",
        "environment",
        "signedTransactions",
    ]
    assert body["bundleId"] == simulator.bundle_id
    assert body["appAppleId"] == simulator.app_apple_id
    assert body["environment"] == "Production"
    assert body["hasMore"] is False
    assert isinstance(body["revision"], str) and body["revision"]


def test_history_of_an_unknown_transaction_is_404(api):
    assert_apple_error(api("GET", f"/inApps/v2/history/{TRANSACTION_NOT_FOUND}"), 404, 4040010)


@pytest.mark.parametrize("bad_id", ["abc", "2000000-1", "%20"])
def test_history_of_a_non_numeric_id_is_400(api, bad_id):
    assert_apple_error(api("GET", f"/inApps/v1/history/{bad_id}"), 400, 4000006)


def test_history_filters_by_purchase_date_start_inclusive_end_exclusive(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    dates = [simulator.transaction(t)["purchaseDate"] for t in ids]
    assert history_ids(api, ids[0], startDate=dates[1]) == ids[1:]
    assert history_ids(api, ids[0], endDate=dates[2]) == ids[:2]
    assert history_ids(api, ids[0], startDate=dates[1], endDate=dates[3]) == ids[1:3]
    assert history_ids(api, ids[0], endDate=dates[-1] + 10**12) == ids


def test_history_filters_by_product_id_and_type_matching_any_value(simulator, api):
    def types(**params: Any) -> set[str]:
        return {
            simulator.transaction(t)["type"] for t in history_ids(api, lukas_any_id(), **params)
        }

    assert types(productType="CONSUMABLE") == {"Consumable"}
    assert types(productType=["NON_CONSUMABLE", "NON_RENEWABLE"]) == {
        "Non-Consumable",
        "Non-Renewing Subscription",
    }
    lifetime = simulator.transaction(simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0])
    assert history_ids(api, lukas_any_id(), productId=lifetime["productId"]) == [
        lifetime["transactionId"]
    ]
    credits = {
        simulator.transaction(t)["productId"]
        for t in simulator.order_transaction_ids(ORDER_CONSUMABLES)
    }
    assert len(history_ids(api, lukas_any_id(), productId=sorted(credits))) == 6
    assert history_ids(api, lukas_any_id(), productId="com.example.nothing") == []


def test_history_filters_by_subscription_group(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_UPGRADED)
    group = simulator.transaction(ids[0])["subscriptionGroupIdentifier"]
    assert history_ids(api, ids[0], subscriptionGroupIdentifier=group) == ids
    assert history_ids(api, ids[0], subscriptionGroupIdentifier=["999", group]) == ids
    assert history_ids(api, ids[0], subscriptionGroupIdentifier="999") == []
    assert history_ids(api, lukas_any_id(), subscriptionGroupIdentifier=group) == []


def test_history_filters_by_ownership_type(simulator, api):
    family = simulator.order_transaction_ids(ORDER_FAMILY_SHARED)
    assert history_ids(api, family[0], inAppOwnershipType="FAMILY_SHARED") == family
    assert history_ids(api, family[0], inAppOwnershipType="PURCHASED") == []
    assert len(history_ids(api, lukas_any_id(), inAppOwnershipType="PURCHASED")) == 8


def test_history_filters_by_revoked(simulator, api):
    lifetime = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    simulator.revoke(lifetime, reason=0)
    assert history_ids(api, lukas_any_id(), revoked="true") == [lifetime]
    assert lifetime not in history_ids(api, lukas_any_id(), revoked="false")
    assert len(history_ids(api, lukas_any_id(), revoked="false")) == 7
    # Apple's Python library sends str(True); the deprecated excludeRevoked still works.
    assert history_ids(api, lukas_any_id(), revoked="True") == [lifetime]
    assert lifetime not in history_ids(api, lukas_any_id(), excludeRevoked="true")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"startDate": "yesterday"}, 4000015),
        ({"startDate": ""}, 4000015),
        ({"startDate": "-5"}, 4000015),
        ({"endDate": "1.5"}, 4000016),
        ({"endDate": ""}, 4000016),
        ({"startDate": "2000", "endDate": "1000"}, 4000013),
        ({"startDate": "1000", "endDate": "1000"}, 4000013),
        ({"sort": "NEWEST"}, 4000021),
        ({"sort": "ascending"}, 4000021),
        ({"sort": ["ASCENDING", "DESCENDING"]}, 4000021),
        ({"productType": "SUBSCRIPTION"}, 4000022),
        ({"productType": ["CONSUMABLE", "consumable"]}, 4000022),
        ({"productId": ""}, 4000023),
        ({"subscriptionGroupIdentifier": ""}, 4000024),
        ({"excludeRevoked": "yes"}, 4000025),
        ({"inAppOwnershipType": "SHARED"}, 4000026),
        ({"revoked": "1"}, 4000030),
        ({"revision": "not-a-revision"}, 4000005),
        ({"revision": ""}, 4000005),
    ],
)
def test_history_refuses_bad_parameters_with_apples_codes(api, params, code):
    assert_apple_error(api("GET", f"/inApps/v2/history/{lukas_any_id()}", params=params), 400, code)


def test_history_sorts_by_recently_modified_date(simulator, api):
    ascending = history_ids(api, lukas_any_id())
    purchase_dates = [simulator.transaction(t)["purchaseDate"] for t in ascending]
    assert purchase_dates == sorted(purchase_dates)
    assert history_ids(api, lukas_any_id(), sort="DESCENDING") == ascending[::-1]

    # A refund makes the oldest purchase the most recently modified one.
    simulator.revoke(ascending[0])
    assert history_ids(api, lukas_any_id())[-1] == ascending[0]
    assert history_ids(api, lukas_any_id(), sort="DESCENDING")[0] == ascending[0]


def test_history_sorts_an_upgraded_subscription_by_its_upgrade(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_UPGRADED)
    upgraded, yearly = ids[2], ids[3]
    assert simulator.transaction(upgraded)["isUpgraded"] is True
    # The upgrade moved the monthly transaction to the yearly purchase's moment.
    assert history_ids(api, ids[0]) == [ids[0], ids[1], upgraded, yearly]
    assert history_ids(api, ids[0], startDate=simulator.transaction(yearly)["purchaseDate"]) == [
        yearly
    ]


def test_history_pages_by_20_with_revision_and_has_more(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api("GET", f"/inApps/v2/history/{any_id}").json()
    assert first["hasMore"] is True
    assert len(first["signedTransactions"]) == 20
    second = api(
        "GET", f"/inApps/v2/history/{any_id}", params={"revision": first["revision"]}
    ).json()
    assert second["hasMore"] is False
    everything = LONG_HISTORY_RENEWALS + LONG_HISTORY_CREDIT_PACKS
    assert len(second["signedTransactions"]) == everything - 20
    seen = [
        decode(t)[1]["transactionId"]
        for t in first["signedTransactions"] + second["signedTransactions"]
    ]
    assert len(set(seen)) == everything

    v1 = history_ids(api, any_id, version=1)
    finished = LONG_HISTORY_FINISHED_CREDIT_PACKS
    assert len(v1) == len(set(v1)) == everything - finished
    descending = history_ids(api, any_id, sort="DESCENDING")
    assert descending == history_ids(api, any_id)[::-1]


def test_history_revision_must_come_with_the_same_filters(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api(
        "GET", f"/inApps/v2/history/{any_id}", params={"productType": "AUTO_RENEWABLE"}
    ).json()
    assert first["hasMore"] is True
    path = f"/inApps/v2/history/{any_id}"
    revision = first["revision"]
    assert_apple_error(api("GET", path, params={"revision": revision}), 400, 4000005)
    assert_apple_error(
        api(
            "GET",
            path,
            params={"revision": revision, "productType": "AUTO_RENEWABLE", "sort": "DESCENDING"},
        ),
        400,
        4000005,
    )
    assert_apple_error(
        api(
            "GET",
            f"/inApps/v2/history/{lukas_any_id()}",
            params={"revision": revision, "productType": "AUTO_RENEWABLE"},
        ),
        400,
        4000005,
    )
    assert_apple_error(
        api(
            "GET",
            f"/inApps/v1/history/{any_id}",
            params={"revision": revision, "productType": "AUTO_RENEWABLE"},
        ),
        400,
        4000005,
    )
    tampered = revision[:-4] + ("AAAA" if not revision.endswith("AAAA") else "BBBB")
    assert_apple_error(
        api("GET", path, params={"revision": tampered, "productType": "AUTO_RENEWABLE"}),
        400,
        4000005,
    )
    follow_up = api("GET", path, params={"revision": revision, "productType": "AUTO_RENEWABLE"})
    assert follow_up.status_code == 200
    assert len(follow_up.json()["signedTransactions"]) == 4


def test_history_in_ascending_order_brings_back_a_transaction_modified_while_paging(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api("GET", f"/inApps/v2/history/{any_id}").json()
    already_seen = decode(first["signedTransactions"][3])[1]["transactionId"]
    simulator.revoke(already_seen)
    rest = payloads(
        api("GET", f"/inApps/v2/history/{any_id}", params={"revision": first["revision"]})
    )
    assert rest[-1]["transactionId"] == already_seen
    assert "revocationDate" in rest[-1]


def test_history_revision_of_the_last_page_later_brings_only_new_transactions(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    path = f"/inApps/v2/history/{original}"
    last = api("GET", path).json()
    assert last["hasMore"] is False
    nothing_new = api("GET", path, params={"revision": last["revision"]}).json()
    assert nothing_new["signedTransactions"] == [] and nothing_new["hasMore"] is False
    renewal = simulator.renew(original)
    later = payloads(api("GET", path, params={"revision": last["revision"]}))
    assert [t["transactionId"] for t in later] == [renewal]
