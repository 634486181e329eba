"""XEP-0368: a client that starts with the TLS handshake on the node's direct-TLS port (set with
`[c2s] direct_tls_listen`) logs in without STARTTLS and is served like any other client."""

from __future__ import annotations

from conftest import USERS
from harness import Client, befriend, free_port, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"


class DirectTls:
    """What `harness.Client` needs of a server, pointing at the direct-TLS port."""

    def __init__(self, node, port: int) -> None:
        self.cert = node.cert
        self.port = port


def test_a_client_logs_in_over_direct_tls_and_sees_its_contact(make_node):
    port = free_port()
    node = make_node(extra_c2s=f'direct_tls_listen = "127.0.0.1:{port}"\n')

    async def scenario():
        alice = Client(DirectTls(node, port), ALICE, USERS[ALICE], resource="direct")
        alice.x.enable_direct_tls = True
        alice.x.enable_starttls = False
        bob = Client(node, BOB, USERS[BOB])
        # STARTTLS is off for alice and the node refuses authentication without TLS, so her
        # login succeeding means the stream ran inside the direct TLS handshake.
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            alice.presence(show="dnd", status="over direct TLS")
            await bob.wait_presence("alice over direct TLS", show="dnd", status="over direct TLS",
                                    from_bare=ALICE)

    run(scenario())


def test_plain_bytes_on_the_direct_tls_port_get_no_stream(make_node):
    """Someone speaking plain XMPP to the direct-TLS port gets no XMPP answer: the port expects a
    TLS handshake first, and nothing is read as a stream before it."""
    import socket
    port = free_port()
    make_node(extra_c2s=f'direct_tls_listen = "127.0.0.1:{port}"\n')
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
        s.settimeout(5)
        try:
            answer = s.recv(4096)
        except (ConnectionResetError, TimeoutError, socket.timeout):
            answer = b""
    assert b"stream:features" not in answer and b"<stream:stream" not in answer, answer
