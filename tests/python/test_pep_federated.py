"""XEP-0163 items read across s2s by users of a real Prosody, with slixmpp's xep_0060: a Prosody
contact of a Lampfield user reads her avatar and her OMEMO device list (what an encrypting client
fetches before the first message), a Prosody stranger gets what a node never published gives, and
her whitelisted bookmarks stay hers (docs/ACCESS.md)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError

from harness import Client, WAIT_S, logged_in, run
from prosody import LF, PR, lampfield_and_prosody

ALICE, ALICE_PW = f"alice@{LF}", "alice-secret-1"
BOB, BOB_PW = f"bob@{PR}", "bob-secret-2"
CARL, CARL_PW = f"carl@{PR}", "carl-secret-3"
DEVICES = "eu.siacs.conversations.axolotl.devicelist"
BOOKMARKS = "urn:xmpp:bookmarks:1"


async def condition(request) -> str:
    try:
        await request
    except IqError as e:
        return e.condition
    return "result"


def test_prosody_users_read_pep_items_by_their_level(tmp_path):
    with lampfield_and_prosody(tmp_path, with_certs=True, users={ALICE: ALICE_PW},
                               prosody_users={"bob": BOB_PW, "carl": CARL_PW}) as f:

        async def scenario():
            alice = Client(f.lf, ALICE, ALICE_PW, resource="desk")
            bob = Client(f.pr, BOB, BOB_PW, resource="phone")
            carl = Client(f.pr, CARL, CARL_PW, resource="laptop")
            for c in (alice, bob, carl):
                c.x.register_plugin("xep_0060")
            async with logged_in(alice, bob, carl):
                bob.x.send_presence_subscription(pto=ALICE, ptype="subscribe")
                await alice.wait_presence("request from prosody", type="subscribe", from_bare=BOB,
                                          timeout=2 * WAIT_S)
                alice.x.send_presence_subscription(pto=BOB, ptype="subscribed")
                await bob.wait_presence("alice available", type="available",
                                        **{"from": alice.person})

                pubsub = alice.x.plugin["xep_0060"]
                devices = ET.fromstring(
                    "<list xmlns='eu.siacs.conversations.axolotl'><device id='1234'/></list>")
                await pubsub.publish(ALICE, DEVICES, id="current", payload=devices, timeout=WAIT_S)
                mark = ET.fromstring("<conference xmlns='urn:xmpp:bookmarks:1' name='Team'/>")
                form = pubsub.xmpp.plugin["xep_0004"].make_form(ftype="submit")
                form.add_field(var="FORM_TYPE", ftype="hidden",
                               value="http://jabber.org/protocol/pubsub#publish-options")
                form.add_field(var="pubsub#access_model", value="whitelist")
                await pubsub.publish(ALICE, BOOKMARKS, id="team@muc.example", payload=mark,
                                     options=form, timeout=WAIT_S)

                got = await bob.x.plugin["xep_0060"].get_items(ALICE, DEVICES, timeout=2 * WAIT_S)
                assert "device id=\"1234\"" in str(got) or "device id='1234'" in str(got), str(got)
                # The stranger and the bookmarks: as if never published.
                assert await condition(carl.x.plugin["xep_0060"].get_items(
                    ALICE, DEVICES, timeout=2 * WAIT_S)) == "item-not-found"
                assert await condition(bob.x.plugin["xep_0060"].get_items(
                    ALICE, BOOKMARKS, timeout=2 * WAIT_S)) == "item-not-found"
                assert await condition(bob.x.plugin["xep_0060"].get_items(
                    ALICE, "urn:example:never", timeout=2 * WAIT_S)) == "item-not-found"
                # Publishing into her service from outside is hers alone.
                assert await condition(bob.x.plugin["xep_0060"].publish(
                    ALICE, DEVICES, id="current", payload=devices,
                    timeout=2 * WAIT_S)) == "forbidden"

        run(scenario())
