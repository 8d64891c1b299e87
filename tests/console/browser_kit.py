"""A real browser for the console's tests: Debian's chromium, headless, driven through Debian's
chromedriver by Selenium (Selenium Manager is never asked to download a driver or a browser),
and the steps a responder takes on the page.

Screenshots are test artefacts, written to var/test-artefacts/console/ (gitignored; set
CONSOLE_ARTEFACTS to put them elsewhere).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("CONSOLE_ARTEFACTS", REPO / "var" / "test-artefacts" / "console"))
DESKTOP = (1280, 900)
PHONE = (390, 844)
"""A phone's CSS viewport (an iPhone 12-15 held upright)."""
WAIT_S = 10.0
MISSING = (
    "The console's browser tests need Debian's chromium and chromium-driver "
    "(/usr/bin/chromium, /usr/bin/chromedriver): run scripts/system-deps as root."
)


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless chromium session through the system chromedriver, closed on exit."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(MISSING, pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Console:
    """The console in one browser, and the steps of a responder on it."""

    driver: WebDriver
    url: str

    def open(self) -> None:
        """Load /console fresh (a new tab state: sessionStorage survives a reload only)."""
        self.driver.get(f"{self.url}/console")
        self.wait(lambda d: d.find_element(By.ID, "token").is_displayed() or self.signed_in())

    def signed_in(self) -> bool:
        """True while a responder is signed in."""
        return bool(self.driver.find_element(By.ID, "who").is_displayed())

    def sign_in(self, token: str) -> None:
        """Type the token and press Enter, as a keyboard user would; wait for the board."""
        if self.signed_in():
            self.sign_out()
        field = self.driver.find_element(By.ID, "token")
        field.clear()
        field.send_keys(token + "\n")
        self.wait(lambda d: self.signed_in() and self.heading() == "My board")

    def sign_out(self) -> None:
        """Press the sign-out button."""
        self.driver.find_element(By.ID, "signout").click()
        self.wait(lambda d: d.find_element(By.ID, "token").is_displayed())

    def wait_feed_live(self) -> None:
        """Wait until the tab follows its role's feed."""
        self.wait(lambda d: d.find_element(By.ID, "live").text == "feed: live")

    def heading(self) -> str:
        """The current view's heading."""
        found = self.driver.find_elements(By.CSS_SELECTOR, "#main h1")
        return found[0].text if found else ""

    def go(self, hash_route: str, heading: str | None = None) -> None:
        """Follow a console route (`#/incidents/ID`) and wait for its part."""
        self.driver.execute_script("window.location.hash = arguments[0]", hash_route)
        if heading is not None:
            self.wait(lambda d: self.heading().startswith(heading))

    def card(self, key: str, timeout: float = WAIT_S) -> WebElement:
        """The board card of the task whose incident key is `key`, once it is there."""
        selector = "#main .card"

        def found(driver: WebDriver) -> WebElement | None:
            for card in driver.find_elements(By.CSS_SELECTOR, selector):
                try:
                    if card.find_element(By.CSS_SELECTOR, ".key").text == key:
                        return card
                except StaleElementReferenceException:
                    return None
            return None

        card: WebElement = self.wait(found, timeout)
        return card

    def task_row(self, title: str) -> WebElement:
        """The incident page's row of the task titled `title`."""

        def row(driver: WebDriver) -> WebElement | None:
            rows = driver.find_elements(By.CSS_SELECTOR, "#main tbody tr")
            named = (r for r in rows if r.find_element(By.CSS_SELECTOR, "th").text == title)
            return next(named, None)

        found: WebElement = self.wait(row)
        return found

    def answer(self, starts: str) -> str:
        """The API's answer, once it is shown and starts with `starts`."""
        self.wait(lambda d: d.find_element(By.ID, "answer").text.startswith(starts))
        return str(self.driver.find_element(By.ID, "answer").text)

    def timeline_kinds(self) -> list[str]:
        """The incident page's timeline entries' kinds, newest first."""
        entries = self.driver.find_elements(By.CSS_SELECTOR, "#main .timeline li")
        return [str(e.get_attribute("data-kind")) for e in entries]

    def wait(self, condition: Callable[[WebDriver], Any], timeout: float = WAIT_S) -> Any:
        """Poll `condition` until it is truthy (TimeoutException after `timeout`)."""
        ignored = (StaleElementReferenceException,)  # a part swapped in meanwhile
        waiting = WebDriverWait(self.driver, timeout, 0.05, ignored_exceptions=ignored)
        return waiting.until(condition)

    def press(self, find: Callable[[], WebElement], keys: str | None = None) -> None:
        """Click the element `find` returns (or send it `keys`), finding it again if the part
        it was in was swapped before the click landed."""

        def pressed(_driver: WebDriver) -> bool:
            element = find()
            if keys is None:
                element.click()
            else:
                element.send_keys(keys)
            return True

        self.wait(pressed)

    def text_of(self, find: Callable[[], WebElement]) -> str:
        """The text of the element `find` returns, found again if it went stale."""
        text: str = self.wait(lambda d: find().text)
        return text

    def screenshot(self, name: str) -> Path:
        """Save a PNG of the page under the artefacts folder; its path."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot written to {path}"
        return path

    def accessibility_violations(self) -> list[str]:
        """What axe-core finds against WCAG 2.1 A and AA in the page as it is now: one line per
        rule broken, with the elements that break it (axe is injected once per page load)."""
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(AXE.read_text(encoding="utf-8"))
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at '"
            " + v.nodes.map(n => n.target.join(' ')).join(', '))))"
            ".catch(e => done(['axe failed: ' + e]));",
            AXE_RULES,
        )
        return [str(line) for line in found]

    def console_errors(self) -> list[str]:
        """Errors the page logged since the last call: script errors and CSP violations (a
        refused request's status line, which chromium logs too, is the API answering)."""
        entries = self.driver.get_log("browser")
        severe = [str(e["message"]) for e in entries if e.get("level") == "SEVERE"]
        return [m for m in severe if "Failed to load resource" not in m]


def post_event(url: str, ingest: str, body: dict[str, Any]) -> None:
    """Submit one event through the intake, as a monitoring system would."""
    response = httpx.post(
        f"{url}/events", json=body, headers={"Authorization": f"Bearer {ingest}"}, timeout=10
    )
    assert response.status_code == 202, response.text


def incident_of(url: str, token: str, key: str, timeout: float = WAIT_S) -> str:
    """The id of the incident opened for `key`, once the API lists it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        incidents = httpx.get(
            f"{url}/incidents", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        found = [i["id"] for i in incidents if i["key"] == key]
        if found:
            return str(found[0])
        time.sleep(0.1)
    raise AssertionError(f"no incident for {key} within {timeout:.0f}s")
