"""The lamp field (docs/PANEL.md) in real headless Chromium: log in through the form, see
subscribed colleagues' lamps change live, a blocked colleague look exactly like an offline one,
set one's own presence for a slixmpp watcher, and use it by keyboard alone."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from browser import chromium, console, subscribed, until
from harness import Client, befriend, close_all, login_all, run
from test_http_api import Api, make_token

ALICE, BOB, CAROL, DAVE, ERIN = (f"{n}@localhost" for n in ("alice", "bob", "carol", "dave", "erin"))
USERS = {j: f"{j.split('@')[0]}-secret-9" for j in (ALICE, BOB, CAROL, DAVE, ERIN)}

LAMPS_JS = """
return [...document.querySelectorAll('.lamp')].map(l => ({
  jid: l.dataset.jid, availability: l.dataset.availability, line: l.dataset.line,
  name: l.querySelector('.name').textContent, text: l.innerText, label: l.getAttribute('aria-label'),
  hidden: l.hidden || l.closest('.group').hidden,
  attrs: Object.fromEntries([...l.attributes].filter(a => a.name.startsWith('data-') && a.name !== 'data-jid'
                                                          && a.name !== 'data-search').map(a => [a.name, a.value])),
}));
"""


def lamps(driver) -> dict[str, dict]:
    return {lamp["jid"]: lamp for lamp in driver.execute_script(LAMPS_JS)}


def open_panel(driver, node, jid: str, password: str, host: str = "127.0.0.1") -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"http://{host}:{node.http_port}/")
    driver.find_element(By.NAME, "jid").send_keys(jid)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


async def logged_in_panel(driver, node, jid: str, host: str = "127.0.0.1") -> None:
    open_panel(driver, node, jid, USERS[jid], host)
    await until(lambda: driver.execute_script("return document.body.dataset.state === 'ready'"),
                f"the panel of {jid} is ready\n{console(driver)}")


def without_name(lamp: dict) -> tuple:
    return (lamp["attrs"], lamp["text"].replace(lamp["name"], "<name>"),
            (lamp["label"] or "").replace(lamp["name"], "<name>"))


def test_the_page_and_its_modules_are_served_with_a_strict_policy(node):
    base = f"http://127.0.0.1:{node.http_port}"
    for path, kind in (("/", "text/html"), ("/panel/app.js", "text/javascript"),
                       ("/panel/xmpp.js", "text/javascript"), ("/panel/panel.css", "text/css")):
        with urllib.request.urlopen(base + path, timeout=10) as r:
            assert r.headers["Content-Type"].startswith(kind), (path, r.headers["Content-Type"])
            csp = r.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
    try:
        urllib.request.urlopen(base + "/panel/nothing.js", timeout=10)
        raise AssertionError("an unknown asset was served")
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_lamps_follow_the_line_and_a_block_looks_like_offline(make_node):
    node = make_node(USERS)
    api = Api(node, make_token(node, "pbx", "personal"))

    async def scenario():
        clients = await subscribed(node, USERS, ALICE, (BOB, CAROL))
        carol = clients[CAROL]
        try:
            await close_all(carol)  # carol stays offline
            node.cli("rule", "set", BOB, f"contact:{ALICE}", "team")  # alice may see bob's ringing
            with chromium() as driver:
                await logged_in_panel(driver, node, ALICE)
                seen = await until(lambda: (l := lamps(driver)).get(BOB, {}).get("availability") == "available" and l,
                                   f"bob's lamp available\n{console(driver)}")
                assert seen[CAROL]["availability"] == "offline" and seen[CAROL]["line"] == "none", seen[CAROL]
                assert "Offline" in seen[CAROL]["text"] and "Available" in seen[BOB]["text"]
                # WebCrypto is there on loopback, so the login used SCRAM, and the policy held.
                assert driver.execute_script("return document.body.dataset.mechanism") == "SCRAM-SHA-256"
                assert "Content Security Policy" not in console(driver), console(driver)

                # A PBX call over the API: ringing, then on the phone, each within a second.
                started = time.monotonic()
                api.put(f"/v1/users/{BOB}/lines/201", {"state": "ringing"})
                await until(lambda: lamps(driver)[BOB]["line"] == "ringing", "bob's lamp ringing", timeout=1.0)
                # Ringing flashes, unless the system asks for reduced motion.
                animation = f"return getComputedStyle(document.querySelector('.lamp[data-jid=\"{BOB}\"]')).animationName"
                assert driver.execute_script(animation) == "ring"
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
                    {"name": "prefers-reduced-motion", "value": "reduce"}]})
                assert driver.execute_script(animation) == "none"
                api.put(f"/v1/users/{BOB}/lines/201", {"state": "on_call"})
                lamp = await until(lambda: (l := lamps(driver)[BOB])["line"] == "on_call" and l,
                                   "bob's lamp on the phone", timeout=1.0)
                assert "On the phone" in lamp["text"] and "Ext. 201" in lamp["text"], lamp
                assert time.monotonic() - started < 3.0
                link = driver.execute_script(
                    f"return document.querySelector('.lamp[data-jid=\"{BOB}\"] .call').getAttribute('href')")
                assert link == "tel:201"

                # Bob blocks alice: his lamp becomes exactly carol's, who is offline.
                node.cli("rule", "set", BOB, f"contact:{ALICE}", "blocked")
                await until(lambda: lamps(driver)[BOB]["availability"] == "offline", "bob's lamp offline")
                now = lamps(driver)
                assert without_name(now[BOB]) == without_name(now[CAROL]), (now[BOB], now[CAROL])
        finally:
            await close_all(*clients.values())

    run(scenario())


def test_a_wrong_password_is_refused_and_plain_serves_pages_without_webcrypto(make_node):
    """A page not on https or loopback has no WebCrypto: the panel falls back to PLAIN."""
    node = make_node(USERS)

    async def scenario():
        clients = await subscribed(node, USERS, ALICE, (BOB,))
        try:
            with chromium(args=("--host-resolver-rules=MAP panel.test 127.0.0.1",)) as driver:
                from selenium.webdriver.common.by import By

                open_panel(driver, node, ALICE, "not-the-password", host="panel.test")
                await until(lambda: driver.find_element(By.ID, "login-error").text, "a login error")
                assert driver.find_element(By.ID, "login-error").text == "wrong JID or password"
                assert not driver.execute_script("return window.isSecureContext")
                driver.find_element(By.NAME, "password").clear()
                driver.find_element(By.NAME, "password").send_keys(USERS[ALICE])
                driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
                await until(lambda: driver.execute_script("return document.body.dataset.state === 'ready'"),
                            f"ready after the second try\n{console(driver)}")
                assert driver.execute_script("return document.body.dataset.mechanism") == "PLAIN"
                await until(lambda: lamps(driver).get(BOB, {}).get("availability") == "available", "bob's lamp")
        finally:
            await close_all(*clients.values())

    run(scenario())


def test_own_presence_from_the_panel_reaches_a_watcher_and_keyboard_alone_works(make_node):
    node = make_node(USERS)

    async def scenario():
        clients = await subscribed(node, USERS, ALICE, (BOB, CAROL))
        bob, carol = clients[BOB], clients[CAROL]
        try:
            with chromium() as driver:
                from selenium.webdriver.common.by import By
                from selenium.webdriver.common.keys import Keys
                from selenium.webdriver.support.ui import Select

                await logged_in_panel(driver, node, ALICE)
                await until(lambda: len(lamps(driver)) == 2, "two lamps")

                # Own presence through the "Set my presence" command; bob watches over slixmpp.
                driver.find_element(By.CSS_SELECTOR, "#own summary").click()
                await until(lambda: driver.execute_script(
                    "return document.querySelector('#profile option') !== null"), "the profile form loaded")
                Select(driver.find_element(By.ID, "availability")).select_by_value("busy")
                driver.find_element(By.ID, "note").send_keys("Back at 3")
                driver.find_element(By.ID, "minutes").send_keys("30")
                driver.find_element(By.CSS_SELECTOR, "#presence-form button").click()
                got = await bob.wait_presence("alice busy with her note", from_bare=ALICE, show="dnd")
                assert "Back at 3" in (got["status"] or ""), got
                await until(lambda: "Your presence is now" in driver.find_element(By.ID, "own-output").text,
                            "the panel confirms")
                await until(lambda: "Busy" in (t := driver.find_element(By.ID, "me").text) and "Back at 3" in t,
                            "the header shows the user's own presence")

                # Switch to the built-in "Do not disturb" profile.
                Select(driver.find_element(By.ID, "profile")).select_by_visible_text("Do not disturb")
                driver.find_element(By.CSS_SELECTOR, "#profile-form button").click()
                await until(lambda: "Do not disturb is active" in driver.find_element(By.ID, "own-output").text,
                            "the profile switch confirmed")

                # Who sees what: carol is shut out; she sees alice go, and the rule is listed.
                driver.find_element(By.ID, "who").send_keys(f"contact:{CAROL}")
                Select(driver.find_element(By.ID, "level")).select_by_value("blocked")
                driver.find_element(By.CSS_SELECTOR, "#rule-form button").click()
                await carol.wait_presence("alice gone for carol", from_bare=ALICE, type="unavailable")
                await until(lambda: f"contact:{CAROL}: blocked" in driver.find_element(By.ID, "rules").text,
                            "the rule listed")

                # Keyboard alone: Tab reaches a lamp, arrows move, typing filters.
                driver.find_element(By.TAG_NAME, "body").click()
                active = None
                for _ in range(40):
                    driver.switch_to.active_element.send_keys(Keys.TAB)
                    active = driver.switch_to.active_element
                    if active.get_attribute("data-jid"):
                        break
                assert active is not None and active.get_attribute("data-jid") == BOB, "Tab reaches the first lamp"
                assert "bob" in active.get_attribute("aria-label")
                active.send_keys(Keys.ARROW_DOWN)
                assert driver.switch_to.active_element.get_attribute("data-jid") == CAROL
                driver.switch_to.active_element.send_keys("car")
                await until(lambda: [j for j, l in lamps(driver).items() if not l["hidden"]] == [CAROL],
                            "typing filters to carol")
                assert driver.find_element(By.ID, "search").get_attribute("value") == "car"
                driver.switch_to.active_element.send_keys(Keys.ESCAPE)
                await until(lambda: not any(l["hidden"] for l in lamps(driver).values()), "Escape clears the filter")
                assert driver.switch_to.active_element.get_attribute("data-jid") in (BOB, CAROL)

                # Phone width: one column, nothing wider than the screen.
                driver.set_window_size(390, 800)
                await until(lambda: driver.execute_script(
                    "return document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling")
                # Dark theme from the system setting.
                light = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
                    {"name": "prefers-color-scheme", "value": "dark"}]})
                dark = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
                assert light != dark, (light, dark)
        finally:
            await close_all(*clients.values())

    run(scenario())


def test_a_colleague_s_vcard_names_the_lamp_its_group_and_extension(make_node):
    """Without a directory yet, the vCard (XEP-0054) gives name, department and phone."""
    node = make_node(USERS)

    async def scenario():
        clients = await subscribed(node, USERS, ALICE, (BOB, CAROL))
        try:
            iq = clients[BOB].x.make_iq_set()
            iq.xml.append(ET.fromstring(
                "<vCard xmlns='vcard-temp'><FN>Bob Baker</FN><ORG><ORGNAME>Example</ORGNAME>"
                "<ORGUNIT>Sales</ORGUNIT></ORG><TEL><WORK/><VOICE/><NUMBER>2201</NUMBER></TEL>"
                "<EMAIL><INTERNET/><USERID>bob@example.org</USERID></EMAIL></vCard>"))
            await iq.send(timeout=10)
            with chromium() as driver:
                await logged_in_panel(driver, node, ALICE)
                lamp = await until(lambda: (l := lamps(driver).get(BOB)) and l["name"] == "Bob Baker" and l,
                                   f"bob's lamp named from his vCard\n{console(driver)}")
                assert "Ext. 2201" in lamp["text"] and lamp["line"] == "none", lamp
                group = driver.execute_script(
                    f"return document.querySelector('.lamp[data-jid=\"{BOB}\"]').closest('.group')"
                    ".querySelector('.group-name').textContent")
                assert group == "Sales"
                # Carol has no vCard: her lamp keeps the roster's view of her.
                assert lamps(driver)[CAROL]["name"] == "carol"
        finally:
            await close_all(*clients.values())

    run(scenario())


def test_with_the_directory_colleagues_need_no_subscription_and_show_its_fields(make_node):
    """A node with the organization directory on (docs/DIRECTORY.md): alice's panel shows every
    colleague made by the CLI, by department, with the directory's name and extension, and
    follows a colleague's presence, without a single subscription request."""
    node = make_node(users={}, start=False, directory=True)
    node.cli("user", "add", ALICE, "--password", USERS[ALICE], "--name", "Alice Liddell",
             "--department", "Support")
    node.cli("user", "add", BOB, "--password", USERS[BOB], "--name", "Bob Baker",
             "--department", "Sales", "--extension", "201")
    node.cli("user", "add", CAROL, "--password", USERS[CAROL], "--name", "Carol Chen")
    node.start()

    async def scenario():
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        await login_all(bob)
        try:
            with chromium() as driver:
                await logged_in_panel(driver, node, ALICE)
                lamp = await until(
                    lambda: (l := lamps(driver).get(BOB)) and l["name"] == "Bob Baker"
                    and l["availability"] == "available" and l,
                    f"bob's lamp from the directory, available\n{console(driver)}")
                assert "Ext. 201" in lamp["text"], lamp
                group = driver.execute_script(
                    f"return document.querySelector('.lamp[data-jid=\"{BOB}\"]').closest('.group')"
                    ".querySelector('.group-name').textContent")
                assert group == "Sales"
                carol = await until(lambda: (l := lamps(driver).get(CAROL)) and l["name"] == "Carol Chen" and l,
                                    "carol's lamp from the directory")
                assert carol["availability"] == "offline", carol
        finally:
            await close_all(bob)

    run(scenario())


