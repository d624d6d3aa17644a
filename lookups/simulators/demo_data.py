"""The demo's App Store customers and orders: every case a support agent meets, with fixed IDs.

IDs never change, so the app's demo setup can create the matching customer accounts; dates are
set relative to today (UTC), so subscriptions are always current when the demo runs.
"""

from __future__ import annotations

from collections.abc import Callable

from lookups.simulators.appstore.catalog import (
    CREDITS_10,
    CREDITS_50,
    DAY_MS,
    LIFETIME,
    PRO_MONTHLY,
    PRO_YEARLY,
    SEASON_PASS,
    add_months,
)
from lookups.simulators.appstore.catalog import DEMO_APP_APPLE_ID as DEMO_APP_APPLE_ID
from lookups.simulators.appstore.catalog import DEMO_BUNDLE_ID as DEMO_BUNDLE_ID
from lookups.simulators.appstore.store import Offer, TransactionStore

# When a demo purchase happened: (days before today, hour, minute) -> ms since the epoch.
Moment = Callable[[int, int, int], int]

MAYA, OLIVER, SOFIA, LUKAS, EMMA, JAMES, CHLOE, AIKO = (
    "acct-1001",
    "acct-1002",
    "acct-1003",
    "acct-1004",
    "acct-1005",
    "acct-1006",
    "acct-1007",
    "acct-1008",
)

# The company's own customer accounts, each with the appAccountToken the app uses for them.
DEMO_ACCOUNTS: list[dict[str, str]] = [
    {
        "external_id": MAYA,
        "email": "maya.patel@example.com",
        "name": "Maya Patel",
        "app_account_token": "3f2b8c1e-7d4a-4c9e-9b6f-2a1d5e8c7b40",
    },
    {
        "external_id": OLIVER,
        "email": "oliver.bennett@example.co.uk",
        "name": "Oliver Bennett",
        "app_account_token": "a6d0e2f4-1b3c-4e5d-8f70-9a1b2c3d4e5f",
    },
    {
        "external_id": SOFIA,
        "email": "sofia.martinez@example.com",
        "name": "Sofia Martinez",
        "app_account_token": "5c9e1a7b-3d2f-4b8a-a6c4-e0f1d2c3b4a5",
    },
    {
        "external_id": LUKAS,
        "email": "lukas.schneider@example.de",
        "name": "Lukas Schneider",
        "app_account_token": "d47b2e90-6c1a-4f3e-8b5d-71a2c3e4f506",
    },
    {
        "external_id": EMMA,
        "email": "emma.johnson@example.com",
        "name": "Emma Johnson",
        "app_account_token": "0e8f6a4c-2b1d-4d9e-b7a3-c5f6e7d8a9b0",
    },
    {
        "external_id": JAMES,
        "email": "james.oconnor@example.ca",
        "name": "James O'Connor",
        "app_account_token": "b1c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e",
    },
    {
        "external_id": CHLOE,
        "email": "chloe.dubois@example.fr",
        "name": "Chloé Dubois",
        "app_account_token": "7e6d5c4b-3a29-4180-97f6-e5d4c3b2a190",
    },
    {
        "external_id": AIKO,
        "email": "aiko.tanaka@example.jp",
        "name": "Aiko Tanaka",
        "app_account_token": "c0ffee00-1234-4abc-8def-0123456789ab",
    },
]
_TOKENS = {a["external_id"]: a["app_account_token"] for a in DEMO_ACCOUNTS}

ORDER_OFFER_CODE = "MK5TTTVWJH"
ORDER_PAY_AS_YOU_GO = "MT4V5Q2J8K"
ORDER_LINKED_IN_APP = "ML8QRW2ZTN"
ORDER_NON_CONSUMABLE = "MN2B7XK4PD"
ORDER_NON_RENEWING = "MW6H2LQ8YE"
ORDER_CONSUMABLES = "MR9D3FHV6C"
ORDER_FAMILY_SHARED = "MJ3X9TPC5R"
ORDER_REFUNDED = "MP7K4WZN2G"
ORDER_UPGRADED = "MV5C8NJ3QH"
ORDER_LONG_HISTORY = "MH6T2RBX9W"
ORDER_NOT_FOUND = "MZ8Q4KDJ7V"
# Subscriptions in each state Get All Subscription Statuses reports, bought by App Store customers
# who have no account at the company yet.
ORDER_EXPIRED = "MQ2W8ZK5TB"
ORDER_BILLING_RETRY = "MB7R3NDX4L"
ORDER_GRACE_PERIOD = "MG4P9TQW2C"
ORDER_REVOKED_SUBSCRIPTION = "MX3F7KHR8D"
ORDER_FREE_TRIAL = "MF8T2LXC6N"

