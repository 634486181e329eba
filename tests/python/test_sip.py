"""SIP with a real SIP tool: SIPp (Debian's sip-tester) as the PBX publishing RFC 4235
dialog-info and as a desk phone's busy lamp key, against the `lampfield` binary; a slixmpp
contact watches the user's presence follow the phone (docs/SIP.md); Kamailio with pua_dialoginfo
routing a call between two SIPp user agents publishes it. Hostile datagrams from a
plain socket. Skips when SIPp is not installed (scripts/test installs it)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import USERS
from harness import Client, befriend, close_all, free_port, login_all, run
from test_http_api import Api, make_token

ALICE, BOB = "alice@localhost", "bob@localhost"
SCENARIOS = Path(__file__).parent / "sipp"

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None,
    reason="SIPp not installed (Debian package sip-tester; scripts/test installs it)",
)


def sip_node(make_node, **extra: str):
    port = free_port()
    settings = {"trusted": '["127.0.0.1"]', "trusted_level": '"team"', "min_expires_s": "1"}
    settings.update(extra)
    section = f'[sip]\nenabled = true\nlisten = "127.0.0.1:{port}"\n' + "".join(
        f"{k} = {v}\n" for k, v in settings.items())
    node = make_node(extra_c2s=section)
    node.sip_port = port
    api = Api(node, make_token(node, "pbx", "personal"))
    api.put(f"/v1/users/{ALICE}/extensions/201", {})
    # Ringing is team detail: alice lets bob see team.
    api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team"}})
    return node, api


async def sipp(node, scenario: str, tmp: Path, *, timeout_s: int = 30) -> None:
    """Run one SIPp call of `scenario` against the node; fail with its error log."""
    cmd = ["sipp", "-sf", str(SCENARIOS / scenario), "-m", "1", "-s", "201",
           "-i", "127.0.0.1", "-p", str(free_port()), "-t", "u1",
           "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin", "-trace_err",
           "-error_file", str(tmp / f"{scenario}.err"),
           f"127.0.0.1:{node.sip_port}"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL)
    _, err = await proc.communicate()
    log = (tmp / f"{scenario}.err")
    errors = log.read_text(errors="replace") if log.exists() else ""
    assert proc.returncode == 0, (
        f"sipp {scenario} exited {proc.returncode}\n{err.decode(errors='replace')}\n{errors}\n"
        f"{node.log_tail()}")


async def alice_watched_by_bob(node):
    """alice and bob logged in and friends, bob having seen alice online."""
    alice = Client(node, ALICE, USERS[ALICE], resource="desk")
    bob = Client(node, BOB, USERS[BOB], resource="desk")
    await login_all(alice, bob)
    await befriend(alice, bob)
    await bob.wait("presences", lambda r: r["from"].startswith(ALICE)
                   and r["type"] == "available", "alice online")
    return alice, bob


def alice_says(bob, text: str, what: str, show: str | None = None):
    """bob's wait for a presence of alice's whose status contains `text`."""
    return bob.wait("presences", lambda r: r["from"].startswith(ALICE) and text in r["status"]
                    and (show is None or r["show"] == show), what)


def alice_available_again(bob, what: str):
    return bob.wait("presences",
                    lambda r: r["from"].startswith(ALICE) and r["type"] == "available"
                    and r["show"] == "" and "phone" not in r["status"], what)


def lamp(api) -> str:
    status, answer = api.call("GET", f"/v1/users/{ALICE}/presence")
    assert status == 200, answer
    return answer["view"]["presence"]["lines"].get("201", {}).get("state", "none")


def test_a_pbx_publishing_a_call_shows_ringing_on_the_phone_then_available(make_node, tmp_path):
    node, api = sip_node(make_node)

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            pbx = asyncio.ensure_future(sipp(node, "publish_call.xml", tmp_path))
            await alice_says(bob, "Ringing", "alice's phone ringing (SIP early)")
            await alice_says(bob, "On the phone", "alice on the phone (SIP confirmed)", show="dnd")
            await alice_available_again(bob, "alice available again (SIP terminated)")
            await pbx
            assert lamp(api) == "idle"
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_a_pbx_that_stops_refreshing_has_its_call_expire(make_node, tmp_path):
    node, api = sip_node(make_node)

    async def scenario():
        alice, bob = await alice_watched_by_bob(node)
        try:
            await sipp(node, "publish_and_vanish.xml", tmp_path)
            assert lamp(api) == "on_call"
            await alice_says(bob, "On the phone", "alice on the phone")
            # Nothing refreshes the 2 s publication: the sweep takes the call away.
            await alice_available_again(bob, "alice available after the publication expired")
            assert lamp(api) == "idle"
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_a_blf_subscriber_gets_notifies_of_the_line(make_node, tmp_path):
    node, api = sip_node(make_node)

    async def scenario():
        phone = asyncio.ensure_future(sipp(node, "subscribe_blf.xml", tmp_path))
        await asyncio.sleep(1.5)  # SIPp subscribed and got the first NOTIFY
        assert not phone.done() or phone.exception() is None
        api.put(f"/v1/users/{ALICE}/lines/201", {"state": "ringing"})
        await asyncio.sleep(0.5)
        api.put(f"/v1/users/{ALICE}/lines/201", {"state": "on_call"})
        await phone

    run(scenario())


def test_hostile_sip_gets_errors_and_the_node_keeps_serving(make_node, tmp_path):
    node, api = sip_node(make_node, max_message_bytes="8192", rate_per_s="20")
    target = ("127.0.0.1", node.sip_port)

    def publish(call: str, body: str = "") -> bytes:
        return (f"PUBLISH sip:201@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5999;branch=z9hG4bK{call}\r\n"
                f"From: <sip:x@y>;tag={call}\r\nTo: <sip:201@localhost>\r\nCall-ID: {call}\r\n"
                f"CSeq: 1 PUBLISH\r\nEvent: dialog\r\nContent-Type: application/dialog-info+xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as trusted, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        trusted.bind(("127.0.0.1", 0))
        stranger.bind(("127.0.0.2", 0))
        trusted.settimeout(5)
        stranger.settimeout(5)
        trusted.sendto(b"\x00\x01garbage\xff", target)
        trusted.sendto(publish("big", "x" * 9000), target)
        answer = trusted.recv(70000).decode(errors="replace")
        assert answer.startswith("SIP/2.0 513 "), answer
        stranger.sendto(publish("s1", "<dialog-info/>"), target)
        answer = stranger.recv(70000).decode(errors="replace")
        assert answer.startswith("SIP/2.0 403 "), answer
        # A flood from the stranger: answered 403 until the rate limit drops the rest.
        for i in range(500):
            stranger.sendto(publish(f"f{i}"), target)
    # The node still serves: a real PBX publishes a whole call, and the API answers.
    run(sipp(node, "publish_call.xml", tmp_path))
    assert lamp(api) == "idle"
    assert "panicked" not in node.log_path.read_text(errors="replace")


KAMAILIO = Path(__file__).parent / "kamailio" / "kamailio.cfg"


def udp_answers(port: int, wait_s: float = 10.0) -> bool:
    """Whether something answers an OPTIONS on 127.0.0.1:`port` within `wait_s`."""
    import time
    deadline = time.monotonic() + wait_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        me = s.getsockname()[1]
        while time.monotonic() < deadline:
            s.sendto((f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKping\r\nMax-Forwards: 5\r\n"
                      "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\n"
                      "Call-ID: ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(),
                     ("127.0.0.1", port))
            try:
                s.recv(65535)
                return True
            except OSError:
                pass
        return False


@pytest.mark.skipif(shutil.which("kamailio") is None
                    or not Path("/usr/share/kamailio/dbtext/kamailio").is_dir(),
                    reason="Kamailio not installed (Debian packages kamailio, kamailio-presence-modules)")
def test_kamailio_publishes_a_routed_call_with_pua_dialoginfo(make_node, tmp_path):
    node, api = sip_node(make_node)
    kport, callee_port = free_port(), free_port()
    dbdir = tmp_path / "dbtext"
    shutil.copytree("/usr/share/kamailio/dbtext/kamailio", dbdir)
    (tmp_path / "run").mkdir()
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(KAMAILIO.read_text()
                   .replace("@PORT@", str(kport))
                   .replace("@CALLEE@", f"127.0.0.1:{callee_port}")
                   .replace("@LAMPFIELD@", f"127.0.0.1:{node.sip_port}")
                   .replace("@DBDIR@", str(dbdir)))
    log = open(tmp_path / "kamailio.log", "w")
    kamailio = subprocess.Popen(
        ["kamailio", "-f", str(cfg), "-DD", "-E", "-Y", str(tmp_path / "run"),
         "-P", str(tmp_path / "run" / "kamailio.pid")],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def kamailio_log() -> str:
        return (tmp_path / "kamailio.log").read_text(errors="replace")[-4000:]

    try:
        assert udp_answers(kport), f"Kamailio did not start:\n{kamailio_log()}"

        async def scenario():
            alice, bob = await alice_watched_by_bob(node)
            try:
                callee = await asyncio.create_subprocess_exec(
                    "sipp", "-sf", str(SCENARIOS / "uas_ring.xml"), "-m", "1", "-i", "127.0.0.1",
                    "-p", str(callee_port), "-t", "u1", "-timeout", "30s", "-timeout_error",
                    "-nostdin", cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL)
                await asyncio.sleep(0.5)
                caller = await asyncio.create_subprocess_exec(
                    "sipp", "-sn", "uac", "-s", "201", "-d", "2000", "-m", "1",
                    "-i", "127.0.0.1", "-p", str(free_port()), "-t", "u1", "-timeout", "30s",
                    "-timeout_error", "-nostdin", f"127.0.0.1:{kport}",
                    cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL)
                try:
                    await alice_says(bob, "Ringing", "alice's phone ringing (Kamailio: early)")
                    await alice_says(bob, "On the phone", "alice on the phone (Kamailio: confirmed)", show="dnd")
                    await alice_available_again(bob, "alice available (Kamailio: terminated)")
                except AssertionError as e:
                    raise AssertionError(f"{e}\n--- kamailio\n{kamailio_log()}\n--- node\n{node.log_tail()}")
                for name, proc in (("caller", caller), ("callee", callee)):
                    _, err = await proc.communicate()
                    assert proc.returncode == 0, f"sipp {name} exited {proc.returncode}: {err.decode()}"
            finally:
                await close_all(alice, bob)

        run(scenario())
        assert lamp(api) == "idle"
    finally:
        kamailio.terminate()
        try:
            kamailio.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kamailio.kill()
            kamailio.wait(timeout=10)
        log.close()
