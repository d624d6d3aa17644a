from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, router, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Upper
from django.utils import timezone

from lookups.appstore.transactions import OfferDiscountType, Transaction

from . import audit_chain
from .audit_chain import (
    CONSUMPTION_HASHED_FIELDS,
    CONSUMPTION_KIND,
    EXTENSION_HASHED_FIELDS,
    EXTENSION_KIND,
    FINISH_HASHED_FIELDS,
    FINISH_KIND,
    GENESIS_HASH,
    HASHED_FIELDS,
    OUTAGE_HASHED_FIELDS,
    OUTAGE_KIND,
    chain_hash,
)


class CustomerAccountQuerySet(models.QuerySet):
    def owner_of(self, token: uuid.UUID | str | None) -> CustomerAccount | None:
        """The customer whose appAccountToken this is; None for no token or nobody's."""
        if not token:
            return None
        return self.filter(app_account_token=token).first()

    def owners_of(self, tokens: Iterable[uuid.UUID | str | None]) -> dict[str, CustomerAccount]:
        """The customers these tokens belong to, by token as text, in one query (none if none)."""
        wanted = {str(token) for token in tokens if token}
        if not wanted:
            return {}
        return {
            str(account.app_account_token): account
            for account in self.filter(app_account_token__in=wanted)
        }

    def search(self, query: str) -> CustomerAccountQuerySet:
        """Accounts whose email, external ID or name contains `query`, or whose token is it.

        An empty query matches nothing: an agent must type something before we list customers.
        The caller slices the result.
        """
        query = query.strip()
        if not query:
            return self.none()

        match = (
            Q(email__icontains=query)
            | Q(external_id__icontains=query)
            | Q(display_name__icontains=query)
        )
        with contextlib.suppress(ValueError):
            match |= Q(app_account_token=uuid.UUID(query))
        return self.filter(match)


class CustomerAccount(models.Model):
    """One of the company's own customers, and the UUID Apple stores as its appAccountToken."""

    external_id = models.CharField(max_length=100, unique=True)
    email = models.EmailField(db_index=True)
    display_name = models.CharField(max_length=200)
    app_account_token = models.UUIDField(unique=True, default=uuid.uuid4)
    adapty_customer_user_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="Adapty's ID for this customer, if not external_id.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerAccountQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        # The admin's list sorts by name: read in order, not sorted from every account.
        indexes = [models.Index(fields=["display_name"], name="account_name")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.email})"

    @property
    def adapty_user_id(self) -> str:
        return self.adapty_customer_user_id or self.external_id


class AppQuerySet(models.QuerySet):
    def marked_for(self, user) -> AppQuerySet:
        """Every app, each with `names_agent`: whether it names this user among its agents.

        A user named on any app sees only the apps naming them, the others every app: one
        query tells which (read on every lookup).
        """
        naming = App.limited_agents.through.objects.filter(app=OuterRef("pk"), user=user.pk)
        return self.annotate(names_agent=Exists(naming))

    def using_environment(self, environment: str) -> AppQuerySet:
        """The apps that use `environment` (Production or Sandbox): what `App.environments`
        says, but an app following the settings uses the settings' environment alone, as
        `services.apps.setup_of` reads it."""
        flag = Q(uses_production=True) if environment == "Production" else Q(uses_sandbox=True)
        own = Q(follows_settings=False) & flag
        if environment == settings.APPSTORE_ENVIRONMENT:
            own |= Q(follows_settings=True)
        return self.filter(own)


class App(models.Model):
    """One App Store app the desk serves, registered by a superuser.

    The .p8 key never enters the database: `private_key_source` names the environment variable
    (its `_FILE` form works too) or the file that holds it; `adapty_key_source` names where the
    app's Adapty secret key is the same way. An app that follows the settings takes its bundle
    ID, Apple ID, environment, issuer, key ID and key from the `APPSTORE_*` variables (and its
    Adapty key, unless it names one, from `ADAPTY_SECRET_KEY`), as a desk with one app always did.
    """

    name = models.CharField(max_length=100, unique=True)
    bundle_id = models.CharField("bundle ID", max_length=155, unique=True)
    app_apple_id = models.BigIntegerField("Apple ID", null=True, blank=True)
    uses_production = models.BooleanField("uses Production", default=True)
    uses_sandbox = models.BooleanField("uses Sandbox", default=False)
    issuer_id = models.CharField("issuer ID", max_length=64, blank=True)
    key_id = models.CharField("key ID", max_length=32, blank=True)
    private_key_source = models.CharField(
        "where the .p8 key is",
        max_length=300,
        blank=True,
        help_text="The name of an environment variable holding the key's PEM text (or of one "
        "whose _FILE form names its file), or the absolute path of the .p8 file. Never the key.",
    )
    adapty_key_source = models.CharField(
        "where the Adapty secret key is",
        max_length=300,
        blank=True,
        help_text="The name of an environment variable holding this app's Adapty secret API key "
        "(or of one whose _FILE form names its file), or the absolute path of a file holding it. "
        "Never the key. Empty: this app's purchases are not sent to Adapty (an app that follows "
        "the settings uses ADAPTY_SECRET_KEY).",
    )
    follows_settings = models.BooleanField(
        default=False,
        help_text="Take bundle ID, Apple ID, environment, issuer, key ID and key from the "
        "APPSTORE_* settings (a desk upgraded from one app).",
    )
    # Apple's limits are per app: requests per second by endpoint; empty takes the settings'.
    rate_limits = models.JSONField(default=dict, blank=True)
    limited_agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="limited_to_apps",
        help_text="Agents named on any app see only the apps naming them; the others see all.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def notification_path(self, environment: str) -> str:
        """Where Apple posts this app's notifications in `environment` (App Store Connect)."""
        from django.urls import reverse

        return reverse("lookups:app_notifications", args=[self.pk, environment.lower()])

    @property
    def environments(self) -> list[str]:
        return [
            name
            for name, used in (("Production", self.uses_production), ("Sandbox", self.uses_sandbox))
            if used
        ]


class Lookup(models.Model):
    """One order lookup or transaction history page an agent opened, whatever came of it."""

    class Kind(models.TextChoices):
        ORDER = "order", "Order lookup"
        HISTORY = "history", "Transaction history"

    class Outcome(models.TextChoices):
        FOUND = "found", "Found"
        # Apple's status 1 for an order ID: no such order for this app.
        NOT_FOUND = "not_found", "Not found"
        FAILED = "failed", "Failed"
        # Never sent: the desk's shared rate budget held it back. Not one of Apple's answers.
        HELD = "held", "Held by the desk"

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="lookups")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ORDER)
    order_id = models.CharField(max_length=32, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=64, blank=True, db_index=True)
    history_version = models.PositiveSmallIntegerField(null=True, blank=True)
    environment = models.CharField(max_length=16)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()
    transactions = models.JSONField(default=list, blank=True)
    # Null only for lookups made before apps were registered.
    app = models.ForeignKey(App, models.PROTECT, null=True, blank=True, related_name="lookups")

    class Meta:
        ordering = ["-created_at"]
        # The app writes lookups; nobody adds, edits or deletes them by hand.
        default_permissions = ("view",)
        permissions = [
            ("look_up_orders", "Can look up orders and transaction history"),
            ("link_purchases", "Can link purchases to customer accounts"),
            ("view_reports", "Can open the reports page"),
            ("export_csv", "Can export CSV reports"),
        ]
        indexes = [
            models.Index(fields=["agent", "-created_at"], name="lookup_agent_created"),
            models.Index(fields=["outcome", "-created_at"], name="lookup_outcome_created"),
            models.Index(fields=["environment"], name="lookup_environment"),
        ]

    def __str__(self) -> str:
        subject = self.order_id if self.kind == self.Kind.ORDER else self.transaction_id
        return f"{self.get_kind_display()} {subject} ({self.get_outcome_display().lower()})"


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change a settled token change or to delete one."""


class NeverDeletedQuerySet(models.QuerySet):
    """Rows of the audit log: a bulk delete is refused like a single one."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(f"{self.model.__name__} rows are an audit log: never deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]


