"""A few weeks of made-up desk work, so a fresh demo's reports have something to show.

Everything made here says it is demo data: the agents are named demo-*, the customers it links
to are its own (account IDs demo-customer-*), every order ID starts with DEMO, every ticket with
DEMO-, and the transaction payloads carry "demo": true. The hand-made demo customers (Maya Patel
and the others), whose orders agents try at the simulator, are left as they are. Local runs
only: `setup_demo`, which refuses to run with DEBUG off, calls it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from lookups.appstore.transactions import OfferType
from lookups.models import CustomerAccount, Lookup, TokenChange
from lookups.roles import AGENTS, ensure_groups
from lookups.services.demo_products import DEMO_PRODUCT_NAMES
from lookups.services.task_queue import tasks_of

ORDER_PREFIX = "DEMO"
TICKET_PREFIX = "DEMO-"
DEMO_AGENTS = ["demo-ana", "demo-ben", "demo-chen", "demo-dara"]
CUSTOMER_PREFIX = "demo-customer-"
_CUSTOMERS = 12
# Request IDs of demo token changes come from this namespace, so a second run can't add rows.
_NAMESPACE = uuid.UUID("6d656d6f-2d64-6573-6b2d-616374697679")

# What Apple answers now and then, as (code, message) the way the desk records it.
_LOOKUP_FAILURES = [
    (4290000, "The App Store is limiting requests (Apple error 4290000). Demo data."),
    (5000001, "The App Store had a temporary problem (Apple error 5000001). Demo data."),
    (None, "The App Store did not answer in time. Demo data."),
]
_LINK_FAILURES = [
    (4000185, "Family-shared purchases can't take a token (Apple error 4000185). Demo data."),
    (4040005, "Apple has no such original transaction (Apple error 4040005). Demo data."),
]


@dataclass(frozen=True)
class DemoActivity:
    lookups: int
    token_changes: int
    created: bool


def demo_activity_exists() -> bool:
    return Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).exists()


@transaction.atomic
def create_demo_activity(*, days: int = 21, seed: int = 15) -> DemoActivity:
    """Lookups, links and failures over the last `days` days; nothing if there are some already."""
    if demo_activity_exists():
        return DemoActivity(
            lookups=Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).count(),
            token_changes=TokenChange.objects.filter(
                ticket_reference__startswith=TICKET_PREFIX
            ).count(),
            created=False,
        )
    accounts = _demo_customers()
    rng = random.Random(seed)  # noqa: S311 - made-up activity, the same on every run
    agents = _demo_agents()
    products = sorted(DEMO_PRODUCT_NAMES)
    now = timezone.now()
    lookups = changes = 0
    for day in range(days, -1, -1):
        # Weekdays are busier than weekends, as at any desk.
        start = (now - timedelta(days=day)).replace(hour=8, minute=0, second=0, microsecond=0)
        busy = 4 if start.weekday() >= 5 else 12
        for _ in range(rng.randint(busy // 2, busy)):
            lookups += 1
            at = start + timedelta(minutes=rng.randint(0, 9 * 60))
            if at > now:
                continue
            lookup = _lookup(rng, lookups, rng.choice(agents), at, products)
            if lookup.outcome == Lookup.Outcome.FOUND and rng.random() < 0.45:
                changes += 1
                _token_change(rng, changes, lookup, rng.choice(accounts))
    return DemoActivity(
        lookups=Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).count(),
        token_changes=TokenChange.objects.filter(
            ticket_reference__startswith=TICKET_PREFIX
        ).count(),
        created=True,
    )


def _demo_customers() -> list[CustomerAccount]:
    """Made-up customers for the made-up links: the simulator knows none of their purchases."""
    customers = []
    for n in range(1, _CUSTOMERS + 1):
        external_id = f"{CUSTOMER_PREFIX}{n:02d}"
        customer, _ = CustomerAccount.objects.get_or_create(
            external_id=external_id,
            defaults={
                "email": f"{external_id}@example.com",
                "display_name": f"Demo customer {n:02d}",
                "app_account_token": uuid.uuid5(_NAMESPACE, external_id),
            },
        )
        customers.append(customer)
    return customers


def create_demo_activity_later() -> bool:
    """Queue the demo activity for the background worker; False if it is there or queued.

    `serve_demo --prepare` does this so its first page doesn't wait for three weeks of rows.
    """
    if demo_activity_exists():
        return False
    if tasks_of(make_demo_activity).filter(status=TaskResultStatus.READY).exists():
        return False
    make_demo_activity.enqueue()
    return True


@task()
def make_demo_activity() -> None:
    create_demo_activity()


def _demo_agents() -> list[User]:
    ensure_groups()
    group = Group.objects.get(name=AGENTS)
    agents = []
    for username in DEMO_AGENTS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": username.removeprefix("demo-").capitalize(),
                "last_name": "(demo)",
            },
        )
        if created:
            # Made-up colleagues for the charts: nobody signs in as them.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
        agents.append(user)
    return agents


def _lookup(rng: random.Random, n: int, agent: User, at: datetime, products: list[str]) -> Lookup:
    roll = rng.random()
    outcome = Lookup.Outcome.FOUND
    code, message = None, ""
    if roll < 0.08:
        outcome = Lookup.Outcome.FAILED
        code, message = rng.choice(_LOOKUP_FAILURES)
    elif roll < 0.2:
        outcome = Lookup.Outcome.NOT_FOUND
    shown = []
    if outcome == Lookup.Outcome.FOUND:
        payload = {
            "demo": True,
            "transactionId": f"{9900000000000000 + n}",
            "originalTransactionId": f"{9900000000000000 + n}",
            "productId": rng.choice(products),
            "purchaseDate": int(at.timestamp() * 1000) - 86_400_000,
        }
        if rng.random() < 0.4:
            payload["offerType"] = OfferType.OFFER_CODE.value
        shown.append({"verified": True, "payload": payload})
    return Lookup.objects.create(
        agent=agent,
        created_at=at,
        kind=Lookup.Kind.ORDER,
        order_id=f"{ORDER_PREFIX}{n:06d}",
        environment=settings.APPSTORE_ENVIRONMENT,
        outcome=outcome,
        error_code=code,
        error_message=message,
        duration_ms=rng.randint(180, 900) if outcome != Lookup.Outcome.FAILED else 5000,
        transactions=shown,
    )


def _token_change(rng: random.Random, n: int, lookup: Lookup, account: CustomerAccount) -> None:
    payload = lookup.transactions[0]["payload"]
    change = TokenChange.objects.create(
        request_id=uuid.uuid5(_NAMESPACE, str(n)),
        agent=lookup.agent,
        created_at=lookup.created_at + timedelta(minutes=rng.randint(1, 6)),
        account=account,
        original_transaction_id=payload["originalTransactionId"],
        product_id=payload["productId"],
        environment=lookup.environment,
        order_id=lookup.order_id,
        token_after=account.app_account_token,
        ticket_reference=f"{TICKET_PREFIX}{4000 + n}",
        lookup=lookup,
    )
    if rng.random() < 0.12:
        code, message = rng.choice(_LINK_FAILURES)
        change.settle(TokenChange.Outcome.FAILED, error_code=code, error_message=message)
    else:
        change.settle(TokenChange.Outcome.SUCCEEDED)
