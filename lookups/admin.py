from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from lookups.models import CustomerAccount, Lookup, TokenChange


class ReadOnlyAdmin(admin.ModelAdmin):
    """The app writes these rows; the admin only shows them, to whoever may view them."""

    # Counting a large audit table on every filtered page is slow and tells nobody much.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    list_display = ["display_name", "email", "external_id", "app_account_token", "created_at"]
    search_fields = ["email", "external_id", "display_name", "app_account_token"]
    list_filter = ["created_at"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Lookup)
class LookupAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "agent",
        "kind",
        "order_id",
        "transaction_id",
        "environment",
        "outcome",
        "error_code",
        "duration_ms",
    ]
    list_filter = [
        ("agent", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "outcome",
        "environment",
        "kind",
    ]
    list_select_related = ["agent"]
    search_fields = ["order_id", "transaction_id"]
    date_hierarchy = "created_at"
    exclude = ["transactions"]
    readonly_fields = ["transactions_as_shown"]

    @admin.display(description="Transactions as shown")
    def transactions_as_shown(self, obj: Lookup) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.transactions, indent=2))


@admin.register(TokenChange)
class TokenChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "agent",
        "account",
        "original_transaction_id",
        "product_id",
        "environment",
        "outcome",
        "error_code",
        "ticket_reference",
    ]
    list_filter = [
        "outcome",
        ("agent", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "environment",
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
    date_hierarchy = "created_at"
