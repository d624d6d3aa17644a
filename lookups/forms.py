from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.http import QueryDict

from lookups.appstore import HistoryFilters
from lookups.models import App, CustomerAccount, SubscriptionExtension
from lookups.reporting import figures as reports
from lookups.services import trainer_life
from lookups.services.app_scope import EVERY_APP, scope_of

ORDER_ID_HELP = (
    "An order ID is the code of about 10 letters and digits on the customer's Apple receipt "
    "email, or in their purchase history at reportaproblem.apple.com; a transaction ID is a "
    "number of 12 digits or more. A pasted receipt line or link works too."
)
_ORDER_ID = re.compile(r"[A-Z0-9]{8,14}")
_TRANSACTION_ID = re.compile(r"[0-9]{1,30}")
# What an agent types as a transaction ID: Apple's are 15 or 16 digits; shorter is a typo.
_TYPED_TRANSACTION_ID = re.compile(r"[0-9]{12,30}")
# Where a pasted receipt line or link names the order: "Order ID: MK5TTTVWJH", "?orderId=...".
_LABELLED_ORDER_ID = re.compile(
    r"order[\s_-]*(?:id|number|no\.?)?\s*[:#=]?\s*([A-Za-z0-9]{8,14})\b", re.IGNORECASE
)
_CODE_IN_TEXT = re.compile(r"\b[A-Z0-9]{8,14}\b")
_NUMBER_IN_TEXT = re.compile(r"\b[0-9]{12,30}\b")


def _looks_like_order_id(value: str) -> bool:
    # In free text a code needs both letters and digits, so no word or date passes for one.
    return bool(_ORDER_ID.fullmatch(value)) and not value.isdigit() and not value.isalpha()


def _looks_like_a_name(typed: str) -> bool:
    """Words of letters only, such as "Maya Patel": a person, never an order to send to Apple."""
    words = typed.split()
    return len(words) > 1 and all(word.isalpha() for word in words)


def read_lookup_entry(typed: str) -> tuple[str, str] | None:
    """What the agent pasted into Look up: ("order", ID), ("transaction", ID), or None.

    Takes an order ID in any case and spacing, a transaction ID, or a receipt line or link
    that names exactly one order (or, failing that, exactly one transaction).
    """
    compact = re.sub(r"\s+", "", typed)
    if _TYPED_TRANSACTION_ID.fullmatch(compact):
        return ("transaction", compact)
    if _looks_like_a_name(typed):
        return None
    if _ORDER_ID.fullmatch(compact.upper()):
        return ("order", compact.upper())
    labelled = {m.upper() for m in _LABELLED_ORDER_ID.findall(typed)}
    candidates = {m for m in labelled if _looks_like_order_id(m)} or {
        m for m in _CODE_IN_TEXT.findall(typed) if _looks_like_order_id(m)
    }
    if len(candidates) == 1:
        return ("order", candidates.pop())
    if not candidates:
        numbers = set(_NUMBER_IN_TEXT.findall(typed))
        if len(numbers) == 1:
            return ("transaction", numbers.pop())
    return None


# The App Store opened in 2008; a date far outside these bounds is a typo.
EARLIEST_DATE = date(2008, 1, 1)
LATEST_AHEAD = timedelta(days=366)


def check_date_range(
    start: date | None, end: date | None, *, today: date, longest: timedelta, too_long: str
) -> None:
    """Refuse a range of whole days no agent means: out of bounds, reversed, or too long.

    `longest` is the most `end - start` may be; `too_long` is the message, where `{days}` is the
    number of days asked for, both ends included.
    """
    latest = today + LATEST_AHEAD
    if any(day and not EARLIEST_DATE <= day <= latest for day in (start, end)):
        raise forms.ValidationError(
            f"Choose dates between {EARLIEST_DATE.isoformat()} and {latest.isoformat()}."
        )
    if start and end:
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if end - start > longest:
            raise forms.ValidationError(too_long.format(days=(end - start).days + 1))


