"""XEP-0012 last activity of an account, with slixmpp's xep_0012 plugin: a contact at team
(docs/ACCESS.md: when a person was last online is presence detail) learns 0 while the person is
online (not in "appear offline") and, once the last client has gone, the seconds since then and the status it said goodbye
with, also after a restart. A contact at business gets exactly what a stranger gets, whatever the
person's state."""

from __future__ import annotations

import asyncio
import re

from slixmpp.exceptions import IqError

from conftest import USERS
from harness import Client, WAIT_S, befriend, logged_in, run
from test_http_api import Api, make_token

ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
ACCOUNTS = {**USERS, DAVE: "dave-secret-4"}


def client(node, jid: str) -> Client:
    c = Client(node, jid, ACCOUNTS[jid], resource="desk")
    c.x.register_plugin("xep_0012")
    return c


async def last_of(viewer: Client, target: str) -> tuple[int, str] | str:
    """(seconds, status) `viewer` is told of `target`, or the error answer without its id and
    addresses (what an observer compares)."""
    try:
        iq = await viewer.x.plugin["xep_0012"].get_last_activity(target, timeout=WAIT_S)
    except IqError as e:
        return re.sub(r" (id|from|to)=(\"[^\"]*\"|'[^']*')", "", str(e.iq))
    return iq["last_activity"]["seconds"], iq["last_activity"]["status"]


def test_a_team_contact_learns_when_the_person_left_and_a_business_one_what_a_stranger_does(make_node):
    node = make_node(users=ACCOUNTS)
    seen: dict[str, object] = {}

    async def online_then_gone():
        alice, bob, carol, dave = (client(node, j) for j in (ALICE, BOB, CAROL, DAVE))
        async with logged_in(bob, carol, dave):
            await alice.login()
            await befriend(alice, bob)
            await befriend(alice, carol)
            api = Api(node, make_token(node, "last", "personal"))
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team", CAROL: "business"}})

            # Online: 0 for the team (XEP-0012 §3: a user with an available resource).
            seconds, status = await last_of(bob, ALICE)
            assert seconds == 0 and not status, (seconds, status)
            seen["business online"] = await last_of(carol, ALICE)
            seen["stranger online"] = await last_of(dave, ALICE)

            # In "appear offline" she is offline to the team too: not 0 (and no logout is known).
            status, body = api.call("PUT", f"/v1/users/{ALICE}/manual",
                                    {"availability": "appear_offline"})
            assert status < 300, (status, body)
            await asyncio.sleep(0.3)
            hidden = await last_of(bob, ALICE)
            assert isinstance(hidden, str) and "item-not-found" in hidden, hidden
            seen["business appear offline"] = await last_of(carol, ALICE)
            api.call("DELETE", f"/v1/users/{ALICE}/manual")

            alice.x.send_presence(ptype="unavailable", pstatus="gone home")
            await alice.close()
            await asyncio.sleep(2.2)

            seconds, status = await last_of(bob, ALICE)
            assert 2 <= seconds < 60 and status == "gone home", (seconds, status)
            seen["business offline"] = await last_of(carol, ALICE)
            seen["stranger offline"] = await last_of(dave, ALICE)

    async def after_restart():
        bob, carol = client(node, BOB), client(node, CAROL)
        async with logged_in(bob, carol):
            seconds, status = await last_of(bob, ALICE)
            assert 2 <= seconds < 120 and status == "gone home", (seconds, status)
            seen["business after restart"] = await last_of(carol, ALICE)

    run(online_then_gone())
    node.stop()
    node.start()
    run(after_restart())

    # Below team the answer is a stranger's, and never depends on the person's state.
    answers = set(seen.values())
    assert len(answers) == 1, seen
    assert "service-unavailable" in seen["stranger online"], seen
