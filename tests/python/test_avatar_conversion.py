"""XEP-0398 avatar conversion with slixmpp's own xep_0084, xep_0054 and xep_0030 plugins: an
avatar published with XEP-0084 shows in the vCard a contact reads, a vCard photo shows in
XEP-0084, the server puts the avatar hash into the user's presence, and the account says it
converts."""

from __future__ import annotations

import hashlib

from conftest import USERS
from harness import Client, WAIT_S, befriend, logged_in, run

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
FEATURE = "urn:xmpp:pep-vcard-conversion:0"
# Two small pictures' worth of bytes.
PEP_PICTURE = bytes(range(256)) * 8
VCARD_PICTURE = bytes(reversed(range(256))) * 6


def client(node, jid: str) -> Client:
    c = Client(node, jid, USERS[jid], resource="desk")
    for plugin in ("xep_0030", "xep_0054", "xep_0060", "xep_0084"):
        c.x.register_plugin(plugin)
    return c


def test_avatars_convert_both_ways_and_the_hash_goes_into_presence(make_node):
    node = make_node(USERS)

    async def scenario():
        alice, bob, carol = (client(node, j) for j in (ALICE, BOB, CAROL))
        async with logged_in(alice, bob, carol):
            await befriend(alice, bob)
            await befriend(carol, bob)

            info = await alice.x.plugin["xep_0030"].get_info(jid=ALICE, timeout=WAIT_S)
            assert FEATURE in info["disco_info"]["features"], str(info)

            # Alice publishes with XEP-0084 only, as Conversations and Dino do.
            pep_id = hashlib.sha1(PEP_PICTURE).hexdigest()
            avatar = alice.x.plugin["xep_0084"]
            await avatar.publish_avatar(PEP_PICTURE, timeout=WAIT_S)
            await avatar.publish_avatar_metadata(
                items=[{"id": pep_id, "type": "image/png", "bytes": len(PEP_PICTURE)}],
                timeout=WAIT_S)
            # Bob, a contact, reads her vCard (as a client of a group chat would) and finds it.
            card = await bob.x.plugin["xep_0054"].get_vcard(ALICE, cached=False, timeout=WAIT_S)
            assert card["vcard_temp"]["PHOTO"]["BINVAL"] == PEP_PICTURE, str(card)
            assert card["vcard_temp"]["PHOTO"]["TYPE"] == "image/png"
            # Her next presence carries the hash, though her client never computed one.
            alice.presence(status="with a face")
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and pep_id in r["xml"],
                           "alice's avatar hash put in by the server")

            # Carol sets a vCard photo the old way; XEP-0084 readers see it.
            vcard_id = hashlib.sha1(VCARD_PICTURE).hexdigest()
            vcard = carol.x.plugin["xep_0054"].make_vcard()
            vcard["FN"] = "Carol"
            vcard["PHOTO"]["TYPE"] = "image/jpeg"
            vcard["PHOTO"]["BINVAL"] = VCARD_PICTURE
            await carol.x.plugin["xep_0054"].publish_vcard(vcard, timeout=WAIT_S)
            meta = await bob.x.plugin["xep_0060"].get_items(CAROL, "urn:xmpp:avatar:metadata", timeout=WAIT_S)
            [item] = list(meta["pubsub"]["items"])
            assert item["id"] == vcard_id, str(meta)
            assert f"id=\"{vcard_id}\"" in str(meta) and "image/jpeg" in str(meta), str(meta)
            data = await bob.x.plugin["xep_0060"].get_item(CAROL, "urn:xmpp:avatar:data", vcard_id,
                                                     timeout=WAIT_S)
            assert data["pubsub"]["items"]["item"]["avatar_data"]["value"] == VCARD_PICTURE

            # Removing the avatar (empty metadata) removes the vCard photo, the rest stays.
            await avatar.stop(timeout=WAIT_S)
            card = await bob.x.plugin["xep_0054"].get_vcard(ALICE, cached=False, timeout=WAIT_S)
            assert not card["vcard_temp"]["PHOTO"]["BINVAL"], str(card)

    run(scenario())