def test_screenshot_of_a_few_colleagues(make_node):
    """The picture in README.md (docs/panel.png): light theme, colleagues in different states."""
    node = make_node(USERS)
    api = Api(node, make_token(node, "pbx", "personal"))

    async def scenario():
        clients = [Client(node, j, USERS[j]) for j in (ALICE, BOB, CAROL, DAVE, ERIN)]
        alice, bob, carol, dave, erin = clients
        await login_all(*clients)
        try:
            names = {BOB: ("Bob Baker", "Sales"), CAROL: ("Carol Chen", "Support"),
                     DAVE: ("Dave Diaz", "Sales"), ERIN: ("Erin Evans", "Support")}
            for other in (bob, carol, dave, erin):
                await befriend(alice, other)
                node.cli("rule", "set", other.bare, f"contact:{ALICE}", "team")
                name, group = names[other.bare]
                await alice.x.update_roster(other.bare, name=name, groups=[group], timeout=10)
            await close_all(alice, carol)
            api.put(f"/v1/users/{ERIN}/queues/support", {"state": "wrap_up"})
            api.put(f"/v1/users/{BOB}/lines/201", {"state": "on_call"})
            until_ms = int((time.time() + 3600) * 1000)
            api.put(f"/v1/users/{DAVE}/manual", {"availability": "busy", "note": "Budget review", "until": until_ms})
            api.put(f"/v1/users/{DAVE}/lines/202", {"state": "idle"})
            api.put(f"/v1/users/{ERIN}/lines/203", {"state": "ringing"})
            with chromium(width=820, height=860) as driver:
                await logged_in_panel(driver, node, ALICE)
                await until(lambda: (l := lamps(driver)) and l.get(ERIN, {}).get("line") == "ringing"
                            and l.get(DAVE, {}).get("availability") == "busy" and "Queue" in l[ERIN]["text"]
                            and "Bob Baker" in l[BOB]["text"], "four colleagues in their states")
                driver.execute_script("document.querySelectorAll('.lamp').forEach(l => l.style.animation = 'none')")
                await asyncio.sleep(0.3)
                out = Path(os.environ.get("LAMPFIELD_SCREENSHOT", "")) if os.environ.get("LAMPFIELD_SCREENSHOT") \
                    else node.dir / "panel.png"
                assert driver.save_screenshot(str(out)), out
        finally:
            await close_all(*clients)

    run(scenario())