class SettledOnceRecord(models.Model):
    """A call to Apple in the audit log: written open, settled once into the hash chain.

    Only `settle_into_chain` gives a row its place in the chain: the database refuses any other
    (the migrations' triggers). Until it settles, a row may be changed; after, never; and it is
    never deleted.
    """

    # The outcomes a row may still be changed in.
    OPEN_OUTCOMES: tuple[str, ...] = ("pending",)

    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    chain_sequence = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    chain_previous_hash = models.CharField(max_length=64, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    # The hash recipe it settled with (audit_chain.CHAIN_VERSION); NULL: the first, for rows
    # settled before there were others. Nullable, like the names below, so adding the column
    # leaves SQLite's table (and its triggers) in place.
    chain_version = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = NeverDeletedQuerySet.as_manager()

    # What settling writes.
    SETTLED_FIELDS: tuple[str, ...] = (
        "outcome",
        "error_code",
        "error_message",
        "settled_at",
        "chain_sequence",
        "chain_previous_hash",
        "chain_hash",
    )
    # Each kind names what Apple's answer may settle it as, the columns its hash covers, its
    # name in the chain (audit_chain's *_KIND; None for a link) and what it is called in errors.
    SETTLED_OUTCOMES: tuple[str, ...] = ("succeeded", "failed")
    CHAIN_HASHED_FIELDS: tuple[str, ...] = ()
    CHAIN_KIND: str | None = None
    KIND_NAME = "An Apple action"

    class Meta:
        abstract = True

    def save(self, **kwargs: Any) -> None:
        if self._state.adding or kwargs.get("force_insert"):
            super().save(**kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            # Lock the row so a concurrent settle can't slip in between the check and the write.
            stored = (
                type(self)
                ._base_manager.using(using)
                .select_for_update()
                .filter(pk=self.pk)
                .values_list("outcome", flat=True)
                .first()
            )
            if stored is not None and stored not in self.OPEN_OUTCOMES:
                raise AuditLogIsAppendOnly(
                    f"{type(self).__name__} {self.pk} is already {stored}: "
                    "settled rows are never changed."
                )
            super().save(**kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(f"{type(self).__name__} rows are an audit log: never deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]

    def settle(
        self,
        outcome: str,
        *,
        error_code: int | None = None,
        error_message: str = "",
        **answer: Any,
    ) -> bool:
        """Record how Apple answered, if nobody has yet. Return whether this call settled it.

        One conditional UPDATE (settle_into_chain), so of two settlers racing on one row exactly
        one wins; the loser's instance is refreshed to show what the winner recorded. `answer`
        holds what a kind keeps of Apple's answer besides the outcome (`settled_values`).
        """
        if outcome not in self.SETTLED_OUTCOMES:
            allowed = " or ".join(self.SETTLED_OUTCOMES)
            raise ValueError(f"{self.KIND_NAME} settles as {allowed}, not {outcome!r}.")
        values: dict[str, Any] = {
            "outcome": outcome,
            "error_code": error_code,
            "error_message": error_message or "",
            **self.settled_values(outcome, **answer),
            "settled_at": timezone.now(),
        }
        return settle_into_chain(self, values, self.CHAIN_HASHED_FIELDS, kind=self.CHAIN_KIND)

    def settled_values(self, outcome: str) -> dict[str, Any]:
        """The columns a kind writes from Apple's answer besides the outcome and the error."""
        return {}


class TokenChange(SettledOnceRecord):
    """One attempt to set a purchase's appAccountToken: written pending, settled once."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    CHAIN_HASHED_FIELDS = HASHED_FIELDS
    KIND_NAME = "A token change"

    # One per rendered confirm form: a second submission of the same form can't add a row.
    request_id = models.UUIDField(unique=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="token_changes"
    )
    # Usernames as they were when the row settled, in its hash: a later rename changes neither.
    # NULL on rows settled before names were recorded (audit_chain.CHAIN_VERSION 1).
    agent_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    transfer_requested_by_username = models.CharField(  # noqa: DJ001
        max_length=150, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    account = models.ForeignKey(CustomerAccount, models.PROTECT, related_name="token_changes")
    original_transaction_id = models.CharField(max_length=64, db_index=True)
    product_id = models.CharField(max_length=200)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16)
    order_id = models.CharField(max_length=32, blank=True)
    token_before = models.UUIDField(null=True, blank=True)
    token_after = models.UUIDField()
    ticket_reference = models.CharField(max_length=100)
    lookup = models.ForeignKey(
        Lookup, models.PROTECT, null=True, blank=True, related_name="token_changes"
    )
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )

    class Meta:
        ordering = ["-created_at"]
        # Rows are written by the link flow only; the admin shows them read-only.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="tokenchange_env_created"),
            # The admin's exact searches.
            models.Index(fields=["order_id"], name="tokenchange_order_id"),
            models.Index(fields=["ticket_reference"], name="tokenchange_ticket"),
            # The admin's ticket search ignores case, as its order search does.
            models.Index(Upper("ticket_reference"), name="tokenchange_ticket_upper"),
            models.Index(fields=["account", "-created_at"], name="tokenchange_account_created"),
            # One agent's token changes in order, as the reports' exports read them (a walk of
            # every agent's rows otherwise), as lookups and extensions have theirs.
            models.Index(fields=["agent", "created_at"], name="tokenchange_agent_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="pending", settled_at__isnull=True)
                | Q(outcome__in=["succeeded", "failed"], settled_at__isnull=False),
                name="tokenchange_settled_at_iff_settled",
            ),
            # A row joins the chain when it settles, and only then.
            models.CheckConstraint(
                condition=Q(
                    outcome="pending",
                    chain_sequence__isnull=True,
                    chain_previous_hash="",
                    chain_hash="",
                )
                | (
                    Q(outcome__in=["succeeded", "failed"], chain_sequence__isnull=False)
                    & ~Q(chain_previous_hash="")
                    & ~Q(chain_hash="")
                ),
                name="tokenchange_chained_iff_settled",
            ),
            # One Apple call in flight per purchase: another link is refused until it settles.
            models.UniqueConstraint(
                fields=["original_transaction_id"],
                condition=Q(outcome="pending"),
                name="tokenchange_one_pending_per_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_transaction_id} → {self.token_after} ({self.outcome})"

    @property
    def is_settled(self) -> bool:
        return self.outcome != self.Outcome.PENDING


def settle_into_chain(
    row: models.Model,
    values: dict[str, Any],
    hashed_fields: tuple[str, ...],
    *,
    kind: str | None,
    unsettled: tuple[str, ...] = ("pending",),
    state: str = "outcome",
) -> bool:
    """Settle a pending audit row with `values` and give it the chain's next place.

    A single conditional UPDATE, so of two settlers racing on one row exactly one wins. The chain
    head stays locked until the transaction commits, so settlements of every kind of audited row
    join the one chain one at a time, in order. The loser's instance is refreshed to show what
    the winner recorded.
    """
    model = type(row)
    using = router.db_for_write(model, instance=row)
    rows = model._base_manager.using(using)
    with transaction.atomic(using=using):
        head = AuditChainHead.locked(using)
        # Locked too, so an edit to the pending row can't land between hashing and writing.
        stored = (
            rows.select_for_update()
            .filter(pk=row.pk, **{f"{state}__in": unsettled})
            .values(*hashed_fields, "app_id")
            .first()
        )
        updated = 0
        if stored is not None:
            values.update(_recorded_names(row, {**stored, **values}, kind, using))
            sequence = head.last_sequence + 1
            values["chain_sequence"] = sequence
            values["chain_previous_hash"] = head.last_hash
            values["chain_hash"] = chain_hash(
                {**stored, **values}, sequence=sequence, previous_hash=head.last_hash, kind=kind
            )
            # The head moves first: the database lets a row settle only at the place the
            # head has just given it (migrations 0011 and 0015).
            head.advance(sequence, values["chain_hash"], using=using)
            updated = rows.filter(pk=row.pk, **{f"{state}__in": unsettled}).update(**values)
            if not updated:
                # The row is locked and was pending: this can't be, so undo the advance.
                raise AuditLogIsAppendOnly(f"{model.__name__} {row.pk} could not be settled.")
    if updated:
        for name, value in values.items():
            setattr(row, name, value)
        return True

    row.refresh_from_db(fields=list(row.SETTLED_FIELDS))
    return False


def _recorded_names(
    row: models.Model, stored: dict[str, Any], kind: str | None, using: str
) -> dict[str, Any]:
    """The chain version, the people's usernames and the app's bundle ID as they are now."""
    if audit_chain.CHAIN_VERSION < 2:
        return {}
    users = get_user_model()._base_manager.using(using)
    names: dict[str, Any] = {"chain_version": audit_chain.CHAIN_VERSION}
    if audit_chain.CHAIN_VERSION >= 3:
        names["app_bundle_id"] = _bundle_id_of(stored.get("app_id"), using)
    for name_column, id_column in audit_chain.RECORDED_NAMES[kind].items():
        user_id = stored.get(id_column)
        username = None
        if user_id is not None:
            username = users.filter(pk=user_id).values_list(users.model.USERNAME_FIELD, flat=True)
            username = username.first()
        names[name_column] = username
    if kind is None:
        requester = (
            TransferRequest.objects.using(using)
            .filter(token_change_id=row.pk)
            .values_list(f"requested_by__{get_user_model().USERNAME_FIELD}", flat=True)
            .first()
        )
        names[audit_chain.TRANSFER_REQUESTER_NAME] = requester
    return names


def _bundle_id_of(app_id: int | None, using: str) -> str:
    """The bundle ID Apple is called with for the app (None, or one following the settings:
    the settings')."""
    found = None
    if app_id is not None:
        found = (
            App.objects.using(using).filter(pk=app_id).values_list("bundle_id", "follows_settings")
        )
    bundle_id, follows_settings = (found.first() if found is not None else None) or ("", True)
    return settings.APPSTORE_BUNDLE_ID if follows_settings else bundle_id


class AuditChainHead(models.Model):
    """Where the audit log's hash chain ends: the last settled token change's place and hash.

    One row. Every settlement locks it first, so concurrent settlements line up behind each other
    and each extends the chain from the one before. The database lets it move forward only.
    """

    ONLY_ROW = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY_ROW)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=Q(id=1), name="auditchainhead_one_row")]

    def __str__(self) -> str:
        return f"audit chain at {self.last_sequence} ({self.last_hash[:12]}…)"

    @classmethod
    def locked(cls, using: str) -> AuditChainHead:
        """The head, locked until the current transaction ends; made on first use."""
        head, _ = cls.objects.using(using).select_for_update().get_or_create(pk=cls.ONLY_ROW)
        return head

    def advance(self, sequence: int, hash_: str, *, using: str) -> None:
        type(self).objects.using(using).filter(pk=self.pk).update(
            last_sequence=sequence, last_hash=hash_
        )
        self.last_sequence, self.last_hash = sequence, hash_


class Export(models.Model):
    """A CSV export someone downloaded: who, which table, with which filters, how many rows."""

    class Table(models.TextChoices):
        LOOKUPS = "lookups", "Lookups"
        TOKEN_CHANGES = "token_changes", "Token changes"
        CUSTOMER_ACCOUNTS = "customer_accounts", "Customer accounts"
        SUBSCRIPTION_EXTENSIONS = "subscription_extensions", "Subscription extensions"
        REFUND_REQUESTS = "refund_requests", "Refund requests"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="exports")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    table = models.CharField(max_length=32, choices=Table.choices)
    # The filters as given (date range, agent, or the admin's selected IDs).
    filters = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return (
            f"{self.get_table_display()} export by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
        )


class AdaptyDelivery(models.Model):
    """One attempt to send a linked purchase to Adapty's "Set transaction", beside its link."""

    class Outcome(models.TextChoices):
        # Waiting for a worker (`lookups.tasks.deliver_to_adapty`), not before `not_before`.
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    token_change = models.ForeignKey(TokenChange, models.PROTECT, related_name="adapty_deliveries")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="adapty_deliveries"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    customer_user_id = models.CharField(max_length=100)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.SENT, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Which send of the agent's click this is: the worker retries a timeout or a 5xx in a new row.
    attempt = models.PositiveSmallIntegerField(default=1)
    not_before = models.DateTimeField(null=True, blank=True)
    # When a worker claimed the row and called Adapty.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        verbose_name_plural = "Adapty deliveries"
        indexes = [
            # The sweep's search for deliveries no worker is looking after.
            models.Index(
                fields=["outcome", "not_before"],
                condition=Q(outcome__in=["queued", "sent"]),
                name="adaptydelivery_unsettled",
            ),
        ]

    def __str__(self) -> str:
        return f"Adapty {self.outcome} for {self.token_change.original_transaction_id}"


class ProductQuerySet(models.QuerySet):
    """The catalogue. A product naming an app names it there only, and wins over the name every
    app shares (no app named). A row naming no app was the settings' app's: it reads that app's
    names, if it is registered."""

    def names_for(self, product_ids: Iterable[str | None], app: Any = None) -> dict[str, str]:
        """Display names of these product IDs in `app`'s catalogue; one query."""
        app_id = app.pk if app is not None else None
        names = self.names_in_apps((app_id, product_id) for product_id in product_ids)
        return {key[1]: name for key, name in names.items() if isinstance(key, tuple)}

    def names_in_apps(self, pairs: Iterable[tuple[int | None, str | None]]) -> dict:
        """Names of (app ID, product ID) pairs, each in its own app's catalogue; one query.

        Keyed by the pair, and by the product ID alone for templates that know no app (the name
        in the app of its first pair).
        """
        pairs = [(app_id, product_id) for app_id, product_id in pairs if product_id]
        if not pairs:
            return {}
        known: dict[tuple[int | None, str], str] = {}
        settings_names: dict[str, str] = {}
        rows = self.filter(product_id__in={product_id for _, product_id in pairs}).values_list(
            "product_id", "display_name", "app", "app__follows_settings", "app__bundle_id"
        )
        for product_id, name, app_id, follows, bundle_id in rows:
            known[(app_id, product_id)] = name
            if app_id is not None and (follows or bundle_id == settings.APPSTORE_BUNDLE_ID):
                settings_names[product_id] = name
        names: dict = {}
        for app_id, product_id in pairs:
            own = known.get((app_id, product_id)) if app_id is not None else None
            if app_id is None:
                own = settings_names.get(product_id)
            name = own or known.get((None, product_id))
            if name:
                names[(app_id, product_id)] = name
                names.setdefault(product_id, name)
        return names

    def of_settings_app(self) -> ProductQuerySet:
        """The names a row naming no app reads: every app's, then the settings' app's own."""
        own = models.Q(app__follows_settings=True) | models.Q(
            app__bundle_id=settings.APPSTORE_BUNDLE_ID
        )
        return self.filter(models.Q(app__isnull=True) | own).order_by(
            models.F("app").asc(nulls_first=True)
        )


class Product(models.Model):
    """The name agents read for one of an app's App Store product IDs.

    Apple sends only the product ID; a product missing here is shown by its ID. A product naming
    no app is named so in every app; one naming an app, only in that app (and wins there).
    """

    product_id = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    app = models.ForeignKey(
        App,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="products",
        help_text="The app this name is for; empty for every app.",
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        constraints = [
            # Once for every app, and once more at most per app.
            models.UniqueConstraint(
                fields=["product_id"], condition=models.Q(app__isnull=True), name="product_shared"
            ),
            models.UniqueConstraint(
                fields=["product_id", "app"],
                condition=models.Q(app__isnull=False),
                name="product_once_per_app",
            ),
        ]
        verbose_name = "product in the catalogue"
        verbose_name_plural = "product catalogue"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.product_id})"