DEMO_ORDERS: dict[str, str] = {
    ORDER_OFFER_CODE: (
        "Offer-code subscription (free month) redeemed in the App Store, renewed three times: "
        "not linked yet (Maya Patel)"
    ),
    ORDER_PAY_AS_YOU_GO: (
        "Offer-code subscription (pay as you go) linked to Oliver Bennett last month: only the "
        "two latest transactions carry his token"
    ),
    ORDER_LINKED_IN_APP: "Yearly subscription bought in the app: already linked to Sofia Martinez",
    ORDER_NON_CONSUMABLE: "Lifetime unlock (non-consumable) bought in the app by Lukas Schneider",
    ORDER_NON_RENEWING: "Season pass (non-renewing subscription) bought by Lukas Schneider",
    ORDER_CONSUMABLES: (
        "Two credit packs in one order: one finished by the app (in history V2 only), one not "
        "finished yet (Lukas Schneider)"
    ),
    ORDER_FAMILY_SHARED: (
        "Subscription shared through Family Sharing with Emma Johnson: Apple refuses to link it"
    ),
    ORDER_REFUNDED: "Lifetime unlock refunded four days after purchase: revoked (James O'Connor)",
    ORDER_UPGRADED: (
        "Monthly subscription upgraded to yearly in the same group: the monthly one is marked "
        "upgraded (Chloé Dubois)"
    ),
    ORDER_LONG_HISTORY: (
        "Credit pack of a two-year subscriber with 36 transactions: history comes in pages of 20 "
        "(Aiko Tanaka)"
    ),
    ORDER_NOT_FOUND: "Not an order of this app: Apple answers status 1",
    ORDER_EXPIRED: (
        "Monthly subscription the customer cancelled: expired three weeks ago (status 2, "
        "expirationIntent 1)"
    ),
    ORDER_BILLING_RETRY: (
        "Monthly subscription whose renewal failed: billing retry, grace period over (status 3)"
    ),
    ORDER_GRACE_PERIOD: (
        "Monthly subscription whose renewal failed two days ago: in its billing grace period "
        "(status 4)"
    ),
    ORDER_REVOKED_SUBSCRIPTION: "Yearly subscription refunded by Apple: revoked (status 5)",
    ORDER_FREE_TRIAL: (
        "Monthly subscription in its free introductory week: Apple refuses to extend it"
    ),
}

# The demo purchases, by their original transaction ID (what an agent links and whose history
# they open), and the transactions each one is made of, oldest first.
PURCHASE_OFFER_CODE = "2000000815627301"  # Maya's offer-code subscription, not linked yet
PURCHASE_PAY_AS_YOU_GO = "2000000790112458"  # Oliver's, linked by support last month
PURCHASE_LINKED_IN_APP = "2000000412908834"  # Sofia's yearly, linked in the app
PURCHASE_LIFETIME = "2000000745520913"  # Lukas's non-consumable
PURCHASE_SEASON_PASS = "2000000823370158"  # Lukas's non-renewing subscription
PURCHASE_FAMILY_SHARED = "2000000830057719"  # Emma's, shared with her: Apple refuses to link it
PURCHASE_REFUNDED = "2000000836612047"  # James's lifetime unlock, revoked
PURCHASE_UPGRADED = "2000000818846213"  # Chloé's monthly, upgraded to yearly
PURCHASE_LONG_HISTORY = "2000000560218840"  # Aiko's two-year monthly subscription

