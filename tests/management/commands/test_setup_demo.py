"""manage.py setup_demo: the demo logins, customers, product names, and the demo activity once,
now or later."""

from __future__ import annotations

import io

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from lookups.models import CustomerAccount, Lookup, Product, TokenChange
from lookups.services.demo_accounts import DEMO_USERS
from lookups.services.demo_activity import ORDER_PREFIX, make_demo_activity
from lookups.services.demo_products import DEMO_PRODUCT_NAMES

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str) -> bool:
    """The login page's form, as a browser sends it; whether it let the user in."""
    client = Client()
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def rounds(user: User) -> int:
    return int(User.objects.get(pk=user.pk).password.split("$")[1])


def test_setup_demo_makes_everything_now_by_default():
    call_command("setup_demo")

    assert CustomerAccount.objects.exists()
    assert Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).exists()
    assert not DBTaskResult.objects.filter(task_path=make_demo_activity.module_path).exists()


def test_a_demo_login_signs_in_and_its_quick_hash_becomes_full_strength(settings):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the production hashers
    call_command("setup_demo", activity_later=True)
    username, password, _, _ = DEMO_USERS[0]
    user = User.objects.get(username=username)
    assert rounds(user) < PBKDF2PasswordHasher.iterations

    assert not sign_in(username, "wrong")
    assert rounds(user) < PBKDF2PasswordHasher.iterations

    assert sign_in(username, password)
    assert rounds(user) == PBKDF2PasswordHasher.iterations
    assert sign_in(username, password)


def test_the_activity_later_is_queued_once_and_made_by_the_task():
    call_command("setup_demo", activity_later=True)
    call_command("setup_demo", activity_later=True)

    queued = DBTaskResult.objects.filter(task_path=make_demo_activity.module_path)
    assert [row.status for row in queued] == [TaskResultStatus.READY]
    assert not Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).exists()

    make_demo_activity.call()

    assert Lookup.objects.filter(order_id__startswith=ORDER_PREFIX).exists()
    call_command("setup_demo", activity_later=True)
    assert queued.count() == 1


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


def test_setup_demo_refuses_outside_local_mode(settings):
    settings.SUPPORTDESK_LOCAL = False
    with pytest.raises(CommandError, match="SUPPORTDESK_LOCAL=true"):
        call_command("setup_demo", stdout=io.StringIO())
    assert not Lookup.objects.exists()
