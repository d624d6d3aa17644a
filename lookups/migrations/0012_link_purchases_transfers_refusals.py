"""The desk's picture of each purchase, refused links and transfer requests.

Auditors and managers may read all three; managers may approve transfers. The tables below are a
frozen copy of what lookups.roles gained with them (tests/test_models.py checks they agree).
New tables only: rebuilding lookups_tokenchange on SQLite would drop the audit log's triggers.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

NEW_PERMISSIONS = {
    # codename: (model, name)
    "view_purchase": ("purchase", "Can view purchase"),
    "view_refusedlink": ("refusedlink", "Can view refused link"),
    "view_transferrequest": ("transferrequest", "Can view transfer request"),
    "approve_transfers": ("transferrequest", "Can approve or reject purchase transfers"),
}
GROUP_PERMISSIONS = {
    "Auditors": ["view_purchase", "view_refusedlink", "view_transferrequest"],
    "Managers": [
        "view_purchase",
        "view_refusedlink",
        "view_transferrequest",
        "approve_transfers",
    ],
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias

    permissions = {}
    for codename, (model_name, name) in NEW_PERMISSIONS.items():
        content_type, _ = ContentType.objects.using(using).get_or_create(
            app_label="lookups", model=model_name
        )
        permissions[codename], _ = Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for group in Group.objects.using(using).filter(name__in=GROUP_PERMISSIONS):
        group.permissions.add(*(permissions[c] for c in GROUP_PERMISSIONS[group.name]))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="lookups", codename__in=list(NEW_PERMISSIONS)
    )
    for group in Group.objects.using(using).filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0011_audit_chain_keyed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Purchase",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("environment", models.CharField(max_length=16)),
                ("original_transaction_id", models.CharField(max_length=64)),
                ("latest_transaction", models.JSONField()),
                ("product_id", models.CharField(blank=True, max_length=200)),
                ("app_account_token", models.UUIDField(blank=True, null=True)),
                ("order_id", models.CharField(blank=True, max_length=32)),
                ("learnt_at", models.DateTimeField()),
                (
                    "learnt_from",
                    models.CharField(
                        choices=[
                            ("lookup", "Order lookup"),
                            ("history", "Transaction history"),
                            ("apple_read", "Read from Apple for a link"),
                        ],
                        max_length=16,
                    ),
                ),
            ],
            options={
                "ordering": ["-learnt_at"],
                "default_permissions": ("view",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("environment", "original_transaction_id"),
                        name="purchase_one_per_environment",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RefusedLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("environment", models.CharField(max_length=16)),
                ("original_transaction_id", models.CharField(db_index=True, max_length=64)),
                ("token_before", models.UUIDField(blank=True, null=True)),
                ("ticket_reference", models.CharField(blank=True, max_length=100)),
                ("request_id", models.UUIDField(blank=True, null=True)),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("invalid_form", "Form incomplete or invalid"),
                            ("needs_confirmation", "Move not confirmed"),
                            ("changed_since", "Changed since"),
                            ("in_progress", "Another change in progress"),
                            ("family_shared", "Family shared"),
                            ("unknown_purchase", "No such purchase at Apple"),
                            ("apple_unreadable", "Apple could not be read"),
                            ("transfer_decided", "Transfer already decided"),
                            ("own_transfer", "Deciding one's own transfer"),
                        ],
                        max_length=32,
                    ),
                ),
                ("message", models.TextField()),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refused_links",
                        to="lookups.customeraccount",
                    ),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refused_links",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "default_permissions": ("view",),
            },
        ),
        migrations.CreateModel(
            name="TransferRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("request_id", models.UUIDField(unique=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("environment", models.CharField(max_length=16)),
                ("original_transaction_id", models.CharField(db_index=True, max_length=64)),
                ("product_id", models.CharField(blank=True, max_length=200)),
                ("order_id", models.CharField(blank=True, max_length=32)),
                ("token_before", models.UUIDField()),
                ("ticket_reference", models.CharField(max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Waiting for approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        db_index=True,
                        default="open",
                        max_length=16,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_requests",
                        to="lookups.customeraccount",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfers_decided",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lookup",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_requests",
                        to="lookups.lookup",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_requests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "token_change",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="transfer_request",
                        to="lookups.tokenchange",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "permissions": [("approve_transfers", "Can approve or reject purchase transfers")],
                "default_permissions": ("view",),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("decided_at__isnull", True),
                                ("decided_by__isnull", True),
                                ("status", "open"),
                            ),
                            models.Q(
                                ("decided_at__isnull", False),
                                ("decided_by__isnull", False),
                                ("status__in", ["approved", "rejected"]),
                            ),
                            _connector="OR",
                        ),
                        name="transferrequest_decided_iff_closed",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decided_by__isnull", True),
                            models.Q(("decided_by", models.F("requested_by")), _negated=True),
                            _connector="OR",
                        ),
                        name="transferrequest_decided_by_someone_else",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status", "open")),
                        fields=("environment", "original_transaction_id"),
                        name="transferrequest_one_open_per_purchase",
                    ),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