class OrderLookupForm(forms.Form):
    """Look up: an order ID, or a transaction ID whose history is opened instead."""

    # Long enough for a pasted receipt link.
    MAX_LENGTH = 2000

    order_id = forms.CharField(
        label="Order ID or transaction ID",
        max_length=MAX_LENGTH,
        strip=False,
        error_messages={
            "required": "Enter the order ID or a transaction ID. " + ORDER_ID_HELP,
            "max_length": "That is too long to hold an order ID; paste only the receipt line.",
        },
    )

    @staticmethod
    def looks_like_order_id(value: str) -> bool:
        return bool(_ORDER_ID.fullmatch(value))

    def clean_order_id(self) -> str:
        typed = self.cleaned_data["order_id"]
        entry = read_lookup_entry(typed)
        if entry is None and _looks_like_a_name(typed):
            raise forms.ValidationError(
                f"“{typed.strip()}” looks like a name, and Apple knows no names: find the "
                "customer with the search box at the top (press /) instead."
            )
        if entry is None:
            shown = typed.strip() or typed
            raise forms.ValidationError(
                f"“{shown}” is neither an order ID nor a transaction ID. {ORDER_ID_HELP}"
            )
        kind, value = entry
        self.transaction_id = value if kind == "transaction" else ""
        return value if kind == "order" else ""

    def clean(self):
        cleaned = super().clean()
        cleaned["transaction_id"] = getattr(self, "transaction_id", "")
        return cleaned