OFFER_CODE_TRANSACTIONS = (
    PURCHASE_OFFER_CODE,
    "2000000824401187",
    "2000000833519642",
    "2000000842287015",
)
OFFER_CODE_LATEST = OFFER_CODE_TRANSACTIONS[-1]
PAY_AS_YOU_GO_TRANSACTIONS = (
    PURCHASE_PAY_AS_YOU_GO,
    "2000000799834120",
    "2000000808713366",
    "2000000817950271",
    "2000000827064419",
)
LINKED_IN_APP_TRANSACTIONS = (PURCHASE_LINKED_IN_APP, "2000000611457702", "2000000799031265")
FAMILY_SHARED_TRANSACTIONS = (PURCHASE_FAMILY_SHARED, "2000000839904482")
UPGRADED_MONTHLY_TRANSACTIONS = (PURCHASE_UPGRADED, "2000000828129905", "2000000837741156")
UPGRADED_MONTHLY_LATEST = UPGRADED_MONTHLY_TRANSACTIONS[-1]  # the one marked upgraded
UPGRADE_TO_YEARLY = "2000000840380522"
EARLIER_CREDIT_PACKS = (
    "2000000756601342",
    "2000000771245590",
    "2000000786930127",
    "2000000802218764",
)
CREDITS_FINISHED = "2000000843316690"  # finished by the app: in history V2 only
CREDITS_UNFINISHED = "2000000843316691"  # two packs of ten in one transaction
LONG_HISTORY_RENEWALS = 24
LONG_HISTORY_CREDIT_PACKS = 12
LONG_HISTORY_LATEST_CREDITS = str(2000000571400000 + 23_100_417 * 11 + 9)
LONG_HISTORY_FINISHED_CREDIT_PACKS = 10  # the app has finished all but the two latest
# Everything Lukas bought, and the consumables the app has finished (left out of history V1).
LUKAS_TRANSACTIONS = (
    PURCHASE_LIFETIME,
    PURCHASE_SEASON_PASS,
    *EARLIER_CREDIT_PACKS,
    CREDITS_FINISHED,
    CREDITS_UNFINISHED,
)
LUKAS_FINISHED_CONSUMABLES = (*EARLIER_CREDIT_PACKS, CREDITS_FINISHED)
# The subscriptions in each state, bought by App Store customers with no account at the company.
EXPIRED_TRANSACTIONS = ("2000000701100311", "2000000720040516")
BILLING_RETRY_TRANSACTIONS = ("2000000742210087", "2000000761900342", "2000000781337209")
GRACE_PERIOD_TRANSACTIONS = ("2000000790450128", "2000000809660731")
PURCHASE_REVOKED_SUBSCRIPTION = "2000000826715530"
PURCHASE_FREE_TRIAL = "2000000844120066"
# Not a transaction of this app: Apple answers "transaction ID not found".
TRANSACTION_NOT_FOUND = "2000000999999999"

# What Apple's order lookup gives for each demo order: the transactions bought in it.
ORDER_TRANSACTIONS: dict[str, tuple[str, ...]] = {
    ORDER_OFFER_CODE: OFFER_CODE_TRANSACTIONS,
    ORDER_PAY_AS_YOU_GO: PAY_AS_YOU_GO_TRANSACTIONS,
    ORDER_LINKED_IN_APP: LINKED_IN_APP_TRANSACTIONS,
    ORDER_NON_CONSUMABLE: (PURCHASE_LIFETIME,),
    ORDER_NON_RENEWING: (PURCHASE_SEASON_PASS,),
    ORDER_CONSUMABLES: (CREDITS_FINISHED, CREDITS_UNFINISHED),
    ORDER_FAMILY_SHARED: FAMILY_SHARED_TRANSACTIONS,
    ORDER_REFUNDED: (PURCHASE_REFUNDED,),
    ORDER_UPGRADED: (*UPGRADED_MONTHLY_TRANSACTIONS, UPGRADE_TO_YEARLY),
    ORDER_LONG_HISTORY: (LONG_HISTORY_LATEST_CREDITS,),
    ORDER_NOT_FOUND: (),
    ORDER_EXPIRED: EXPIRED_TRANSACTIONS,
    ORDER_BILLING_RETRY: BILLING_RETRY_TRANSACTIONS,
    ORDER_GRACE_PERIOD: GRACE_PERIOD_TRANSACTIONS,
    ORDER_REVOKED_SUBSCRIPTION: (PURCHASE_REVOKED_SUBSCRIPTION,),
    ORDER_FREE_TRIAL: (PURCHASE_FREE_TRIAL,),
}

