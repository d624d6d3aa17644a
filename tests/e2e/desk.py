"""What the desk's browser tests share: signing in, and the checks every page passes."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.fixtures.users import PASSWORD

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# axe-core's impact levels the desk does not accept.
BLOCKING_IMPACTS = {"serious", "critical"}
LINK_ACTION = re.compile(r"^(Link to customer|Change link)$")


def sign_in(page: Page, username: str, *, landing: str | re.Pattern = "Look up an order") -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=landing).first).to_be_visible()


def look_up(page: Page, order_id: str) -> None:
    """Look an order up from the box on the page, and wait until the answer has settled."""
    page.get_by_label("Order ID").fill(order_id)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    settled(page)


def open_link_panel(page: Page, transaction_id: str) -> Locator:
    """Open the link panel from an order's row; its customer search box once htmx listens to it.

    htmx hears a field only once it has settled the swap that brought it (20 ms later), and
    focuses the box as it does: a search typed sooner would go unheard, no "Choose" ever showing.
    """
    page.locator(f"#txn-{transaction_id}").get_by_role("link", name=LINK_ACTION).click()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    expect(search).to_be_focused()
    return search


def settled(page: Page) -> None:
    """Until htmx has settled every swap: it listens to new content only once it has settled it
    (20 ms after the swap), so a click or a keystroke sooner would go unheard."""
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


def forgive_page_status(errors: list[str], status: int) -> None:
    """A test that opens an error page on purpose: Chromium's console line for that page's own
    status is expected, and only that."""
    line = f"the server responded with a status of {status}"
    errors[:] = [error for error in errors if line not in error]


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window: 0 when nothing scrolls sideways."""
    return page.evaluate("Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth)")


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def small_targets(page: Page) -> list[str]:
    """Visible buttons, links styled as buttons and form controls smaller than 44 px tall."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                'main button, main .button, main input:not([type=hidden]):not([type=checkbox]),'
                + ' main select, header a, header button')]
            .filter(e => e.offsetParent !== null)
            .filter(e => e.getBoundingClientRect().height < 44)
            .map(e => e.tagName.toLowerCase()
                      + ` "${(e.innerText || e.value || e.name || '').trim()}"`
                      + ` ${Math.round(e.getBoundingClientRect().height)}px`)"""
    )


def longest_timer_ms(page: Page) -> int:
    """The longest timer the page has started: htmx's polls (`every 2s`) and delayed triggers
    (`load delay:1s`), and the live updates' interval the page announces (`data-poll-ms`)."""
    return page.evaluate(
        """() => {
            const ms = (value, unit) => unit === "ms" ? Number(value) : Number(value) * 1000;
            let longest = 0;
            for (const element of document.querySelectorAll("[hx-trigger], [data-poll-ms]")) {
                const trigger = element.getAttribute("hx-trigger") || "";
                const timers = /(?:every\\s+|delay:)(\\d+(?:\\.\\d+)?)(ms|s)\\b/g;
                for (const m of trigger.matchAll(timers)) {
                    longest = Math.max(longest, ms(m[1], m[2]));
                }
                const poll = Number(element.dataset.pollMs || 0);
                longest = Math.max(longest, poll);
            }
            return longest;
        }"""
    )


def wait_past_timers(page: Page) -> None:
    """Let every timer the page started fire twice (a poll's second round included), and its
    answers land, before anyone judges the page."""
    longest = longest_timer_ms(page)
    if longest:
        page.wait_for_timeout(2 * longest + 500)
        settled(page)
