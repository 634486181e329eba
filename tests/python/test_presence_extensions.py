"""Client extensions in presence, by level (docs/ACCESS.md, "Client extensions in presence").
Alice's client puts XEP-0115 entity capabilities, a XEP-0153 avatar hash and an extension the
node does not know in its presence. A colleague at business sees one presence per person, from
alice/lampfield, with the avatar hash only; one at team sees alice's device, with its caps; one
at personal sees the unknown extension too. A change only personal may see reaches personal
alone, and only a viewer shown the device may address it."""

import asyncio

from slixmpp.exceptions import IqError

from conftest import USERS
from harness import QUIET_S, WAIT_S, Client, befriend, run, logged_in, show_devices

ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
CAPS_NS, AVATAR_NS, MOOD_NS = "http://jabber.org/protocol/caps", "vcard-temp:x:update", "urn:example:mood"
CAPS = f"<c xmlns='{CAPS_NS}' hash='sha-1' node='https://example.org/client' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>"
AVATAR = f"<x xmlns='{AVATAR_NS}'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>"


def mood(name: str) -> str:
    return f"<mood xmlns='{MOOD_NS}'><{name}/></mood>"


async def ping(viewer: Client, to: str) -> tuple[str, str]:
    """A XEP-0199 ping to `to`: ("result", from) or (the error condition, from)."""
    iq = viewer.x.Iq()
    iq["type"] = "get"
    iq["to"] = to
    iq.enable("ping")
    try:
        answer = await iq.send(timeout=WAIT_S)
        return "result", str(answer["from"])
    except IqError as e:
        return e.iq["error"]["condition"], str(e.iq["from"])


def test_each_level_gets_the_extensions_it_may_see(make_node):
    node = make_node(users={**USERS, DAVE: "dave-secret-4"})

    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk", initial_presence=False)
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        carol = Client(node, CAROL, USERS[CAROL], resource="desk")
        dave = Client(node, DAVE, "dave-secret-4", resource="desk")
        async with logged_in(alice, bob, carol, dave):
            alice.presence_with(CAPS, AVATAR, mood("happy"))
            show_devices(node, ALICE, CAROL)
            node.cli("rule", "set", ALICE, f"contact:{DAVE}", "personal")
            for viewer in (bob, carol, dave):
                await befriend(alice, viewer)

            # Business (the default between colleagues): the person, with the avatar hash.
            rec = await bob.wait_presence("alice, the person", type="available", **{"from": alice.person})
            assert AVATAR_NS in rec["xml"], rec["xml"]
            assert CAPS_NS not in rec["xml"] and MOOD_NS not in rec["xml"], rec["xml"]
            assert "<priority" not in rec["xml"], rec["xml"]
            # Team: the device, with its caps.
            rec = await carol.wait_presence("alice's desk", type="available", **{"from": alice.jid})
            assert CAPS_NS in rec["xml"] and AVATAR_NS in rec["xml"], rec["xml"]
            assert MOOD_NS not in rec["xml"], rec["xml"]
            # Personal: everything the client said.
            rec = await dave.wait_presence("alice's desk with everything", type="available",
                                           **{"from": alice.jid})
            assert CAPS_NS in rec["xml"] and AVATAR_NS in rec["xml"] and MOOD_NS in rec["xml"], rec["xml"]

            # A new mood is personal news: dave gets it, nobody else gets anything.
            seen = {v.jid: len(v.presences) for v in (bob, carol)}
            alice.presence_with(CAPS, AVATAR, mood("sad"))
            await dave.wait("presences", lambda r: r["from"] == alice.jid and "sad" in r["xml"],
                            "alice's new mood")
            await asyncio.sleep(QUIET_S)
            for v in (bob, carol):
                news = [r["xml"] for r in v.presences[seen[v.jid]:] if r["from"].startswith(ALICE)]
                assert not news, f"{v.jid} got a presence with nothing new for it: {news}"
            named = [r["xml"] for r in bob.presences if r["from"] == alice.jid]
            assert not named, f"alice's device shown at business: {named}"

            # Only a viewer shown the device may address it: anyone else gets what an unbound
            # resource gives.
            unbound = await ping(bob, f"{ALICE}/nosuch")
            assert unbound == ("service-unavailable", f"{ALICE}/nosuch"), unbound
            assert await ping(bob, alice.jid) == ("service-unavailable", alice.jid)
            assert await ping(bob, alice.person) == ("service-unavailable", alice.person)
            assert await ping(carol, alice.jid) == ("result", alice.jid)

    run(scenario())