class HistoryForm(forms.Form):
    """The history page's filters. Dates are whole days in UTC, end date included."""

    MAX_RANGE = timedelta(days=3660)

    version = forms.TypedChoiceField(
        choices=[(2, "All purchases (V2)"), (1, "Without finished consumables (V1)")],
        coerce=int,
        required=False,
        empty_value=2,
    )
    product_type = forms.MultipleChoiceField(
        label="Product type",
        required=False,
        choices=[
            ("AUTO_RENEWABLE", "Auto-renewable subscription"),
            ("NON_RENEWABLE", "Non-renewing subscription"),
            ("CONSUMABLE", "Consumable"),
            ("NON_CONSUMABLE", "Non-consumable"),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    revoked = forms.ChoiceField(
        label="Refunds",
        required=False,
        choices=[("", "All"), ("false", "Not refunded"), ("true", "Refunded or revoked only")],
    )
    revision = forms.CharField(required=False, max_length=2048, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        check_date_range(
            cleaned.get("start"),
            cleaned.get("end"),
            today=datetime.now(UTC).date(),
            longest=self.MAX_RANGE,
            too_long="Choose a range of at most ten years.",
        )
        return cleaned

    def filters(self) -> HistoryFilters:
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        revoked = {"true": True, "false": False}.get(data.get("revoked") or "")
        return HistoryFilters(
            start_date=datetime.combine(start, time.min, UTC) if start else None,
            end_date=datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None,
            product_types=tuple(data.get("product_type") or ()),
            sort="DESCENDING",
            revoked=revoked,
        )


def is_transaction_id(value: str) -> bool:
    return bool(_TRANSACTION_ID.fullmatch(value))


class AccountSearchForm(forms.Form):
    q = forms.CharField(label="Search customers", max_length=200, required=False)


class NoteForm(forms.Form):
    """A note on a customer: plain text, optionally for one ticket."""

    text = forms.CharField(
        label="Note",
        max_length=5000,
        strip=False,
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": "Write the note first: it is empty."},
    )
    ticket_reference = forms.CharField(label="Ticket (optional)", max_length=100, required=False)


class SearchForm(forms.Form):
    """The search box: anything an agent may have been sent, at most 200 characters."""

    q = forms.CharField(
        label="Search",
        max_length=200,
        required=False,
        error_messages={"max_length": "Type at most 200 characters: one ID, name or email."},
    )


class LinkForm(forms.Form):
    """The agent's choices: which account, the ticket, whether to move the purchase, the form's ID.

    Nothing about the purchase itself: its current token, product and order come from Apple.
    """

    account = forms.ModelChoiceField(
        queryset=CustomerAccount.objects.all(),
        error_messages={"invalid_choice": "That customer account no longer exists."},
    )
    ticket_reference = forms.CharField(
        label="Support ticket",
        max_length=100,
        error_messages={"required": "Enter the support ticket this link is for."},
    )
    request_id = forms.UUIDField(widget=forms.HiddenInput)
    confirm_relink = forms.BooleanField(required=False)

    def clean_ticket_reference(self) -> str:
        return self.cleaned_data["ticket_reference"].strip()


class ReportFilterForm(forms.Form):
    """The reports page's and the exports' filters: whole UTC days, both ends included.

    Without dates it covers the last 30 days up to today: a month, the span a manager reviews
    and long enough to show a trend (a week shows only its weekend dip). The range is at most a
    year.
    """

    DEFAULT_DAYS = 30

    start = forms.DateField(label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput({"type": "date"}))
    agent = forms.ModelChoiceField(
        label="Agent",
        queryset=reports.agents_to_filter_by(),
        required=False,
        empty_label="All agents",
        error_messages={"invalid_choice": "Choose one of the agents listed."},
    )
    app = forms.ModelChoiceField(
        label="App",
        queryset=App.objects.none(),
        required=False,
        empty_label="All my apps",
        error_messages={"invalid_choice": "Choose one of the apps listed."},
    )
    environment = forms.ChoiceField(
        label="Environment",
        choices=[("", "Both"), ("Production", "Production"), ("Sandbox", "Sandbox")],
        required=False,
        error_messages={"invalid_choice": "Choose Production or Sandbox."},
    )

    def __init__(self, query: QueryDict, *, today: date, user=None) -> None:
        data = query.copy()
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            # Counted back from the end the user chose, so "To" alone still gives a month.
            end = _iso_date(data["end"]) or today
            if end > EARLIEST_DATE:
                data["start"] = (end - timedelta(days=self.DEFAULT_DAYS - 1)).isoformat()
            else:
                data["start"] = data["end"]
        super().__init__(data)
        self.today = today
        # Only the apps this person may see are offered, and every figure stays within them.
        self.scope = scope_of(user) if user is not None else EVERY_APP
        apps = App.objects.all()
        self.fields["app"].queryset = (
            apps if self.scope.is_everything else apps.filter(pk__in=self.scope.app_ids)
        )

    def clean(self):
        cleaned = super().clean()
        check_date_range(
            cleaned.get("start"),
            cleaned.get("end"),
            today=self.today,
            longest=timedelta(days=reports.MAX_DAYS - 1),
            too_long=f"Choose a range of at most {reports.MAX_DAYS} days; this one has {{days}}.",
        )
        return cleaned

    def filters(self) -> reports.ReportFilters:
        data = self.cleaned_data
        return reports.ReportFilters(
            start=data["start"],
            end=data["end"],
            agent=data["agent"],
            apps=self.scope.narrowed_to(data["app"]),
            app=data["app"],
            environment=data["environment"],
        )


def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class ExtensionForm(forms.Form):
    """A goodwill extension: how many days, Apple's reason, the ticket, the form's ID."""

    extend_by_days = forms.IntegerField(
        label="Days to add",
        min_value=1,
        max_value=90,
        widget=forms.NumberInput({"aria-describedby": "extend-days-help"}),
        error_messages={
            "required": "Enter how many days to add (1 to 90).",
            "min_value": "Add at least 1 day.",
            "max_value": "Apple extends by 90 days at most.",
            "invalid": "Enter a whole number of days.",
        },
    )
    reason_code = forms.TypedChoiceField(
        label="Reason",
        coerce=int,
        choices=SubscriptionExtension.Reason.choices,
        widget=forms.Select({"aria-describedby": "extend-reason-help"}),
        error_messages={"invalid_choice": "Choose one of the App Store's reasons."},
    )
    ticket_reference = forms.CharField(
        label="Support ticket",
        max_length=100,
        widget=forms.TextInput({"aria-describedby": "extend-ticket-help", "autocomplete": "off"}),
        error_messages={"required": "Enter the support ticket this extension is for."},
    )
    request_id = forms.UUIDField(widget=forms.HiddenInput)

    def clean_ticket_reference(self) -> str:
        return self.cleaned_data["ticket_reference"].strip()


class ConsumptionAnswerForm(forms.Form):
    """The agent's answer to Apple's refund request (Send Consumption Information)."""

    DELIVERY = [
        ("DELIVERED", "Delivered and working"),
        ("UNDELIVERED_QUALITY_ISSUE", "Not delivered: quality issue"),
        ("UNDELIVERED_WRONG_ITEM", "Not delivered: wrong item"),
        ("UNDELIVERED_SERVER_OUTAGE", "Not delivered: server outage"),
        ("UNDELIVERED_OTHER", "Not delivered: other reason"),
    ]
    PREFERENCE = [
        ("", "No preference"),
        ("DECLINE", "Decline the refund"),
        ("GRANT_FULL", "Grant a full refund"),
        ("GRANT_PRORATED", "Grant a prorated refund"),
    ]

    customer_consented = forms.BooleanField(
        label="The customer consented to sharing this with Apple",
        error_messages={"required": "Apple takes the answer only with the customer's consent."},
    )
    delivery_status = forms.ChoiceField(label="Delivery", choices=DELIVERY)
    sample_content_provided = forms.BooleanField(
        label="A sample or trial was offered", required=False
    )
    consumed_percent = forms.IntegerField(
        label="Consumed (%)", min_value=0, max_value=100, required=False
    )
    refund_preference = forms.ChoiceField(
        label="Our preference", choices=PREFERENCE, required=False
    )
    # Rendered into each case's form: the same form sent twice is one answer. Optional, so a
    # page loaded before the field existed still answers.
    request_id = forms.UUIDField(widget=forms.HiddenInput, required=False)


class TrainerStepForm(forms.Form):
    """One step of the simulator's demo life, from the trainers' panel."""

    action = forms.ChoiceField(choices=list(trainer_life.ACTIONS.items()))
    original_transaction_id = forms.CharField(max_length=32, required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        action = cleaned.get("action")
        original_id = cleaned.get("original_transaction_id") or ""
        if action in trainer_life.PURCHASE_ACTIONS and not is_transaction_id(original_id):
            raise forms.ValidationError("Name the purchase by its original transaction ID.")
        return cleaned


class OutageCompensationForm(forms.Form):
    """A manager's request to extend every active subscriber of a product after an outage.

    The app is one of those the manager may see, the environment one of Apple's two; whether the
    app uses it is the service's rule (its refusal says so in words).
    """

    # Not required: a form posted without them asks for the settings' app in its environment.
    app = forms.ModelChoiceField(
        label="App",
        queryset=App.objects.none(),
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the apps you work on."},
    )
    environment = forms.ChoiceField(
        label="Environment",
        choices=[("Production", "Production"), ("Sandbox", "Sandbox")],
        required=False,
        initial="Production",
    )
    product_id = forms.CharField(
        label="Product",
        max_length=200,
        error_messages={"required": "Enter the product whose subscribers are owed days."},
    )
    extend_by_days = forms.IntegerField(
        label="Days to add",
        min_value=1,
        max_value=90,
        widget=forms.NumberInput({"aria-describedby": "extend-days-help"}),
        error_messages={
            "required": "Enter how many days to add (1 to 90).",
            "min_value": "Add at least 1 day.",
            "max_value": "Apple extends by 90 days at most.",
            "invalid": "Enter a whole number of days.",
        },
    )
    reason_code = forms.TypedChoiceField(
        label="Reason",
        coerce=int,
        choices=SubscriptionExtension.Reason.choices,
        widget=forms.Select({"aria-describedby": "extend-reason-help"}),
        initial=SubscriptionExtension.Reason.SERVICE_ISSUE,
        error_messages={"invalid_choice": "Choose one of the App Store's reasons."},
    )
    storefronts = forms.CharField(
        label="Storefronts (optional)",
        required=False,
        max_length=1000,
        help_text="Three-letter country codes such as USA, GBR; empty for every storefront.",
    )
    note = forms.CharField(
        label="What happened",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what happened: the approver and the audit log read it."},
    )
    request_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, apps: list[App], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["app"].queryset = App.objects.filter(pk__in=[app.pk for app in apps])

    def clean_product_id(self) -> str:
        return self.cleaned_data["product_id"].strip()


class FinishForm(forms.Form):
    """An agent marks a consumable finished after delivering it by hand."""

    note = forms.CharField(
        label="What you delivered, and the ticket",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what you delivered by hand, and the ticket."},
    )
    order_id = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    request_id = forms.UUIDField(widget=forms.HiddenInput)
