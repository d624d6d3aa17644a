"""Fixtures for users in each role, signed-in clients for them, and customer accounts."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.test import Client

from lookups import roles
from lookups.models import CustomerAccount

# Every fixture user signs in with this password (the browser tests type it).
PASSWORD = "correct-horse-battery-staple"

__all__ = [
    "PASSWORD",
    "agent_client",
    "agent_user",
    "auditor_client",
    "auditor_user",
    "customer_account",
    "make_account",
    "make_user",
    "manager_client",
    "manager_user",
    "superuser",
    "superuser_client",
]


@functools.cache
def _password_hash() -> str:
    # Hashing is deliberately slow; once per test session is enough.
    return make_password(PASSWORD)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """Make a user in the given role group (one of lookups.roles), or in none."""

    def make(username: str, group: str | None = None, **fields: Any) -> User:
        fields.setdefault("email", f"{username}@supportdesk.example")
        user = User.objects.create(username=username, password=_password_hash(), **fields)
        if group is not None:
            # A transactional test flushes the groups the migration made; put them back.
            roles.ensure_groups()
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def agent_user(make_user: Callable[..., User]) -> User:
    return make_user("agent", roles.AGENTS, first_name="Alex", last_name="Agent")


@pytest.fixture
def auditor_user(make_user: Callable[..., User]) -> User:
    return make_user(
        "auditor", roles.AUDITORS, first_name="Ada", last_name="Auditor", is_staff=True
    )


@pytest.fixture
def manager_user(make_user: Callable[..., User]) -> User:
    return make_user(
        "manager", roles.MANAGERS, first_name="Max", last_name="Manager", is_staff=True
    )


@pytest.fixture
def superuser(make_user: Callable[..., User]) -> User:
    return make_user("admin", is_staff=True, is_superuser=True)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent_user: User) -> Client:
    return _client_for(agent_user)


@pytest.fixture
def auditor_client(auditor_user: User) -> Client:
    return _client_for(auditor_user)


@pytest.fixture
def manager_client(manager_user: User) -> Client:
    return _client_for(manager_user)


@pytest.fixture
def superuser_client(superuser: User) -> Client:
    return _client_for(superuser)


@pytest.fixture
def make_account(db: None) -> Callable[..., CustomerAccount]:
    """Make a customer account; every call gets its own external ID, email and token."""
    numbers = itertools.count(1)

    def make(**overrides: Any) -> CustomerAccount:
        n = next(numbers)
        fields: dict[str, Any] = {
            "external_id": f"cust-{n:05d}",
            "email": f"customer{n}@example.com",
            "display_name": f"Customer {n}",
        }
        fields.update(overrides)
        return CustomerAccount.objects.create(**fields)

    return make


@pytest.fixture
def customer_account(make_account: Callable[..., CustomerAccount]) -> CustomerAccount:
    return make_account(
        external_id="cust-jane", email="jane.doe@example.com", display_name="Jane Doe"
    )
