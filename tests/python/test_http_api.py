"""The integration API as a PBX, a queue system and a meetings platform use it, seen by a
standard XMPP client (slixmpp) watching the user: a call reported over HTTP becomes
do-not-disturb / "On the phone" and back, ringing shows while it rings, queue states and lines
arrive in the structured element, an external claim falls back when it expires
(docs/API.md, docs/PRESENCE.md, docs/PROTOCOL.md)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from xml.etree import ElementTree as ET

from conftest import USERS
from harness import QUIET_S, Client, befriend, close_all, login_all, run

ALICE, BOB = "alice@localhost", "bob@localhost"
DETAIL_NS = "urn:lampfield:presence:0"


class Api:
    """A tiny JSON client for one node's integration API, with one token."""

    def __init__(self, node, token: str) -> None:
        self.base = f"http://127.0.0.1:{node.http_port}"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def put(self, path: str, body: dict) -> dict:
        status, answer = self.call("PUT", path, body)
        assert status == 200, f"PUT {path}: {status} {answer}"
        return answer

    def delete(self, path: str) -> dict:
        status, answer = self.call("DELETE", path)
        assert status == 200, f"DELETE {path}: {status} {answer}"
        return answer


def make_token(node, name: str, level: str, *scope: str) -> str:
    """`lampfield token add` (the running node's admin socket, or the database when it is
    stopped), with scope flags such as `--user`, `--can`, `--rate`: the token is the only stdout
    line."""
    out = node.cli("token", "add", name, "--level", level, *scope).stdout.strip()
    assert out.startswith("lf_"), out
    return out


def detail(rec: dict) -> ET.Element:
    """The `<presence xmlns="urn:lampfield:presence:0">` child of a received presence."""
    root = ET.fromstring(rec["xml"])
    found = root.find(f"{{{DETAIL_NS}}}presence")
    assert found is not None, rec["xml"]
    return found


def with_detail(**expected: str):
    """A presence predicate on the structured element's children, e.g. queue support=wrap_up."""

    def check(rec: dict) -> bool:
        if rec["type"] != "available":
            return False
        try:
            d = detail(rec)
        except (AssertionError, ET.ParseError):
            return False
        for key, state in expected.items():
            kind, ident = key.split("_", 1)
            if not any(
                el.get("id") == ident and el.get("state") == state
                for el in d.findall(f"{{{DETAIL_NS}}}{kind}")
            ):
                return False
        return True

    return check


async def alice_watched_by_bob(node):
    alice = Client(node, ALICE, USERS[ALICE], resource="desk")
    bob = Client(node, BOB, USERS[BOB], resource="desk")
    await login_all(alice, bob)
    await befriend(alice, bob)
    # At the default level (business) bob sees the person, from the node's resource.
    await bob.wait_presence("alice online", type="available", **{"from": alice.person})
    return alice, bob


