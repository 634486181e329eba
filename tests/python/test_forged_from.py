"""RFC 6120 §8.1.2.1: the server stamps every stanza from a client with the client's
full JID, or refuses it; a forged `from` never reaches anyone as written."""

import asyncio
import time

from conftest import USERS
from harness import WAIT_S, Client, befriend, run, logged_in

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"


async def marker_or_stream_error(alice: Client, bob: Client, marker: str) -> None:
    """Wait (bounded) until bob has the honest `marker` message, or alice's stream was
    closed by the server (RFC 6120 §4.9.3.9 <invalid-from/>)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if any(r["body"] == marker for r in bob.messages) or alice.stream_errors or alice.disconnected:
            await asyncio.sleep(0.3)  # anything still in flight arrives
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"within {WAIT_S}s neither did bob receive {marker!r} nor was alice's stream closed")


def sent_by_alice_or_refused(bob_saw: list[dict], alice: Client, forged: str, what: str) -> None:
    assert not any(r["from"].split("/")[0] == forged.split("/")[0] for r in bob_saw), (
        f"{what}: bob received a stanza from the forged address {forged}:\n  "
        + "\n  ".join(r["xml"] for r in bob_saw))
    for r in bob_saw:
        assert r["from"] == alice.jid, f"{what}: from={r['from']}, expected alice's full JID {alice.jid}"
    if not bob_saw:
        # Refused: the sender must have been told: a stanza error, or <invalid-from/> and
        # the end of its stream. (When the client has more stanzas in flight, the server's
        # close can arrive as a TCP reset that discards the error element itself, so a
        # closed stream counts too.)
        told = (any("invalid-from" in e for e in alice.stream_errors) or alice.disconnected
                or any(r["type"] == "error" for r in alice.messages + alice.presences))
        assert told, (f"{what}: dropped silently (nothing at bob; alice got no error stanza and "
                      f"no <invalid-from/>; her stream errors: {alice.stream_errors}, "
                      f"disconnected: {alice.disconnected})")


def test_forged_from_in_raw_message_is_rewritten_or_refused(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="honest")
        bob = Client(node, BOB, USERS[BOB], resource="victim")
        carol = Client(node, CAROL, USERS[CAROL], resource="real")
        async with logged_in(alice, bob, carol):
            # Raw XML straight onto alice's authenticated stream.
            alice.x.send_raw(f"<message xmlns='jabber:client' type='chat' to='{bob.jid}' "
                             f"from='{carol.jid}' id='forge1'><body>forged-raw</body></message>")
            alice.x.send_raw(f"<message xmlns='jabber:client' type='chat' to='{bob.jid}' id='honest1'>"
                             f"<body>after-forgery</body></message>")
            await marker_or_stream_error(alice, bob, "after-forgery")
            got = [r for r in bob.messages if r["body"] == "forged-raw"]
            sent_by_alice_or_refused(got, alice, carol.jid, "raw <message from=carol>")

    run(scenario())


def test_forged_from_through_slixmpp_is_rewritten_or_refused(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="honest")
        bob = Client(node, BOB, USERS[BOB], resource="victim")
        async with logged_in(alice, bob):
            # A message claiming to come from bob's own other resource, and one from a
            # foreign domain.
            alice.x.make_message(mto=bob.jid, mbody="forged-self", mtype="chat",
                                 mfrom=f"{BOB}/other").send()
            alice.x.make_message(mto=bob.jid, mbody="forged-remote", mtype="chat",
                                 mfrom="admin@example.com/x").send()
            alice.x.make_message(mto=bob.jid, mbody="marker", mtype="chat").send()
            await marker_or_stream_error(alice, bob, "marker")
            sent_by_alice_or_refused([r for r in bob.messages if r["body"] == "forged-self"],
                                     alice, f"{BOB}/other", "message from=bob/other")
            sent_by_alice_or_refused([r for r in bob.messages if r["body"] == "forged-remote"],
                                     alice, "admin@example.com/x", "message from=admin@example.com")

    run(scenario())


def test_forged_from_in_presence_is_rewritten_or_refused(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="honest")
        bob = Client(node, BOB, USERS[BOB], resource="victim")
        carol = Client(node, CAROL, USERS[CAROL], resource="real")
        async with logged_in(alice, bob, carol):
            await befriend(bob, carol)
            # Alice pretends to be carol in a directed presence and in a broadcast.
            alice.x.send_raw(f"<presence xmlns='jabber:client' to='{bob.jid}' from='{carol.jid}'>"
                             f"<show>dnd</show><status>forged-presence</status></presence>")
            alice.x.send_raw(f"<presence xmlns='jabber:client' from='{carol.jid}'>"
                             f"<show>xa</show><status>forged-broadcast</status></presence>")
            await bob.assert_no("presences", lambda r: "forged" in r["status"] and r["from"].startswith(CAROL),
                                "a forged presence attributed to carol")
            directed = [r for r in bob.presences if r["status"] == "forged-presence"]
            sent_by_alice_or_refused(directed, alice, carol.jid, "directed presence from=carol")

    run(scenario())
