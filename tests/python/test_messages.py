"""RFC 6121 §8: chat messages between two local accounts. To a full JID: that resource, when
the sender may address it (it is shown that device), else as to the bare JID. To a bare JID: the
available resource with the highest non-negative priority."""

import asyncio

from conftest import USERS
from harness import Client, befriend, close_all, logged_in, run, show_devices

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_message_to_full_jid_reaches_that_resource(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="laptop")
        async with logged_in(alice, bob):
            # Each shows the other its devices (team), so each may address the other's resource.
            show_devices(node, ALICE, BOB)
            show_devices(node, BOB, ALICE)
            await befriend(alice, bob)
            await alice.wait_presence("bob's laptop", type="available", **{"from": bob.jid})
            await bob.wait_presence("alice's desk", type="available", **{"from": alice.jid})
            alice.x.send_message(mto=bob.jid, mbody="hello bob", mtype="chat")
            m = await bob.wait_message("alice's message", body="hello bob")
            assert m["from"] == alice.jid and m["type"] == "chat", m
            bob.x.send_message(mto=alice.jid, mbody="hello alice", mtype="chat")
            m = await alice.wait_message("bob's reply", body="hello alice")
            assert m["from"] == bob.jid, m

    run(scenario())


def test_message_to_bare_jid_reaches_highest_priority_resource(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        low = Client(node, BOB, USERS[BOB], resource="phone", priority=1)
        high = Client(node, BOB, USERS[BOB], resource="workstation", priority=10)
        async with logged_in(alice, low, high):
            await asyncio.sleep(0.3)  # both initial presences processed
            alice.x.send_message(mto=BOB, mbody="to-bare-1", mtype="chat")
            m = await high.wait_message("message to bob's bare JID at the priority-10 resource", body="to-bare-1")
            assert m["from"] == alice.jid, m
            await low.assert_no("messages", lambda r: r["body"] == "to-bare-1",
                                "the bare-JID message meant for the higher-priority resource", quiet=0.5)

            # The phone raises its priority above the workstation: it now gets them.
            low.presence(priority=20)
            await asyncio.sleep(0.3)
            alice.x.send_message(mto=BOB, mbody="to-bare-2", mtype="chat")
            await low.wait_message("message to the bare JID after the priority change", body="to-bare-2")
            await high.assert_no("messages", lambda r: r["body"] == "to-bare-2",
                                 "the bare-JID message meant for the priority-20 resource", quiet=0.5)

    run(scenario())


def test_message_to_missing_account_comes_back_as_service_unavailable(node):
    """No such account (RFC 6121 §8.5.1): the sender gets a service-unavailable error from
    the bare JID it wrote to. (An account with no resource online keeps the message:
    test_offline_messages.py.)"""

    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        await alice.login()
        try:
            alice.x.send_message(mto="nobody@localhost", mbody="are you there", mtype="chat")
            err = await alice.wait("messages", lambda r: r["type"] == "error",
                                   "error for a message to an account that does not exist")
            assert "service-unavailable" in err["xml"], err["xml"]
            assert err["from"].split("/")[0] == "nobody@localhost", err
        finally:
            await close_all(alice)

    run(scenario())
