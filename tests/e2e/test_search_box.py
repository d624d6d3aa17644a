"""The one search box in Chromium, by keyboard only: every kind of input, a name that never
reaches Apple, the shortcuts; then a customer's page and their notes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount
from lookups.services.notes import add_note
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.demo_data import (
    MAYA,
    OFFER_CODE_LATEST,
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    PURCHASE_LINKED_IN_APP,
    SOFIA,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import accessibility_violations, settled, sign_in
from tests.fixtures.rows import make_lookup, make_token_change

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def search(page: Page, typed: str, *, shortcut: str = "Control+k") -> None:
    """Go to the box with a shortcut, type, and wait for the answers under it. ("/" is a
    character where the focus is in a field, as on Look up, which focuses its own box.)"""
    # A page still loading has no shortcut yet, and its own autofocus could take the focus back.
    page.wait_for_load_state("load")
    page.keyboard.press(shortcut)
    box = page.locator("#search-box-q")
    expect(box).to_be_focused()
    with page.expect_response(lambda r: "/search/?" in r.url and r.status == 200):
        page.keyboard.type(typed)
        page.wait_for_timeout(300)
    settled(page)


def answers(page: Page, group: str):
    return page.locator(f"#search-box-results #search-{group}")


def test_every_kind_of_input_finds_its_answer_by_keyboard_alone(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    sofia = CustomerAccount.objects.get(external_id=SOFIA)
    make_token_change(agent_user, maya, lookup=make_lookup(agent_user), ticket_reference="SD-4821")
    add_note(agent_user, sofia, "Travelling until March, call after", ticket="")
    page = new_page()
    sign_in(page, agent_user.get_username())
    # Sofia's purchase is in the desk's picture once her order has been looked up.
    page.goto(f"/orders/?order_id={ORDER_LINKED_IN_APP}")
    expect(page.locator("table.purchases")).to_be_visible()
    page.locator("body").click(position={"x": 5, "y": 300})

    for typed, group, expected, shortcut in [
        ("MAYA.patel@example.com", "customers", "Maya Patel", "/"),
        ("maya pat", "customers", "Maya Patel", "Control+k"),
        (MAYA, "customers", "Maya Patel", "/"),
        (str(sofia.app_account_token), "customers", "Sofia Martinez", "/"),
        ("sd-4821", "customers", "Maya Patel", "/"),
        ("travelling until", "customers", "Sofia Martinez", "/"),
        (ORDER_LINKED_IN_APP, "purchases", "Sofia Martinez", "/"),
        (PURCHASE_LINKED_IN_APP, "purchases", "Sofia Martinez", "/"),
        (ORDER_OFFER_CODE, "apple", f"order {ORDER_OFFER_CODE}", "/"),
    ]:
        page.locator("#search-box-q").fill("")
        page.locator("#search-box-results").evaluate("e => e.innerHTML = ''")
        page.keyboard.press("Escape")
        page.locator("#search-box-q").blur()
        search(page, typed, shortcut=shortcut)
        expect(answers(page, group)).to_contain_text(expected)
        screenshots.take(page, f"search-{group}")

    # Down to the first answer and Enter: Apple's lookup of the order, asked only now.
    page.keyboard.press("ArrowDown")
    expect(
        page.get_by_role("link", name=f"Look up at Apple: order {ORDER_OFFER_CODE}")
    ).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#txn-{OFFER_CODE_LATEST}")).to_be_visible()

    # A customer found by name, opened with the arrows and Enter. Look up's own box has the
    # focus now, where "/" is a character: Ctrl+K still goes to the search box.
    search(page, "sofia", shortcut="Control+k")
    page.keyboard.press("ArrowDown")
    expect(answers(page, "customers").get_by_role("link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sofia Martinez", level=1)).to_be_visible()
    assert accessibility_violations(page) == []


def test_a_name_or_an_email_never_reaches_apple(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator: AppStoreSimulator,
    screenshots: Screenshots,
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    asked = len(simulator.requests)
    search(page, "Maya Patel")
    expect(answers(page, "customers")).to_contain_text("Maya Patel")
    expect(page.locator("#search-box-results #search-apple")).to_have_count(0)
    # Enter in the box opens the search page: still nothing for Apple.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    expect(page.locator("#search-page-results #search-customers")).to_contain_text("Maya Patel")
    assert accessibility_violations(page) == []
    screenshots.take(page, "search-page")
    search(page, "maya.patel@example.com")
    expect(answers(page, "customers")).to_contain_text("Maya Patel")
    # And typed where orders are looked up, a name is refused before Apple.
    page.goto("/orders/")
    box = page.get_by_label("Order ID or transaction ID")
    box.fill("Maya Patel")
    box.press("Enter")
    expect(page.get_by_text("looks like a name")).to_be_visible()
    assert len(simulator.requests) == asked


def test_question_mark_lists_the_shortcuts(new_page: Callable[..., Page], agent_user: User) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl")
    assert accessibility_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_a_customers_page_and_their_notes(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    sofia = CustomerAccount.objects.get(external_id=SOFIA)
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(f"/orders/?order_id={ORDER_LINKED_IN_APP}")
    expect(page.locator("table.purchases")).to_be_visible()

    page.goto("/accounts/")
    expect(page.get_by_text("The customers you open will be listed here")).to_be_visible()
    page.goto(f"/accounts/{sofia.pk}/")
    expect(page.locator(f"#purchase-{PURCHASE_LINKED_IN_APP}")).to_contain_text("Active")
    expect(page.locator("#timeline")).to_contain_text(f"Looked up order {ORDER_LINKED_IN_APP}")

    # A note, by keyboard: a token in it is refused, the text kept to fix.
    page.get_by_label("Note", exact=True).last.fill(f"Token {sofia.app_account_token} from her")
    page.get_by_label("Ticket (optional)").last.fill("SD-9001")
    page.get_by_role("button", name="Add the note").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("never hold app account tokens")
    expect(page.get_by_label("Note", exact=True).last).to_have_value(
        f"Token {sofia.app_account_token} from her"
    )
    page.get_by_label("Note", exact=True).last.fill("Wants the yearly plan; call after 5 pm")
    page.get_by_role("button", name="Add the note").press("Enter")
    notes = page.locator("#notes")
    expect(notes).to_contain_text("Wants the yearly plan; call after 5 pm")
    expect(notes).to_contain_text("SD-9001")
    expect(page.locator("#timeline")).to_contain_text("Note added for SD-9001")
    assert accessibility_violations(page) == []
    screenshots.take(page, "customer-with-note")

    # Edited: the new text shows, marked edited.
    notes.get_by_text("Edit this note").click()
    edit = notes.get_by_role("textbox", name="Note").first
    edit.fill("Wants the yearly plan; call after 6 pm")
    notes.get_by_role("button", name="Save the note").first.click()
    expect(notes).to_contain_text("call after 6 pm")
    expect(notes).to_contain_text("edited")

    # Searchable from the box, and the Customers page opens on her.
    search(page, "call after 6")
    expect(answers(page, "customers")).to_contain_text("Sofia Martinez")
    page.goto("/accounts/")
    expect(page.get_by_role("heading", name="Customers you opened last")).to_be_visible()
    expect(page.get_by_role("link", name="Sofia Martinez")).to_be_visible()
    assert accessibility_violations(page) == []