# Each App Store customer is known by the appTransactionId all their transactions carry.
APP_TRANSACTION_IDS = {
    MAYA: "705000000000000101",
    OLIVER: "705000000000000102",
    SOFIA: "705000000000000103",
    LUKAS: "705000000000000104",
    EMMA: "705000000000000105",
    JAMES: "705000000000000106",
    CHLOE: "705000000000000107",
    AIKO: "705000000000000108",
}
# App Store customers with no account at the company, one per subscription state.
STATE_CUSTOMERS = {
    ORDER_EXPIRED: "705000000000000109",
    ORDER_BILLING_RETRY: "705000000000000110",
    ORDER_GRACE_PERIOD: "705000000000000111",
    ORDER_REVOKED_SUBSCRIPTION: "705000000000000112",
    ORDER_FREE_TRIAL: "705000000000000113",
}


def load_demo_data(store: TransactionStore, now_ms: int) -> None:
    """Fill an empty store with the demo customers, their transactions and their orders."""
    today = now_ms - now_ms % DAY_MS

    def at(days_ago: int, hour: int, minute: int) -> int:
        return today - days_ago * DAY_MS + (hour * 60 + minute) * 60_000 + 17_000

    customers = {
        MAYA: "USA",
        OLIVER: "GBR",
        SOFIA: "USA",
        LUKAS: "DEU",
        EMMA: "USA",
        JAMES: "CAN",
        CHLOE: "FRA",
        AIKO: "JPN",
    }
    for account, storefront in customers.items():
        store.add_customer(APP_TRANSACTION_IDS[account], storefront=storefront)

    _offer_code_subscription(store, at(9, 14, 23))
    _pay_as_you_go_subscription(store, at(4, 8, 5))
    _yearly_bought_in_app(store, at(41, 19, 2))
    _one_time_purchases(store, at)
    _family_shared(store, at(15, 6, 12))
    _refunded(store, at(30, 21, 4), at(26, 10, 0))
    _upgraded(store, at(20, 9, 45), at(12, 18, 20))
    _long_history(store, at)
    _renewal_states(store)
    _subscriptions_in_every_state(store, at, now_ms)


def _offer_code_subscription(store: TransactionStore, latest: int) -> None:
    customer = APP_TRANSACTION_IDS[MAYA]
    free_month = Offer(3, "PROFREEMONTH", "FREE_TRIAL", "P1M", 0)
    ids = OFFER_CODE_TRANSACTIONS
    for n, transaction_id in enumerate(ids):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            original_transaction_id=ids[0] if n else None,
            product_id=PRO_MONTHLY,
            purchase_date=add_months(latest, n - 3),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            offer=free_month if n == 0 else None,
            order_id=ORDER_OFFER_CODE,
        )


def _pay_as_you_go_subscription(store: TransactionStore, latest: int) -> None:
    customer = APP_TRANSACTION_IDS[OLIVER]
    three_months = Offer(3, "BACKTOSCHOOL3", "PAY_AS_YOU_GO", "P3M", 2990)
    ids = PAY_AS_YOU_GO_TRANSACTIONS
    for n, transaction_id in enumerate(ids):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            original_transaction_id=ids[0] if n else None,
            product_id=PRO_MONTHLY,
            purchase_date=add_months(latest, n - 4),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            offer=three_months if n < 3 else None,
            # Linked by support while the fourth transaction was current; the fifth inherited it.
            app_account_token=_TOKENS[OLIVER] if n >= 3 else None,
            order_id=ORDER_PAY_AS_YOU_GO,
        )


def _yearly_bought_in_app(store: TransactionStore, latest: int) -> None:
    customer = APP_TRANSACTION_IDS[SOFIA]
    ids = LINKED_IN_APP_TRANSACTIONS
    for n, transaction_id in enumerate(ids):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            original_transaction_id=ids[0] if n else None,
            product_id=PRO_YEARLY,
            purchase_date=add_months(latest, 12 * (n - 2)),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            app_account_token=_TOKENS[SOFIA],
            order_id=ORDER_LINKED_IN_APP,
        )


