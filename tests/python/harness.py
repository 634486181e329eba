"""Test harness: a real `lampfield` process and real slixmpp clients.

`Node` runs the binary named by $LAMPFIELD_BIN (scripts/test sets it) with a config
in a temporary folder: its own data_dir and c2s on 127.0.0.1 at a free port. Users
are created with `lampfield user add` before the node starts.

`Client` wraps slixmpp's ClientXMPP. It trusts the node's self-signed certificate
(data_dir/cert.pem) for the name `localhost`, answers no subscription request on its
own (the test answers explicitly), and records every presence and message it gets so
a test can wait for one with a bounded wait that fails with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import slixmpp

DOMAIN = "localhost"
WAIT_S = 10.0
QUIET_S = 1.5
REPO = Path(__file__).resolve().parents[2]


def lampfield_bin() -> Path:
    """The binary under test: $LAMPFIELD_BIN, else the dev build in the target dir."""
    env = os.environ.get("LAMPFIELD_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "lampfield"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One `lampfield run` process on its own data folder."""

    def __init__(self, workdir: Path, *, extra_c2s: str = "", directory: bool = False) -> None:
        self.bin = lampfield_bin()
        assert self.bin.is_file(), f"lampfield binary not found at {self.bin} (set LAMPFIELD_BIN)"
        self.dir = workdir
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.http_port = free_port()
        self.config = workdir / "lampfield.toml"
        # Most tests are about RFC 6121 subscriptions and strangers between accounts of one
        # domain; the organization directory, which shows every account to every other
        # without them, is on only where a test asks for it (test_directory.py).
        self.config.write_text(
            f'domain = "{DOMAIN}"\n'
            f'data_dir = "{self.data_dir}"\n'
            "[directory]\n"
            f'enabled = {"true" if directory else "false"}\n'
            "[http]\n"
            f'listen = "127.0.0.1:{self.http_port}"\n'
            "[c2s]\n"
            f'listen = "127.0.0.1:{self.port}"\n' + extra_c2s
        )
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "node.log"
        self.starts = 0

    @property
    def cert(self) -> Path:
        return self.data_dir / "cert.pem"

    def cli(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run `lampfield ARGS --config FILE` and return its result."""
        cmd = [str(self.bin), *args, "--config", str(self.config)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin,
                           stdin=None if stdin is not None else subprocess.DEVNULL)
        if check:
            assert r.returncode == 0, (
                f"`{' '.join(cmd[1:])}` exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def add_user(self, jid: str, password: str) -> None:
        self.cli("user", "add", jid, "--password", password)

    def start(self) -> None:
        assert self.proc is None, "node already running"
        self.starts += 1
        log = open(self.log_path, "a")
        log.write(f"----- start {self.starts} -----\n")
        log.flush()
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "info"))
        self.proc = subprocess.Popen(
            [str(self.bin), "run", "--config", str(self.config)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        log.close()
        deadline = time.monotonic() + WAIT_S
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise AssertionError(f"lampfield exited with {code} before listening:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"lampfield did not accept on 127.0.0.1:{self.port} within {WAIT_S}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self, timeout: float = WAIT_S) -> int:
        """SIGTERM, then wait (bounded) for a clean exit; returns the exit code."""
        assert self.proc is not None, "node not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            self.proc = None
            raise AssertionError(f"lampfield did not exit within {timeout}s of SIGTERM:\n{self.log_tail()}")
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT_S)
            self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def presence_record(p) -> dict:
    """A plain snapshot of a presence stanza (slixmpp's `type` folds in `show`)."""
    return {
        "type": p.xml.get("type") or "available",
        "from": str(p["from"]),
        "to": str(p["to"]),
        "show": p["show"] or "",
        "status": p["status"] or "",
        "priority": p["priority"],
        "xml": str(p),
    }


def message_record(m) -> dict:
    return {
        "type": m.xml.get("type") or "normal",
        "from": str(m["from"]),
        "to": str(m["to"]),
        "body": m["body"] or "",
        "xml": str(m),
    }


class Client:
    """A slixmpp client logged in to a `Node` (STARTTLS, the node's certificate trusted)."""

    def __init__(self, node: Node, jid: str, password: str, *, resource: str | None = None,
                 mech: str | None = None, priority: int | None = None,
                 initial_presence: bool = True) -> None:
        self.node = node
        full = f"{jid}/{resource}" if resource else jid
        self.x = slixmpp.ClientXMPP(full, password, sasl_mech=mech)
        self.x.enable_direct_tls = False      # the node offers STARTTLS on its c2s port
        self.x.enable_plaintext = False
        self.x.ca_certs = node.cert          # the node's self-signed certificate
        self.x.roster.auto_authorize = None   # None: neither accept nor refuse; the test answers
        self.x.roster.auto_subscribe = False
        self.x.register_plugin("xep_0199")    # answers the server's pings
        self.priority = priority
        self.initial_presence = initial_presence
        self.presences: list[dict] = []
        self.messages: list[dict] = []
        self.consumed: dict[str, set[int]] = {"presences": set(), "messages": set()}
        self.failed_auth: list[str] = []
        self.stream_errors: list[str] = []
        self.disconnected = False
        self.online = asyncio.get_running_loop().create_future()
        self.x.add_event_handler("session_start", self._session_start)
        self.x.add_event_handler("presence", lambda p: self.presences.append(presence_record(p)))
        self.x.add_event_handler("message", lambda m: self.messages.append(message_record(m)))
        self.x.add_event_handler("message_error", lambda m: self.messages.append(message_record(m)))
        self.x.add_event_handler("failed_auth", self._failed_auth)
        self.x.add_event_handler("failed_all_auth", lambda _e: self._not_online("all SASL mechanisms failed"))
        self.x.add_event_handler("stream_error", lambda e: self.stream_errors.append(str(e)))
        self.x.add_event_handler("disconnected", self._disconnected)

    @property
    def jid(self) -> str:
        return str(self.x.boundjid)

    @property
    def bare(self) -> str:
        return self.x.boundjid.bare

    @property
    def person(self) -> str:
        """Where a viewer below team (colleagues by default: business) sees this user's
        presence from: one presence per person, from the node's own resource
        (docs/ACCESS.md)."""
        return person(self.bare)

    async def _session_start(self, _event) -> None:
        try:
            await self.x.get_roster(timeout=WAIT_S)
            if self.initial_presence:
                self.x.send_presence(ppriority=self.priority)
            if not self.online.done():
                self.online.set_result(True)
        except Exception as e:  # pragma: no cover - reported through the future
            if not self.online.done():
                self.online.set_exception(e)

    def _failed_auth(self, stanza) -> None:
        self.failed_auth.append(stanza["condition"] or "?")

    def _not_online(self, why: str) -> None:
        if not self.online.done():
            self.online.set_exception(ConnectionError(why))

    def _disconnected(self, _e) -> None:
        self.disconnected = True
        self._not_online(f"disconnected before session start (auth failures: {self.failed_auth}, "
                         f"stream errors: {self.stream_errors})")

    async def login(self) -> "Client":
        """Connect, authenticate, bind, fetch the roster and send initial presence."""
        self.x.connect(host="127.0.0.1", port=self.node.port)
        try:
            await asyncio.wait_for(asyncio.shield(self.online), WAIT_S)
        except asyncio.TimeoutError:
            self.x.abort()
            raise AssertionError(f"{self.x.requested_jid}: not online within {WAIT_S}s "
                                 f"(auth failures: {self.failed_auth}, stream errors: {self.stream_errors})")
        return self

    async def close(self) -> None:
        """Orderly close: unavailable presence is the server's job, </stream:stream> ours."""
        if not self.disconnected:
            try:
                await asyncio.wait_for(self.x.disconnect(wait=1.0), WAIT_S)
            except (asyncio.TimeoutError, Exception):
                self.x.abort()

    def abort(self) -> None:
        """Drop the TCP connection without </stream:stream>."""
        self.x.abort()

    # ---------------------------------------------------------------- waiting
    async def wait(self, kind: str, pred, what: str, timeout: float = WAIT_S) -> dict:
        """The first not yet consumed presence/message matching `pred`, within `timeout`."""
        log = getattr(self, kind)
        deadline = time.monotonic() + timeout
        while True:
            for i, rec in enumerate(log):
                if i not in self.consumed[kind] and pred(rec):
                    self.consumed[kind].add(i)
                    return rec
            if time.monotonic() > deadline:
                got = "\n  ".join(r["xml"] for r in log) or "(nothing)"
                raise AssertionError(f"{self.jid}: no {what} within {timeout}s; {kind} received:\n  {got}")
            await asyncio.sleep(0.02)

    async def wait_presence(self, what: str, timeout: float = WAIT_S, **fields) -> dict:
        return await self.wait("presences", lambda r: matches(r, fields), f"presence {what} {fields}", timeout)

    async def wait_message(self, what: str, timeout: float = WAIT_S, **fields) -> dict:
        return await self.wait("messages", lambda r: matches(r, fields), f"message {what} {fields}", timeout)

    async def assert_no(self, kind: str, pred, what: str, quiet: float = QUIET_S) -> None:
        """Wait `quiet` seconds and fail if anything matching `pred` arrived."""
        await asyncio.sleep(quiet)
        bad = [r["xml"] for r in getattr(self, kind) if pred(r)]
        assert not bad, f"{self.jid} received {what}, which it must not:\n  " + "\n  ".join(bad)

    # ---------------------------------------------------------------- actions
    def presence(self, show: str | None = None, status: str | None = None,
                 priority: int | None = None) -> None:
        self.x.send_presence(pshow=show, pstatus=status,
                             ppriority=self.priority if priority is None else priority)

    def presence_with(self, *children: str, show: str | None = None, status: str | None = None) -> None:
        """Available presence with extra child elements given as XML text (e.g. an XEP-0319
        `<idle/>` or a Lampfield device hint)."""
        from xml.etree import ElementTree as ET
        p = self.x.make_presence(pshow=show, pstatus=status, ppriority=self.priority)
        for child in children:
            p.xml.append(ET.fromstring(child))
        p.send()

    async def roster(self) -> dict[str, dict]:
        """A fresh roster get (not slixmpp's cache): bare JID -> item fields."""
        req = self.x.Iq()
        req["type"] = "get"
        req.enable("roster")
        iq = await req.send(timeout=WAIT_S)
        items = {}
        for jid, item in iq["roster"]["items"].items():
            items[str(jid)] = {
                # RFC 6121 §2.1.2.5: an absent subscription attribute means "none".
                "subscription": item["subscription"] or "none",
                "ask": item["ask"],
                "name": item["name"],
                "groups": sorted(item["groups"]),
            }
        return items


def person(bare: str) -> str:
    """The full JID a viewer below team sees `bare`'s presence from."""
    return f"{bare}/lampfield"


def show_devices(node: Node, owner: str, viewer: str) -> None:
    """From now on `viewer` sees `owner` at team, where each of `owner`'s clients shows as a
    resource of its own (below team only the person does)."""
    node.cli("rule", "set", owner, f"contact:{viewer}", "team")


def reveals(rec: dict, bares: tuple[str, ...]) -> bool:
    """Whether a presence tells anything about one of `bares`: it is available, carries a
    status, or is an unavailable from a full JID (a resource). A bare `unavailable`, as
    servers send in answer to a probe they may not answer, reveals nothing."""
    if rec["from"].split("/")[0] not in bares:
        return False
    if rec["type"] == "available" or rec["status"] or rec["show"]:
        return True
    return rec["type"] == "unavailable" and "/" in rec["from"]


def matches(rec: dict, fields: dict) -> bool:
    for k, v in fields.items():
        if k == "from_bare":
            if rec["from"].split("/")[0] != v:
                return False
        elif rec.get(k) != v:
            return False
    return True


async def login_all(*clients: Client) -> None:
    await asyncio.gather(*(c.login() for c in clients))


async def close_all(*clients: Client) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


@contextlib.asynccontextmanager
async def logged_in(*clients: Client):
    """Log the clients in for the block, and out again however the block ends."""
    try:
        await login_all(*clients)
        yield clients
    finally:
        await close_all(*clients)


async def befriend(a: Client, b: Client) -> None:
    """Mutual subscription, as real clients do it: subscribe/subscribed both ways."""
    a.x.send_presence_subscription(pto=b.bare, ptype="subscribe")
    await b.wait_presence("subscribe request", type="subscribe", from_bare=a.bare)
    b.x.send_presence_subscription(pto=a.bare, ptype="subscribed")
    b.x.send_presence_subscription(pto=a.bare, ptype="subscribe")
    await a.wait_presence("subscribed answer", type="subscribed", from_bare=b.bare)
    await a.wait_presence("subscribe request", type="subscribe", from_bare=b.bare)
    a.x.send_presence_subscription(pto=b.bare, ptype="subscribed")
    await b.wait_presence("subscribed answer", type="subscribed", from_bare=a.bare)


def run(coro) -> None:
    """Run one async scenario in a fresh event loop."""
    asyncio.run(coro)


PY = sys.executable
