"""An agent extends a subscription and answers Apple's refund request, in Chromium, over the
simulator's real HTTP and its notifications."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from lookups.models import ConsumptionAnswer, RefundRequest, SubscriptionExtension
from lookups.simulators.demo_data import (
    EXPIRED_TRANSACTIONS,
    ORDER_EXPIRED,
    ORDER_OFFER_CODE,
    PURCHASE_LIFETIME,
    PURCHASE_OFFER_CODE,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import (
    LAPTOP,
    PHONE,
    accessibility_violations,
    forgive_page_status,
    horizontal_overflow,
    look_up,
    settled,
    sign_in,
    small_targets,
)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
TICKET = "SD-5120"

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def open_extension_form(page: Page, order_id: str, *, refused: str | None = None) -> None:
    """The Extend link beside the order's subscription; for one Apple refuses (whose order offers
    no Extend) the form's own address, as a link pasted from a ticket opens it."""
    page.goto("/")
    look_up(page, order_id)
    if refused:
        page.goto(reverse("lookups:extend", args=[refused]))
    else:
        page.get_by_role("link", name="Extend", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Extend subscription"))).to_be_visible()


def test_agent_extends_a_subscription_and_sees_the_new_renewal_date(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())

    # An expired subscription: the page says before the click that Apple will refuse.
    open_extension_form(page, ORDER_EXPIRED, refused=EXPIRED_TRANSACTIONS[0])
    hint = page.get_by_role("alert").filter(has_text="Apple will refuse this extension")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("paid period has ended")
    expect(hint).to_contain_text("(Apple error 4030004)")
    screenshots.take(page, "apple-will-refuse")

    open_extension_form(page, ORDER_OFFER_CODE)
    expect(page.get_by_text("Apple will refuse this extension")).to_have_count(0)
    renews_before = page.locator("dl.facts dd").nth(1).inner_text()
    page.get_by_label("Days to add").fill("7")
    page.get_by_label("Reason").select_option(label="Service issue or outage")
    page.get_by_label("Support ticket").fill(TICKET)
    screenshots.take(page, "extension-form")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Extend at the App Store").click()

    outcome = page.get_by_role("status").filter(has_text="Extended by 7 days")
    expect(outcome).to_be_visible()
    extension = SubscriptionExtension.objects.get()
    assert extension.outcome == SubscriptionExtension.Outcome.SUCCEEDED
    assert (extension.original_transaction_id, extension.ticket_reference) == (
        PURCHASE_OFFER_CODE,
        TICKET,
    )
    assert extension.reason_code == SubscriptionExtension.Reason.SERVICE_ISSUE
    new_date = extension.effective_date
    expect(outcome).to_contain_text(f"now renews on {new_date:%Y-%m-%d %H:%M}")
    assert renews_before.startswith(f"{new_date - timedelta(days=7):%Y-%m-%d %H:%M}")
    assert len(simulator.store.renewal_state(PURCHASE_OFFER_CODE).extensions) == 1
    screenshots.take(page, "extended")
    assert browser_errors == []


def test_an_extension_apple_refuses_says_why_where_it_was_asked(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator,
    screenshots: Screenshots,
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    open_extension_form(page, ORDER_EXPIRED, refused=EXPIRED_TRANSACTIONS[0])
    page.get_by_label("Days to add").fill("7")
    page.get_by_label("Support ticket").fill(TICKET)
    page.get_by_role("button", name="Extend at the App Store").click()
    answer = page.locator("[id^=extend-]").get_by_role("alert").filter(has_text="4030004")
    expect(answer).to_be_visible()
    expect(page.get_by_text("The desk did not answer")).to_have_count(0)
    screenshots.take(page, "apple-refused")


def test_only_an_answer_with_nothing_in_it_reads_as_the_desk_not_answering(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    open_extension_form(page, ORDER_OFFER_CODE)
    page.route("**/extend/", lambda route: route.fulfill(status=502, body=""))
    page.get_by_label("Days to add").fill("7")
    page.get_by_label("Support ticket").fill(TICKET)
    page.get_by_role("button", name="Extend at the App Store").click()
    note = page.locator("form.extend").get_by_role("alert").filter(has_text="did not answer")
    expect(note).to_be_visible()
    forgive_page_status(browser_errors, 502)

    page.unroute("**/extend/")
    note.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").filter(has_text="Extended by 7 days")).to_be_visible()


def wait_until(condition: Callable[[], object], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def test_agent_answers_a_refund_request_that_apple_then_decides(
    new_page: Callable[..., Page],
    agent_user: User,
    appstore_settings,
    simulator,
    live_server,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(live_server.url + reverse("lookups:appstore_notifications"))
    # Apple decides below, once the page has shown the answer: on a busy machine a decision two
    # seconds after the answer (the simulator's default) could close the case before that.
    simulator.store.refund_decision_seconds = 3600
    try:
        simulator.live(
            {"action": "consumption_request", "original_transaction_id": PURCHASE_LIFETIME}
        )
        wait_until(RefundRequest.objects.exists, seconds=10, what="Apple's refund request")
        case = RefundRequest.objects.get()

        page = new_page()
        sign_in(page, agent_user.get_username())
        page.get_by_role("link", name="Refund requests").click()
        expect(page.get_by_role("heading", name="Refund requests")).to_be_visible()
        item = page.locator(f"#refund-{case.pk}")
        expect(item).to_contain_text(case.transaction_id)
        expect(item).to_contain_text("The customer says they bought it by mistake")
        expect(item).to_contain_text(re.compile(r"1[12]\shours?,\s\d+\sminutes?\sleft"))
        screenshots.take(page, "queue")
        assert accessibility_violations(page) == []

        # Without the customer's consent the desk refuses, in its own words, in the case itself.
        item.get_by_role("button", name="Send to Apple").click()
        refusal = item.get_by_role("alert").filter(
            has_text="Apple takes the answer only with the customer's consent."
        )
        expect(refusal).to_be_visible()
        expect(page.get_by_text("The desk did not answer")).to_have_count(0)
        settled(page)
        screenshots.take(page, "refused-without-consent")

        item.get_by_label("The customer consented to sharing this with Apple").check()
        item.get_by_label("Delivery").select_option("DELIVERED")
        item.get_by_label("A sample or trial was offered").check()
        item.get_by_label("Consumed (%)").fill("60")
        item.get_by_label("Our preference").select_option("DECLINE")
        screenshots.take(page, "answer-filled")
        item.get_by_role("button", name="Send to Apple").click()

        expect(page.get_by_role("status").filter(has_text="Sent to Apple")).to_be_visible()
        expect(page.locator(f"#refund-{case.pk}")).to_contain_text("Answered")
        screenshots.take(page, "answered")
        sent = ConsumptionAnswer.objects.get()
        assert (sent.outcome, sent.answered_by) == (ConsumptionAnswer.Outcome.SUCCEEDED, agent_user)
        assert sent.body["consumptionPercentage"] == 60_000
        assert simulator.store.consumption_answers[case.transaction_id] == [sent.body]

        # Apple decides a little later and says so in a notification; the case closes.
        simulator.store.decide_refund_request(case.transaction_id)
        wait_until(
            lambda: RefundRequest.objects.get(pk=case.pk).decision,
            seconds=20,
            what="Apple's decision",
        )
    finally:
        simulator.set_notification_url(None)

    page.goto(reverse("lookups:refund_requests"))
    expect(page.get_by_text("No refund request is waiting for an answer.")).to_be_visible()
    closed = page.locator(f"#closed-{case.pk}")
    expect(closed).to_contain_text(f"Answered by {agent_user.get_username()}")
    expect(closed).to_contain_text("Declined")
    screenshots.take(page, "decided")
    assert accessibility_violations(page) == []
    assert browser_errors == []


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_the_extend_form_is_laid_out_explained_and_leads_back_to_the_order(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    viewport: dict[str, int],
) -> None:
    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, agent_user.get_username())
    open_extension_form(page, ORDER_OFFER_CODE)
    form = page.locator("form.extend")
    fields = {
        "Days to add": "1 to 90",
        "Reason": "sent to Apple",
        "Support ticket": "like SD-4821",
    }
    for label, said in fields.items():
        control = form.get_by_label(label)
        # Each field says what it takes, and is a target a thumb can hit.
        expect(control).to_have_accessible_description(re.compile(said))
        box = control.bounding_box()
        assert box is not None and box["height"] >= (44 if viewport == PHONE else 36), label
    # The fields stack, each under its label, and the button comes after the last.
    days, ticket = form.get_by_label("Days to add"), form.get_by_label("Support ticket")
    button = form.get_by_role("button", name="Extend at the App Store")
    assert (
        button.bounding_box()["y"] >= ticket.bounding_box()["y"] + ticket.bounding_box()["height"]
    )
    assert days.bounding_box()["width"] >= 120
    if viewport == PHONE:
        assert small_targets(page) == []
    assert horizontal_overflow(page) == 0
    screenshots.take(page, f"extend-form-{viewport['width']}")
    page.get_by_role("link", name=f"Back to order {ORDER_OFFER_CODE}").click()
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()
