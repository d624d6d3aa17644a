"""The staff roles, as Django groups, and the permissions each one holds.

Migrations 0002_roles, 0005, 0012, 0014, 0016, 0051, 0033, 0081 and 0120 create these groups on a
fresh database, each with its own frozen copy of this table (a migration must keep doing what it
did when it was written); a test checks the result agrees with this table.
A later change to a role needs a new migration as well as an edit here.
"""

from __future__ import annotations

AGENTS = "Support agents"
AUDITORS = "Auditors"
MANAGERS = "Managers"

_AUDITOR_PERMISSIONS = (
    "lookups.view_lookup",
    "lookups.view_tokenchange",
    "lookups.view_customeraccount",
    "lookups.view_export",
    "lookups.view_adaptydelivery",
    "lookups.view_purchase",
    "lookups.view_refusedlink",
    "lookups.view_transferrequest",
    "lookups.view_subscriptionextension",
    "lookups.view_refundrequest",
    "lookups.view_consumptionanswer",
    "lookups.view_customernote",
    "lookups.view_customernoterevision",
    "lookups.view_auditcheck",
    "lookups.run_audit_checks",
    "lookups.view_outagecompensation",
    "lookups.view_transactionfinish",
)

GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    AGENTS: (
        "lookups.look_up_orders",
        "lookups.link_purchases",
        "lookups.view_customeraccount",
        "lookups.extend_subscriptions",
        "lookups.answer_refund_requests",
    ),
    AUDITORS: _AUDITOR_PERMISSIONS,
    MANAGERS: (
        *_AUDITOR_PERMISSIONS,
        # Reading orders and customers, to decide approvals knowing the purchase.
        "lookups.look_up_orders",
        "lookups.view_reports",
        "lookups.export_csv",
        "lookups.view_product",
        "lookups.add_product",
        "lookups.change_product",
        "lookups.delete_product",
        "lookups.approve_transfers",
        "lookups.approve_extensions",
    ),
}


def ensure_groups() -> None:
    """Create the role groups, and give each its permissions, where they are missing.

    The migration does this once; a test database flushed between transactional tests loses
    its groups, so the user fixtures call this too.
    """
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for name, perms in GROUP_PERMISSIONS.items():
        wanted = Q()
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        found = list(Permission.objects.filter(wanted))
        if len(found) != len(perms):
            raise LookupError(f"Some permissions of {name!r} do not exist yet: run migrate.")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)