def _one_time_purchases(store: TransactionStore, at: Moment) -> None:
    customer, token = APP_TRANSACTION_IDS[LUKAS], _TOKENS[LUKAS]
    store.add_transaction(
        customer,
        transaction_id=PURCHASE_LIFETIME,
        product_id=LIFETIME,
        purchase_date=at(212, 20, 41),
        app_account_token=token,
        order_id=ORDER_NON_CONSUMABLE,
    )
    store.add_transaction(
        customer,
        transaction_id=PURCHASE_SEASON_PASS,
        product_id=SEASON_PASS,
        purchase_date=at(63, 12, 10),
        app_account_token=token,
        order_id=ORDER_NON_RENEWING,
    )
    for days_ago, transaction_id in zip((180, 150, 120, 90), EARLIER_CREDIT_PACKS, strict=True):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            product_id=CREDITS_10,
            purchase_date=at(days_ago, 18, 5),
            app_account_token=token,
            finished=True,
        )
    store.add_transaction(
        customer,
        transaction_id=CREDITS_FINISHED,
        product_id=CREDITS_50,
        purchase_date=at(2, 17, 30),
        app_account_token=token,
        finished=True,
        order_id=ORDER_CONSUMABLES,
    )
    store.add_transaction(
        customer,
        transaction_id=CREDITS_UNFINISHED,
        product_id=CREDITS_10,
        purchase_date=at(2, 17, 31),
        quantity=2,
        app_account_token=token,
        order_id=ORDER_CONSUMABLES,
    )


def _family_shared(store: TransactionStore, latest: int) -> None:
    customer = APP_TRANSACTION_IDS[EMMA]
    ids = FAMILY_SHARED_TRANSACTIONS
    for n, transaction_id in enumerate(ids):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            original_transaction_id=ids[0] if n else None,
            product_id=PRO_MONTHLY,
            purchase_date=add_months(latest, n - 1),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            in_app_ownership_type="FAMILY_SHARED",
            order_id=ORDER_FAMILY_SHARED,
        )


def _refunded(store: TransactionStore, purchased: int, refunded: int) -> None:
    store.add_transaction(
        APP_TRANSACTION_IDS[JAMES],
        transaction_id=PURCHASE_REFUNDED,
        product_id=LIFETIME,
        purchase_date=purchased,
        app_account_token=_TOKENS[JAMES],
        order_id=ORDER_REFUNDED,
    )
    # Reason 1: the customer reported an issue with the app.
    store.revoke(PURCHASE_REFUNDED, revocation_date=refunded, reason=1)


def _upgraded(store: TransactionStore, current_monthly: int, upgraded: int) -> None:
    customer, token = APP_TRANSACTION_IDS[CHLOE], _TOKENS[CHLOE]
    monthly = UPGRADED_MONTHLY_TRANSACTIONS
    for n, transaction_id in enumerate(monthly):
        store.add_transaction(
            customer,
            transaction_id=transaction_id,
            original_transaction_id=monthly[0] if n else None,
            product_id=PRO_MONTHLY,
            purchase_date=add_months(current_monthly, n - 2),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            app_account_token=token,
            order_id=ORDER_UPGRADED,
        )
    # An upgrade starts at once and stays in the subscription: same original transaction.
    store.add_transaction(
        customer,
        transaction_id=UPGRADE_TO_YEARLY,
        original_transaction_id=monthly[0],
        product_id=PRO_YEARLY,
        purchase_date=upgraded,
        app_account_token=token,
        order_id=ORDER_UPGRADED,
    )
    store.mark_upgraded(monthly[-1], upgraded_at=upgraded)


