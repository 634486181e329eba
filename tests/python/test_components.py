"""XEP-0114 external components, with slixmpp's own ComponentXMPP as a real third-party
component: a simple XEP-0363 upload service under `upload.localhost`. It connects with its
shared secret (a wrong one is refused), clients find it in the server's disco#items and ask
it directly (disco#info, a slot request, messages, directed presence); the node only routes.
Nothing of a person's presence reaches it but what the person directs at it, and it cannot
speak for anyone outside its own domain.

The XEP-0363 slot request and answer are written as XML here: slixmpp's xep_0363 plugin needs
aiohttp, which the test environment does not install (it would only be used for the HTTP
upload itself, which is the component's business, not the node's)."""

from __future__ import annotations

import asyncio

from xml.etree import ElementTree as ET

import pytest
import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import USERS
from harness import WAIT_S, Client, free_port, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"
UPLOAD = "upload.localhost"
SECRET = "upload-component-secret"
UPLOAD_NS = "urn:xmpp:http:upload:0"


def component_config(port: int) -> str:
    return (
        "\n[components]\n"
        f'listen = "127.0.0.1:{port}"\n'
        "[components.domains]\n"
        f'"{UPLOAD}" = "{SECRET}"\n'
    )


class Upload:
    """slixmpp's ComponentXMPP as a minimal XEP-0363 upload service that also echoes
    messages and answers directed presence."""

    def __init__(self, port: int, secret: str = SECRET) -> None:
        self.port = port
        self.x = slixmpp.ComponentXMPP(UPLOAD, secret, host="127.0.0.1", port=port)
        self.x.register_plugin("xep_0030")
        self.x.register_handler(Callback(
            "slot request", MatchXPath(f"{{{self.x.default_ns}}}iq/{{{UPLOAD_NS}}}request"),
            self._slot))
        self.started = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()
        self.stream_errors: list[str] = []
        self.presences: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str]] = []
        self.x.add_event_handler("session_start", self._start)
        self.x.add_event_handler("disconnected", lambda _e: self._end())
        self.x.add_event_handler("stream_error",
                                 lambda e: self.stream_errors.append(e["condition"]))
        self.x.add_event_handler("message", self._message)
        self.x.add_event_handler("presence", self._presence)

    def _start(self, _e) -> None:
        disco = self.x.plugin["xep_0030"]
        disco.add_identity(category="store", itype="file", name="Uploads", jid=self.x.boundjid)
        disco.add_feature(UPLOAD_NS, jid=self.x.boundjid)
        if not self.started.done():
            self.started.set_result(True)

    def _end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(True)

    def _message(self, msg) -> None:
        self.messages.append((str(msg["from"]), msg["body"]))
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.x.send_message(mto=msg["from"], mfrom=UPLOAD, mbody=f"echo: {msg['body']}",
                                mtype="chat")

    def _presence(self, pres) -> None:
        self.presences.append((str(pres["from"]), pres["type"]))
        if pres["type"] == "available" and str(pres["to"]) == UPLOAD:
            self.x.send_presence(pto=pres["from"], pfrom=UPLOAD, pstatus="uploads open")

    def _slot(self, iq) -> None:
        """XEP-0363 §4: a slot for the file named in the request."""
        req = iq.xml.find(f"{{{UPLOAD_NS}}}request")
        url = f"https://{UPLOAD}/files/{req.get('filename')}"
        reply = iq.reply(clear=True)
        slot = ET.SubElement(reply.xml, f"{{{UPLOAD_NS}}}slot")
        ET.SubElement(slot, f"{{{UPLOAD_NS}}}put", url=url)
        ET.SubElement(slot, f"{{{UPLOAD_NS}}}get", url=url)
        reply.send()

    async def connect(self) -> "Upload":
        self.x.connect()
        done, _ = await asyncio.wait({self.started, self.ended}, timeout=WAIT_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        assert self.started in done, f"component not accepted: {self.stream_errors}"
        return self

    async def close(self) -> None:
        if not self.ended.done():
            try:
                await asyncio.wait_for(self.x.disconnect(wait=1.0), WAIT_S)
            except Exception:
                self.x.abort()

    async def wait(self, what: str, pred) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while not pred():
            assert asyncio.get_running_loop().time() < deadline, \
                f"component: no {what}; presences {self.presences}, messages {self.messages}"
            await asyncio.sleep(0.02)


@pytest.fixture
def comp_node(make_node):
    port = free_port()
    node = make_node(extra_c2s=component_config(port))
    node.component_port = port
    return node


def test_a_wrong_secret_is_refused(comp_node):
    async def go():
        bad = Upload(comp_node.component_port, secret="not-the-secret")
        bad.x.connect()
        done, _ = await asyncio.wait({bad.started, bad.ended}, timeout=WAIT_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        assert bad.ended in done and not bad.started.done(), "a wrong secret must be refused"
        assert bad.stream_errors == ["not-authorized"], bad.stream_errors
        # Refused, it is not listed: the server's items are empty.
        alice = Client(comp_node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0030")
        async with logged_in(alice):
            items = await alice.x.plugin["xep_0030"].get_items(jid="localhost", timeout=WAIT_S)
            assert [i[0] for i in items["disco_items"]["items"]] == []

    run(go())


def test_a_client_finds_and_uses_the_component(comp_node):
    async def go():
        upload = await Upload(comp_node.component_port).connect()
        alice = Client(comp_node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0030")
        try:
            async with logged_in(alice):
                # Discovery: the server lists the component; its disco#info is its own.
                items = await alice.x.plugin["xep_0030"].get_items(jid="localhost", timeout=WAIT_S)
                assert [str(i[0]) for i in items["disco_items"]["items"]] == [UPLOAD]
                info = await alice.x.plugin["xep_0030"].get_info(jid=UPLOAD, timeout=WAIT_S)
                assert str(info["from"]) == UPLOAD, info
                assert ("store", "file", None, "Uploads") in info["disco_info"]["identities"]
                assert UPLOAD_NS in info["disco_info"]["features"]

                # A slot, answered by the component.
                req = alice.x.make_iq_get(ito=UPLOAD)
                ET.SubElement(req.xml, f"{{{UPLOAD_NS}}}request", filename="cat.png",
                              size="1234", **{"content-type": "image/png"})
                slot = await req.send(timeout=WAIT_S)
                got = slot.xml.find(f"{{{UPLOAD_NS}}}slot/{{{UPLOAD_NS}}}get")
                assert got is not None and got.get("url") == f"https://{UPLOAD}/files/cat.png", \
                    slot

                # Alice's broadcast presence never reached it.
                assert not [p for p in upload.presences if p[0].startswith(ALICE)], \
                    upload.presences

                # Messages both ways.
                alice.x.send_message(mto=UPLOAD, mbody="hello", mtype="chat")
                await upload.wait("message from alice",
                                  lambda: (alice.jid, "hello") in upload.messages)
                await alice.wait_message("echo", body="echo: hello", **{"from": UPLOAD})

                # Directed presence reaches it, as sent; its answer reaches alice.
                alice.x.send_presence(pto=UPLOAD, pstatus="here")
                await upload.wait("directed presence",
                                  lambda: (alice.jid, "available") in upload.presences)
                await alice.wait("presences", lambda r: r["from"] == UPLOAD
                                 and r["status"] == "uploads open", "component presence")

                # A change of alice's broadcast presence is not directed at it.
                seen = len(upload.presences)
                alice.presence(show="away", status="coffee")
                await asyncio.sleep(1.0)
                assert upload.presences[seen:] == [], upload.presences[seen:]
            # Alice left: the target of her directed presence hears she went away.
            await upload.wait("unavailable after logout",
                              lambda: (alice.jid, "unavailable") in upload.presences)
        finally:
            await upload.close()

    run(go())


def test_a_component_cannot_speak_for_others_and_absent_means_unreachable(comp_node):
    async def go():
        upload = await Upload(comp_node.component_port).connect()
        bob = Client(comp_node, BOB, USERS[BOB])
        bob.x.register_plugin("xep_0030")
        async with logged_in(bob):
            # A stanza from a foreign `from` ends the component's stream (invalid-from); bob
            # never sees it.
            upload.x.send_message(mto=bob.jid, mfrom=ALICE, mbody="I am alice", mtype="chat")
            await asyncio.wait_for(asyncio.shield(upload.ended), WAIT_S)
            assert upload.stream_errors == ["invalid-from"], upload.stream_errors
            await bob.assert_no("messages", lambda r: r["body"] == "I am alice", "a forged message")

            # Not connected: not listed, and unreachable.
            items = await bob.x.plugin["xep_0030"].get_items(jid="localhost", timeout=WAIT_S)
            assert [i[0] for i in items["disco_items"]["items"]] == []
            with pytest.raises(IqError) as refused:
                await bob.x.plugin["xep_0030"].get_info(jid=UPLOAD, timeout=WAIT_S)
            assert refused.value.iq["error"]["condition"] == "remote-server-not-found"

    run(go())


COMPONENT_HEADER = ("<stream:stream xmlns='jabber:component:accept' "
                    "xmlns:stream='http://etherx.jabber.org/streams' to='{to}'>")


def raw_component(port: int, to: str = UPLOAD):
    """A raw component connection: the socket and the server's stream header."""
    import socket

    from rawxmpp import read_until
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    sock.sendall(COMPONENT_HEADER.format(to=to).encode())
    header = read_until(sock, r"<stream:stream[^>]*>")
    return sock, header


def raw_handshake(port: int, secret: str):
    import hashlib
    import re

    from rawxmpp import read_until
    sock, header = raw_component(port)
    sid = re.search(r"id='([^']+)'", header).group(1)
    value = hashlib.sha1((sid + secret).encode()).hexdigest()
    sock.sendall(f"<handshake>{value}</handshake>".encode())
    return sock, read_until(sock, r"<handshake[^>]*/>|</stream:stream>")


def test_raw_component_streams_are_held_to_the_rules(comp_node):
    from rawxmpp import read_until
    port = comp_node.component_port

    # A domain that is no component's.
    sock, header = raw_component(port, to="nobody.localhost")
    if "</stream:stream>" not in header:
        header += read_until(sock, r"</stream:stream>")
    assert "host-unknown" in header, header
    sock.close()

    # The header gives the component's domain and a stream id, no version.
    sock, header = raw_component(port)
    assert f"from='{UPLOAD}'" in header and "id='" in header and " version=" not in header.split("?>")[-1], header
    # A stanza before the handshake.
    sock.sendall(f"<message from='{UPLOAD}' to='{ALICE}'><body>x</body></message>".encode())
    assert "not-authorized" in read_until(sock, r"</stream:stream>")
    sock.close()

    # One connection per domain: the newer one takes over, the older ends with conflict.
    first, answer = raw_handshake(port, SECRET)
    assert "<handshake" in answer and "error" not in answer, answer
    second, answer = raw_handshake(port, SECRET)
    assert "<handshake" in answer and "error" not in answer, answer
    assert "conflict" in read_until(first, r"</stream:stream>")
    first.close()
    second.close()

    # Failed handshakes from one address are rate-limited: after five, the next connection
    # is refused before it may try, even with the right secret.
    for _ in range(5):
        sock, answer = raw_handshake(port, "wrong")
        assert "not-authorized" in answer, answer
        sock.close()
    import socket
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    assert "policy-violation" in read_until(sock, r"</stream:stream>")
    sock.close()
