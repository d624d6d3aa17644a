"""What every desk page may show without its view asking."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from lookups.models import Product


def product_catalogue(request: HttpRequest) -> dict:
    """`product_names`: the settings' app's catalogue names by product ID, read (in one query)
    only by a page that shows a product; a view that names its own products passes them itself."""
    return {"product_names": SimpleLazyObject(lambda: dict(_names()))}


def _names():
    # Rows naming no app were the settings' app's: its names win over those every app shares.
    return Product.objects.of_settings_app().values_list("product_id", "display_name")
