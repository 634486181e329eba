"""XEP-0163 personal eventing with slixmpp's own plugins (xep_0060, xep_0163, xep_0084, xep_0115,
xep_0191): an avatar published by alice reaches a contact whose caps ask for it, not one whose
caps do not; a contact reads it, a stranger gets item-not-found and a blocked user
service-unavailable; XEP-0402 bookmarks under a whitelist are alice's alone; an OMEMO device list
published with publish-options is read by a contact; conflicting publish-options are refused with
precondition-not-met; an item too large is refused; and everything is kept across a restart.
Retraction and deletion are notified too, and a client that logs in is sent the last item."""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.plugins.xep_0004 import Form

from harness import Client, WAIT_S, befriend, logged_in, run

ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
USERS = {ALICE: "alice-secret-1", BOB: "bob-secret-2", CAROL: "carol-secret-3", DAVE: "dave-secret-4"}
AVATAR = b"\x89PNG fake avatar bytes" * 10
DEVICES = "eu.siacs.conversations.axolotl.devicelist"
BOOKMARKS = "urn:xmpp:bookmarks:1"


def client(node, jid: str, *plugins: str) -> Client:
    c = Client(node, jid, USERS[jid])
    for p in ("xep_0030", "xep_0060", "xep_0163", *plugins):
        c.x.register_plugin(p)
    return c


def options(**fields: str) -> Form:
    form = Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    for var, value in fields.items():
        form.add_field(var=f"pubsub#{var}", value=value)
    return form


async def condition(coro) -> str:
    try:
        await coro
    except slixmpp.exceptions.IqError as e:
        return e.iq["error"]["condition"]
    return "result"


def test_pep_avatars_bookmarks_devices_by_access_level(make_node):
    node = make_node(USERS)

    async def publish():
        alice = client(node, ALICE, "xep_0084", "xep_0191")
        bob = client(node, BOB, "xep_0084")                     # a contact
        dave = client(node, DAVE, "xep_0084")                   # a stranger, later blocked
        async with logged_in(alice, bob, dave):
            await befriend(alice, bob)
            avatar = alice.x["xep_0084"]
            await avatar.publish_avatar(AVATAR, timeout=WAIT_S)
            await avatar.publish_avatar_metadata(
                items=[{"id": "a1b2", "type": "image/png", "bytes": len(AVATAR)}], timeout=WAIT_S)
            # A contact reads the avatar data; a stranger gets what never-published gives.
            got = await bob.x["xep_0060"].get_items(ALICE, "urn:xmpp:avatar:data", timeout=WAIT_S)
            assert len(got["pubsub"]["items"]) == 1, str(got)
            assert await condition(dave.x["xep_0060"].get_items(
                ALICE, "urn:xmpp:avatar:data", timeout=WAIT_S)) == "item-not-found"
            assert await condition(dave.x["xep_0060"].get_items(
                ALICE, "urn:example:never", timeout=WAIT_S)) == "item-not-found"
            await alice.x["xep_0191"].block([DAVE], timeout=WAIT_S)
            assert await condition(dave.x["xep_0060"].get_items(
                ALICE, "urn:xmpp:avatar:data", timeout=WAIT_S)) == "service-unavailable"

            # XEP-0402 bookmarks: whitelist, max items; alice alone reads them.
            conf = ET.fromstring("<conference xmlns='urn:xmpp:bookmarks:1' name='Team' autojoin='true'/>")
            await alice.x["xep_0060"].publish(
                ALICE, BOOKMARKS, id="team@conference.localhost", payload=conf,
                options=options(access_model="whitelist", max_items="max", persist_items="true"),
                timeout=WAIT_S)
            assert await condition(bob.x["xep_0060"].get_items(
                ALICE, BOOKMARKS, timeout=WAIT_S)) == "item-not-found"
            # The same node with other options: precondition-not-met (XEP-0060 §7.1.5).
            assert await condition(alice.x["xep_0060"].publish(
                ALICE, BOOKMARKS, id="x@conference.localhost", payload=conf,
                options=options(access_model="open"), timeout=WAIT_S)) == "conflict"

            # An OMEMO device list, open, read by a contact.
            devices = ET.fromstring("<list xmlns='eu.siacs.conversations.axolotl'><device id='4711'/></list>")
            await alice.x["xep_0060"].publish(
                ALICE, DEVICES, id="current", payload=devices,
                options=options(access_model="open"), timeout=WAIT_S)
            got = await bob.x["xep_0060"].get_items(ALICE, DEVICES, timeout=WAIT_S)
            assert "4711" in str(got), str(got)

            # What PEP does not offer says so (XEP-0060 §6.1.3.x: unsupported).
            assert await condition(alice.x["xep_0060"].subscribe(
                ALICE, DEVICES, timeout=WAIT_S)) == "feature-not-implemented"

            # Too large an item is refused, and says why.
            big = ET.fromstring(f"<data xmlns='urn:xmpp:avatar:data'>{'A' * 140_000}</data>")
            try:
                await alice.x["xep_0060"].publish(ALICE, "urn:xmpp:avatar:data", id="big",
                                                  payload=big, timeout=WAIT_S)
            except slixmpp.exceptions.IqError as e:
                assert e.iq["error"]["condition"] in ("not-acceptable", "policy-violation"), str(e.iq)
            else:
                raise AssertionError("an item past the bound was taken")

    async def after_restart():
        alice, bob = client(node, ALICE), client(node, BOB)
        async with logged_in(alice, bob):
            got = await alice.x["xep_0060"].get_items(ALICE, BOOKMARKS, timeout=WAIT_S)
            assert "team@conference.localhost" in str(got), str(got)
            got = await bob.x["xep_0060"].get_items(ALICE, DEVICES, timeout=WAIT_S)
            assert "4711" in str(got), str(got)

    run(publish())
    node.stop()
    node.start()
    run(after_restart())


