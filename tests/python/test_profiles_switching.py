"""Presence profiles and the calendar, seen by a standard XMPP client (slixmpp) watching the user
(docs/PROFILES.md, docs/PRESENCE.md): activating "Meeting" over the API turns the watcher's view
into the profile's presence with the profile name as the status line, a webhook receives the
profile's on-enter actions, an "@Do not disturb" appointment activates that profile while it runs
and the previous profile returns after it, an .ics import through the CLI does the same at the
right times, and a private appointment's subject never reaches the watcher."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import USERS
from harness import Client, befriend, close_all, login_all, run
from test_http_api import Api, make_token

ALICE, BOB = "alice@localhost", "bob@localhost"

MEETING = {
    "availability": "do_not_disturb",
    "note": "Back at three",
    "forwarding": {"to": "voicemail"},
    "on_enter": [
        {"action": {"kind": "follow_me", "family": "mobile", "enabled": False}, "enabled": True},
        {"action": {"kind": "gsm_mode", "enabled": True}, "enabled": False},
    ],
    "on_leave": [
        {"action": {"kind": "follow_me", "family": "mobile", "enabled": True}, "enabled": True},
    ],
}


class Webhook:
    """A webhook receiver on 127.0.0.1:0 that records every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = min(int(self.headers.get("Content-Length", "0")), 65536)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return [b["action"] for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(api: Api, method: str, path: str, body: dict | None = None) -> dict:
    status, answer = api.call(method, f"/v1/users/{ALICE}{path}", body)
    assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
    return answer


async def alice_watched_by_bob(node, api: Api):
    alice = Client(node, ALICE, USERS[ALICE], resource="desk")
    bob = Client(node, BOB, USERS[BOB], resource="desk")
    await login_all(alice, bob)
    await befriend(alice, bob)
    # At the default level (business) bob sees the person, from the node's resource.
    await bob.wait_presence("alice online", type="available", **{"from": alice.person})
    # The profile name is the status line at team level (docs/PRESENCE.md), where bob sees
    # alice's desk instead.
    api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team"}})
    await bob.wait_presence("alice's desk at team", type="available", **{"from": alice.jid})
    return alice, bob


def from_alice(alice: Client, show: str, status_part: str):
    return lambda r: (r["from"] == alice.jid and r["type"] == "available"
                      and r["show"] == show and status_part in r["status"])


def test_activating_meeting_over_the_api_changes_the_watchers_view_and_calls_the_webhook(make_node):
    hook = Webhook()
    try:
        node = make_node(extra_c2s=f'[connector]\nkind = "webhook"\nurl = "{hook.url}"\n')
        api = Api(node, make_token(node, "desk", "personal"))

        async def scenario():
            alice, bob = await alice_watched_by_bob(node, api)
            try:
                ok(api, "PUT", "/profiles/Meeting", MEETING)
                ok(api, "PUT", "/profile", {"profile": "Meeting"})
                rec = await bob.wait("presences", from_alice(alice, "dnd", "Meeting"),
                                     "alice in the Meeting profile")
                assert "Back at three" in rec["status"], rec["xml"]
                actions = hook.wait(2)
                assert actions[:2] == [
                    {"kind": "follow_me", "family": "mobile", "enabled": False},
                    {"kind": "set_forwarding", "target": "voicemail"},
                ], actions
                assert all(b["user"] == ALICE and b["profile"] == "Meeting" for b in hook.bodies)

                ok(api, "DELETE", "/profile")
                await bob.wait("presences", from_alice(alice, "", ""), "alice back to available")
                assert hook.wait(3)[2] == {"kind": "follow_me", "family": "mobile", "enabled": True}
            finally:
                await close_all(alice, bob)

        run(scenario())
    finally:
        hook.close()


def test_a_calendar_appointment_activates_its_profile_while_it_runs(node):
    api = Api(node, make_token(node, "desk", "personal"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node, api)
        try:
            settings = ok(api, "GET", "/profile/settings")
            settings["event_mode"] = "full_profile"
            ok(api, "PUT", "/profile/settings", settings)
            ok(api, "PUT", "/profiles/Lunch", {"availability": "away"})
            ok(api, "PUT", "/profile", {"profile": "Lunch"})
            await bob.wait("presences", from_alice(alice, "away", "Lunch"), "alice at lunch")

            start = int(time.time() * 1000) + 2000
            ok(api, "PUT", "/calendar", {"appointments": [
                {"start": start, "end": start + 3000, "category": "@Do not disturb"},
                {"start": start - 60_000, "end": start + 600_000, "private": True,
                 "subject": "Dentist appointment", "show_as": "tentative"},
            ]})
            await bob.wait("presences", from_alice(alice, "dnd", "Do not disturb"),
                           "the appointment's profile")
            # The private appointment (tentative) still shows, without its subject; the profile
            # from before the appointment is active again.
            await bob.wait("presences",
                           lambda r: r["from"] == alice.jid and 'profile="Lunch"' in r["xml"]
                           and "Do not disturb" not in r["status"],
                           "Lunch again after the appointment")
            leaked = [r["xml"] for r in bob.presences if "Dentist" in r["xml"]]
            assert not leaked, leaked
        finally:
            await close_all(alice, bob)

    run(scenario())


def ics_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def test_an_ics_import_through_the_cli_switches_at_the_right_times(node, tmp_path):
    api = Api(node, make_token(node, "desk", "personal"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node, api)
        try:
            settings = ok(api, "GET", "/profile/settings")
            settings["event_mode"] = "full_profile"
            ok(api, "PUT", "/profile/settings", settings)
            now = datetime.now(timezone.utc).replace(microsecond=0)
            start, end = now + timedelta(seconds=4), now + timedelta(seconds=8)
            ics = tmp_path / "alice.ics"
            ics.write_text(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                "BEGIN:VEVENT\r\nUID:focus\r\n"
                f"DTSTART:{ics_time(start)}\r\nDTEND:{ics_time(end)}\r\n"
                "SUMMARY:Focus time\r\nCATEGORIES:@Do not disturb\r\nEND:VEVENT\r\n"
                "BEGIN:VEVENT\r\nUID:secret\r\nCLASS:PRIVATE\r\n"
                f"DTSTART:{ics_time(now - timedelta(minutes=1))}\r\n"
                f"DTEND:{ics_time(now + timedelta(minutes=10))}\r\n"
                "SUMMARY:Secret dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
            out = node.cli("calendar", "import", ALICE, str(ics)).stdout
            assert "imported 2 appointments" in out, out
            rec = await bob.wait("presences", from_alice(alice, "dnd", "Do not disturb"),
                                 "the imported appointment's profile")
            assert time.time() >= start.timestamp() - 0.5, "switched before the appointment began"
            # Only what came after the switch counts now.
            bob.consumed["presences"].update(range(bob.presences.index(rec)))
            await bob.wait("presences",
                           lambda r: r["from"] == alice.jid and "Do not disturb" not in r["status"]
                           and r["type"] == "available",
                           "the profile ends with the appointment")
            assert time.time() >= end.timestamp() - 0.5
            leaked = [r["xml"] for r in bob.presences if "dentist" in r["xml"].lower()]
            assert not leaked, leaked
        finally:
            await close_all(alice, bob)

    run(scenario())
