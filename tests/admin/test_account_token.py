"""The admin keeps the importer's rules for an account's app_account_token.

A purchase linked from this desk carries the account's token at Apple; changing the token in the
admin would leave that purchase pointing at a token no account has ("Unknown token").
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape

from lookups.models import CustomerAccount
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db


def change_form(account: CustomerAccount, **changes) -> dict[str, str]:
    fields = {
        "external_id": account.external_id,
        "email": account.email,
        "display_name": account.display_name,
        "app_account_token": str(account.app_account_token),
        "adapty_customer_user_id": account.adapty_customer_user_id,
    }
    fields.update(changes)
    return fields


def save(client, account: CustomerAccount, **changes):
    url = reverse("admin:lookups_customeraccount_change", args=[account.pk])
    return client.post(url, change_form(account, **changes))


def test_the_admin_refuses_to_change_the_token_of_a_linked_account(
    superuser_client, agent_user, customer_account
):
    make_token_change(agent_user, customer_account)
    linked_token = customer_account.app_account_token

    response = save(superuser_client, customer_account, app_account_token=str(uuid.uuid4()))

    assert response.status_code == 200
    assert "has purchases linked to its app_account_token" in response.content.decode()
    assert "Unknown token" not in response.content.decode()
    customer_account.refresh_from_db()
    assert customer_account.app_account_token == linked_token


def test_the_admin_still_saves_other_changes_to_a_linked_account(
    superuser_client, agent_user, customer_account
):
    make_token_change(agent_user, customer_account)

    response = save(superuser_client, customer_account, display_name="Jane Q. Doe")

    assert response.status_code == 302
    customer_account.refresh_from_db()
    assert customer_account.display_name == "Jane Q. Doe"


def test_the_admin_changes_the_token_of_an_account_nothing_is_linked_to(
    superuser_client, customer_account
):
    new_token = uuid.uuid4()

    response = save(superuser_client, customer_account, app_account_token=str(new_token))

    assert response.status_code == 302
    customer_account.refresh_from_db()
    assert customer_account.app_account_token == new_token


def test_the_admin_refuses_a_token_that_belongs_to_another_account(
    superuser_client, customer_account, make_account
):
    other = make_account()

    response = save(
        superuser_client, customer_account, app_account_token=str(other.app_account_token)
    )

    assert response.status_code == 200
    assert escape(f"belongs to external_id {other.external_id!r}") in response.content.decode()
