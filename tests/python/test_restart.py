"""Storage: rosters, subscription states and pending requests survive a restart of the
node on the same data folder, after SIGTERM and after SIGKILL (kill -9)."""

import pytest

from conftest import USERS
from harness import Client, befriend, close_all, run, logged_in

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
DAVE = "dave@example.net"


async def build_state(node):
    """alice<->bob `both`, alice has dave named in a group, carol's request to alice pending."""
    alice = Client(node, ALICE, USERS[ALICE])
    bob = Client(node, BOB, USERS[BOB])
    carol = Client(node, CAROL, USERS[CAROL])
    async with logged_in(alice, bob, carol):
        await befriend(alice, bob)
        await alice.x.update_roster(DAVE, name="Dave", groups=["Friends"], timeout=10)
        carol.x.send_presence_subscription(pto=ALICE, ptype="subscribe")
        await alice.wait_presence("carol's request", type="subscribe", from_bare=CAROL)
        ra = await alice.roster()
        assert ra[BOB]["subscription"] == "both", ra
        assert ra[DAVE]["name"] == "Dave" and ra[DAVE]["groups"] == ["Friends"], ra


async def check_state(node):
    alice = Client(node, ALICE, USERS[ALICE], resource="after")
    bob = Client(node, BOB, USERS[BOB], resource="after")
    async with logged_in(alice, bob):
        ra, rb = await alice.roster(), await bob.roster()
        assert ra.get(BOB, {}).get("subscription") == "both", f"alice's roster after restart: {ra}"
        assert rb.get(ALICE, {}).get("subscription") == "both", f"bob's roster after restart: {rb}"
        assert ra.get(DAVE, {}).get("name") == "Dave", f"alice's roster after restart: {ra}"
        assert ra[DAVE]["groups"] == ["Friends"], f"alice's roster after restart: {ra}"
        # RFC 6121 §3.1.3: a pending inbound request is delivered again at login.
        await alice.wait_presence("carol's pending request redelivered after restart",
                                  type="subscribe", from_bare=CAROL)
        # The stored subscription is live: presence flows both ways again.
        await alice.wait_presence("bob available after restart", type="available", **{"from": bob.person})
        await bob.wait_presence("alice available after restart", type="available", **{"from": alice.person})
        bob.presence(show="away", status="restarted")
        await alice.wait_presence("bob away after restart", show="away", status="restarted", from_bare=BOB)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_roster_and_subscriptions_survive_restart(make_node, how):
    node = make_node()
    run(build_state(node))
    if how == "sigterm":
        code = node.stop()
        assert code == 0, f"lampfield exited {code} on SIGTERM:\n{node.log_tail()}"
    else:
        node.kill()
    node.start()
    run(check_state(node))


def test_acknowledged_roster_change_survives_kill_9(make_node):
    """A roster set whose result the client saw is durable even if the node dies at once."""
    node = make_node()

    async def change():
        alice = Client(node, ALICE, USERS[ALICE])
        await alice.login()
        try:
            await alice.x.update_roster("erin@example.net", name="Erin", groups=["Work"], timeout=10)
        finally:
            node.kill()  # straight after the acknowledgement, before any orderly shutdown
            alice.abort()

    async def check():
        alice = Client(node, ALICE, USERS[ALICE])
        await alice.login()
        try:
            ra = await alice.roster()
            assert ra.get("erin@example.net", {}).get("name") == "Erin", f"roster after kill -9: {ra}"
        finally:
            await close_all(alice)

    run(change())
    node.start()
    run(check())


def test_contact_without_subscription_is_in_the_roster_after_restart(make_node):
    """RFC 6121 §2.1.2.5: a contact added with no subscription keeps `subscription='none'` in
    the roster result after a restart; slixmpp drops items without the attribute, so without it
    the contact would vanish from the user's client."""
    node = make_node()
    erin = "erin@example.net"

    async def add():
        alice = Client(node, ALICE, USERS[ALICE])
        async with logged_in(alice):
            await alice.x.update_roster(erin, name="Erin", timeout=10)

    async def check():
        alice = Client(node, ALICE, USERS[ALICE], resource="after")
        async with logged_in(alice):
            roster = alice.x.client_roster  # what slixmpp made of the result at login
            assert roster.has_jid(erin), f"slixmpp's roster after restart: {roster.keys()}"
            assert roster[erin]["subscription"] == "none", roster[erin]
            assert roster[erin]["name"] == "Erin", roster[erin]

    run(add())
    assert node.stop() == 0, node.log_tail()
    node.start()
    run(check())
