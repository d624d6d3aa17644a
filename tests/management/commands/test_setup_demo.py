"""manage.py setup_demo: the demo logins, customers, product names and activity, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from lookups.models import Lookup, Product, TokenChange
from lookups.services.demo_products import DEMO_PRODUCT_NAMES


@pytest.mark.django_db
def test_setup_demo_makes_the_activity_and_a_second_run_adds_nothing(settings):
    settings.DEBUG = True
    settings.APPSTORE_PRIVATE_KEY = "set"
    call_command("setup_demo", stdout=io.StringIO())
    counts = (Lookup.objects.count(), TokenChange.objects.count(), Product.objects.count())
    output = io.StringIO()
    call_command("setup_demo", stdout=output)
    assert counts[0] > 0 and counts[1] > 0 and counts[2] == len(DEMO_PRODUCT_NAMES)
    assert (Lookup.objects.count(), TokenChange.objects.count(), Product.objects.count()) == counts
    assert "already there" in output.getvalue() and "marked DEMO" in output.getvalue()


@pytest.mark.django_db
def test_setup_demo_refuses_outside_local_mode(settings):
    settings.SUPPORTDESK_LOCAL = False
    with pytest.raises(CommandError, match="SUPPORTDESK_LOCAL=true"):
        call_command("setup_demo", stdout=io.StringIO())
    assert not Lookup.objects.exists()
