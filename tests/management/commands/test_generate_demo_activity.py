"""manage.py generate_demo_activity: demo activity for the reports, on a local run only."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lookups.models import Lookup
from lookups.services.demo_accounts import create_demo_accounts

pytestmark = pytest.mark.django_db


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_demo_activity", *args, stdout=out)
    return out.getvalue().strip()


def test_it_makes_the_activity_once(settings):
    settings.DEBUG = True
    create_demo_accounts()

    made = generate("--days", "7")
    again = generate("--days", "7")

    lookups = Lookup.objects.count()
    assert made.startswith(f"Made {lookups} demo lookups and ")
    assert again.startswith(f"Already there: {lookups} demo lookups and ")


@pytest.mark.parametrize("days", ["0", "367"])
def test_a_number_of_days_out_of_range_is_refused(settings, days):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="from 1 to 366"):
        generate("--days", days)


def test_it_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        generate()
    assert not Lookup.objects.exists()
