"""XEP-0054 vcard-temp and XEP-0153 vCard-based avatars with slixmpp's xep_0054 and xep_0153
plugins: a user's vCard, its photo the avatar, is theirs to set and read back, a contact reads it
(from public on, docs/ACCESS.md) and gets the avatar hash in presence, a stranger gets exactly what
a user without a vCard gives, a blocked viewer what an account that does not exist gives, and it
is all still there after a restart. A vCard larger than the node keeps is refused with a reason."""

from __future__ import annotations

import hashlib
import re

import pytest
from slixmpp.exceptions import IqError

from conftest import USERS
from harness import Client, WAIT_S, befriend, logged_in, run
from test_http_api import Api, make_token

ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
ACCOUNTS = {**USERS, DAVE: "dave-secret-4"}
NOBODY = "nobody@localhost"
# A small picture's worth of bytes (an avatar is a few KiB).
PHOTO = bytes(range(256)) * 24
PHOTO_HASH = hashlib.sha1(PHOTO).hexdigest()


def client(node, jid: str) -> Client:
    c = Client(node, jid, ACCOUNTS[jid], resource="desk")
    c.x.register_plugin("xep_0054")
    c.x.register_plugin("xep_0153")
    return c


async def vcard_of(viewer: Client, target: str):
    """The vCard `viewer` gets for `target`'s bare JID (an IqError when refused)."""
    return await viewer.x.plugin["xep_0054"].get_vcard(target, cached=False, timeout=WAIT_S)


def answer_xml(iq) -> str:
    """An answer as an observer compares it: without the id and the addresses."""
    return re.sub(r" (id|from|to)=(\"[^\"]*\"|'[^']*')", "", str(iq))


def test_a_vcard_with_its_avatar_reaches_contacts_and_nobody_else_across_a_restart(make_node):
    node = make_node(users=ACCOUNTS)

    async def publish():
        alice, bob, carol, dave = (client(node, j) for j in (ALICE, BOB, CAROL, DAVE))
        async with logged_in(alice, bob, carol, dave):
            await befriend(alice, bob)
            await befriend(alice, dave)
            api = Api(node, make_token(node, "vcard", "personal"))
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {DAVE: "blocked"}})

            # Alice has none yet: the empty vCard, as for everyone without one.
            empty = await vcard_of(alice, ALICE)
            assert not empty["vcard_temp"]["FN"], str(empty)

            card = alice.x.plugin["xep_0054"].make_vcard()
            card["FN"] = "Alice Liddell"
            card["NICKNAME"] = "alice"
            await alice.x.plugin["xep_0054"].publish_vcard(card, timeout=WAIT_S)
            # xep_0153 reads the vCard, adds the photo, publishes and sends presence again.
            await alice.x.plugin["xep_0153"].set_avatar(avatar=PHOTO, mtype="image/png", timeout=WAIT_S)

            own = await vcard_of(alice, ALICE)
            assert own["vcard_temp"]["FN"] == "Alice Liddell", str(own)
            assert own["vcard_temp"]["PHOTO"]["BINVAL"] == PHOTO

            # A contact (business by default) reads it and sees the avatar hash in presence.
            seen = await vcard_of(bob, ALICE)
            assert seen["vcard_temp"]["FN"] == "Alice Liddell", str(seen)
            assert hashlib.sha1(seen["vcard_temp"]["PHOTO"]["BINVAL"]).hexdigest() == PHOTO_HASH
            await bob.wait("presences",
                           lambda r: r["from"] == alice.person and PHOTO_HASH in r["xml"],
                           "alice's avatar hash")

            # A stranger gets exactly what a user without a vCard (bob) gives.
            stranger = await vcard_of(carol, ALICE)
            no_vcard = await vcard_of(carol, BOB)
            assert answer_xml(stranger) == answer_xml(no_vcard), (str(stranger), str(no_vcard))
            assert "Alice" not in str(stranger) and PHOTO_HASH not in str(stranger)

            # Blocked: what an account that does not exist gives.
            for target in (ALICE, NOBODY):
                with pytest.raises(IqError) as err:
                    await vcard_of(dave, target)
                assert err.value.iq["error"]["condition"] == "service-unavailable", target

            # Nobody but alice sets alice's vCard.
            with pytest.raises(IqError) as err:
                await bob.x.plugin["xep_0054"].publish_vcard(card, jid=ALICE, timeout=WAIT_S)
            assert err.value.iq["error"]["condition"] == "forbidden"

            # Too large: refused with a reason, the stored one stays.
            big = alice.x.plugin["xep_0054"].make_vcard()
            big["FN"] = "Alice Liddell"
            big["PHOTO"]["TYPE"] = "image/png"
            big["PHOTO"]["BINVAL"] = bytes(150 * 1024)
            with pytest.raises(IqError) as err:
                await alice.x.plugin["xep_0054"].publish_vcard(big, timeout=WAIT_S)
            assert err.value.iq["error"]["condition"] == "not-acceptable", str(err.value.iq)
            assert "smaller photo" in err.value.iq["error"]["text"], str(err.value.iq)
            own = await vcard_of(alice, ALICE)
            assert own["vcard_temp"]["PHOTO"]["BINVAL"] == PHOTO

    async def after_restart():
        bob = client(node, BOB)
        async with logged_in(bob):
            seen = await vcard_of(bob, ALICE)
            assert seen["vcard_temp"]["FN"] == "Alice Liddell", str(seen)
            assert seen["vcard_temp"]["PHOTO"]["BINVAL"] == PHOTO

    run(publish())
    node.stop()
    node.start()
    run(after_restart())


def test_the_server_advertises_vcard_temp(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0030")
        async with logged_in(alice):
            info = await alice.x.plugin["xep_0030"].get_info(jid="localhost", timeout=WAIT_S)
            assert "vcard-temp" in info["disco_info"]["features"]

    run(scenario())
