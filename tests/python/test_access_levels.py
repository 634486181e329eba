"""Watchers at different access levels watch the same user while the PBX and a meetings platform
change her presence: each sees exactly what their level allows (docs/ACCESS.md), and a watcher
who is blocked mid-way sees her go offline and then nothing at all."""

import asyncio

from conftest import USERS
from harness import Client, befriend, run, logged_in
from test_http_api import Api, make_token

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"


def from_alice(rec: dict) -> bool:
    return rec["from"].startswith(ALICE + "/")


def test_team_and_public_watchers_see_different_detail_of_the_same_changes(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        carol = Client(node, CAROL, USERS[CAROL], resource="desk")
        async with logged_in(alice, bob, carol):
            await befriend(alice, bob)
            await befriend(alice, carol)
            api = Api(node, make_token(node, "pbx", "personal"))
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team", CAROL: "public"}})

            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "ringing"})
            await bob.wait_presence("ringing for the team", status="Ringing", **{"from": alice.jid})

            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "on_call"})
            await bob.wait_presence("on the phone for the team", show="dnd", status="On the phone",
                                    **{"from": alice.jid})
            # Below team: the person, from the node's resource.
            await carol.wait_presence("just busy for the public", show="dnd", status="Busy",
                                      **{"from": alice.person})

            api.put(f"/v1/users/{ALICE}/external/meetings",
                    {"availability": "busy", "activity": "in_a_meeting", "note": "Merger call",
                     "expires_in_s": 600})
            rec = await bob.wait("presences", lambda r: from_alice(r) and "Merger call" in r["status"],
                                 "the meeting's title for the team")
            assert "On the phone" in rec["status"] or "In a meeting" in rec["status"], rec

            # Nothing carol ever received names the call, the ringing or the meeting.
            await asyncio.sleep(1)
            for r in carol.presences:
                if from_alice(r):
                    for secret in ("Merger call", "Ringing", "On the phone", "In a meeting", "ringing", "queue"):
                        assert secret not in r["xml"], f"carol (public) saw {secret!r}: {r['xml']}"

            # Blocking carol: one unavailable, then silence while alice keeps changing.
            api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "team", CAROL: "blocked"}})
            await carol.wait_presence("alice gone for carol", type="unavailable", **{"from": alice.person})
            seen = len(carol.presences)
            api.put(f"/v1/users/{ALICE}/lines/201", {"state": "idle"})
            await bob.wait_presence("call over for the team", type="available", **{"from": alice.jid})
            await asyncio.sleep(1)
            leaked = [r["xml"] for r in carol.presences[seen:] if from_alice(r)]
            assert not leaked, f"carol saw alice while blocked: {leaked}"

    run(scenario())


def test_moving_a_contact_into_a_blocked_group_takes_effect_at_once(node):
    """A rule may name a roster group (docs/ACCESS.md). Moving bob into alice's blocked group
    shows him alice going offline right away, not at her next change; moving him out shows her
    again."""

    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice online", type="available", **{"from": alice.person})
            api = Api(node, make_token(node, "rules", "personal"))
            api.put(f"/v1/users/{ALICE}/rules", {"groups": {"Blocked": "blocked"}})

            await alice.x.update_roster(BOB, groups=["Blocked"], timeout=10)
            await bob.wait_presence("alice gone once bob is in the blocked group",
                                    type="unavailable", **{"from": alice.person})

            await alice.x.update_roster(BOB, groups=["Colleagues"], timeout=10)
            await bob.wait_presence("alice back once bob left the group", type="available",
                                    **{"from": alice.person})

    run(scenario())