class ActionFollowUp(models.Model):
    """The desk asking Apple again about an action whose answer never arrived.

    Made when the call timed out (or, by the sweep, when the process making it died), and kept
    beside the audited row rather than on it: the audit log's rows stay as they were written.
    `next_check_at` is when the next ask is due; an ask under way holds it a call budget ahead,
    so a worker that dies mid-ask leaves it overdue for the sweep. Its primary key is the row's.
    """

    created_at = models.DateTimeField(default=timezone.now)
    checks = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # What the last ask that could not settle the row found, in plain words.
    last_error = models.TextField(blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"follow-up of {type(self).__name__} {self.pk} ({self.checks} checks)"


class TokenChangeFollowUp(ActionFollowUp):
    """The desk reading a token change's purchase from Apple again (`apple_actions.link`)."""

    token_change = models.OneToOneField(
        TokenChange, models.PROTECT, related_name="follow_up", primary_key=True
    )

    class Meta(ActionFollowUp.Meta):
        pass

    def __str__(self) -> str:
        return f"follow-up of token change {self.token_change_id} ({self.checks} checks)"


class Purchase(models.Model):
    """A purchase as Apple last told the desk about it, from verified signed data only.

    Updated by the lookup, history and link services from every verified answer; never from what
    a browser posts. The link flow decides from it while it is fresh, and reads Apple again
    otherwise.
    """

    class Source(models.TextChoices):
        LOOKUP = "lookup", "Order lookup"
        HISTORY = "history", "Transaction history"
        APPLE_READ = "apple_read", "Read from Apple for a link"
        NOTIFICATION = "notification", "App Store notification"

    class Status(models.TextChoices):
        # Apple's subscription statuses 1-5, then the two states of a one-time purchase.
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        BILLING_RETRY = "billing_retry", "Billing retry"
        GRACE_PERIOD = "grace_period", "Grace period"
        REVOKED = "revoked", "Revoked"
        OWNED = "owned", "Owned"
        REFUNDED = "refunded", "Refunded"

    class StatusSource(models.TextChoices):
        STATUS_READ = "status_read", "Get All Subscription Statuses"
        TRANSACTION = "transaction", "The purchase's transaction"
        NOTIFICATION = "notification", "App Store notification"

    # The app it was bought in; null for purchases learnt before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    environment = models.CharField(max_length=16)
    original_transaction_id = models.CharField(max_length=64)
    # The newest verified transaction's payload, as Apple signed it.
    latest_transaction = models.JSONField()
    product_id = models.CharField(max_length=200, blank=True)
    app_account_token = models.UUIDField(null=True, blank=True)
    # When Apple first told of this purchase as an offer code redeemed (the notification's
    # signedDate): the unlinked list's order, kept here so the list reads an index, not every
    # notification.
    offer_code_told_at = models.DateTimeField(null=True, blank=True)
    # Known only from a lookup of the order: transactions don't carry it.
    order_id = models.CharField(max_length=32, blank=True)
    learnt_at = models.DateTimeField()
    learnt_from = models.CharField(max_length=16, choices=Source.choices)

    # What Apple says of the purchase's state, from verified signed renewal info and status.
    status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    renewal_info = models.JSONField(null=True, blank=True)
    auto_renew = models.BooleanField(null=True, blank=True)
    next_renewal_date = models.DateTimeField(null=True, blank=True)
    next_renewal_product_id = models.CharField(max_length=200, blank=True)
    expiration_intent = models.PositiveSmallIntegerField(null=True, blank=True)
    grace_period_ends_at = models.DateTimeField(null=True, blank=True)
    revocation_date = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.PositiveSmallIntegerField(null=True, blank=True)
    # When Apple signed the status the desk holds: an older one arriving later is ignored.
    status_signed_at = models.DateTimeField(null=True, blank=True)
    status_learnt_at = models.DateTimeField(null=True, blank=True)
    status_source = models.CharField(max_length=16, choices=StatusSource.choices, blank=True)

    class Meta:
        ordering = ["-learnt_at"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "original_transaction_id"],
                name="purchase_one_per_environment",
            )
        ]
        # A lookup reads the order's purchases it has seen before it asks Apple.
        indexes = [
            models.Index(fields=["environment", "order_id"], name="purchase_by_order"),
            # A customer's page and the search box find purchases by token and by any ID.
            models.Index(fields=["environment", "app_account_token"], name="purchase_by_token"),
            models.Index(
                F("environment"),
                KT("latest_transaction__transactionId"),
                name="purchase_by_transaction",
            ),
            models.Index(
                F("environment"),
                KT("latest_transaction__appTransactionId"),
                name="purchase_by_app_transaction",
            ),
            # The admin's list, last learnt first, reads the top of this index instead of sorting.
            # The unlinked offer codes, first told first (services/unlinked.py): of both
            # environments, so not led by the environment; read in the list's order, the page's
            # fifty are the index's first rows, not a sort of every waiting purchase.
            models.Index(
                fields=["offer_code_told_at", "id"],
                name="purchase_unlinked_offer_code",
                condition=models.Q(
                    app_account_token__isnull=True, offer_code_told_at__isnull=False
                ),
            ),
            models.Index(fields=["learnt_at"], name="purchase_learnt"),
        ]

    def __str__(self) -> str:
        return f"{self.original_transaction_id} ({self.product_id or 'unknown product'})"

    # Typed reads of Apple's payload: every fact of the purchase is read from it here, once.

    @functools.cached_property
    def transaction(self) -> Transaction:
        """The newest verified transaction, typed (the stored payload, parsed)."""
        return Transaction.from_payload(self.latest_transaction)

    @property
    def is_family_shared(self) -> bool:
        return self.transaction.is_family_shared

    @property
    def is_subscription(self) -> bool:
        """An auto-renewable subscription (the only kind Apple extends)."""
        return self.transaction.is_subscription

    @property
    def expires_at(self) -> datetime | None:
        """When the current period ends (the renewal date); None for what never expires."""
        return self.transaction.expires_date

    @property
    def is_revoked(self) -> bool:
        return self.transaction.is_revoked

    @property
    def in_free_trial(self) -> bool:
        return self.transaction.offer_discount_type == OfferDiscountType.FREE_TRIAL


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly(f"{self.model.__name__} rows are an audit log: never changed.")

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(f"{self.model.__name__} rows are an audit log: never deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]


class RefusedLink(models.Model):
    """A link the desk refused before calling Apple: who tried, on what purchase, for whom, why.

    Written once, never changed or deleted: it is part of the audit trail beside token changes.
    """

    class Reason(models.TextChoices):
        INVALID_FORM = "invalid_form", "Form incomplete or invalid"
        NEEDS_CONFIRMATION = "needs_confirmation", "Move not confirmed"
        CHANGED_SINCE = "changed_since", "Changed since"
        IN_PROGRESS = "in_progress", "Another change in progress"
        FAMILY_SHARED = "family_shared", "Family shared"
        UNKNOWN_PURCHASE = "unknown_purchase", "No such purchase at Apple"
        APPLE_UNREADABLE = "apple_unreadable", "Apple could not be read"
        TRANSFER_DECIDED = "transfer_decided", "Transfer already decided"
        OWN_TRANSFER = "own_transfer", "Deciding one's own transfer"

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="refused_links"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    environment = models.CharField(max_length=16)
    original_transaction_id = models.CharField(max_length=64, db_index=True)
    # The customer the purchase was to be linked to, when the form named one that exists.
    account = models.ForeignKey(
        CustomerAccount, models.PROTECT, null=True, blank=True, related_name="refused_links"
    )
    # Apple's token on the purchase when the desk knew it.
    token_before = models.UUIDField(null=True, blank=True)
    ticket_reference = models.CharField(max_length=100, blank=True)
    request_id = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    message = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.original_transaction_id}: {self.get_reason_display()}"

    def save(self, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AuditLogIsAppendOnly("A refused link is recorded once and never changed.")
        super().save(**kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Refused links are an audit log: they are never deleted.")

    delete.alters_data = True  # type: ignore[attr-defined]


class TransferRequest(models.Model):
    """Moving a purchase away from the customer it is linked to: asked by one, decided by another.

    Apple is called only once someone else with `approve_transfers` approves; the approval then
    goes through the usual pending-then-settled token change (`token_change`).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    request_id = models.UUIDField(unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="transfer_requests"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16)
    original_transaction_id = models.CharField(max_length=64, db_index=True)
    product_id = models.CharField(max_length=200, blank=True)
    order_id = models.CharField(max_length=32, blank=True)
    # Apple's token when the request was made: approval is refused if it has changed since.
    token_before = models.UUIDField()
    account = models.ForeignKey(CustomerAccount, models.PROTECT, related_name="transfer_requests")
    ticket_reference = models.CharField(max_length=100)
    lookup = models.ForeignKey(
        Lookup, models.PROTECT, null=True, blank=True, related_name="transfer_requests"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    token_change = models.OneToOneField(
        TokenChange, models.PROTECT, null=True, blank=True, related_name="transfer_request"
    )
    # The decision settles the request into the audit chain (audit_chain.TRANSFER_KIND), with
    # the people's usernames as they were then. All nullable, so adding them leaves SQLite's
    # table and its triggers in place; the chain walk, not a constraint, finds a sequence twice.
    requested_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    decided_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    chain_version = models.PositiveSmallIntegerField(null=True, blank=True)
    chain_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    chain_previous_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    chain_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    # What deciding writes.
    SETTLED_FIELDS = (
        "status",
        "decided_by",
        "decided_at",
        "token_change",
        "requested_by_username",
        "decided_by_username",
        "chain_version",
        "chain_sequence",
        "chain_previous_hash",
        "chain_hash",
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [("approve_transfers", "Can approve or reject purchase transfers")]
        # The search box finds tickets whatever their case.
        indexes = [
            models.Index(Upper("ticket_reference"), name="transfer_ticket_upper"),
            # The chain's walk reads decisions by place; an index of its own leaves SQLite's
            # table (and triggers) in place where a column index would rebuild it on removal.
            models.Index(fields=["chain_sequence"], name="transfer_chain_sequence"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", decided_by__isnull=True, decided_at__isnull=True)
                | Q(
                    status__in=["approved", "rejected"],
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                ),
                name="transferrequest_decided_iff_closed",
            ),
            # A second pair of eyes: nobody decides their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="transferrequest_decided_by_someone_else",
            ),
            # One open request per purchase: another waits until the first is decided.
            models.UniqueConstraint(
                fields=["environment", "original_transaction_id"],
                condition=Q(status="open"),
                name="transferrequest_one_open_per_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer of {self.original_transaction_id} to {self.account} ({self.status})"

    def settle_decision(
        self, status: str, decider: Any, *, at: datetime, token_change: TokenChange | None = None
    ) -> bool:
        """Decide an open request and give the decision its place in the chain, in one UPDATE.

        False if someone decided it first; the instance then shows their decision.
        """
        values = {
            "status": status,
            "decided_by_id": decider.pk,
            "decided_at": at,
            "token_change_id": token_change.pk if token_change else None,
        }
        return settle_into_chain(
            self,
            values,
            audit_chain.TRANSFER_HASHED_FIELDS,
            kind=audit_chain.TRANSFER_KIND,
            unsettled=(self.Status.OPEN,),
            state="status",
        )


class AppStoreNotification(models.Model):
    """An App Store Server Notification V2, verified and stored before anything is done with it.

    Kept once per `notification_uuid`, however often Apple sends it again; a task applies it to
    the purchase picture afterwards, so a crash between storing and applying loses nothing.
    """

    class State(models.TextChoices):
        RECEIVED = "received", "Received, not applied yet"
        PROCESSED = "processed", "Applied"
        IGNORED = "ignored", "Nothing to apply"

    class Source(models.TextChoices):
        ENDPOINT = "endpoint", "Sent by Apple"
        HISTORY = "history", "Get Notification History"

    notification_uuid = models.CharField(max_length=64, unique=True)
    # The app whose URL it came to; null for the desk's one URL (the settings' app).
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    environment = models.CharField(max_length=16)
    notification_type = models.CharField(max_length=64)
    subtype = models.CharField(max_length=64, blank=True)
    signed_date = models.DateTimeField(null=True, blank=True)
    original_transaction_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The verified payload; its signed transaction and renewal info decoded beside it.
    payload = models.JSONField()
    transaction = models.JSONField(null=True, blank=True)
    renewal_info = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    received_from = models.CharField(max_length=16, choices=Source.choices, default=Source.ENDPOINT)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["state", "received_at"], name="notification_unprocessed"),
            # The admin's list, newest first, reads the top of this index instead of sorting.
            models.Index(fields=["received_at"], name="notification_received"),
        ]

    def __str__(self) -> str:
        subtype = f"/{self.subtype}" if self.subtype else ""
        return f"{self.notification_type}{subtype} {self.notification_uuid}"


class QuarantinedNotification(models.Model):
    """A body posted to the notification endpoint that failed verification: never applied.

    Kept for an administrator to look at, with why it was refused; the body is cut at
    `BODY_LIMIT` characters.
    """

    BODY_LIMIT = 16 * 1024

    received_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    body_length = models.PositiveIntegerField(default=0)
    # The address it came from (the proxy's last X-Forwarded-For entry); empty before it was kept.
    source = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.reason}"


class RefusedNotificationCount(models.Model):
    """How many bodies one address posted to the notification endpoint in one hour that were
    refused, or not even read because it had been refused too often; and how many of them were
    kept as samples (QuarantinedNotification). One row per address and hour, however many."""

    source = models.CharField(max_length=64)
    hour = models.DateTimeField()
    refused = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)
    samples = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "source"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["source", "hour"], name="refusedcount_source_hour")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.hour:%Y-%m-%d %H}h: {self.refused} refused"


class SubscriptionExtension(SettledOnceRecord):
    """One goodwill extension of a subscription's renewal date: written pending, settled once.

    It joins the token changes' hash chain (one sequence for both, lookups/audit_chain.py), so
    the one verifier sees every audited call to Apple. Its id is the requestIdentifier sent to
    Apple: a double click or a retry after a timeout is the same request there.
    """

    class Outcome(models.TextChoices):
        # Above the agent's daily limit: nothing is sent to Apple until a manager approves.
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for a manager"
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by a manager"

    CHAIN_HASHED_FIELDS = EXTENSION_HASHED_FIELDS
    CHAIN_KIND = EXTENSION_KIND
    KIND_NAME = "An extension"

    class Reason(models.IntegerChoices):
        # Apple's extendReasonCode values.
        UNDECLARED = 0, "Not declared"
        CUSTOMER_SATISFACTION = 1, "Customer satisfaction"
        OTHER = 2, "Other"
        SERVICE_ISSUE = 3, "Service issue or outage"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="subscription_extensions"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16)
    original_transaction_id = models.CharField(max_length=64, db_index=True)
    product_id = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(
        CustomerAccount,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="subscription_extensions",
    )
    extend_by_days = models.PositiveSmallIntegerField()
    reason_code = models.PositiveSmallIntegerField(choices=Reason.choices)
    ticket_reference = models.CharField(max_length=100)
    # The renewal date the desk knew before the call: a timed-out call is settled by comparing.
    renewal_date_before = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="extensions_approved",
    )
    # Usernames as they were when the row settled, in its hash (see TokenChange.agent_username).
    agent_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    approved_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    outcome = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )
    # Apple's effectiveDate: the new renewal date.
    effective_date = models.DateTimeField(null=True, blank=True)

    OPEN_OUTCOMES = (Outcome.PENDING, Outcome.AWAITING_APPROVAL)

    SETTLED_FIELDS = (
        "outcome",
        "approved_by",
        "error_code",
        "error_message",
        "effective_date",
        "settled_at",
        "chain_sequence",
        "chain_previous_hash",
        "chain_hash",
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        permissions = [
            ("extend_subscriptions", "Can extend subscription renewal dates"),
            ("approve_extensions", "Can approve extensions above the daily limit"),
        ]
        indexes = [
            models.Index(fields=["agent", "-created_at"], name="extension_agent_created"),
            models.Index(Upper("ticket_reference"), name="extension_ticket_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(extend_by_days__gte=1, extend_by_days__lte=90),
                name="extension_days_1_to_90",
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome__in=["awaiting_approval", "pending"],
                    settled_at__isnull=True,
                    chain_sequence__isnull=True,
                    chain_previous_hash="",
                    chain_hash="",
                )
                | (
                    Q(
                        outcome__in=["succeeded", "failed", "rejected"],
                        settled_at__isnull=False,
                        chain_sequence__isnull=False,
                    )
                    & ~Q(chain_previous_hash="")
                    & ~Q(chain_hash="")
                ),
                name="extension_chained_iff_settled",
            ),
            # One Apple call in flight per subscription.
            models.UniqueConstraint(
                fields=["environment", "original_transaction_id"],
                condition=Q(outcome="pending"),
                name="extension_one_pending_per_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_transaction_id} +{self.extend_by_days} days ({self.outcome})"

    @property
    def is_settled(self) -> bool:
        return self.outcome in (
            self.Outcome.SUCCEEDED,
            self.Outcome.FAILED,
            self.Outcome.REJECTED,
        )

    def settled_values(self, outcome: str, effective_date: Any = None) -> dict[str, Any]:
        return {"effective_date": effective_date}

    def reject(self, manager: Any) -> bool:
        """A manager said no to an extension above the daily limit: it settles unsent."""
        values: dict[str, Any] = {
            "outcome": self.Outcome.REJECTED,
            "approved_by_id": manager.pk,
            "error_code": None,
            "error_message": f"Rejected by {manager.get_username()}: nothing was sent to Apple.",
            "effective_date": None,
            "settled_at": timezone.now(),
        }
        return settle_into_chain(
            self,
            values,
            EXTENSION_HASHED_FIELDS,
            kind=EXTENSION_KIND,
            unsettled=(self.Outcome.AWAITING_APPROVAL,),
        )


class RefundRequest(models.Model):
    """A customer asked Apple for a refund, and Apple asked the desk about the purchase.

    Opened by a CONSUMPTION_REQUEST notification; the desk must answer with Send Consumption
    Information before `deadline` (12 hours after Apple signed the request). Closed by Apple's
    REFUND, REFUND_DECLINED or REFUND_REVERSED.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ANSWERED = "answered", "Answered"
        MISSED = "missed", "Deadline missed"

    class Decision(models.TextChoices):
        NONE = "", "Not decided yet"
        REFUNDED = "refunded", "Refunded"
        DECLINED = "declined", "Declined"
        REVERSED = "reversed", "Refund reversed"

    notification_uuid = models.CharField(max_length=64, unique=True)
    # The app whose notification opened it; null for the desk's one URL (the settings' app).
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    environment = models.CharField(max_length=16)
    transaction_id = models.CharField(max_length=64, db_index=True)
    original_transaction_id = models.CharField(max_length=64, db_index=True)
    product_id = models.CharField(max_length=200, blank=True)
    price_milliunits = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    account = models.ForeignKey(
        CustomerAccount, models.PROTECT, null=True, blank=True, related_name="refund_requests"
    )
    # Apple's consumptionRequestReason, e.g. UNINTENDED_PURCHASE.
    reason = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField()
    deadline = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_notification_uuid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["deadline"]
        default_permissions = ("view",)
        permissions = [("answer_refund_requests", "Can answer Apple's refund requests")]

    def __str__(self) -> str:
        return f"Refund request for {self.transaction_id} ({self.get_status_display().lower()})"

    @property
    def price(self) -> Decimal | None:
        """Apple's price in the currency's units, exact (Apple sends thousandths)."""
        return None if self.price_milliunits is None else Decimal(self.price_milliunits) / 1000


class ConsumptionAnswer(SettledOnceRecord):
    """One Send Consumption Information call for a refund request: written pending, settled once.

    It joins the token changes' hash chain (lookups/audit_chain.py) like an extension, and the
    database keeps it the same way (migration 0017). `answered_by` is empty when the desk's
    configured policy answered on its own. A call that timed out stays pending until its
    follow-up (`ConsumptionAnswerFollowUp`) settles it.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # Apple never confirmed it before the deadline: it may or may not have the answer.
        UNCONFIRMED = "unconfirmed", "Never confirmed by Apple"

    SETTLED_OUTCOMES = ("succeeded", "failed", "unconfirmed")
    CHAIN_HASHED_FIELDS = CONSUMPTION_HASHED_FIELDS
    CHAIN_KIND = CONSUMPTION_KIND
    KIND_NAME = "A consumption answer"

    refund_request = models.ForeignKey(RefundRequest, models.PROTECT, related_name="answers")
    # What Apple was told about, copied from the case so the audited row says it by itself.
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16, default="")
    transaction_id = models.CharField(max_length=64, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="consumption_answers",
    )
    # The username as it was when the answer settled, in its hash; NULL for the policy's.
    answered_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    by_policy = models.BooleanField(default=False)
    # The agent's form's id: submitted twice, it is one answer (none for the policy's).
    request_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The body sent to Apple, as sent.
    body = models.JSONField()
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_by__isnull=True, by_policy=True)
                | Q(answered_by__isnull=False, by_policy=False),
                name="consumptionanswer_by_someone_or_the_policy",
            ),
            # One call in flight per case.
            models.UniqueConstraint(
                fields=["refund_request"],
                condition=Q(outcome="pending"),
                name="consumptionanswer_one_pending_per_case",
            ),
            # One answer per submitted form. Partial, so SQLite adds an index instead of
            # rebuilding the table (which would drop the audit log's triggers).
            models.UniqueConstraint(
                fields=["request_id"],
                condition=Q(request_id__isnull=False),
                name="consumptionanswer_one_per_request_id",
            ),
            # A row joins the chain when it settles, and only then.
            models.CheckConstraint(
                condition=Q(
                    outcome="pending",
                    settled_at__isnull=True,
                    chain_sequence__isnull=True,
                    chain_previous_hash="",
                    chain_hash="",
                )
                | (
                    Q(
                        outcome__in=["succeeded", "failed", "unconfirmed"],
                        settled_at__isnull=False,
                        chain_sequence__isnull=False,
                    )
                    & ~Q(chain_previous_hash="")
                    & ~Q(chain_hash="")
                ),
                name="consumptionanswer_chained_iff_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.refund_request} ({self.outcome})"

    def save(self, **kwargs: Any) -> None:
        if not self._state.adding and not kwargs.get("force_insert"):
            raise AuditLogIsAppendOnly("A consumption answer is settled with settle() only.")
        super().save(**kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    @property
    def is_settled(self) -> bool:
        return self.outcome != self.Outcome.PENDING


class ConsumptionAnswerFollowUp(ActionFollowUp):
    """The desk sending a timed-out consumption answer again until Apple confirms it.

    Apple has no way to read consumption information back, and takes the same answer again while
    the refund request is open (the latest one counts), so each ask resends the pending row's own
    body, unchanged (`apple_actions.consumption_answer`).
    """

    answer = models.OneToOneField(
        ConsumptionAnswer, models.PROTECT, related_name="follow_up", primary_key=True
    )

    class Meta(ActionFollowUp.Meta):
        pass

    def __str__(self) -> str:
        return f"follow-up of consumption answer {self.answer_id} ({self.checks} sends)"


class SubscriptionExtensionFollowUp(ActionFollowUp):
    """The desk reading a timed-out extension's renewal date from Apple again."""

    extension = models.OneToOneField(
        SubscriptionExtension, models.PROTECT, related_name="follow_up", primary_key=True
    )

    class Meta(ActionFollowUp.Meta):
        pass


class ApplePause(models.Model):
    """Apple's Retry-After for one endpoint of one app: no call to it before `until`.

    Kept in the shared cache for every call, and here too, so that a cache that restarts empty
    doesn't forget a pause Apple asked for (`shared_rate_budget`).
    """

    scope = models.CharField(max_length=300)
    endpoint = models.CharField(max_length=64)
    until = models.DateTimeField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "endpoint"], name="applepause_one_per_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} paused until {self.until:%H:%M:%S}"


class CustomerNote(models.Model):
    """What an agent wrote down about a customer, in plain text, optionally for one ticket.

    An edit keeps the earlier text as a `CustomerNoteRevision`, so auditors read every version.
    """

    account = models.ForeignKey(CustomerAccount, models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="customer_notes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ticket_reference = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="customer_notes_edited",
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["account", "-created_at"], name="note_account_created"),
            models.Index(Upper("ticket_reference"), name="note_ticket_upper"),
        ]

    def __str__(self) -> str:
        return f"Note on {self.account.display_name} by {self.author}"


