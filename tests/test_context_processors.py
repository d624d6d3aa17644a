"""The product catalogue's names every page may show, read only by a page that shows one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from lookups.context_processors import product_catalogue
from lookups.models import Product

pytestmark = pytest.mark.django_db


def test_the_names_are_read_in_one_query_and_only_when_a_page_uses_them():
    Product.objects.create(product_id="com.example.pro.monthly", display_name="Pro monthly")
    Product.objects.create(product_id="com.example.pro.yearly", display_name="Pro yearly")

    with CaptureQueriesContext(connection) as queries:
        context = product_catalogue(RequestFactory().get("/"))
        assert len(queries) == 0
        names = context["product_names"]
        assert names["com.example.pro.yearly"] == "Pro yearly"
        assert names.get("com.example.unknown") is None
        assert len(names) == 2
    assert len(queries) == 1