def test_pep_notifies_only_clients_whose_caps_ask(make_node):
    node = make_node(USERS)

    async def scenario():
        alice = client(node, ALICE, "xep_0084")
        bob = client(node, BOB, "xep_0115", "xep_0084")        # +notify for avatar metadata
        carol = client(node, CAROL)                             # no interest in caps
        bob_events, carol_events = [], []
        bob.x.add_event_handler("avatar_metadata_publish", lambda m: bob_events.append(m))
        bob.x.add_event_handler("avatar_metadata_retract", lambda m: bob_events.append(m))
        bob.x.add_event_handler("pubsub_delete", lambda m: bob_events.append(m))
        carol.x.add_event_handler("pubsub_publish", lambda m: carol_events.append(m))
        carol.x.add_event_handler("pubsub_retract", lambda m: carol_events.append(m))
        carol.x.add_event_handler("pubsub_delete", lambda m: carol_events.append(m))

        async def bob_told(count: int, what: str) -> None:
            for _ in range(int(WAIT_S * 10)):
                if len(bob_events) >= count:
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(f"bob was not told {what}: {[str(e) for e in bob_events]}")

        async with logged_in(alice, bob, carol):
            await befriend(alice, bob)
            await befriend(alice, carol)
            # The node learns what bob wants by asking his client (disco#info of his caps) once
            # he is online; until that answer is in, a publish may pass him by. Publish until
            # he is told, bounded: each publish is a real change, and carol must never hear one.
            for attempt in range(int(WAIT_S * 4)):
                await alice.x["xep_0084"].publish_avatar_metadata(
                    items=[{"id": f"a1b2{attempt}", "type": "image/png", "bytes": 10}],
                    timeout=WAIT_S)
                for _ in range(3):
                    if bob_events:
                        break
                    await asyncio.sleep(0.1)
                if bob_events:
                    break
            assert bob_events, "bob's client asked for avatar metadata and was not told"
            await asyncio.sleep(0.5)
            assert not carol_events, "carol's caps ask for nothing and she was notified"

            # XEP-0163 §4.3.2: bob's next client is sent the last item when it comes online.
            later = client(node, BOB, "xep_0115", "xep_0084")
            later_events = []
            later.x.add_event_handler("avatar_metadata_publish", lambda m: later_events.append(m))
            async with logged_in(later):
                for _ in range(int(WAIT_S * 10)):
                    if later_events:
                        break
                    await asyncio.sleep(0.1)
                assert later_events, "a client that logs in is not sent the last avatar metadata"
                assert later_events[0]["pubsub_event"]["items"]["item"]["id"], str(later_events[0])

            # A retraction with notify, then the node's deletion (XEP-0060 §7.2.2.1, §8.4.2).
            told = len(bob_events)
            item_id = bob_events[-1]["pubsub_event"]["items"]["item"]["id"]
            await alice.x.plugin["xep_0060"].retract(
                ALICE, "urn:xmpp:avatar:metadata", item_id, notify=True, timeout=WAIT_S)
            await bob_told(told + 1, "of the retraction")
            assert "retract" in str(bob_events[told]), str(bob_events[told])
            await alice.x.plugin["xep_0060"].delete_node(ALICE, "urn:xmpp:avatar:metadata", timeout=WAIT_S)
            await bob_told(told + 2, "of the deletion")
            assert "delete" in str(bob_events[told + 1]), str(bob_events[told + 1])
            await asyncio.sleep(0.5)
            assert not carol_events, f"carol's caps ask for nothing: {[str(e) for e in carol_events]}"

    run(scenario())
