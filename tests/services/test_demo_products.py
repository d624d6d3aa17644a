"""The demo products' names, made once; a name someone changed is kept."""

from __future__ import annotations

import pytest

from lookups.models import Product
from lookups.services.demo_products import DEMO_PRODUCT_NAMES, create_demo_products
from lookups.simulators.appstore.catalog import PRO_MONTHLY


@pytest.mark.django_db
def test_demo_products_are_named_once_and_a_renamed_one_keeps_its_name():
    assert create_demo_products() == len(DEMO_PRODUCT_NAMES)
    Product.objects.filter(product_id=PRO_MONTHLY).update(display_name="Pro (monthly plan)")
    create_demo_products()
    assert Product.objects.count() == len(DEMO_PRODUCT_NAMES)
    assert Product.objects.get(product_id=PRO_MONTHLY).display_name == "Pro (monthly plan)"