class CustomerNoteRevision(models.Model):
    """A note's text as it was before an edit: never changed, never deleted."""

    note = models.ForeignKey(CustomerNote, models.PROTECT, related_name="revisions")
    text = models.TextField()
    ticket_reference = models.CharField(max_length=100, blank=True)
    # Who wrote this text, and when (the author and creation time for the first version).
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-replaced_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"Earlier text of note {self.note_id}"


class CustomerVisit(models.Model):
    """When an agent last opened or wrote about a customer: the Customers page starts with the
    ones each agent touched last."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    account = models.ForeignKey(CustomerAccount, models.CASCADE, related_name="+")
    visited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["agent", "account"], name="visit_one_per_agent")
        ]
        indexes = [models.Index(fields=["agent", "-visited_at"], name="visit_agent_latest")]

    def __str__(self) -> str:
        return f"{self.agent} opened {self.account.display_name} at {self.visited_at}"


class AuditCheck(models.Model):
    """One run of verify_audit_log, by the schedule or by an auditor: what it saw and said."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        FAILED = "failed", "FAILED"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Empty when the schedule started it.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    head_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        default_permissions = ("view",)
        permissions = [("run_audit_checks", "Can start a check of the audit log")]

    def __str__(self) -> str:
        return f"audit log check {self.started_at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"


