"""The managers' figures: what agents looked up and linked, day by day, in a date range.

Every figure is one aggregate query, whatever the number of rows in the range; days are UTC days.
On PostgreSQL the lookups' and token changes' figures read the daily tallies the database keeps
(tallies.py), a few rows a day; elsewhere they count the rows of the range.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import NotSupportedError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncWeek

from lookups.appstore.errors import ERROR_CLASSES
from lookups.models import (
    ConsumptionAnswer,
    CustomerAccount,
    DailyTally,
    Lookup,
    RefundRequest,
    SubscriptionExtension,
    TokenChange,
)
from lookups.reporting import tallies
from lookups.roles import AGENTS
from lookups.services import task_queue
from lookups.services.app_scope import EVERY_APP, AppScope
from lookups.services.unlinked import unlinked_offer_code_purchases

# A year and a leap day: enough for "the last twelve months", small enough to chart by day.
MAX_DAYS = 366
TOP_AGENTS = 10


@dataclass(frozen=True)
class ReportFilters:
    """A range of whole UTC days, both ends included, optionally one agent and one environment,
    within the apps in `apps` (those the manager may see, or the one app chosen)."""

    start: date
    end: date
    agent: Any = None
    apps: AppScope = EVERY_APP
    # The app chosen, if one was, and the environment ("" for both).
    app: Any = None
    environment: str = ""

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def as_record(self, *, with_agent: bool = True) -> dict[str, Any]:
        """The filters as an export records them."""
        record: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if with_agent and self.agent is not None:
            record.update(agent_id=self.agent.pk, agent=self.agent.get_username())
        if self.app is not None:
            record.update(app_id=self.app.pk, app=self.app.name)
        if not self.apps.is_everything:
            record.update(apps_in_view=list(self.apps.app_ids or ()))
        if self.environment:
            record.update(environment=self.environment)
        return record

    def rows_of(self, model: type[Model]) -> QuerySet:
        """Lookups or token changes made in the range (by the agent), or accounts created in it."""
        if model is CustomerAccount:
            return self.customer_accounts()
        if model is RefundRequest:
            # Cases belong to no agent: Apple opens them.
            return self._of_apps(
                RefundRequest.objects.filter(created_at__gte=self.since, created_at__lt=self.until)
            )
        return self._in_range(model._default_manager.all())

    def lookups(self) -> QuerySet[Lookup]:
        return self._in_range(Lookup.objects.all())

    def token_changes(self) -> QuerySet[TokenChange]:
        return self._in_range(TokenChange.objects.all())

    def customer_accounts(self) -> QuerySet[CustomerAccount]:
        # Accounts belong to no agent: only the range applies.
        return CustomerAccount.objects.filter(created_at__gte=self.since, created_at__lt=self.until)

    def _in_range(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.filter(created_at__gte=self.since, created_at__lt=self.until)
        if self.agent is not None:
            queryset = queryset.filter(agent=self.agent)
        return self._of_apps(queryset)

    def _of_apps(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.filter(self.apps.rows())
        if self.environment:
            queryset = queryset.filter(environment=self.environment)
        return queryset


def agents_to_filter_by() -> QuerySet:
    """Whom the reports can be narrowed to: the agents, and anyone who ever looked up or linked."""
    user_model = get_user_model()
    return user_model.objects.filter(
        Exists(user_model.groups.through.objects.filter(user=OuterRef("pk"), group__name=AGENTS))
        | Exists(Lookup.objects.filter(agent=OuterRef("pk")))
        | Exists(TokenChange.objects.filter(agent=OuterRef("pk")))
    ).order_by("username")


# --- The figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCounts:
    """Rows counted per UTC day and outcome; every day of the range is there, zeros included."""

    outcomes: list[tuple[str, str]]
    days: list[date]
    counts: dict[date, dict[str, int]]

    @property
    def total(self) -> int:
        return sum(sum(by_outcome.values()) for by_outcome in self.counts.values())

    def outcome_totals(self) -> list[int]:
        return [
            sum(by_outcome.get(key, 0) for by_outcome in self.counts.values())
            for key, _ in self.outcomes
        ]

    def total_of(self, outcome: str) -> int:
        return sum(by_outcome.get(outcome, 0) for by_outcome in self.counts.values())

    def rows(self) -> list[tuple[date, list[int], int]]:
        """(day, the count of each outcome in `outcomes` order, the day's total)."""
        result = []
        for day in self.days:
            values = [self.counts[day].get(key, 0) for key, _ in self.outcomes]
            result.append((day, values, sum(values)))
        return result


@dataclass(frozen=True)
class AgentActivity:
    username: str
    lookups: int
    links: int


@dataclass(frozen=True)
class ErrorCodeCount:
    code: int
    lookups: int
    token_changes: int

    @property
    def total(self) -> int:
        return self.lookups + self.token_changes

    @property
    def name(self) -> str:
        known = ERROR_CLASSES.get(self.code)
        return known.__name__ if known else ""


@dataclass(frozen=True)
class OfferCodeShare:
    """Of the purchases linked in the range, how many were redeemed with an offer code."""

    linked: int
    offer_codes: int

    @property
    def others(self) -> int:
        return self.linked - self.offer_codes

    @property
    def percent(self) -> float | None:
        return 100 * self.offer_codes / self.linked if self.linked else None


@dataclass(frozen=True)
class Report:
    filters: ReportFilters
    lookups: DailyCounts
    token_changes: DailyCounts
    agents: list[AgentActivity] = field(default_factory=list)
    error_codes: list[ErrorCodeCount] = field(default_factory=list)
    offer_codes: OfferCodeShare = OfferCodeShare(0, 0)

    @property
    def desk_holds(self) -> int:
        """Lookups the desk's own rate budget held back: never sent, so no Apple error code."""
        return self.lookups.total_of(Lookup.Outcome.HELD)


def build_report(filters: ReportFilters) -> Report:
    """Every figure of the reports page: seven queries, whatever the range holds."""
    return Report(
        filters=filters,
        lookups=daily_counts(filters, DailyTally.Source.LOOKUP, Lookup.Outcome.choices),
        token_changes=daily_counts(
            filters, DailyTally.Source.TOKEN_CHANGE, TokenChange.Outcome.choices
        ),
        agents=top_agents(filters),
        error_codes=error_codes(filters),
        offer_codes=offer_code_share(filters),
    )


def _rows_of(filters: ReportFilters, source: str) -> QuerySet:
    if source == DailyTally.Source.LOOKUP:
        return filters.lookups()
    return filters.token_changes()


def daily_counts(
    filters: ReportFilters, source: str, outcomes: list[tuple[str, str]]
) -> DailyCounts:
    if tallies.kept():
        grouped = tallies.by_day_and_outcome(filters, source)
    else:
        grouped = (
            _rows_of(filters, source)
            .annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("day", "outcome")
            .annotate(n=Count("pk"))
            .order_by()
        )
    counts: dict[date, dict[str, int]] = {day: {} for day in filters.days}
    known = {key for key, _ in outcomes}
    extra: list[tuple[str, str]] = []
    for row in grouped:
        if row["day"] not in counts:
            continue
        if row["outcome"] not in known:
            # An outcome this code doesn't name still counts; show it under its stored value.
            known.add(row["outcome"])
            extra.append((row["outcome"], row["outcome"]))
        counts[row["day"]][row["outcome"]] = row["n"]
    return DailyCounts(outcomes=[*outcomes, *extra], days=filters.days, counts=counts)


def top_agents(filters: ReportFilters, limit: int = TOP_AGENTS) -> list[AgentActivity]:
    """The agents with the most lookups and links (succeeded token changes) in the range."""
    succeeded = TokenChange.Outcome.SUCCEEDED
    if tallies.kept():
        looked = tallies.by_agent(filters, DailyTally.Source.LOOKUP)
        linked = tallies.by_agent(filters, DailyTally.Source.TOKEN_CHANGE, outcome=succeeded)
        names = tallies.usernames(looked, linked)
        lookups, links = (
            {names[pk]: n for pk, n in totals.items() if pk in names} for totals in (looked, linked)
        )
    else:
        lookups, links = (
            dict(
                rows.values("agent__username")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list("agent__username", "n")
            )
            for rows in (filters.lookups(), filters.token_changes().filter(outcome=succeeded))
        )
    by_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for username, n in lookups.items():
        by_agent[username][0] = n
    for username, n in links.items():
        by_agent[username][1] = n
    ranked = sorted(by_agent.items(), key=lambda item: (-sum(item[1]), -item[1][1], item[0]))
    return [AgentActivity(name, looked, linked) for name, (looked, linked) in ranked[:limit]]


def error_codes(filters: ReportFilters) -> list[ErrorCodeCount]:
    """Apple's error codes on lookups and token changes in the range, most frequent first."""
    by_code: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for column, source in enumerate(DailyTally.Source.values):
        if tallies.kept():
            grouped = tallies.by_error_code(filters, source)
        else:
            grouped = dict(
                _rows_of(filters, source)
                .filter(error_code__isnull=False)
                .values("error_code")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list("error_code", "n")
            )
        for code, n in grouped.items():
            by_code[code][column] = n
    counts = [ErrorCodeCount(code, looked, changed) for code, (looked, changed) in by_code.items()]
    return sorted(counts, key=lambda count: (-count.total, count.code))


class ShowedOfferCode(Func):
    """Whether a stored lookup showed this purchase as redeemed with an offer code.

    Takes the lookup's `transactions` (the records as shown) and the purchase's original
    transaction ID; true when a shown payload of that purchase has offerType 3 (offer code).
    """

    output_field = BooleanField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        raise NotSupportedError("Offer-code shares need PostgreSQL or SQLite.")

    def _render(self, compiler: Any, template: str) -> tuple[str, list]:
        records, records_params = compiler.compile(self.source_expressions[0])
        purchase, purchase_params = compiler.compile(self.source_expressions[1])
        sql = template.format(records=records, purchase=purchase)
        # The records appear twice in each template (type check, then use), before the purchase.
        return sql, [*records_params, *records_params, *purchase_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any):
        return self._render(
            compiler,
            "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({records}) = "
            "'array' THEN {records} ELSE '[]'::jsonb END) AS shown(record) "
            "WHERE shown.record -> 'payload' ->> 'originalTransactionId' = {purchase} "
            "AND shown.record -> 'payload' -> 'offerType' = '3'::jsonb)",
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any):
        return self._render(
            compiler,
            "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_type({records}) = 'array' "
            "THEN {records} ELSE '[]' END) AS shown "
            "WHERE json_extract(shown.value, '$.payload.originalTransactionId') = {purchase} "
            "AND json_extract(shown.value, '$.payload.offerType') = 3)",
        )


def offer_code_share(filters: ReportFilters) -> OfferCodeShare:
    """Linked purchases (succeeded token changes) in the range, and how many were offer codes."""
    if tallies.kept():
        linked, offer_codes = tallies.linked_and_offer_codes(filters, TokenChange.Outcome.SUCCEEDED)
        return OfferCodeShare(linked=linked, offer_codes=offer_codes)
    counts = (
        filters.token_changes()
        .filter(outcome=TokenChange.Outcome.SUCCEEDED)
        .aggregate(
            linked=Count("pk"),
            offer_codes=Count(
                "pk", filter=ShowedOfferCode(F("lookup__transactions"), "original_transaction_id")
            ),
        )
    )
    return OfferCodeShare(linked=counts["linked"], offer_codes=counts["offer_codes"])


@dataclass(frozen=True)
class BackgroundWork:
    """The task queue as a manager sees it: how much waits for a worker, and for how long."""

    waiting: int
    oldest_minutes: int | None
    too_long: bool


# Past this many the reports say "more than": counting them all reads every one waiting.
UNLINKED_COUNTED_UP_TO = 1000


def unlinked_offer_codes(apps: AppScope = EVERY_APP) -> int:
    """Now, whatever the report's dates: offer-code purchases of `apps` waiting for a link,
    counted up to one past UNLINKED_COUNTED_UP_TO."""
    # In the partial index's order: one walk down it that stops at the bound (the purchases
    # are never scanned in parallel, migration 0420). Unordered, the planner reads every entry
    # of the index into a bitmap first.
    return unlinked_offer_code_purchases(apps)[: UNLINKED_COUNTED_UP_TO + 1].count()


def background_work() -> BackgroundWork:
    """Now, whatever the report's dates: tasks due that no worker has started yet."""
    waiting, oldest = task_queue.oldest_wait()
    minutes = int(oldest.total_seconds() // 60) if oldest is not None else None
    too_long = oldest is not None and oldest.total_seconds() > (
        settings.TASKS_WAITING_ALERT_MINUTES * 60
    )
    return BackgroundWork(waiting, minutes, too_long)


@dataclass(frozen=True)
class ExtensionDays:
    """Days granted by goodwill extensions Apple carried out, by day, by agent and by reason."""

    per_day: list[tuple[date, int]]
    per_agent: list[tuple[str, int]]
    per_reason: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(days for _, days in self.per_day)


def extension_days(filters: ReportFilters) -> ExtensionDays:
    granted = filters._in_range(SubscriptionExtension.objects.all()).filter(
        outcome=SubscriptionExtension.Outcome.SUCCEEDED
    )
    by_day = dict(
        granted.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(days=Sum("extend_by_days"))
        .order_by()
        .values_list("day", "days")
    )
    by_agent = (
        granted.values("agent__username")
        .annotate(days=Sum("extend_by_days"))
        .order_by("-days", "agent__username")
        .values_list("agent__username", "days")
    )
    labels = dict(SubscriptionExtension.Reason.choices)
    by_reason = (
        granted.values("reason_code")
        .annotate(days=Sum("extend_by_days"))
        .order_by("reason_code")
        .values_list("reason_code", "days")
    )
    return ExtensionDays(
        per_day=[(day, by_day.get(day, 0)) for day in filters.days],
        per_agent=list(by_agent),
        per_reason=[(str(labels[code]), days) for code, days in by_reason],
    )


@dataclass(frozen=True)
class RefundWeek:
    """One week (starting Monday, UTC) of Apple's refund requests."""

    week: date
    requests: int = 0
    answered_in_time: int = 0
    answered_automatically: int = 0
    missed: int = 0
    refunded: int = 0
    declined: int = 0
    reversed: int = 0


def refund_weeks(filters: ReportFilters) -> list[RefundWeek]:
    """Refund requests opened in the range, week by week: how they were answered and decided.

    One query, grouped by the UTC week the desk opened each case in.
    """
    confirmed = ConsumptionAnswer.objects.filter(
        refund_request=OuterRef("pk"), outcome=ConsumptionAnswer.Outcome.SUCCEEDED
    )
    Decision = RefundRequest.Decision
    rows = (
        filters.rows_of(RefundRequest)
        .annotate(week=TruncWeek("created_at", tzinfo=UTC))
        .values("week")
        .annotate(
            requests=Count("pk"),
            answered_in_time=Count(
                "pk", filter=Exists(confirmed.filter(settled_at__lte=OuterRef("deadline")))
            ),
            answered_automatically=Count("pk", filter=Exists(confirmed.filter(by_policy=True))),
            missed=Count("pk", filter=Q(status=RefundRequest.Status.MISSED)),
            refunded=Count("pk", filter=Q(decision=Decision.REFUNDED)),
            declined=Count("pk", filter=Q(decision=Decision.DECLINED)),
            reversed=Count("pk", filter=Q(decision=Decision.REVERSED)),
        )
        .order_by("week")
    )
    return [RefundWeek(**{**row, "week": _utc_date(row["week"])}) for row in rows]


def _utc_date(moment: datetime | date) -> date:
    # SQLite hands TruncWeek back as a date already; PostgreSQL as an aware datetime.
    return moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
