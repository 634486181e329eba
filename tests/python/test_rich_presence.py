"""Rich presence as standard XMPP clients see it: a client's own presence is one source among
others, and the node publishes the aggregated presence (docs/PRESENCE.md, docs/PROTOCOL.md)."""

import datetime

from conftest import USERS
from harness import Client, befriend, run, logged_in

ALICE, BOB = "alice@localhost", "bob@localhost"
DETAIL_NS = "urn:lampfield:presence:0"


def idle_since(minutes_ago: float) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return f"<idle xmlns='urn:xmpp:idle:1' since='{t.strftime('%Y-%m-%dT%H:%M:%SZ')}'/>"


def test_desktop_closing_with_mobile_online_shows_mobile_only(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob_desk = Client(node, BOB, USERS[BOB], resource="desk")
        bob_phone = Client(node, BOB, USERS[BOB], resource="phone", initial_presence=False)
        async with logged_in(alice, bob_desk, bob_phone):
            await befriend(alice, bob_desk)
            # alice is at the default level (business): she sees the person, not the devices.
            await alice.wait_presence("bob online", type="available", **{"from": bob_desk.person})
            # The phone says what it is with Lampfield's device hint.
            bob_phone.presence_with(f"<device xmlns='{DETAIL_NS}' kind='mobile'/>")
            await bob_desk.close()
            rec = await alice.wait_presence("mobile only", status="Mobile only",
                                            **{"from": bob_desk.person})
            assert f'xmlns="{DETAIL_NS}"' in rec["xml"], rec["xml"]
            named = [r["xml"] for r in alice.presences if r["from"] in (bob_desk.jid, bob_phone.jid)]
            assert not named, f"a device shown below team: {named}"

    run(scenario())


def test_idle_past_the_threshold_reads_as_away_to_colleagues(node):
    """XEP-0319: a client idle for ten minutes (node threshold five) is inactive; a colleague at
    the default level (business) sees it as away, without the idle time itself."""

    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            bob.presence_with(idle_since(10))
            rec = await alice.wait_presence("bob inactive", show="away", status="Away", **{"from": bob.person})
            assert "urn:xmpp:idle:1" not in rec["xml"], "idle time is personal detail: " + rec["xml"]
            assert 'availability="away"' in rec["xml"], rec["xml"]
            # Active again: available once more.
            bob.presence()
            await alice.wait_presence("bob active again", type="available", show="", **{"from": bob.person})

    run(scenario())


def test_idle_crossing_the_threshold_later_is_published_by_the_node(make_node):
    """The node itself notices when the idle threshold passes (here one second), without any
    new stanza from the client."""

    async def scenario():
        node = make_node(extra_c2s="\n[presence]\nidle_threshold_s = 1\n")
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            bob.presence_with(idle_since(0))
            await alice.wait_presence("bob away after the threshold", show="away", **{"from": bob.person})

    run(scenario())


def test_the_owners_other_resources_see_everything(node):
    """Bob's own second client gets the personal view, idle time included. Bob is inactive only
    once every client of his is idle (docs/PRESENCE.md rule 10)."""

    async def scenario():
        desk = Client(node, BOB, USERS[BOB], resource="desk")
        laptop = Client(node, BOB, USERS[BOB], resource="laptop", initial_presence=False)
        async with logged_in(desk, laptop):
            laptop.presence_with(idle_since(12))
            desk.presence_with(idle_since(10))
            rec = await laptop.wait_presence("own desk inactive", show="away", status="Inactive",
                                             **{"from": desk.jid})
            assert "urn:xmpp:idle:1" in rec["xml"], rec["xml"]

    run(scenario())


def test_client_state_indication_makes_a_backgrounded_client_idle(make_node):
    """XEP-0352: a client that says it is inactive (app in the background, screen off) counts as
    idle from then on; past the threshold (one second here) colleagues see away, and `active`
    brings the user back."""

    async def scenario():
        node = make_node(extra_c2s="\n[presence]\nidle_threshold_s = 1\n")
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="phone")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await alice.wait_presence("bob available", type="available", **{"from": bob.person})
            bob.x.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>")
            await alice.wait_presence("bob away while his client is in the background", show="away",
                                      **{"from": bob.person})
            bob.x.send_raw("<active xmlns='urn:xmpp:csi:0'/>")
            await alice.wait_presence("bob back", type="available", show="", **{"from": bob.person})

    run(scenario())
