"""The task queue in the admin, for superusers: what waits, what ran, how often, what went wrong.

django-tasks-db's own page, with what a support desk asks of it beside each task: which row it
works on, which attempt this is of how many, and the last error, whether the task raised it or
recorded it on its row.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from lookups.models import ActionFollowUp, AdaptyDelivery, TokenChangeFollowUp
from lookups.services.apple_actions import engine

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskQueueAdmin(DBTaskResultAdmin):
    list_display = (
        "task_name",
        "status",
        "works_on",
        "attempts",
        "display_run_after",
        "enqueued_at",
        "started_at",
        "finished_at",
        "last_error",
    )
    list_filter = ("status", "queue_name")
    list_per_page = 50

    def get_readonly_fields(self, request: HttpRequest, obj: DBTaskResult | None = None):
        return [*super().get_readonly_fields(request, obj), "works_on", "attempts", "last_error"]

    @admin.display(description="works on")
    def works_on(self, obj: DBTaskResult) -> str:
        kwargs = _kwargs(obj)
        if "token_change_id" in kwargs:
            return f"token change {kwargs['token_change_id']}"
        if "kind" in kwargs and "action_id" in kwargs:
            return f"{_audit_name(kwargs['kind'])} {kwargs['action_id']}"
        if "delivery_id" in kwargs:
            return f"Adapty delivery {kwargs['delivery_id']}"
        return "-"

    @admin.display(description="attempts")
    def attempts(self, obj: DBTaskResult) -> str:
        work = _work(obj)
        if isinstance(work, ActionFollowUp):
            return f"{work.checks} of {settings.APPLE_FOLLOW_UP_ATTEMPTS} checks"
        if isinstance(work, AdaptyDelivery):
            return f"{work.attempt} of {settings.ADAPTY_DELIVERY_ATTEMPTS}"
        return "-"

    @admin.display(description="last error")
    def last_error(self, obj: DBTaskResult) -> str:
        if obj.traceback:
            # The exception's own line: the traceback's last.
            return obj.traceback.strip().splitlines()[-1]
        work = _work(obj)
        if isinstance(work, ActionFollowUp) and work.last_error:
            return work.last_error
        if isinstance(work, AdaptyDelivery) and work.outcome == AdaptyDelivery.Outcome.FAILED:
            return work.error_message
        return "-"


def _kwargs(obj: DBTaskResult) -> dict:
    stored = obj.args_kwargs if isinstance(obj.args_kwargs, dict) else {}
    kwargs = stored.get("kwargs")
    return kwargs if isinstance(kwargs, dict) else {}


def _work(obj: DBTaskResult) -> ActionFollowUp | AdaptyDelivery | None:
    """The row a task works on (one query; a page lists fifty tasks at most)."""
    if not hasattr(obj, "_desk_work"):
        kwargs = _kwargs(obj)
        work = None
        if isinstance(kwargs.get("token_change_id"), int):
            work = TokenChangeFollowUp.objects.filter(pk=kwargs["token_change_id"]).first()
        elif isinstance(kwargs.get("kind"), str) and kwargs.get("action_id"):
            work = _follow_up_of(kwargs["kind"], kwargs["action_id"])
        elif isinstance(kwargs.get("delivery_id"), int):
            work = AdaptyDelivery.objects.filter(pk=kwargs["delivery_id"]).first()
        obj._desk_work = work
    return obj._desk_work


def _audit_name(kind_name: object) -> str:
    try:
        return engine.kind_named(str(kind_name)).audit_name
    except LookupError:
        return str(kind_name)


def _follow_up_of(kind_name: str, action_id: str) -> ActionFollowUp | None:
    try:
        kind = engine.kind_named(kind_name)
        return kind.follow_up_model.objects.filter(pk=action_id).first()
    except (LookupError, ValueError, ValidationError):
        return None


@admin.register(TokenChangeFollowUp)
class TokenChangeFollowUpAdmin(admin.ModelAdmin):
    """The desk asking Apple again about unanswered token changes; the app writes these rows."""

    list_display = (
        "token_change",
        "created_at",
        "checks",
        "last_checked_at",
        "next_check_at",
        "gave_up_at",
        "last_error",
    )
    list_filter = ("gave_up_at",)
    list_select_related = ("token_change",)
    search_fields = ("token_change__original_transaction_id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
