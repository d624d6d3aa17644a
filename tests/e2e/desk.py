"""What the desk's browser tests share: signing in, and the checks every page passes."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.fixtures.users import PASSWORD

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# axe-core's impact levels the desk does not accept.
BLOCKING_IMPACTS = {"serious", "critical"}


def sign_in(page: Page, username: str, *, landing: str | re.Pattern = "Look up an order") -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=landing).first).to_be_visible()


def settled(page: Page) -> None:
    """Until htmx has settled every swap: it listens to new content only once it has settled it
    (20 ms after the swap), so a click or a keystroke sooner would go unheard."""
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


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
