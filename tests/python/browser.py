"""Headless Chromium for the browser tests (test_panel.py, test_converse.py), driven by Selenium
with Debian's `chromium` and `chromium-driver`. `chromium()` skips the test with a clear message
when either is missing; nothing is downloaded (Selenium Manager is bypassed by naming both)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time

import pytest

CHROMIUM = os.environ.get("LAMPFIELD_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("LAMPFIELD_CHROMEDRIVER", "/usr/bin/chromedriver")


def _need() -> None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (scripts/test installs tests/python/requirements.txt)")
    for path, package in ((CHROMIUM, "chromium"), (DRIVER, "chromium-driver")):
        if not (os.path.isfile(path) or shutil.which(path)):
            pytest.skip(f"{path} not found: apt-get install chromium chromium-driver (scripts/test tries)")


@contextlib.contextmanager
def chromium(*, width: int = 1200, height: int = 900, dark: bool = False, args: tuple[str, ...] = ()):
    """A headless Chromium session, closed afterwards."""
    _need()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(arg)
    opts.add_argument(f"--blink-settings=preferredColorScheme={0 if dark else 1}")
    for arg in args:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


async def until(check, what: str, timeout: float = 10.0, poll: float = 0.05):
    """Poll `check()` (a blocking call into the browser) without stalling the event loop the
    slixmpp clients run on; return its first truthy value or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what} (last: {last!r})")
        await asyncio.sleep(poll)


def console(driver) -> str:
    try:
        return "\n".join(f"{e['level']}: {e['message']}" for e in driver.get_log("browser"))
    except Exception:  # pragma: no cover - diagnostics only
        return "(no console log)"


async def subscribed(node, passwords: dict[str, str], viewer: str, contacts: tuple[str, ...]) -> dict:
    """Log `viewer` and `contacts` in with slixmpp, make each contact and the viewer subscribed
    to each other, then log the viewer out again so that a browser can take its place. Returns
    the clients by bare JID (the viewer's closed); the caller closes them."""
    from harness import Client, befriend, close_all, login_all

    clients = {j: Client(node, j, passwords[j]) for j in (viewer, *contacts)}
    try:
        await login_all(*clients.values())
        for contact in contacts:
            await befriend(clients[viewer], clients[contact])
        await close_all(clients[viewer])
    except BaseException:
        await close_all(*clients.values())
        raise
    return clients
