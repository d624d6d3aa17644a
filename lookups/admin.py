from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Upper
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from lookups.admin_paging import BigTableAdmin
from lookups.appstore.notifications import NotificationType
from lookups.models import (
    AdaptyDelivery,
    App,
    AppStoreNotification,
    AuditCheck,
    ConsumptionAnswer,
    CustomerAccount,
    CustomerNote,
    CustomerNoteRevision,
    Export,
    Lookup,
    OutageCompensation,
    Product,
    Purchase,
    QuarantinedNotification,
    RefundRequest,
    RefusedLink,
    RefusedNotificationCount,
    SubscriptionExtension,
    TokenChange,
    TransactionFinish,
    TransferRequest,
)
from lookups.reporting import exports
from lookups.services import adapty_keys, audit_checks
from lookups.services.account_import import token_conflict_for
from lookups.services.app_scope import AppScope, scope_of
from lookups.templatetags.desk import moment
from lookups.views import notification_check

admin.site.site_header = "Supportdesk administration"
admin.site.site_title = "Supportdesk"
# "View site" goes to the desk's home, where managers find the reports.
admin.site.site_url = reverse_lazy("lookups:home")
# The sidebar repeats the index page's list and costs the audit list a quarter of a laptop's
# width; the breadcrumbs lead back to the index.
admin.site.enable_nav_sidebar = False


class ReadOnlyAdmin(BigTableAdmin):
    """The app writes these rows; the admin only shows them, to whoever may view them."""

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Lookup | TokenChange | AdaptyDelivery | Export) -> str:
        # Audit rows to the second, in the desk's one style.
        return moment(obj.created_at, "seconds")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def recorded_name(recorded: str | None, user: Any) -> str:
    """Who a settled audit row names: the username it recorded when it settled.

    The user's name today may differ (renamed, or swapped with another's); rows settled before
    names were recorded show today's name, saying so.
    """
    if recorded:
        return f"{recorded} (as recorded)"
    if user is None:
        return "—"
    return f"{user.get_username()} (today's name; not recorded at settling)"


class RecordedNamesAdmin(ReadOnlyAdmin):
    """The people of a settled audit row by the names it recorded."""

    @admin.display(description="Agent", ordering="agent")
    def recorded_agent(self, obj: Any) -> str:
        return recorded_name(obj.agent_username, obj.agent)

    @admin.display(description="Approved by")
    def recorded_approver(self, obj: Any) -> str:
        return recorded_name(obj.approved_by_username, obj.approved_by)

    @admin.display(description="Answered by")
    def recorded_answerer(self, obj: Any) -> str:
        if obj.answered_by_id is None and not obj.answered_by_username:
            return "the desk's policy"
        return recorded_name(obj.answered_by_username, obj.answered_by)


class AgentListFilter(admin.RelatedOnlyFieldListFilter):
    """The agents who have rows in this table, found with one index probe per user.

    Django's own filter asks for `id IN (SELECT DISTINCT agent_id ...)`, and the DISTINCT makes
    PostgreSQL read the whole table on every page of the list.
    """

    def field_choices(self, field, request, model_admin):
        rows = model_admin.get_queryset(request).filter(**{self.field_path: OuterRef("pk")})
        return field.get_choices(
            include_blank=False,
            ordering=self.field_admin_ordering(field, request, model_admin),
            limit_choices_to=Q(Exists(rows)),
        )


class EnvironmentListFilter(admin.SimpleListFilter):
    """Apple's two environments, offered without reading every row to find which occur."""

    title = "environment"
    parameter_name = "environment"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("Production", "Production"), ("Sandbox", "Sandbox")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(environment=self.value())
        return queryset


def app_scope(request: HttpRequest) -> AppScope:
    """The apps whose rows this person may see, worked out once per request."""
    if not hasattr(request, "_app_scope"):
        request._app_scope = scope_of(request.user)
    return request._app_scope


