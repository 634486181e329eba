"""XEP-0191 Blocking Command with slixmpp's own plugin: the block list is the access rules at
blocked, so a client's block shows in `lampfield rule list`, a rule set with the CLI shows in the
client's block list (and is pushed to it), and unblocking gives the contact back what it saw."""

import asyncio

from conftest import USERS
from harness import WAIT_S, Client, befriend, logged_in, run

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"


def test_block_list_and_rules_are_one_truth(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        alice.x.register_plugin("xep_0191")
        blocking = alice.x.plugin["xep_0191"]
        pushed: list[tuple[str, set[str]]] = []
        alice.x.add_event_handler(
            "blocked", lambda iq: pushed.append(("block", {str(i["jid"]) for i in iq["block"]["items"]})))
        alice.x.add_event_handler(
            "unblocked", lambda iq: pushed.append(("unblock", {str(i["jid"]) for i in iq["unblock"]["items"]})))

        async def push(kind: str, jid: str) -> None:
            for _ in range(int(WAIT_S / 0.02)):
                if (kind, {jid}) in pushed:
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(f"no {kind} push of {jid}; got {pushed}")

        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})
            assert await blocking.get_blocked_jids(timeout=WAIT_S) == set()

            # Blocking from the client is the rule contact:bob at blocked.
            await blocking.block([BOB], timeout=WAIT_S)
            await push("block", BOB)
            listed = node.cli("rule", "list", ALICE).stdout
            assert f"contact:{BOB}\tblocked" in listed, listed
            await bob.wait_presence("alice gone for bob", type="unavailable", **{"from": alice.person})

            # Bob gets what a missing account gives; alice is told she blocks him (§3.5).
            bob.x.send_message(mto=ALICE, mbody="hello?", mtype="chat")
            err = await bob.wait_message("error for a blocked sender", type="error", from_bare=ALICE)
            assert "service-unavailable" in err["xml"], err["xml"]
            assert not [m for m in alice.messages if m["body"] == "hello?"]
            alice.x.send_message(mto=BOB, mbody="psst", mtype="chat")
            err = await alice.wait_message("refusal to a blocked contact", type="error", from_bare=BOB)
            assert "not-acceptable" in err["xml"] and "urn:xmpp:blocking:errors" in err["xml"], err["xml"]

            # A rule set with the CLI shows in the block list, and is pushed.
            node.cli("rule", "set", ALICE, f"contact:{CAROL}", "blocked")
            await push("block", CAROL)
            assert await blocking.get_blocked_jids(timeout=WAIT_S) == {BOB, CAROL}

            # Unblocking removes the rule; bob, still subscribed, sees alice again.
            await blocking.unblock([BOB], timeout=WAIT_S)
            await push("unblock", BOB)
            listed = node.cli("rule", "list", ALICE).stdout
            assert f"contact:{BOB}" not in listed and f"contact:{CAROL}\tblocked" in listed, listed
            await bob.wait_presence("alice back for bob", type="available", **{"from": alice.person})

    run(scenario())
