"""The browser's parts shared by the browser tests: Debian's Chromium through Playwright,
the app served over real HTTP, axe-core's check, screenshots, and clicks that wait for the
page they lead to. Loaded as a pytest plugin by conftest.py."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = Path(__file__).parent / "output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(app):
    """The app served over real HTTP, with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert violations == [], "the page broke its own Content-Security-Policy"


def check_accessibility(page) -> None:
    assert AXE.exists(), "run `npm install --prefix tests/browser` (tests/run-all.sh does)"
    # Evaluated through the DevTools protocol: the page's Content-Security-Policy (no inline
    # script) stays in force for everything the page itself does.
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert problems == []


def screenshot(page, request, name: str) -> None:
    folder = OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def fill_form(page, name: str, email: str, consent: bool = True) -> None:
    page.get_by_label("Name", exact=False).first.fill(name)
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Kommune oder Dienststelle").fill("Stadt Musterstadt")
    if consent:
        page.locator("#consent").check()


def follow(page, target) -> None:
    """Click a link or submit button and wait for the page it leads to; reading the
    page before the navigation commits would see the old or an empty document."""
    with page.expect_navigation():
        target.click()
