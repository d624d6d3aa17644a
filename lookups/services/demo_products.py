"""Display names for the simulator's demo products (local runs only)."""

from __future__ import annotations

from django.db import transaction

from lookups.models import Product
from lookups.simulators.appstore import catalog

DEMO_PRODUCT_NAMES = {
    catalog.PRO_MONTHLY: "Pro, monthly",
    catalog.PRO_YEARLY: "Pro, yearly",
    catalog.LIFETIME: "Lifetime unlock",
    catalog.CREDITS_10: "10 credits",
    catalog.CREDITS_50: "50 credits",
    catalog.SEASON_PASS: "Season pass",
    catalog.COACH_MONTHLY: "Coach, monthly",
}


@transaction.atomic
def create_demo_products() -> int:
    """Name every demo product; a name someone changed in the admin is kept."""
    for product_id, name in DEMO_PRODUCT_NAMES.items():
        Product.objects.get_or_create(product_id=product_id, defaults={"display_name": name})
    return len(DEMO_PRODUCT_NAMES)
