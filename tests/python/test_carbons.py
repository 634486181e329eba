"""XEP-0280 Message Carbons 1.0.1 with slixmpp's own xep_0280 plugin: alice's resources that
enabled carbons see what her other resources received and sent (wrapped, from her bare JID);
a resource that did not enable them gets nothing but what is addressed to it."""

import asyncio

from conftest import USERS
from harness import WAIT_S, Client, befriend, logged_in, run, show_devices

ALICE, BOB = "alice@localhost", "bob@localhost"


def carbons_client(node, jid, resource):
    c = Client(node, jid, USERS[jid], resource=resource)
    c.x.register_plugin("xep_0280")
    c.carbons = {"received": [], "sent": []}
    c.x.add_event_handler(
        "carbon_received",
        lambda m: c.carbons["received"].append(m["carbon_received"]))
    c.x.add_event_handler(
        "carbon_sent", lambda m: c.carbons["sent"].append(m["carbon_sent"]))
    return c


async def wait_carbon(c, direction, body):
    """The message the first `direction` carbon with `body` carries."""
    for _ in range(int(WAIT_S / 0.02)):
        for m in c.carbons[direction]:
            if m["body"] == body:
                return m
        await asyncio.sleep(0.02)
    raise AssertionError(f"{c.jid}: no {direction} carbon of {body!r}; got {c.carbons}")


def test_received_and_sent_carbons(node):
    async def scenario():
        desk = carbons_client(node, ALICE, "desk")
        phone = carbons_client(node, ALICE, "phone")
        tablet = carbons_client(node, ALICE, "tablet")
        bob = Client(node, BOB, USERS[BOB], resource="laptop")
        async with logged_in(desk, phone, tablet, bob):
            # Alice shows bob her devices, so he may write to her desk itself.
            show_devices(node, ALICE, BOB)
            await befriend(desk, bob)
            await bob.wait_presence("alice's desk", type="available", **{"from": desk.jid})
            info = await desk.x.plugin["xep_0030"].get_info(jid="localhost", timeout=WAIT_S)
            assert "urn:xmpp:carbons:2" in info["disco_info"]["features"], info
            await desk.x.plugin["xep_0280"].enable(timeout=WAIT_S)
            await phone.x.plugin["xep_0280"].enable(timeout=WAIT_S)

            bob.x.send_message(mto=desk.jid, mbody="hello desk", mtype="chat")
            m = await desk.wait_message("bob's message", body="hello desk")
            assert m["from"] == bob.jid, m
            fwd = await wait_carbon(phone, "received", "hello desk")
            assert str(fwd["from"]) == bob.jid, fwd

            desk.x.send_message(mto=bob.jid, mbody="hello bob", mtype="chat")
            await bob.wait_message("alice's answer", body="hello bob")
            fwd = await wait_carbon(phone, "sent", "hello bob")
            assert str(fwd["from"]) == desk.jid and str(fwd["to"]) == bob.jid, fwd

            # A private message is not copied.
            private = desk.x.make_message(mto=bob.jid, mbody="just here", mtype="chat")
            private.enable("carbon_private")
            private.send()
            await bob.wait_message("alice's private message", body="just here")

            await tablet.assert_no("messages", lambda r: "carbons" in r["xml"] or r["body"],
                                   "a carbon, without enabling carbons")
            assert tablet.carbons == {"received": [], "sent": []}, tablet.carbons
            assert not [m for m in phone.carbons["sent"] if m["body"] == "just here"]
            assert not desk.carbons["received"] and not desk.carbons["sent"], desk.carbons

    run(scenario())