def test_a_pbx_call_reported_over_http_shows_as_on_the_phone_and_ends(node):
    api = Api(node, make_token(node, "pbx", "personal"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            # Ringing is team detail: alice lets bob see team.
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team"}})
            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "ringing"})
            rec = await bob.wait("presences",
                                 lambda r: r["from"] == alice.jid and "Ringing" in r["status"],
                                 "alice's phone ringing")
            assert with_detail(line_201="ringing")(rec), rec["xml"]

            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "on_call"})
            rec = await bob.wait("presences",
                                 lambda r: r["from"] == alice.jid and r["show"] == "dnd"
                                 and "On the phone" in r["status"],
                                 "alice on the phone")
            assert with_detail(line_201="on_call")(rec), rec["xml"]

            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "idle"})
            await bob.wait("presences",
                           lambda r: r["from"] == alice.jid and r["type"] == "available"
                           and r["show"] == "" and "On the phone" not in r["status"],
                           "alice off the phone")
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_a_call_reported_by_extension_reaches_the_mapped_user(node):
    api = Api(node, make_token(node, "pbx", "team"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            api.put(f"/v1/users/{ALICE}/extensions/2001", {})
            api.put("/v1/extensions/2001", {"state": "on_call"})
            # bob is at the default level (business): busy, no call detail beyond that.
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and r["show"] == "dnd"
                           and r["status"] == "On the phone",
                           "alice busy on extension 2001")
            api.delete("/v1/extensions/2001")
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and r["show"] == "",
                           "alice free again")
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_queue_states_arrive_in_the_structured_element(node):
    api = Api(node, make_token(node, "acd", "personal"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team"}})
            api.put(f"/v1/users/{ALICE}/queues/support", {"state": "available"})
            await bob.wait("presences",
                           lambda r: r["from"] == alice.jid and with_detail(queue_support="available")(r),
                           "queue support available")
            api.put(f"/v1/users/{ALICE}/queues/support", {"state": "wrap_up"})
            api.put(f"/v1/users/{ALICE}/queues/sales", {"state": "logged_out"})
            await bob.wait("presences",
                           lambda r: r["from"] == alice.jid
                           and with_detail(queue_support="wrap_up", queue_sales="logged_out")(r),
                           "support in wrap-up, sales logged out")
            # At the default level (business) queue states are hidden again.
            api.put(f"/v1/users/{ALICE}/rules", {})
            rec = await bob.wait("presences",
                                 lambda r: r["from"] == alice.person and r["type"] == "available"
                                 and "queue" not in r["xml"],
                                 "queues hidden from business")
            assert detail(rec).find(f"{{{DETAIL_NS}}}queue") is None
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_an_external_claim_falls_back_when_it_expires(node):
    api = Api(node, make_token(node, "meetings", "team"))

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            api.put(f"/v1/users/{ALICE}/external/meetings",
                    {"availability": "busy", "activity": "in_a_meeting", "expires_in_s": 3})
            # bob is at the default level (business): busy until the expiry; the activity
            # ("In a meeting") is team detail.
            rec = await bob.wait("presences",
                                 lambda r: r["from"] == alice.person and r["show"] == "dnd",
                                 "alice busy in a meeting")
            assert 'availability="busy"' in rec["xml"] and "until" in rec["status"], rec["xml"]
            assert "meeting" not in rec["xml"], rec["xml"]
            # No withdrawal: the claim lapses by itself and alice is available again.
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and r["type"] == "available"
                           and r["show"] == "",
                           "the meeting claim expired", timeout=10)
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_bad_tokens_and_bad_input_get_precise_errors(node):
    bad = Api(node, "lf_not-a-token")
    status, answer = bad.call("GET", f"/v1/users/{ALICE}/presence")
    assert status == 401 and answer["error"] == "unauthorized", answer
    api = Api(node, make_token(node, "pbx", "team"))
    status, answer = api.call("PUT", f"/v1/users/{ALICE}/lines/201", {"state": "busy"})
    assert status == 422 and "state" in answer["message"], answer
    status, answer = api.call("PUT", "/v1/users/nobody@localhost/lines/201", {"state": "idle"})
    assert status == 404 and answer["error"] == "unknown_user", answer
    status, answer = api.call("GET", f"/v1/users/{ALICE}/presence")
    assert status == 200 and answer["level"] == "team", answer
    # Revoked while the node runs: refused at once.
    node.cli("token", "remove", "pbx")
    status, _ = api.call("GET", f"/v1/users/{ALICE}/presence")
    assert status == 401


def test_a_token_scoped_to_alice_cannot_make_bob_appear_offline(node):
    pbx = Api(node, make_token(node, "pbx", "team", "--user", ALICE, "--can", "sources"))
    listed = node.cli("token", "list").stdout.splitlines()
    assert f"pbx\tteam\t{ALICE}\tsources\t200/s" in listed, listed

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        await alice.wait_presence("bob online", type="available", **{"from": bob.person})
        try:
            for path, body in [(f"/v1/users/{BOB}/manual", {"availability": "appear_offline"}),
                               (f"/v1/users/{BOB}/lines/201", {"state": "on_call"})]:
                status, answer = pbx.call("PUT", path, body)
                assert status == 403, (path, status, answer)
                assert answer["error"] == "out_of_scope" and answer["scope"] == BOB, answer
            # An account that does not exist gets the same answer as bob.
            status, answer = pbx.call("PUT", "/v1/users/nobody@localhost/manual",
                                      {"availability": "appear_offline"})
            assert (status, answer["error"]) == (403, "out_of_scope"), answer
            await alice.assert_no("presences",
                                  lambda r: r["from"].startswith(BOB) and
                                  (r["type"] == "unavailable" or r["show"]),
                                  "a change of bob made by alice's token")
            # Alice herself: the write goes through and bob sees it.
            pbx.put(f"/v1/users/{ALICE}/manual", {"availability": "do_not_disturb"})
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and r["show"] == "dnd",
                           "alice do not disturb")
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_tokens_made_while_the_node_is_stopped_keep_their_scope_and_rate(make_node):
    node = make_node(start=False)
    reader = Api(node, make_token(node, "wallboard", "business", "--can", "read", "--rate", "1"))
    listed = node.cli("token", "list").stdout.splitlines()
    assert "wallboard\tbusiness\tall users\tread\t1/s" in listed, listed
    node.start()
    status, answer = reader.call("GET", f"/v1/users/{ALICE}/presence")
    assert status == 200 and answer["level"] == "business", answer
    # Read-only: no writes. A rate of one a second allows a burst of two, then 429.
    status, answer = reader.call("PUT", f"/v1/users/{ALICE}/lines/201", {"state": "on_call"})
    assert (status, answer["error"], answer["scope"]) == (403, "missing_scope", "sources"), answer
    statuses = [reader.call("GET", f"/v1/users/{ALICE}/presence")[0] for _ in range(4)]
    assert 429 in statuses, statuses
    req = urllib.request.Request(node_url(node, f"/v1/users/{ALICE}/presence"))
    req.add_header("Authorization", f"Bearer {reader.token}")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("expected 429")
    except urllib.error.HTTPError as e:
        assert e.code == 429
        assert int(e.headers["Retry-After"]) >= 1
        assert json.loads(e.read())["error"] == "rate_limited"


def node_url(node, path: str) -> str:
    return f"http://127.0.0.1:{node.http_port}{path}"


def test_removing_a_token_closes_its_event_stream_within_a_second(node):
    token = make_token(node, "wallboard", "team", "--can", "read")
    conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=10)
    conn.request("GET", "/v1/events", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.readline().startswith(b"event: ready"), "ready first"

    node.cli("token", "remove", "wallboard")
    removed = time.monotonic()
    # The node ends the response: reading runs to its end instead of waiting for events.
    conn.sock.settimeout(QUIET_S)
    rest = resp.read()
    closed_after = time.monotonic() - removed
    assert closed_after < 1.0, f"stream still open {closed_after:.2f}s after removal"
    assert b"event: presence" not in rest
    conn.close()
    status, _ = Api(node, token).call("GET", "/v1/events")
    assert status == 401

