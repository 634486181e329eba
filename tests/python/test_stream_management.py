"""XEP-0198 stream management with slixmpp's own xep_0198 plugin: a client whose TCP
connection drops without </stream:stream> resumes its session on a new connection, with the
same full JID and the messages sent to it meanwhile, and its contacts never see it go
unavailable. A client that does not come back within the resume window ([c2s]
resume_window_s) is logged out: its contacts see unavailable, and a message sent to it while
it was away is kept offline and arrives at its next login instead of being lost."""

import asyncio

from conftest import USERS
from harness import WAIT_S, Client, befriend, close_all, run

ALICE, BOB = "alice@localhost", "bob@localhost"


def with_stream_management(client: Client) -> Client:
    """Register slixmpp's XEP-0198 plugin (resumption on by default) and note its events."""
    client.x.register_plugin("xep_0198")
    client.sm_enabled = asyncio.get_running_loop().create_future()
    client.resumed = asyncio.get_running_loop().create_future()
    client.dropped = asyncio.Event()

    def enabled(stanza):
        if not client.sm_enabled.done():
            client.sm_enabled.set_result(stanza["id"])

    def resumed(_stanza):
        if not client.resumed.done():
            client.resumed.set_result(True)

    client.x.add_event_handler("sm_enabled", enabled)
    client.x.add_event_handler("session_resumed", resumed)
    client.x.add_event_handler("disconnected", lambda _e: client.dropped.set())
    return client


async def drop(client: Client) -> None:
    """Abort the TCP connection (no closing stream tag) and wait until slixmpp noticed."""
    client.dropped.clear()
    client.abort()
    await asyncio.wait_for(client.dropped.wait(), WAIT_S)


def test_a_dropped_connection_is_resumed_with_what_was_sent_meanwhile(node):
    async def scenario():
        alice = with_stream_management(Client(node, ALICE, USERS[ALICE], resource="phone"))
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        try:
            await alice.login()
            await bob.login()
            sm_id = await asyncio.wait_for(alice.sm_enabled, WAIT_S)
            assert sm_id, "the server offers resumption: <enabled/> carries an id"
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})
            full = alice.jid

            await drop(alice)
            bob.x.send_message(mto=full, mbody="sent while you were away", mtype="chat")
            await asyncio.sleep(0.3)
            alice.x.connect(host="127.0.0.1", port=node.port)
            await asyncio.wait_for(alice.resumed, WAIT_S)

            got = await alice.wait_message("sent while the connection was down",
                                           body="sent while you were away")
            assert got["to"] == full, f"the resumed session keeps its full JID: {got['to']}"
            assert alice.jid == full
            # The resumed session goes on both ways.
            alice.x.send_message(mto=bob.jid, mbody="back again", mtype="chat")
            await bob.wait_message("alice's message after resuming", body="back again")
            await bob.assert_no(
                "presences",
                lambda r: r["type"] == "unavailable" and r["from"].split("/")[0] == ALICE,
                "alice unavailable during a drop her client resumed")
            await alice.assert_no(
                "messages", lambda r: r["body"] == "sent while you were away"
                and r is not got, "the message a second time")
        finally:
            await close_all(alice, bob)

    run(scenario())


def test_after_the_resume_window_the_user_is_offline_and_nothing_is_lost(make_node):
    node = make_node(extra_c2s="resume_window_s = 2\n")

    async def scenario():
        alice = with_stream_management(Client(node, ALICE, USERS[ALICE], resource="phone"))
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        later = None
        try:
            await alice.login()
            await bob.login()
            await asyncio.wait_for(alice.sm_enabled, WAIT_S)
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})
            full = alice.jid

            await drop(alice)
            # Within the window: queued for the session, never acknowledged by a client.
            bob.x.send_message(mto=full, mbody="are you there?", mtype="chat")
            await bob.wait_presence("alice unavailable once the resume window is over",
                                    type="unavailable", **{"from": alice.person})
            await bob.assert_no("messages", lambda r: r["type"] == "error",
                                "an error for a message kept for alice", quiet=0.5)

            later = Client(node, ALICE, USERS[ALICE], resource="laptop")
            await later.login()
            got = await later.wait_message("the message sent during the drop, kept offline",
                                           body="are you there?")
            assert "urn:xmpp:delay" in got["xml"], f"kept offline, so stamped: {got['xml']}"
        finally:
            await close_all(*(c for c in (alice, bob, later) if c is not None))

    run(scenario())
