"""What every desk page may show without its view asking."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from lookups.models import Product


def product_catalogue(request: HttpRequest) -> dict:
    """`product_names`: the catalogue's names by product ID, read (in one query) only by a page
    that shows a product; a view that names its own products passes them itself."""
    return {"product_names": SimpleLazyObject(lambda: dict(_names()))}


def _names():
    return Product.objects.values_list("product_id", "display_name")
