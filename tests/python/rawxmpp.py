"""A few raw XMPP steps over a plain socket, for what a polite client library will not
do: read the features offered before and after STARTTLS."""

from __future__ import annotations

import re
import socket
import ssl
import time

from harness import DOMAIN, WAIT_S, Node

HEADER = ("<?xml version='1.0'?><stream:stream to='{to}' xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
LIMIT = 65536


def read_until(sock, pattern: str, timeout: float = WAIT_S) -> str:
    """Read until `pattern` (a regex) appears; bounded in time and bytes."""
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        text = buf.decode(errors="replace")
        if re.search(pattern, text, re.S):
            return text
        left = deadline - time.monotonic()
        assert left > 0 and len(buf) < LIMIT, f"no {pattern!r} from the server within {timeout}s; got: {text!r}"
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        assert chunk, f"connection closed while waiting for {pattern!r}; got: {text!r}"
        buf += chunk


def mechanisms(features: str) -> set[str]:
    return set(re.findall(r"<mechanism>([^<]+)</mechanism>", features))


def features_before_and_after_tls(node: Node) -> tuple[str, str]:
    """The <stream:features/> on the plain stream, and those after STARTTLS."""
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=WAIT_S)
    try:
        sock.sendall(HEADER.format(to=DOMAIN).encode())
        before = read_until(sock, r"</stream:features>|<stream:features[^>]*/>")
        assert "urn:ietf:params:xml:ns:xmpp-tls" in before, f"no STARTTLS offered: {before}"
        sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        read_until(sock, r"<proceed[^>]*/>")
        ctx = ssl.create_default_context(cafile=str(node.cert))
        tls = ctx.wrap_socket(sock, server_hostname=DOMAIN)
        tls.sendall(HEADER.format(to=DOMAIN).encode())
        after = read_until(tls, r"</stream:features>")
        tls.close()
        return before, after
    finally:
        sock.close()
