"""Display names for the simulator's demo products, each in its own app (local runs only)."""

from __future__ import annotations

from django.db import transaction

from lookups.models import App, Product
from lookups.services.app_scope import settings_app
from lookups.services.apps import desk_apps
from lookups.simulators.appstore import catalog
from lookups.simulators.demo_apps import COACH_BUNDLE_ID

# The demo app's products (the settings' app), then Coach's.
DEMO_APP_PRODUCT_NAMES = {
    catalog.PRO_MONTHLY: "Pro, monthly",
    catalog.PRO_YEARLY: "Pro, yearly",
    catalog.LIFETIME: "Lifetime unlock",
    catalog.CREDITS_10: "10 credits",
    catalog.CREDITS_50: "50 credits",
    catalog.SEASON_PASS: "Season pass",
}
COACH_PRODUCT_NAMES = {catalog.COACH_MONTHLY: "Coach, monthly"}
DEMO_PRODUCT_NAMES = {**DEMO_APP_PRODUCT_NAMES, **COACH_PRODUCT_NAMES}


@transaction.atomic
def create_demo_products() -> int:
    """Name every demo product in its app (in every app, for an app not registered); a name
    someone changed in the admin is kept."""
    desk_apps()
    coach = App.objects.filter(bundle_id=COACH_BUNDLE_ID).first()
    for app, names in ((settings_app(), DEMO_APP_PRODUCT_NAMES), (coach, COACH_PRODUCT_NAMES)):
        for product_id, name in names.items():
            Product.objects.get_or_create(
                product_id=product_id, app=app, defaults={"display_name": name}
            )
    return len(DEMO_PRODUCT_NAMES)
