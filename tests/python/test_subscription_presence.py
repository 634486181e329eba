"""RFC 6121 §3 and §4: two users subscribe to each other the way real clients do and
then see each other's show and status changes. As colleagues at the default level (business)
each sees the other person from the node's resource (docs/ACCESS.md)."""

from conftest import USERS
from harness import Client, befriend, reveals, run, logged_in

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_mutual_subscription_then_show_and_status_changes(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="laptop")
        async with logged_in(alice, bob):
            await befriend(alice, bob)

            # After the handshake each side receives the other's current presence.
            await alice.wait_presence("bob available after subscription", type="available", **{"from": bob.person})
            await bob.wait_presence("alice available after subscription", type="available", **{"from": alice.person})

            # Both rosters say `both`, with no pending ask.
            ra, rb = await alice.roster(), await bob.roster()
            assert ra.get(BOB, {}).get("subscription") == "both", f"alice's roster: {ra}"
            assert rb.get(ALICE, {}).get("subscription") == "both", f"bob's roster: {rb}"
            assert not ra[BOB]["ask"] and not rb[ALICE]["ask"], (ra, rb)

            # A client's presence is one source of the effective presence (docs/PRESENCE.md):
            # contacts see the aggregated availability with the client's text as the note.
            bob.presence(show="away", status="in a meeting")
            await alice.wait_presence("bob away", show="away", status="in a meeting", **{"from": bob.person})
            bob.presence(show="dnd", status="do not disturb")
            await alice.wait_presence("bob dnd", show="dnd", status="do not disturb",
                                      **{"from": bob.person})
            bob.presence(status="back at my desk")
            await alice.wait_presence("bob available with status", type="available", show="",
                                      status="back at my desk", **{"from": bob.person})
            alice.presence(show="xa", status="on holiday")
            await bob.wait_presence("alice xa", show="away", status="on holiday", **{"from": alice.person})
            alice.presence(show="chat")
            await bob.wait_presence("alice chat (plain available)", type="available", show="",
                                    **{"from": alice.person})

            # An orderly logout is broadcast as unavailable.
            await bob.close()
            await alice.wait_presence("bob unavailable after logout", type="unavailable", **{"from": bob.person})

    run(scenario())


def test_subscription_request_waits_for_an_explicit_answer(node):
    """Until the contact approves, the requester's roster item is `none` + ask=subscribe
    and it receives none of the contact's presence."""

    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        bob = Client(node, BOB, USERS[BOB])
        async with logged_in(alice, bob):
            alice.x.send_presence_subscription(pto=BOB, ptype="subscribe")
            await bob.wait_presence("subscribe request", type="subscribe", from_bare=ALICE)
            ra = await alice.roster()
            assert ra.get(BOB, {}).get("subscription") == "none", f"alice's roster: {ra}"
            assert ra[BOB]["ask"] == "subscribe", f"alice's roster: {ra}"
            bob.presence(show="away", status="not yet approved")
            await alice.assert_no("presences", lambda r: reveals(r, (BOB,)), "bob's presence before approval")

            # Bob denies: alice's pending request is cancelled.
            bob.x.send_presence_subscription(pto=ALICE, ptype="unsubscribed")
            await alice.wait_presence("unsubscribed (denied)", type="unsubscribed", from_bare=BOB)
            ra = await alice.roster()
            assert ra.get(BOB, {}).get("subscription", "none") == "none" and not ra.get(BOB, {}).get("ask"), \
                f"alice's roster after denial: {ra}"

    run(scenario())
