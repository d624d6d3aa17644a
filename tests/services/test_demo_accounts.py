"""The demo logins and the demo customers matching the simulator's demo data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from lookups.models import CustomerAccount
from lookups.services.demo_accounts import DEMO_USERS, create_demo_accounts, create_demo_users
from lookups.simulators.demo_data import DEMO_ACCOUNTS

pytestmark = pytest.mark.django_db


def test_each_demo_login_signs_in_with_its_password_and_holds_its_role_only():
    assert create_demo_users() == [(u, p, g) for u, p, g, _ in DEMO_USERS]

    for username, password, group, staff in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(password), username
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.is_staff is staff and not user.is_superuser


def test_running_it_again_puts_a_changed_password_back():
    create_demo_users()
    agent = User.objects.get(username="agent")
    agent.set_password("something else")
    agent.save()

    create_demo_users()

    assert User.objects.get(username="agent").check_password("agent-demo-pass")
    assert User.objects.filter(username="agent").count() == 1


def test_the_demo_customers_carry_the_tokens_their_purchases_carry_at_the_simulator():
    assert create_demo_accounts() == len(DEMO_ACCOUNTS)
    CustomerAccount.objects.update(display_name="renamed")

    create_demo_accounts()

    for account in DEMO_ACCOUNTS:
        stored = CustomerAccount.objects.get(external_id=account["external_id"])
        assert stored.display_name == account["name"]
        assert str(stored.app_account_token) == str(account["app_account_token"])
    assert CustomerAccount.objects.count() == len(DEMO_ACCOUNTS)