def _chained_iff_settled(name: str, open_outcomes: list[str], settled: list[str]):
    """A row joins the chain when it settles, and only then."""
    return models.CheckConstraint(
        condition=Q(
            outcome__in=open_outcomes,
            settled_at__isnull=True,
            chain_sequence__isnull=True,
            chain_previous_hash="",
            chain_hash="",
        )
        | (
            Q(outcome__in=settled, settled_at__isnull=False, chain_sequence__isnull=False)
            & ~Q(chain_previous_hash="")
            & ~Q(chain_hash="")
        ),
        name=name,
    )


class OutageCompensation(SettledOnceRecord):
    """Every active subscriber of a product extended at once after an outage, at Apple's hands.

    One manager asks, a second approves, then Apple is called once (the row's id is Apple's
    requestIdentifier, so a repeat is the same request). Apple accepts at once and works for
    hours; the row stays pending, with Apple's progress beside it, until Apple says the run is
    complete, and then settles into the hash chain with the final counts: request, approval,
    acceptance and completion in one audited document.
    """

    class Outcome(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for a second manager"
        PENDING = "pending", "Under way at Apple"
        SUCCEEDED = "succeeded", "Complete"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by a manager"

    CHAIN_HASHED_FIELDS = OUTAGE_HASHED_FIELDS
    CHAIN_KIND = OUTAGE_KIND
    KIND_NAME = "Outage compensation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="outage_compensations"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16)
    product_id = models.CharField(max_length=200)
    # ISO 3166 alpha-3 codes, comma-joined; empty for every storefront.
    storefronts = models.CharField(max_length=1000, blank=True)
    extend_by_days = models.PositiveSmallIntegerField()
    reason_code = models.PositiveSmallIntegerField(choices=SubscriptionExtension.Reason.choices)
    note = models.TextField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="outage_compensations_decided",
    )
    # Usernames as they were when the row settled, in its hash (see TokenChange.agent_username).
    requested_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    approved_by_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    approved_at = models.DateTimeField(null=True, blank=True)
    # When Apple answered the request with its identifier.
    accepted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.AWAITING_APPROVAL, db_index=True
    )
    # Apple's counts: progress while under way, final once complete.
    succeeded_count = models.PositiveIntegerField(null=True, blank=True)
    failed_count = models.PositiveIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # RENEWAL_EXTENSION FAILURE notifications for this product seen while it was under way.
    failures_notified = models.PositiveIntegerField(default=0)

    OPEN_OUTCOMES = (Outcome.AWAITING_APPROVAL, Outcome.PENDING)
    SETTLED_FIELDS = (
        "outcome",
        "approved_by",
        "approved_at",
        "succeeded_count",
        "failed_count",
        "completed_at",
        "error_code",
        "error_message",
        "settled_at",
        "chain_sequence",
        "chain_previous_hash",
        "chain_hash",
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(extend_by_days__gte=1, extend_by_days__lte=90),
                name="outage_days_1_to_90",
            ),
            _chained_iff_settled(
                "outage_chained_iff_settled",
                ["awaiting_approval", "pending"],
                ["succeeded", "failed", "rejected"],
            ),
            # One run at Apple per product at a time.
            models.UniqueConstraint(
                fields=["environment", "product_id"],
                condition=Q(outcome="pending"),
                name="outage_one_pending_per_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} +{self.extend_by_days} days ({self.outcome})"

    @property
    def storefront_codes(self) -> tuple[str, ...] | None:
        return tuple(self.storefronts.split(",")) if self.storefronts else None

    @property
    def is_settled(self) -> bool:
        return self.outcome not in self.OPEN_OUTCOMES

    def settled_values(
        self,
        outcome: str,
        succeeded_count: int | None = None,
        failed_count: int | None = None,
        completed_at: Any = None,
    ) -> dict[str, Any]:
        """How Apple's run ended: its counts are kept only for a run that completed."""
        if outcome != self.Outcome.SUCCEEDED:
            return {}
        return {
            "succeeded_count": succeeded_count,
            "failed_count": failed_count,
            "completed_at": completed_at,
        }

    def reject(self, manager: Any) -> bool:
        """A second manager said no: it settles unsent."""
        now = timezone.now()
        values: dict[str, Any] = {
            "outcome": self.Outcome.REJECTED,
            "approved_by_id": manager.pk,
            "approved_at": now,
            "error_code": None,
            "error_message": f"Rejected by {manager.get_username()}: nothing was sent to Apple.",
            "settled_at": now,
        }
        return settle_into_chain(
            self,
            values,
            OUTAGE_HASHED_FIELDS,
            kind=OUTAGE_KIND,
            unsettled=(self.Outcome.AWAITING_APPROVAL,),
        )


class OutageCompensationFollowUp(ActionFollowUp):
    """The desk reading a run's status from Apple until it is complete."""

    compensation = models.OneToOneField(
        OutageCompensation, models.PROTECT, related_name="follow_up", primary_key=True
    )

    class Meta(ActionFollowUp.Meta):
        pass


class TransactionFinish(SettledOnceRecord):
    """Finish Transaction for a consumable an agent delivered by hand: pending, settled once."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    CHAIN_HASHED_FIELDS = FINISH_HASHED_FIELDS
    CHAIN_KIND = FINISH_KIND
    KIND_NAME = "A finish"

    # One per rendered form: a second submission is the same request.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="transaction_finishes"
    )
    # The agent's username as it was when the row settled, in its hash.
    agent_username = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The app the purchase belongs to; null for rows written before apps were registered.
    app = models.ForeignKey("App", models.PROTECT, null=True, blank=True, related_name="+")
    # The bundle ID Apple was called with, as it was when the row settled, in its hash
    # (audit_chain.CHAIN_VERSION 3); NULL on rows settled before.
    app_bundle_id = models.CharField(max_length=155, null=True, blank=True)  # noqa: DJ001
    environment = models.CharField(max_length=16)
    transaction_id = models.CharField(max_length=64, db_index=True)
    original_transaction_id = models.CharField(max_length=64)
    product_id = models.CharField(max_length=200, blank=True)
    order_id = models.CharField(max_length=32, blank=True)
    # What the agent delivered by hand, and where (a ticket).
    note = models.TextField()
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        constraints = [
            _chained_iff_settled(
                "finish_chained_iff_settled", ["pending"], ["succeeded", "failed"]
            ),
            models.UniqueConstraint(
                fields=["environment", "transaction_id"],
                condition=Q(outcome="pending"),
                name="finish_one_pending_per_transaction",
            ),
        ]

    def __str__(self) -> str:
        return f"finish {self.transaction_id} ({self.outcome})"

    @property
    def is_settled(self) -> bool:
        return self.outcome != self.Outcome.PENDING


class TransactionFinishFollowUp(ActionFollowUp):
    """The desk finishing a timed-out finish again until Apple answers (finishing is idempotent)."""

    finish = models.OneToOneField(
        TransactionFinish, models.PROTECT, related_name="follow_up", primary_key=True
    )

    class Meta(ActionFollowUp.Meta):
        pass


class DailyTally(models.Model):
    """How many lookups or token changes a day (UTC) held, by agent, outcome and error code.

    Kept by the database on PostgreSQL (triggers of migration 0340 count every row written,
    changed or removed), so the reports read a few rows a day instead of every lookup of the
    range. SQLite keeps none: there the reports count the rows themselves.
    """

    class Source(models.TextChoices):
        LOOKUP = "lookup", "Lookup"
        TOKEN_CHANGE = "token_change", "Token change"

    day = models.DateField()
    source = models.CharField(max_length=16, choices=Source.choices)
    agent_id = models.BigIntegerField()
    outcome = models.CharField(max_length=16)
    # 0 for none, so the key has no NULL in it (Apple's codes are never 0).
    error_code = models.IntegerField()
    # A token change whose lookup showed its purchase as redeemed with an offer code.
    offer_code = models.BooleanField()
    # The row's app (0 for a row naming none: the settings' app's) and environment.
    app_id = models.BigIntegerField(default=0)
    environment = models.CharField(max_length=16, default="")
    row_count = models.BigIntegerField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "source",
                    "day",
                    "agent_id",
                    "outcome",
                    "error_code",
                    "offer_code",
                    "app_id",
                    "environment",
                ],
                name="dailytally_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.outcome}: {self.row_count}"
