"""The demo products' names, made once in their own apps; a name someone changed is kept."""

from __future__ import annotations

import pytest

from lookups.models import Product
from lookups.services.app_scope import settings_app
from lookups.services.demo_apps import create_demo_apps
from lookups.services.demo_products import DEMO_PRODUCT_NAMES, create_demo_products
from lookups.simulators.appstore.catalog import COACH_MONTHLY, PRO_MONTHLY

pytestmark = pytest.mark.django_db


def test_demo_products_are_named_once_and_a_renamed_one_keeps_its_name():
    assert create_demo_products() == len(DEMO_PRODUCT_NAMES)
    Product.objects.filter(product_id=PRO_MONTHLY).update(display_name="Pro (monthly plan)")
    create_demo_products()
    assert Product.objects.count() == len(DEMO_PRODUCT_NAMES)
    assert Product.objects.get(product_id=PRO_MONTHLY).display_name == "Pro (monthly plan)"


def test_each_demo_product_is_named_in_its_own_app():
    create_demo_apps()
    create_demo_products()

    by_product = dict(Product.objects.values_list("product_id", "app__name"))

    assert by_product[PRO_MONTHLY] == settings_app().name == "Supportdesk Demo"
    assert by_product[COACH_MONTHLY] == "Coach"
    # A purchase of Coach reads Coach's name; one of the demo app (or naming no app), the demo's.
    coach_app = Product.objects.get(product_id=COACH_MONTHLY).app
    assert Product.objects.names_for([COACH_MONTHLY], app=coach_app) == {
        COACH_MONTHLY: "Coach, monthly"
    }
    assert Product.objects.names_for([PRO_MONTHLY]) == {PRO_MONTHLY: "Pro, monthly"}
    assert Product.objects.names_for([PRO_MONTHLY], app=coach_app) == {}
