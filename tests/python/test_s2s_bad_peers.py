"""Hostile servers at the node's s2s port (RFC 6120 §4.9.3, XEP-0220 §2.4), with the real
Prosody as the authoritative server of the domain they claim: every one is refused with
the right stream error, and nothing it sent reaches the node's user."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

from harness import Client, QUIET_S, run
from prosody import LF, PR, lampfield_and_prosody

ALICE, ALICE_PW = f"alice@{LF}", "alice-secret-1"
HEADER = (f"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          f"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
          f"from='{PR}' to='{LF}' version='1.0'>")
MESSAGE = f"<message from='bob@{PR}/x' to='{ALICE}' type='chat'><body>sneaked in</body></message>"


class RawServer:
    """A TCP (then TLS) peer that writes raw XML and collects what it is sent."""

    def __init__(self, port: int) -> None:
        self.sock: socket.socket | ssl.SSLSocket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.heard = ""

    def send(self, xml: str) -> None:
        self.sock.sendall(xml.encode())

    def until(self, needle: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.heard:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, socket.timeout, ssl.SSLError, OSError):
                return needle in self.heard
            if not data:
                return needle in self.heard
            self.heard += data.decode(errors="replace")
        return True

    def starttls(self) -> None:
        """STARTTLS without checking the node's certificate (a hostile peer would not care)."""
        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        assert self.until("<proceed"), self.heard
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=LF)
        self.heard = ""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def test_hostile_servers_are_refused(tmp_path):
    with lampfield_and_prosody(tmp_path, with_certs=True, users={ALICE: ALICE_PW}, prosody_users={}) as f:
        async def scenario():
            alice = Client(f.lf, ALICE, ALICE_PW, resource="desk")
            await alice.login()
            peers: list[RawServer] = []
            try:
                # Garbage: not-well-formed.
                p = RawServer(f.node_s2s_port)
                peers.append(p)
                p.send(HEADER)
                assert p.until("</stream:features>"), p.heard
                assert "<required" in p.heard, f"TLS must be required: {p.heard}"
                p.send(f"<message from='bob@{PR}' to='{ALICE}'><body>x</body></presence>")
                assert p.until("</stream:stream>"), p.heard
                assert "<not-well-formed" in p.heard, p.heard

                # A stream for a domain the node does not serve: host-unknown.
                p = RawServer(f.node_s2s_port)
                peers.append(p)
                p.send(HEADER.replace(f"to='{LF}'", "to='elsewhere.test'"))
                assert p.until("</stream:stream>"), p.heard
                assert "<host-unknown" in p.heard, p.heard

                # Dialback on a plain stream: TLS is required first.
                p = RawServer(f.node_s2s_port)
                peers.append(p)
                p.send(HEADER)
                assert p.until("</stream:features>"), p.heard
                p.send(f"<db:result from='{PR}' to='{LF}'>0123456789abcdef</db:result>")
                assert p.until("</stream:stream>"), p.heard
                assert "<policy-violation" in p.heard, p.heard

                # Dialback over TLS with a key prosody.test never made: Prosody, asked by
                # the node, says invalid; the node refuses with not-authorized.
                p = RawServer(f.node_s2s_port)
                peers.append(p)
                p.send(HEADER)
                assert p.until("</stream:features>"), p.heard
                p.starttls()
                p.send(HEADER)
                assert p.until("</stream:features>"), p.heard
                assert "urn:xmpp:features:dialback" in p.heard, p.heard
                p.send(f"<db:result from='{PR}' to='{LF}'>0123456789abcdef</db:result>")
                p.send(MESSAGE)
                assert p.until("</stream:stream>", timeout=20), p.heard
                assert "type='invalid'" in p.heard or 'type="invalid"' in p.heard, p.heard
                assert "<not-authorized" in p.heard, p.heard

                await asyncio.sleep(QUIET_S)
                leaked = [m["xml"] for m in alice.messages if "sneaked in" in m["xml"]]
                assert not leaked, f"a hostile server's message was delivered: {leaked}"
            except AssertionError as e:
                raise AssertionError(f"{e}\n--- lampfield log ---\n{f.node.log_tail(60)}"
                                     f"\n--- prosody log ---\n{f.prosody.log_tail(40)}") from None
            finally:
                for p in peers:
                    p.close()
                await alice.close()

        run(scenario())
