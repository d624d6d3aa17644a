"""Browser tests: Debian's Chromium driving the live server, with a screenshot of every step."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
    sync_playwright,
)

from lookups.services.demo_accounts import create_demo_accounts
from lookups.views.htmx import EXPLAINED
from tests.e2e.desk import wait_past_timers

# Playwright can't download its own browser here; Debian's Chromium is what we drive.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# How long an action (a click) or an expectation waits for the page: the suite runs in several
# processes side by side, and on a busy machine a page can take seconds to answer.
PAGE_TIMEOUT_MS = 10_000
expect.set_options(timeout=PAGE_TIMEOUT_MS)

screenshot_folders_key = pytest.StashKey[list[Path]]()
open_pages_key = pytest.StashKey[list[Page]]()
browser_errors_key = pytest.StashKey[list[str]]()

# htmx's own failures never reach the console by themselves: the page reports each one there,
# where the console watch below records it. A refusal the desk explains is not among them.
HTMX_ERROR_EVENTS = [
    "htmx:targetError",
    "htmx:responseError",
    "htmx:swapError",
    "htmx:sendError",
    "htmx:oobErrorNoTarget",
    "htmx:onLoadError",
    "htmx:historyCacheError",
]
REPORT_HTMX_ERRORS = """
(() => {
  const describe = (detail) => {
    if (!detail) return "";
    const parts = [];
    if (detail.target && detail.target.id) parts.push("target #" + detail.target.id);
    if (detail.requestConfig && detail.requestConfig.path) parts.push(detail.requestConfig.path);
    if (detail.xhr && detail.xhr.status) parts.push("status " + detail.xhr.status);
    if (detail.error) parts.push(String(detail.error));
    return parts.join(", ");
  };
  for (const name of EVENTS) {
    document.addEventListener(name, (event) => console.error(name + ": " + describe(event.detail)));
  }
})();
""".replace("EVENTS", json.dumps(HTMX_ERROR_EVENTS))


def _chromium_executable() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="package")
def browser(live_server) -> Iterator[Browser]:
    # Package scope: the browser, and the permission below, end with the browser tests.
    # Depending on the live server makes the browser close first: a request thread still
    # holding a keep-alive socket would otherwise outlive the test database it shares.
    executable = _chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed: apt-get install chromium")
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop running in this thread while the browser is
        # open, which would make Django refuse every ORM call the browser test itself makes.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(autouse=True)
def quick_live_polls(settings) -> None:
    """Open pages poll each second: every test waits past two polls, so they cost it little.
    test_live_pages.py holds the production interval to its promise."""
    settings.LIVE_POLL_SECONDS = 1


@pytest.fixture
def browser_errors(request: pytest.FixtureRequest) -> list[str]:
    """Console errors (CSP violations among them), htmx's error events and uncaught exceptions of
    every page opened. Any of them fails the test (`pytest_runtest_call` below)."""
    errors: list[str] = []
    request.node.stash[browser_errors_key] = errors
    return errors


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, browser: Browser, live_server, browser_errors: list[str]
) -> Iterator[Callable[..., Page]]:
    """Open a page on the live server in a fresh context (own cookies), watched for errors."""
    contexts = []
    pages: list[Page] = []
    request.node.stash[open_pages_key] = pages

    def open_page(*, java_script_enabled: bool = True, timezone_id: str = "UTC") -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=java_script_enabled,
            timezone_id=timezone_id,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        context.add_init_script(REPORT_HTMX_ERRORS)
        page = context.new_page()
        pages.append(page)
        # A refusal the desk explains comes with a 4xx or 5xx status, which Chromium logs as a
        # failed load; the Desk-Explained header says it is an answer, not an error.
        explained: set[str] = set()
        page.on("response", lambda response: _note_explained(response, explained))
        page.on(
            "console", lambda message: _record_console_error(message, browser_errors, explained)
        )
        page.on("pageerror", lambda error: _record_page_error(error, browser_errors))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After the test's own steps, every page it left open runs out its timers (a poll's second
    round included), and any error any page showed meanwhile fails the test."""
    result = yield
    for page in item.stash.get(open_pages_key, []):
        if not page.is_closed():
            wait_past_timers(page)
    errors = item.stash.get(browser_errors_key, [])
    if errors:
        pytest.fail("The browser reported errors:\n" + "\n".join(errors), pytrace=False)
    return result


def _note_explained(response: Response, explained: set[str]) -> None:
    if response.headers.get(EXPLAINED.lower()):
        explained.add(response.url)


def _record_console_error(message: ConsoleMessage, errors: list[str], explained: set[str]) -> None:
    if message.type != "error":
        return
    url = message.location.get("url", "")
    if message.text.startswith("Failed to load resource") and url in explained:
        return
    errors.append(f"console: {message.text} ({url})")


def _record_page_error(error: Error, errors: list[str]) -> None:
    errors.append(f"uncaught: {error.message}")


@pytest.fixture
def demo_customers(transactional_db: None) -> int:
    """The company's accounts for the simulator's demo customers (Maya Patel and the others)."""
    return create_demo_accounts()


class Screenshots:
    """Numbered full-page screenshots of one test's steps, in a folder of their own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken = 0

    def take(self, page: Page, step: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    folder = request.config.rootpath / "test-artifacts" / "e2e" / request.node.name
    # A rerun replaces the last run's pictures rather than mixing with them.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    request.config.stash.setdefault(screenshot_folders_key, []).append(folder)
    print(f"\nScreenshots of {request.node.name}: {folder}")
    return Screenshots(folder)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    folders = config.stash.get(screenshot_folders_key, [])
    if not folders:
        return
    terminalreporter.write_sep("-", "browser test screenshots")
    for folder in folders:
        count = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"{folder} ({count} screenshot{'s' if count != 1 else ''})")