def _long_history(store: TransactionStore, at: Moment) -> None:
    customer, token = APP_TRANSACTION_IDS[AIKO], _TOKENS[AIKO]
    latest_renewal = at(6, 7, 55)
    original = PURCHASE_LONG_HISTORY
    for n in range(LONG_HISTORY_RENEWALS):
        store.add_transaction(
            customer,
            transaction_id=original if n == 0 else str(2000000560218840 + 11_317_023 * n),
            original_transaction_id=original if n else None,
            product_id=PRO_MONTHLY,
            purchase_date=add_months(latest_renewal, n - 23),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            app_account_token=token,
        )
    for n in range(LONG_HISTORY_CREDIT_PACKS):
        is_latest = n == LONG_HISTORY_CREDIT_PACKS - 1
        store.add_transaction(
            customer,
            transaction_id=str(2000000571400000 + 23_100_417 * n + 9),
            product_id=CREDITS_50 if n % 3 == 2 else CREDITS_10,
            purchase_date=at(1, 22, 14) if is_latest else at(340 - 30 * n, 21, 30),
            app_account_token=token,
            finished=n < LONG_HISTORY_FINISHED_CREDIT_PACKS,
            order_id=ORDER_LONG_HISTORY if is_latest else None,
        )


def _renewal_states(store: TransactionStore) -> None:
    """What happens next to the subscriptions above: all renew but Sofia's, which she turned off."""
    store.set_renewal_state(PURCHASE_LINKED_IN_APP, auto_renew_status=0)


def _subscriptions_in_every_state(store: TransactionStore, at: Moment, now_ms: int) -> None:
    storefronts = {
        ORDER_EXPIRED: "USA",
        ORDER_BILLING_RETRY: "GBR",
        ORDER_GRACE_PERIOD: "USA",
        ORDER_REVOKED_SUBSCRIPTION: "AUS",
        ORDER_FREE_TRIAL: "CAN",
    }
    for order_id, storefront in storefronts.items():
        store.add_customer(STATE_CUSTOMERS[order_id], storefront=storefront)

    def monthly(order_id: str, ids: tuple[str, ...], latest: int) -> str:
        for n, transaction_id in enumerate(ids):
            store.add_transaction(
                STATE_CUSTOMERS[order_id],
                transaction_id=transaction_id,
                original_transaction_id=ids[0] if n else None,
                product_id=PRO_MONTHLY,
                purchase_date=add_months(latest, n - len(ids) + 1),
                transaction_reason="RENEWAL" if n else "PURCHASE",
                order_id=order_id,
            )
        return ids[0]

    expired = monthly(ORDER_EXPIRED, EXPIRED_TRANSACTIONS, add_months(at(21, 10, 30), -1))
    store.set_renewal_state(expired, auto_renew_status=0, expiration_intent=1)

    retry = monthly(
        ORDER_BILLING_RETRY,
        BILLING_RETRY_TRANSACTIONS,
        add_months(at(20, 4, 12), -1),
    )
    store.set_renewal_state(
        retry,
        in_billing_retry=True,
        expiration_intent=2,
        grace_period_expires_date=at(4, 4, 12),
    )

    grace = monthly(ORDER_GRACE_PERIOD, GRACE_PERIOD_TRANSACTIONS, add_months(at(2, 16, 40), -1))
    store.set_renewal_state(
        grace, in_billing_retry=True, expiration_intent=2, grace_period_expires_date=at(-14, 16, 40)
    )

    store.add_transaction(
        STATE_CUSTOMERS[ORDER_REVOKED_SUBSCRIPTION],
        transaction_id=PURCHASE_REVOKED_SUBSCRIPTION,
        product_id=PRO_YEARLY,
        purchase_date=at(45, 12, 0),
        order_id=ORDER_REVOKED_SUBSCRIPTION,
    )
    store.revoke(PURCHASE_REVOKED_SUBSCRIPTION, revocation_date=at(40, 9, 30), reason=0)
    store.set_renewal_state(PURCHASE_REVOKED_SUBSCRIPTION, auto_renew_status=0)

    free_week = Offer(1, "PROFREEWEEK", "FREE_TRIAL", "P1W", 0)
    started = at(3, 11, 5)
    store.add_transaction(
        STATE_CUSTOMERS[ORDER_FREE_TRIAL],
        transaction_id=PURCHASE_FREE_TRIAL,
        product_id=PRO_MONTHLY,
        purchase_date=started,
        offer=free_week,
        expires_date=started + 7 * DAY_MS,
        order_id=ORDER_FREE_TRIAL,
    )
