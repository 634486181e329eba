"""XEP-0160: a message to a user with no client online is kept and arrives, with a XEP-0203
delay stamp from the server, when the user comes online; it survives a restart of the node;
a full offline store answers service-unavailable."""

import asyncio
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from conftest import USERS
from harness import Client, close_all, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"
DELAY = "{urn:xmpp:delay}delay"


def delay_of(rec: dict) -> ET.Element:
    delay = ET.fromstring(rec["xml"]).find(DELAY)
    assert delay is not None, f"no XEP-0203 delay on {rec['xml']}"
    return delay


def stamp(delay: ET.Element) -> datetime:
    return datetime.fromisoformat(delay.get("stamp").replace("Z", "+00:00"))


async def send_while_bob_is_offline(node, bodies: list[str]) -> Client:
    """Alice, logged in, sends `bodies` to bob's bare JID; no error comes back."""
    alice = Client(node, ALICE, USERS[ALICE], resource="desk")
    await alice.login()
    for body in bodies:
        alice.x.send_message(mto=BOB, mbody=body, mtype="chat")
    await alice.assert_no("messages", lambda r: r["type"] == "error",
                          "an error for a message kept for an offline user")
    return alice


def test_a_message_to_an_offline_user_arrives_with_a_delay_stamp_at_login(node):
    async def scenario():
        before = datetime.now(timezone.utc) - timedelta(seconds=1)
        alice = await send_while_bob_is_offline(node, ["while you were out", "and again"])
        after = datetime.now(timezone.utc) + timedelta(seconds=1)
        try:
            bob = Client(node, BOB, USERS[BOB], resource="laptop")
            async with logged_in(bob):
                first = await bob.wait_message("the first kept message", body="while you were out")
                second = await bob.wait_message("the second kept message", body="and again")
                assert bob.messages.index(first) < bob.messages.index(second), "in order"
                for m in (first, second):
                    assert m["from"] == alice.jid and m["type"] == "chat", m
                    delay = delay_of(m)
                    assert delay.get("from") == "localhost", m["xml"]
                    assert before <= stamp(delay) <= after, m["xml"]
            # Delivered once: the next login finds nothing.
            again = Client(node, BOB, USERS[BOB], resource="phone")
            async with logged_in(again):
                await again.assert_no("messages", lambda r: True, "a kept message a second time")
        finally:
            await close_all(alice)

    run(scenario())


def test_kept_messages_survive_a_restart_of_the_node(node):
    async def scenario():
        alice = await send_while_bob_is_offline(node, ["before the restart"])
        await close_all(alice)

    run(scenario())
    node.stop()
    node.start()

    async def after_restart():
        bob = Client(node, BOB, USERS[BOB], resource="laptop")
        async with logged_in(bob):
            m = await bob.wait_message("the message kept across the restart", body="before the restart")
            delay_of(m)

    run(after_restart())


def test_a_full_offline_store_answers_service_unavailable(make_node):
    node = make_node(extra_c2s="offline_max_messages = 3\n")

    async def scenario():
        alice = await send_while_bob_is_offline(node, ["1", "2", "3"])
        try:
            alice.x.send_message(mto=BOB, mbody="4", mtype="chat")
            err = await alice.wait("messages", lambda r: r["type"] == "error",
                                   "the error for a message beyond the offline store's limit")
            assert "service-unavailable" in err["xml"], err["xml"]
            assert err["from"] == BOB, err
            bob = Client(node, BOB, USERS[BOB], resource="laptop")
            async with logged_in(bob):
                for body in ("1", "2", "3"):
                    await bob.wait_message(f"kept message {body}", body=body)
                await bob.assert_no("messages", lambda r: r["body"] == "4", "the refused message")
            # Delivery emptied the store: a new message is kept again.
            alice.x.send_message(mto=BOB, mbody="5", mtype="chat")
            await alice.assert_no("messages", lambda r: r["type"] == "error" and r is not err,
                                  "an error once the store has room again")
        finally:
            await close_all(alice)

    run(scenario())
