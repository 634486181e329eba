"""RFC 6121 §4.4: presence goes to subscribers only. A third user who is not subscribed
(even one with a pending request, or one that sends probes) sees nothing of the others."""

from conftest import USERS
from harness import Client, befriend, reveals, run, logged_in

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"


def test_unsubscribed_third_user_sees_nothing(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        bob = Client(node, BOB, USERS[BOB])
        carol = Client(node, CAROL, USERS[CAROL])
        async with logged_in(alice, bob, carol):
            await befriend(alice, bob)
            # Carol asks, nobody answers; she also probes directly.
            carol.x.send_presence_subscription(pto=ALICE, ptype="subscribe")
            await alice.wait_presence("carol's request", type="subscribe", from_bare=CAROL)
            carol.x.send_presence(pto=ALICE, ptype="probe")
            carol.x.send_presence(pto=BOB, ptype="probe")

            alice.presence(show="away", status="secret meeting")
            bob.presence(show="dnd", status="secret call")
            await bob.wait_presence("alice away", show="away", from_bare=ALICE)
            await alice.wait_presence("bob dnd", show="dnd", from_bare=BOB)
            await alice.close()
            await bob.wait_presence("alice unavailable", type="unavailable", from_bare=ALICE)

            await carol.assert_no("presences", lambda r: reveals(r, (ALICE, BOB)), "presence of alice or bob")
            assert not any("secret" in r["xml"] for r in carol.presences), carol.presences
            rc = await carol.roster()
            assert rc.get(ALICE, {}).get("subscription", "none") == "none", f"carol's roster: {rc}"

    run(scenario())
