"""Browser tests: Debian's Chromium driving the live server, with a screenshot of every step."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from lookups.services.demo_accounts import create_demo_accounts

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

screenshot_folders_key = pytest.StashKey[list[Path]]()


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


@pytest.fixture
def browser_errors() -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions of every page opened."""
    return []


@pytest.fixture
def new_page(
    browser: Browser, live_server, browser_errors: list[str]
) -> Iterator[Callable[..., Page]]:
    """Open a page on the live server in a fresh context (own cookies), watched for errors."""
    contexts = []

    def open_page(*, java_script_enabled: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=java_script_enabled,
            timezone_id="UTC",
            viewport=VIEWPORT,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: _record_console_error(message, browser_errors))
        page.on("pageerror", lambda error: _record_page_error(error, browser_errors))
        return page

    yield open_page
    for context in contexts:
        context.close()


def _record_console_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"console: {message.text} ({message.location.get('url', '')})")


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
