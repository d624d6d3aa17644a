"""Demo users and customer accounts matching the simulator's demo data (local runs only)."""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import Group, User
from django.db import transaction

from lookups.models import CustomerAccount
from lookups.roles import AGENTS, AUDITORS, MANAGERS
from lookups.simulators.demo_data import DEMO_ACCOUNTS

# Local demo only: `setup_demo` refuses to run with DEBUG off.
DEMO_USERS = [
    # username, password, group, staff (may open the admin)
    ("agent", "agent-demo-pass", AGENTS, False),
    ("auditor", "auditor-demo-pass", AUDITORS, True),
    ("manager", "manager-demo-pass", MANAGERS, True),
]


class _QuickDemoHasher(PBKDF2PasswordHasher):
    """Few rounds for a password printed on the screen anyway: three full-strength hashes cost
    `make run` seconds. Django hashes it again at full strength at the user's first sign-in."""

    iterations = 1_000


@transaction.atomic
def create_demo_users() -> list[tuple[str, str, str]]:
    created = []
    for username, password, group_name, staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.password = make_password(password, hasher=_QuickDemoHasher())
        user.is_staff = staff
        user.first_name = username.capitalize()
        user.save()
        user.groups.set([Group.objects.get(name=group_name)])
        created.append((username, password, group_name))
    return created


@transaction.atomic
def create_demo_accounts() -> int:
    for account in DEMO_ACCOUNTS:
        CustomerAccount.objects.update_or_create(
            external_id=account["external_id"],
            defaults={
                "email": account["email"],
                "display_name": account["name"],
                "app_account_token": account["app_account_token"],
            },
        )
    return len(DEMO_ACCOUNTS)
