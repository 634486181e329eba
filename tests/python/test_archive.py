"""XEP-0313 Message Archive Management with slixmpp's own xep_0313 and xep_0059 plugins: each
user's archive holds the one-to-one messages they sent and received, in order, pages as
XEP-0059 says, survives a restart, follows the user's preferences, is read by its owner alone
and never holds what a blocked sender sent."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import slixmpp

from conftest import USERS
from harness import Client, WAIT_S, logged_in, run

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
MAM, SID = "urn:xmpp:mam:2", "urn:xmpp:sid:0"


def client(node, jid: str) -> Client:
    c = Client(node, jid, USERS[jid], resource="desk")
    for plugin in ("xep_0030", "xep_0059", "xep_0313", "xep_0191"):
        c.x.register_plugin(plugin)
    return c


def bodies(iq) -> list[str]:
    return [m["mam_result"]["forwarded"]["stanza"]["body"] for m in iq["mam"]["results"]]


async def archive(c: Client, **kwargs) -> list[str]:
    """Every body of `c`'s archive, paged by slixmpp's own RSM iterator, oldest first."""
    got = []
    async for m in c.x.plugin["xep_0313"].iterate(rsm={"max": 2}, **kwargs):
        got.append(m["mam_result"]["forwarded"]["stanza"]["body"])
    return got


async def page(c: Client, **rsm) -> object:
    return await c.x.plugin["xep_0313"].retrieve(rsm=rsm, timeout=WAIT_S)


async def say(sender: Client, recipient: Client, body: str) -> dict:
    sender.x.send_message(mto=recipient.bare, mbody=body, mtype="chat")
    return await recipient.wait_message(f"{body!r} delivered", body=body)


async def refused(send, condition: str) -> None:
    try:
        await send
    except slixmpp.exceptions.IqError as e:
        assert e.iq["error"]["condition"] == condition, str(e.iq)
    else:
        raise AssertionError(f"expected {condition}")


def test_a_conversation_is_in_both_archives_pages_and_survives_a_restart(node):
    conversation = [("alice", "a1"), ("bob", "b1"), ("alice", "a2"), ("bob", "b2")]

    async def talk():
        alice, bob, carol = client(node, ALICE), client(node, BOB), client(node, CAROL)
        async with logged_in(alice, bob, carol):
            for who, body in conversation:
                sender, recipient = (alice, bob) if who == "alice" else (bob, alice)
                got = await say(sender, recipient, body)
                # The recipient's copy names its archive id, in the recipient's name.
                ids = ET.fromstring(got["xml"]).findall(f"{{{SID}}}stanza-id")
                assert [i.get("by") for i in ids] == [recipient.bare], got["xml"]
            await say(alice, carol, "c1")
            # Chat states alone and headlines are not archived.
            m = alice.x.make_message(mto=BOB, mtype="chat")
            m.xml.append(ET.fromstring("<composing xmlns='http://jabber.org/protocol/chatstates'/>"))
            m.send()
            alice.x.send_message(mto=BOB, mbody="news", mtype="headline")
            await bob.wait_message("the headline", body="news")

            assert await archive(alice) == ["a1", "b1", "a2", "b2", "c1"]
            assert await archive(bob) == ["a1", "b1", "a2", "b2"]
            assert await archive(alice, with_jid=slixmpp.JID(BOB)) == ["a1", "b1", "a2", "b2"]
            assert await archive(alice, with_jid=slixmpp.JID(CAROL)) == ["c1"]
            assert await archive(carol) == ["c1"]

            # Paging forward with max and after.
            first = await page(alice, max=2)
            assert bodies(first) == ["a1", "b1"], str(first)
            assert first["mam_fin"]["complete"] in ("", "false", False) and first["mam_fin"]["rsm"]["count"] == "5"
            second = await page(alice, max=2, after=first["mam_fin"]["rsm"]["last"])
            assert bodies(second) == ["a2", "b2"]
            third = await page(alice, max=2, after=second["mam_fin"]["rsm"]["last"])
            assert bodies(third) == ["c1"] and third["mam_fin"]["complete"] in ("true", True), str(third)
            # The last page (an empty before, slixmpp's reverse paging), then back to the start.
            assert await archive(alice, reverse=True, total=2) == ["c1", "b2"]
            earlier = await page(alice, max=2, before=third["mam_fin"]["rsm"]["first"])
            assert bodies(earlier) == ["a2", "b2"], str(earlier)
            assert earlier["mam_fin"]["complete"] in ("", "false", False), str(earlier)
            start = await page(alice, max=2, before=earlier["mam_fin"]["rsm"]["first"])
            assert bodies(start) == ["a1", "b1"] and start["mam_fin"]["complete"] in ("true", True)
            # An id not in this archive.
            await refused(page(alice, max=2, after="999999999"), "item-not-found")
            bob_ids = await page(bob, max=1)
            await refused(page(alice, max=2, after=bob_ids["mam_fin"]["rsm"]["last"] + "0"), "item-not-found")

    async def after_restart():
        alice = client(node, ALICE)
        async with logged_in(alice):
            assert await archive(alice) == ["a1", "b1", "a2", "b2", "c1"]

    run(talk())
    node.stop()
    node.start()
    run(after_restart())


async def prefs(c: Client, default: str | None) -> ET.Element:
    iq = c.x.make_iq_set() if default else c.x.make_iq_get()
    el = ET.Element(f"{{{MAM}}}prefs")
    if default:
        el.set("default", default)
    iq.append(el)
    got = await iq.send(timeout=WAIT_S)
    return got.xml.find(f"{{{MAM}}}prefs")


def test_preferences_never_stops_archiving(node):
    async def scenario():
        alice, bob = client(node, ALICE), client(node, BOB)
        async with logged_in(alice, bob):
            assert (await prefs(alice, None)).get("default") == "always"
            await say(bob, alice, "kept")
            assert (await prefs(alice, "never")).get("default") == "never"
            assert (await prefs(alice, None)).get("default") == "never"
            got = await say(bob, alice, "not kept")
            assert f"{{{SID}}}stanza-id" not in got["xml"] and "urn:xmpp:sid:0" not in got["xml"], got["xml"]
            assert await archive(alice) == ["kept"]
            # Bob's archive follows bob's preferences.
            assert await archive(bob) == ["kept", "not kept"]

    run(scenario())


def test_only_the_owner_reads_an_archive_and_blocked_senders_are_not_archived(node):
    async def scenario():
        alice, bob, carol = client(node, ALICE), client(node, BOB), client(node, CAROL)
        async with logged_in(alice, bob, carol):
            await say(alice, bob, "private")
            # The owner's account advertises the archive; to others it looks as before.
            own = await alice.x.plugin["xep_0030"].get_info(jid=ALICE, timeout=WAIT_S)
            assert MAM in own["disco_info"]["features"], str(own)
            other = await bob.x.plugin["xep_0030"].get_info(jid=ALICE, timeout=WAIT_S)
            assert MAM not in other["disco_info"]["features"], str(other)
            # Bob asking alice's archive gets what any unanswered namespace gets there.
            await refused(bob.x.plugin["xep_0313"].retrieve(jid=slixmpp.JID(ALICE), timeout=WAIT_S),
                          "service-unavailable")
            await refused(bob.x.plugin["xep_0313"].get_archive_metadata(jid=slixmpp.JID(ALICE), timeout=WAIT_S),
                          "service-unavailable")
            assert await archive(carol) == []

            # A stanza-id in the recipient's name from outside is removed before delivery.
            m = carol.x.make_message(mto=BOB, mbody="forged", mtype="chat")
            m.xml.append(ET.fromstring(f"<stanza-id xmlns='{SID}' by='{BOB}' id='forged-id'/>"))
            m.send()
            got = await bob.wait_message("the forged one", body="forged")
            ids = ET.fromstring(got["xml"]).findall(f"{{{SID}}}stanza-id")
            assert len(ids) == 1 and ids[0].get("id") != "forged-id", got["xml"]

            # What a blocked sender sends is dropped and never archived.
            await alice.x.plugin["xep_0191"].block([CAROL], timeout=WAIT_S)
            carol.x.send_message(mto=ALICE, mbody="let me in", mtype="chat")
            await carol.wait_message("refused", type="error")
            await say(bob, alice, "after the block")
            assert await archive(alice) == ["private", "after the block"]

            meta = await alice.x.plugin["xep_0313"].get_archive_metadata(timeout=WAIT_S)
            assert meta["mam_metadata"]["start"]["id"] and meta["mam_metadata"]["end"]["id"], str(meta)

    run(scenario())


def test_the_archive_goes_with_the_account(node):
    async def before():
        alice, bob = client(node, ALICE), client(node, BOB)
        async with logged_in(alice, bob):
            await say(alice, bob, "to the old bob")

    async def after():
        alice, bob = client(node, ALICE), client(node, BOB)
        async with logged_in(alice, bob):
            assert await archive(bob) == []
            # Alice's archive is hers: what she sent stays in it.
            assert await archive(alice) == ["to the old bob"]

    run(before())
    node.cli("user", "remove", BOB)
    node.cli("user", "add", BOB, "--password", USERS[BOB])
    run(after())
