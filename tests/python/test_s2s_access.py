"""Access rules across XMPP s2s (issue 8, docs/ACCESS.md): a Lampfield user's appointment subject
never reaches a Prosody user unless the rules allow it. Here the node's admin lets other
organizations see up to team (`[access] ceiling_federated`), the default for them stays public,
and only when alice grants prosody.test team does the subject arrive there."""

from __future__ import annotations

import asyncio
import time

from harness import Client, WAIT_S, run, logged_in
from prosody import LF, PR, lampfield_and_prosody
from test_http_api import Api, make_token

ALICE, ALICE_PW = f"alice@{LF}", "alice-secret-1"
BOB, BOB_PW = f"bob@{PR}", "bob-secret-2"
SUBJECT = "Board meeting about Q4"


def test_an_appointment_subject_reaches_prosody_only_when_the_rule_allows_it(tmp_path):
    extra = '[access]\nceiling_federated = "team"\n'
    with lampfield_and_prosody(tmp_path, with_certs=True, users={ALICE: ALICE_PW},
                               prosody_users={"bob": BOB_PW}, node_extra=extra) as f:

        async def scenario():
            alice = Client(f.lf, ALICE, ALICE_PW, resource="desk")
            bob = Client(f.pr, BOB, BOB_PW, resource="phone")
            async with logged_in(alice, bob):
                bob.x.send_presence_subscription(pto=ALICE, ptype="subscribe")
                await alice.wait_presence("request from prosody", type="subscribe", from_bare=BOB,
                                          timeout=2 * WAIT_S)
                alice.x.send_presence_subscription(pto=BOB, ptype="subscribed")
                # At public bob sees the person, from the node's resource (docs/ACCESS.md).
                await bob.wait_presence("alice available", type="available", **{"from": alice.person})

                api = Api(f.node, make_token(f.node, "cal", "personal"))
                api.put(f"/v1/users/{ALICE}/calendar/sharing", {"sharing": "everything"})
                now = int(time.time() * 1000)
                api.put(f"/v1/users/{ALICE}/calendar", {"appointments": [
                    {"start": now - 60_000, "end": now + 3_600_000, "show_as": "busy",
                     "subject": SUBJECT}]})
                # The meeting makes her busy for everyone, without the subject at public.
                await bob.wait_presence("alice busy in a meeting", show="dnd", **{"from": alice.person})
                await asyncio.sleep(1)
                leaked = [r["xml"] for r in bob.presences if SUBJECT in r["xml"]]
                assert not leaked, "the subject reached prosody.test at public:\n" + "\n".join(leaked)

                api.put(f"/v1/users/{ALICE}/rules", {"domains": {PR: "team"}})
                # At team the person gives way to alice's device.
                await bob.wait_presence("the person withdrawn at team", type="unavailable",
                                        **{"from": alice.person})
                await bob.wait("presences", lambda r: r["from"] == alice.jid and SUBJECT in r["status"],
                               "the subject once prosody.test may see team")

        run(scenario())