class AppListFilter(admin.SimpleListFilter):
    """The apps the viewer may see (a short table), and the rows from before apps were
    registered, which were the settings' app's."""

    title = "app"
    parameter_name = "app"
    BEFORE_APPS = "none"
    before_label = "Before apps were registered"
    # Whether a row naming no app is every app's (a product), not the settings' app's.
    unnamed_is_shared = False

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        scope = app_scope(request)
        apps = App.objects.all()
        if not scope.is_everything:
            apps = apps.filter(pk__in=scope.app_ids)
        shown = scope.includes_unnamed or self.unnamed_is_shared
        before = [(self.BEFORE_APPS, self.before_label)] if shown else []
        return [*((str(pk), name) for pk, name in apps.values_list("pk", "name")), *before]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == self.BEFORE_APPS:
            return queryset.filter(app__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(app_id=int(self.value()))
        return queryset


class ProductAppListFilter(AppListFilter):
    before_label = "Every app"
    unnamed_is_shared = True


class AppScopedAdmin(admin.ModelAdmin):
    """Rows naming an app: only those of the apps the viewer may see, in the list, its CSV and
    each row's page (an auditor limited to some apps finds no other app's row by its URL)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(app_scope(request).rows())


class NotificationTypeListFilter(admin.SimpleListFilter):
    """Apple's notification types, offered without reading every stored notification.

    Django's own filter on a plain column asks for SELECT DISTINCT over the whole table on every
    page of the list: tens of millions of rows at a big app's scale.
    """

    title = "notification type"
    parameter_name = "notification_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(kind.value, kind.value) for kind in NotificationType]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(notification_type=self.value())
        return queryset


class CsvExportMixin:
    """The "Export selected as CSV" action, for those who may export."""

    actions = ["export_selected_as_csv"]

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: object) -> str:
        # Django's own renders a form widget through the template engine, row by row: a
        # third of the list's time at a hundred rows. The same markup, written directly.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def has_export_csv_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("lookups.export_csv")

    @admin.action(description="Export selected as CSV", permissions=["export_csv"])
    def export_selected_as_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        table = exports.table_for_model(self.model)
        if request.POST.get("select_across") == "1":
            filters = {"admin": "all matching", "changelist_query": request.GET.urlencode()}
        else:
            selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            filters = {
                "admin": "selected",
                "ids": [int(pk) for pk in selected if pk.isascii() and pk.isdigit()],
            }
        return exports.stream_csv(
            request.user,
            table,
            queryset,
            filters=filters,
            filename=table.filename(f"selected_{timezone.now():%Y-%m-%d}"),
        )


class CustomerAccountForm(forms.ModelForm):
    """The importer's rules for app_account_token hold here too: one rule, in account_import."""

    class Meta:
        model = CustomerAccount
        fields = [
            "external_id",
            "email",
            "display_name",
            "app_account_token",
            "adapty_customer_user_id",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        token = cleaned.get("app_account_token")
        external_id = cleaned.get("external_id", self.instance.external_id)
        if token is not None and external_id:
            conflict = token_conflict_for(self.instance.pk, external_id, token)
            if conflict is not None:
                self.add_error("app_account_token", f"{conflict[0].upper()}{conflict[1:]}.")
        return cleaned


# Apple's two environments: the picture's indexes all lead with the environment.
ENVIRONMENTS = ["Production", "Sandbox"]


@admin.register(CustomerAccount)
class CustomerAccountAdmin(CsvExportMixin, BigTableAdmin):
    form = CustomerAccountForm
    list_display = ["display_name", "email", "external_id", "app_account_token", "created_at"]
    search_fields = ["email", "external_id", "display_name", "app_account_token"]
    search_help_text = "Part of the email, account ID or name, or the whole app account token."
    list_filter = ["created_at"]
    readonly_fields = ["created_at", "updated_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # The desk's own account search, through its trigram indexes; Django's would also look
        # for the words inside every token's text, reading every account.
        if not search_term.strip():
            return queryset, False
        return queryset & CustomerAccount.objects.search(search_term), False


@admin.register(Lookup)
class LookupAdmin(CsvExportMixin, AppScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "created",
        "agent",
        "kind",
        "order_id",
        "transaction_id",
        "app",
        "environment",
        "outcome",
        "error_code",
        "duration_ms",
    ]
    list_filter = [
        ("agent", AgentListFilter),
        "created_at",
        "outcome",
        EnvironmentListFilter,
        AppListFilter,
        "kind",
    ]
    list_select_related = ["agent", "app"]
    search_fields = ["order_id", "transaction_id"]
    search_help_text = "An order ID or a transaction ID, exactly."
    # No date_hierarchy, as on the token changes: its drill-down reads every lookup on each page
    # (SELECT DISTINCT over millions); the created_at filter narrows by date instead.
    exclude = ["transactions"]
    readonly_fields = ["transactions_as_shown"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Exact matches on indexed columns: a "contains" search would read every lookup.
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isascii() and term.isdigit():
            return queryset.filter(transaction_id=term), False
        return queryset.filter(order_id=term.upper()), False

    @admin.display(description="Transactions as shown")
    def transactions_as_shown(self, obj: Lookup) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.transactions, indent=2))


class AdaptyDeliveryInline(admin.TabularInline):
    """The Adapty deliveries of one token change, read-only, on the token change's page."""

    model = AdaptyDelivery
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "created_at",
        "agent",
        "customer_user_id",
        "outcome",
        "attempts",
        "http_status",
        "error_code",
        "request_id",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdaptyDelivery]:
        return super().get_queryset(request).select_related("agent", "token_change")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# A search matching more customers than this is too vague to be useful in the audit log.
MAX_ACCOUNTS_SEARCHED = 500


class AppForm(forms.ModelForm):
    class Meta:
        model = App
        fields = [
            "name",
            "bundle_id",
            "app_apple_id",
            "uses_production",
            "uses_sandbox",
            "issuer_id",
            "key_id",
            "private_key_source",
            "adapty_key_source",
            "follows_settings",
            "rate_limits",
            "limited_agents",
        ]

    def clean_private_key_source(self) -> str:
        source = self.cleaned_data["private_key_source"].strip()
        if "PRIVATE KEY" in source or "\n" in source:
            raise forms.ValidationError(
                "Name where the key is (an environment variable or a file), never the key itself."
            )
        return source

    def clean_adapty_key_source(self) -> str:
        source = self.cleaned_data["adapty_key_source"].strip()
        # Adapty's secret keys start "secret_live_" or "secret_test_"; a name has no spaces.
        if source.lower().startswith("secret_") or any(c.isspace() for c in source):
            raise forms.ValidationError(
                "Name where the Adapty key is (an environment variable or a file), never the "
                "key itself."
            )
        return source

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not (cleaned.get("uses_production") or cleaned.get("uses_sandbox")):
            raise forms.ValidationError("An app uses Production, Sandbox or both.")
        return cleaned


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    """Superusers register the apps; nobody else is granted anything on them."""

    form = AppForm
    list_display = ["name", "bundle_id", "app_apple_id", "environments_in_use", "follows_settings"]
    search_fields = ["name", "bundle_id"]
    filter_horizontal = ["limited_agents"]
    readonly_fields = ["notification_urls", "adapty_step"]

    @admin.display(description="Notification URLs for App Store Connect")
    def notification_urls(self, obj: App) -> str:
        if obj.pk is None:
            return "Shown once the app is saved."
        return format_html_join(
            mark_safe("<br>"),
            "{}: {}",
            ((env, obj.notification_path(env)) for env in obj.environments),
        )

    @admin.display(description="Adapty")
    def adapty_step(self, obj: App) -> str:
        """Whether this app's links go to Adapty and whether its key can be read, never the key."""
        return adapty_keys.adapty_step_of(obj)

    @admin.display(description="Environments")
    def environments_in_use(self, obj: App) -> str:
        return ", ".join(obj.environments)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """The catalogue, edited per app: a product naming no app is named so in every app."""

    list_display = ["display_name", "product_id", "app_or_every_app"]
    list_filter = [ProductAppListFilter]
    list_select_related = ["app"]
    fields = ["app", "product_id", "display_name"]

    @admin.display(description="App", ordering="app__name")
    def app_or_every_app(self, obj: Product) -> str:
        return obj.app.name if obj.app is not None else "Every app"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Someone limited to some apps sees the names shared by every app and their apps' own.
        scope = replace(app_scope(request), includes_unnamed=True)
        return super().get_queryset(request).filter(scope.rows())

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "app":
            scope = app_scope(request)
            if not scope.is_everything:
                kwargs["queryset"] = App.objects.filter(pk__in=scope.app_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    search_fields = ["display_name", "product_id"]
    search_help_text = "Part of the name or of the App Store product ID."


@admin.register(TokenChange)
class TokenChangeAdmin(CsvExportMixin, AppScopedAdmin, RecordedNamesAdmin):
    inlines = [AdaptyDeliveryInline]
    readonly_fields = ["recorded_agent"]
    # Narrow columns, so the list fits a 1366-pixel screen with Outcome and Ticket in view:
    # the environment is a filter, the product is on the row's own page, Apple's error code
    # goes with the outcome.
    list_display = [
        "created",
        "recorded_agent",
        "customer",
        "original_transaction_id",
        "outcome_and_code",
        "ticket_reference",
    ]
    list_filter = [
        "outcome",
        ("agent", AgentListFilter),
        "created_at",
        EnvironmentListFilter,
        AppListFilter,
    ]
    list_select_related = ["agent", "account"]
    search_fields = [
        "original_transaction_id",
        "order_id",
        "account__email",
        "account__external_id",
        "account__display_name",
        "ticket_reference",
    ]
    search_help_text = (
        "A transaction ID, order ID or ticket exactly, or part of the customer's email, "
        "account ID or name."
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # IDs and tickets match exactly, through their indexes; customer details are looked for
        # in the far smaller accounts table. A "contains" search over the joined audit log would
        # read every row of it (ten seconds at a million).
        term = search_term.strip()
        if not term:
            return queryset, False
        # Fetched first so the database can combine the indexes (an OR over a subquery can't).
        accounts = CustomerAccount.objects.search(term).values_list("pk", flat=True)
        match = Q(account__in=list(accounts[:MAX_ACCOUNTS_SEARCHED]))
        # Tickets ignore case (zd-1234 finds ZD-1234) through the index on UPPER(ticket).
        match |= Q(ticket_upper=term.upper()) | Q(order_id=term.upper())
        if term.isascii() and term.isdigit():
            match |= Q(original_transaction_id=term)
        return queryset.alias(ticket_upper=Upper("ticket_reference")).filter(match), False

    @admin.display(description="Customer", ordering="account__display_name")
    def customer(self, obj: TokenChange) -> str:
        return obj.account.display_name

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_and_code(self, obj: TokenChange) -> str:
        if obj.error_code is not None:
            return f"{obj.get_outcome_display()} ({obj.error_code})"
        return obj.get_outcome_display()

    # No date_hierarchy: its drill-down runs SELECT DISTINCT date_trunc(...) over every row on
    # each page (over half a second at a million); the created_at filter narrows by date instead.


@admin.register(AdaptyDelivery)
class AdaptyDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "agent",
        "original_transaction_id",
        "customer_user_id",
        "outcome",
        "attempts",
        "http_status",
        "error_code",
        "request_id",
    ]
    list_filter = ["outcome", "created_at"]
    list_select_related = ["agent", "token_change"]
    search_fields = [
        "token_change__original_transaction_id",
        "request_id",
        "customer_user_id",
    ]
    date_hierarchy = "created_at"

    @admin.display(
        description="Original transaction ID", ordering="token_change__original_transaction_id"
    )
    def original_transaction_id(self, obj: AdaptyDelivery) -> str:
        return obj.token_change.original_transaction_id


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["created", "user", "table", "row_count", "finished_at"]
    list_filter = ["table", "created_at"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(RefusedLink)
class RefusedLinkAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Links the desk refused before calling Apple: part of the audit trail."""

    list_display = [
        "created_at",
        "agent",
        "original_transaction_id",
        "account",
        "reason",
        "ticket_reference",
        "message",
    ]
    list_filter = [
        "reason",
        ("agent", AgentListFilter),
        "created_at",
        EnvironmentListFilter,
        AppListFilter,
    ]
    list_select_related = ["agent", "account"]
    search_fields = ["=original_transaction_id", "=ticket_reference"]
    search_help_text = "A transaction ID or ticket, exactly."


@admin.register(RefundRequest)
class RefundRequestAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Apple's refund requests and how each ended; answered on the desk's queue page."""

    list_display = [
        "requested_at",
        "transaction_id",
        "product_id",
        "reason",
        "deadline",
        "status",
        "decision",
    ]
    list_filter = ["status", "decision", "requested_at", EnvironmentListFilter, AppListFilter]
    search_fields = ["=transaction_id", "=original_transaction_id"]
    search_help_text = "A transaction ID, exactly."


@admin.register(ConsumptionAnswer)
class ConsumptionAnswerAdmin(AppScopedAdmin, RecordedNamesAdmin):
    """Every answer sent to Apple for a refund request, by an agent or by the policy."""

    readonly_fields = ["recorded_answerer"]
    list_display = [
        "created_at",
        "transaction_id",
        "recorded_answerer",
        "by_policy",
        "outcome",
        "chain_sequence",
    ]
    list_filter = ["outcome", "by_policy", "created_at", EnvironmentListFilter, AppListFilter]
    list_select_related = ["refund_request", "answered_by"]


@admin.register(TransferRequest)
class TransferRequestAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Transfers asked for and how each was decided; decided on the desk's transfers page.

    A decision settles the request into the audit chain with both people's usernames, shown as
    recorded.
    """

    readonly_fields = ["recorded_requester", "recorded_decider"]
    list_display = [
        "created_at",
        "recorded_requester",
        "original_transaction_id",
        "account",
        "status",
        "recorded_decider",
        "decided_at",
        "ticket_reference",
    ]
    list_filter = ["status", "created_at", EnvironmentListFilter, AppListFilter]
    list_select_related = ["requested_by", "decided_by", "account"]
    search_fields = ["=original_transaction_id", "=ticket_reference", "=order_id"]
    search_help_text = "A transaction ID, ticket or order ID, exactly."

    @admin.display(description="Requested by", ordering="requested_by")
    def recorded_requester(self, obj: TransferRequest) -> str:
        return recorded_name(obj.requested_by_username, obj.requested_by)

    @admin.display(description="Decided by")
    def recorded_decider(self, obj: TransferRequest) -> str:
        return recorded_name(obj.decided_by_username, obj.decided_by)


@admin.register(Purchase)
class PurchaseAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """What Apple last told the desk about each purchase, from verified transactions only."""

    list_display = [
        "original_transaction_id",
        "product_id",
        "app_account_token",
        "order_id",
        "environment",
        "learnt_at",
        "learnt_from",
    ]
    list_filter = ["learnt_from", EnvironmentListFilter, AppListFilter]
    search_fields = ["=original_transaction_id", "=order_id", "=app_account_token"]
    search_help_text = "A transaction ID, order ID or token, exactly."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Django's "=" compares upper-cased text, which no index serves: millions of purchases
        # read for each search. The same exact matches through the picture's own indexes.
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(order_id=term.upper())
        if term.isascii() and term.isdigit():
            match |= Q(original_transaction_id=term)
        with contextlib.suppress(ValueError):
            match |= Q(app_account_token=uuid.UUID(term))
        return queryset.filter(match, environment__in=ENVIRONMENTS), False


@admin.register(AppStoreNotification)
class AppStoreNotificationAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Every App Store notification the desk verified and stored, and what applying it did."""

    list_display = [
        "notification_type",
        "subtype",
        "original_transaction_id",
        "signed_date",
        "received_at",
        "received_from",
        "state",
        "outcome",
    ]
    list_filter = [
        "state",
        NotificationTypeListFilter,
        "received_from",
        EnvironmentListFilter,
        AppListFilter,
    ]
    search_fields = ["=notification_uuid", "=original_transaction_id"]
    search_help_text = "A notification UUID or original transaction ID, exactly."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Exact matches through the columns' indexes, not Django's upper-cased "=", which reads
        # every notification (seconds at millions).
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(notification_uuid__in={term, term.lower()}) | Q(original_transaction_id=term)
        return queryset.filter(match), False

    def get_urls(self) -> list:
        # Superusers check the notification URL end to end from here (the view says who may).
        page = path(
            "test-notification/",
            self.admin_site.admin_view(notification_check.test_notification),
            name="lookups_appstorenotification_test",
        )
        return [page, *super().get_urls()]


@admin.register(QuarantinedNotification)
class QuarantinedNotificationAdmin(ReadOnlyAdmin):
    """Bodies posted to the notification endpoint that failed verification: never applied."""

    list_display = ["received_at", "source", "reason", "body_length"]


@admin.register(RefusedNotificationCount)
class RefusedNotificationCountAdmin(ReadOnlyAdmin):
    """Bodies the notification endpoint refused, counted per address and hour; the first few of
    each hour are kept as quarantined notifications."""

    list_display = ["hour", "source", "refused", "rate_limited", "samples"]
    search_fields = ["=source"]


@admin.register(SubscriptionExtension)
class SubscriptionExtensionAdmin(AppScopedAdmin, RecordedNamesAdmin):
    """Goodwill extensions asked of Apple and its answers; sent from the desk's extension form."""

    readonly_fields = ["recorded_agent", "recorded_approver"]
    list_display = [
        "created_at",
        "recorded_agent",
        "original_transaction_id",
        "extend_by_days",
        "reason_code",
        "outcome",
        "error_code",
        "effective_date",
        "recorded_approver",
        "ticket_reference",
    ]
    list_filter = [
        "outcome",
        "reason_code",
        "created_at",
        EnvironmentListFilter,
        AppListFilter,
    ]
    list_select_related = ["agent", "approved_by"]
    search_fields = ["=original_transaction_id", "=ticket_reference"]
    search_help_text = "A transaction ID or ticket, exactly."


# The task queue and the follow-ups of unanswered token changes have a module of their own.
from lookups import queue_admin  # noqa: E402, F401


class CustomerNoteRevisionInline(admin.TabularInline):
    """A note's earlier texts, the one an edit replaced first at the bottom."""

    model = CustomerNoteRevision
    extra = 0
    can_delete = False
    fields = ["written_at", "written_by", "ticket_reference", "text", "replaced_at"]
    readonly_fields = fields
    ordering = ["-replaced_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CustomerNote)
class CustomerNoteAdmin(ReadOnlyAdmin):
    """Agents' notes on customers, with every earlier text an edit replaced."""

    list_display = ["created", "author", "account", "ticket_reference", "edited_at"]
    list_select_related = ["author", "account"]
    list_filter = ["created_at"]
    search_fields = ["ticket_reference", "account__external_id"]
    search_help_text = "A ticket or a customer's account ID."
    fields = [
        "account",
        "author",
        "created_at",
        "ticket_reference",
        "text",
        "edited_at",
        "edited_by",
    ]
    readonly_fields = fields
    inlines = [CustomerNoteRevisionInline]


@admin.register(AuditCheck)
class AuditCheckAdmin(ReadOnlyAdmin):
    """The runs of verify_audit_log, scheduled or started here; the newest first."""

    list_display = ["started_at", "outcome", "head_sequence", "started_by", "message"]
    list_filter = ["outcome"]
    list_select_related = ["started_by"]
    change_list_template = "admin/lookups/auditcheck/change_list.html"

    def get_urls(self):
        run = path(
            "run/",
            self.admin_site.admin_view(self.run_view),
            name="lookups_auditcheck_run",
        )
        return [run, *super().get_urls()]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("lookups.run_audit_checks"):
            raise PermissionDenied
        run = audit_checks.run_check(started_by=request.user)
        level = messages.SUCCESS if run.outcome == AuditCheck.Outcome.OK else messages.ERROR
        self.message_user(
            request, f"Audit log check {run.get_outcome_display()}: {run.message}", level
        )
        return redirect("admin:lookups_auditcheck_changelist")


@admin.register(OutageCompensation)
class OutageCompensationAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Every outage compensation asked for, who approved it, and Apple's final counts."""

    list_display = [
        "created_at",
        "product_id",
        "extend_by_days",
        "storefronts",
        "requested_by",
        "approved_by",
        "outcome",
        "succeeded_count",
        "failed_count",
        "chain_sequence",
    ]
    list_filter = ["outcome", "created_at", EnvironmentListFilter, AppListFilter]
    list_select_related = ["requested_by", "approved_by"]


@admin.register(TransactionFinish)
class TransactionFinishAdmin(AppScopedAdmin, ReadOnlyAdmin):
    """Every consumable an agent marked finished at Apple after delivering it by hand."""

    list_display = [
        "created_at",
        "transaction_id",
        "order_id",
        "agent",
        "outcome",
        "chain_sequence",
    ]
    list_filter = ["outcome", "created_at", EnvironmentListFilter, AppListFilter]
    list_select_related = ["agent"]
    search_fields = ["=transaction_id", "=order_id"]
    search_help_text = "A transaction ID or order ID, exactly."
