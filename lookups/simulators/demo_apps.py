"""The demo's second app, Coach, and the Sandbox its testers buy in: the studio's other apps.

Coach is sold beside the demo app under the same team; its orders are its own (the demo app's
host answers them "not found"), and so are its transaction IDs. Its Sandbox holds one tester's
purchase, which the desk must show as Sandbox, never as a customer's money.
"""

from __future__ import annotations

from lookups.simulators.appstore.catalog import (
    COACH_APP_APPLE_ID as COACH_APP_APPLE_ID,
)
from lookups.simulators.appstore.catalog import COACH_BUNDLE_ID as COACH_BUNDLE_ID
from lookups.simulators.appstore.catalog import COACH_MONTHLY, DAY_MS, add_months
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.appstore.store import TransactionStore

ORDER_COACH = "MC4T8QWK2N"  # Maya's Coach subscription, bought on the App Store, not linked
COACH_TRANSACTIONS = ("2000000950000101", "2000000950000102")
COACH_LATEST = COACH_TRANSACTIONS[-1]
COACH_CUSTOMER = "705000000000095101"
SANDBOX_TESTER_PURCHASE = "2000000960000101"  # a tester's Coach subscription, in Sandbox
SANDBOX_TESTER = "705000000000096101"
# Coach's own secret key at the local Adapty, beside the demo app's: it opens nothing else.
COACH_ADAPTY_SECRET_KEY = "secret_local_coach.supportdesk-adapty-simulator"


def load_coach(store: TransactionStore, now_ms: int) -> None:
    today = now_ms - now_ms % DAY_MS
    store.add_customer(COACH_CUSTOMER, storefront="USA")
    latest = today - 6 * DAY_MS + (17 * 60 + 40) * 60_000
    for n, transaction_id in enumerate(COACH_TRANSACTIONS):
        store.add_transaction(
            COACH_CUSTOMER,
            transaction_id=transaction_id,
            original_transaction_id=COACH_TRANSACTIONS[0] if n else None,
            product_id=COACH_MONTHLY,
            purchase_date=add_months(latest, n - 1),
            transaction_reason="RENEWAL" if n else "PURCHASE",
            order_id=ORDER_COACH,
        )


def load_coach_sandbox(store: TransactionStore, now_ms: int) -> None:
    today = now_ms - now_ms % DAY_MS
    store.add_customer(SANDBOX_TESTER, storefront="USA")
    store.add_transaction(
        SANDBOX_TESTER,
        transaction_id=SANDBOX_TESTER_PURCHASE,
        product_id=COACH_MONTHLY,
        purchase_date=today - DAY_MS + 9 * 3_600_000,
    )


def serve_coach(
    simulator: AppStoreSimulator, *, bearer_public_key: object, issuer_id: str, key_id: str
) -> None:
    """Add Coach, in Production and Sandbox, to a simulator, checking tokens with this key."""
    for environment, demo, first_id in (
        ("Production", load_coach, 2000000950900001),
        ("Sandbox", load_coach_sandbox, 2000000960900001),
    ):
        simulator.add_app(
            bundle_id=COACH_BUNDLE_ID,
            app_apple_id=COACH_APP_APPLE_ID,
            bearer_public_key=bearer_public_key,
            issuer_id=issuer_id,
            key_id=key_id,
            environment=environment,
            demo_data=demo,
            first_transaction_id=first_id,
        )
