"""XEP-0186 with slixmpp's xep_0186 plugin, mapped to "appear offline": a client that goes
invisible looks exactly like a logged-out user to its contacts, still gets their messages (no
error tells them), and is seen again once visible."""

from __future__ import annotations

from conftest import USERS
from harness import Client, WAIT_S, befriend, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_invisible_looks_offline_and_visible_comes_back(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0186")
        bob = Client(node, BOB, USERS[BOB])
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice online", type="available", from_bare=ALICE)

            await alice.x["xep_0186"].set_invisible(timeout=WAIT_S)
            await bob.wait_presence("alice gone, as if logged out", type="unavailable", from_bare=ALICE)
            bob.x.send_message(mto=ALICE, mbody="are you there?", mtype="chat")
            await alice.wait_message("bob's message while invisible", from_bare=BOB, body="are you there?")
            await bob.assert_no("messages", lambda r: r["type"] == "error", "an error for a message to an invisible user")

            await alice.x["xep_0186"].set_visible(timeout=WAIT_S)
            await bob.wait_presence("alice back", type="available", from_bare=ALICE)

    run(scenario())
