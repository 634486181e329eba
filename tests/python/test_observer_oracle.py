"""What an observer can learn (docs/ACCESS.md, "What an observer can learn"): the oracle test.

A person (alice) is probed with every kind of stanza a viewer can address to a person: messages
of each type to her bare and full JID, iqs of several namespaces to both, a presence probe, a
subscription request and directed presence. Three viewers probe her:

- bob, on the same node, subscribed to her but at level `blocked` by her rules;
- carol, on the same node, a stranger (no subscription);
- dave, on a federated Prosody, a stranger.

Alice is probed while online, in "appear offline" (a client online, hidden by the manual
setting), offline, and finally the same probes go to an account that does not exist. Every
answer a viewer receives from the probed JID is recorded with the ids, timestamps and the
probed name taken out. The blocked viewer's answers must be the same in all four states (a
blocked viewer cannot tell alice from an account that does not exist); the strangers' answers
must be the same in alice's three states (they learn nothing of whether she is online).

Later features that answer for a person (vCard, PEP, MAM, last activity, the web panel, SIP)
add their stanza kinds to PROBES.
"""

from __future__ import annotations

import asyncio
import re
from xml.etree import ElementTree as ET

from harness import Client, WAIT_S, befriend, logged_in, run
from prosody import LF, PR, lampfield_and_prosody
from test_http_api import Api, make_token

ALICE, ALICE_PW = f"alice@{LF}", "alice-secret-1"
BOB, BOB_PW = f"bob@{LF}", "bob-secret-2"
CAROL, CAROL_PW = f"carol@{LF}", "carol-secret-3"
DAVE, DAVE_PW = f"dave@{PR}", "dave-secret-4"
NOBODY = f"nobody@{LF}"
RESOURCE = "desk"
# How long answers are gathered after a round of probes; the federated viewer's go through
# Prosody and two s2s hops.
QUIET_S = 2.5

# (name, stanza) with {to} the bare JID, {full} the full JID of the probed person, {id} the id.
PROBES: list[tuple[str, str]] = [
    ("message chat to bare", "<message type='chat' to='{to}' id='{id}'><body>hi</body></message>"),
    ("message normal to bare", "<message to='{to}' id='{id}'><body>hi</body></message>"),
    ("message headline to bare", "<message type='headline' to='{to}' id='{id}'><body>hi</body></message>"),
    ("message groupchat to bare", "<message type='groupchat' to='{to}' id='{id}'><body>hi</body></message>"),
    ("message chat to full", "<message type='chat' to='{full}' id='{id}'><body>hi</body></message>"),
    ("message chat state only", "<message type='chat' to='{to}' id='{id}'>"
     "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"),
    ("iq disco#info to bare", "<iq type='get' to='{to}' id='{id}'>"
     "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"),
    ("iq disco#items to bare", "<iq type='get' to='{to}' id='{id}'>"
     "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>"),
    ("iq ping to bare", "<iq type='get' to='{to}' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"),
    ("iq version to bare", "<iq type='get' to='{to}' id='{id}'><query xmlns='jabber:iq:version'/></iq>"),
    ("iq last activity to bare", "<iq type='get' to='{to}' id='{id}'><query xmlns='jabber:iq:last'/></iq>"),
    ("iq vcard to bare", "<iq type='get' to='{to}' id='{id}'><vCard xmlns='vcard-temp'/></iq>"),
    ("iq pep avatar to bare", "<iq type='get' to='{to}' id='{id}'>"
     "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata'/></pubsub></iq>"),
    ("iq pep geoloc to bare", "<iq type='get' to='{to}' id='{id}'>"
     "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='http://jabber.org/protocol/geoloc'/></pubsub></iq>"),
    ("iq pep publish to bare", "<iq type='set' to='{to}' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
     "<publish node='urn:example:x'><item id='1'><x xmlns='urn:example:x'/></item></publish></pubsub></iq>"),
    ("iq roster to bare", "<iq type='get' to='{to}' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"),
    ("iq set to bare", "<iq type='set' to='{to}' id='{id}'><query xmlns='urn:example:set'/></iq>"),
    ("iq disco#info to full", "<iq type='get' to='{full}' id='{id}'>"
     "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"),
    ("iq ping to full", "<iq type='get' to='{full}' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"),
    ("iq version to full", "<iq type='get' to='{full}' id='{id}'><query xmlns='jabber:iq:version'/></iq>"),
    ("iq time to full", "<iq type='get' to='{full}' id='{id}'><time xmlns='urn:xmpp:time'/></iq>"),
    ("presence probe", "<presence type='probe' to='{to}' id='{id}'/>"),
    ("directed presence", "<presence to='{to}' id='{id}'/>"),
    ("subscription request", "<presence type='subscribe' to='{to}' id='{id}'/>"),
]

CLIENT_NS = "jabber:client"


class Observer:
    """A logged-in viewer that records every stanza the probed person's JIDs send it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: list[ET.Element] = []
        client.x.add_filter("in", self._record)

    def _record(self, stanza):
        if stanza.name in ("message", "presence", "iq"):
            self.seen.append(ET.fromstring(str(stanza)))
        return stanza

    def probe(self, round_: str, target: str) -> None:
        """Send every probe of one round to `target` (a bare JID); what came before is forgotten."""
        self.seen.clear()
        full = f"{target}/{RESOURCE}"
        for i, (_, template) in enumerate(PROBES):
            self.client.x.send_raw(template.format(to=target, full=full, id=f"{round_}-{i}"))

    def answers(self, round_: str, target: str) -> dict[str, list[str]]:
        """The normalized stanzas from `target` (its bare or any full JID) seen since the round's
        probes went out, by probe name; stanzas without a probe's id go under "(no id)"."""
        out: dict[str, list[str]] = {name: [] for name, _ in PROBES}
        out["(no id)"] = []
        for el in self.seen:
            sender = el.get("from", "")
            if sender.split("/")[0] != target:
                continue
            ident = el.get("id", "")
            m = re.fullmatch(rf"{re.escape(round_)}-(\d+)", ident)
            key = PROBES[int(m.group(1))][0] if m else "(no id)"
            out[key].append(normalize(el, target))
        return {k: sorted(v) for k, v in out.items()}


def normalize(el: ET.Element, target: str) -> str:
    """A stanza with what legitimately differs between rounds taken out: the id, the addressee,
    timestamps, and the probed account's name (alice or the non-existent one)."""
    el = _copy(el)
    for node in el.iter():
        for attr in ("id", "to", "stamp"):
            node.attrib.pop(attr, None)
        for k, v in list(node.attrib.items()):
            node.set(k, v.replace(target, "PERSON"))
        if node.text and target in node.text:
            node.text = node.text.replace(target, "PERSON")
    return ET.tostring(el, encoding="unicode")


def _copy(el: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(el))


def differences(name: str, rounds: dict[str, dict[str, list[str]]]) -> list[str]:
    """Every probe whose answers differ between the rounds, described for the failure message."""
    states = list(rounds)
    first = rounds[states[0]]
    out = []
    for probe in first:
        if any(rounds[s][probe] != first[probe] for s in states[1:]):
            rows = "\n".join(f"      {s}: {rounds[s][probe] or '(silence)'}" for s in states)
            out.append(f"  {name}, {probe}:\n{rows}")
    return out


def test_no_viewer_can_tell_online_from_offline_and_a_blocked_one_not_even_from_no_account(tmp_path):
    users = {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}
    with lampfield_and_prosody(tmp_path, with_certs=True, users=users,
                               prosody_users={"dave": DAVE_PW}) as f:

        async def scenario():
            alice = Client(f.lf, ALICE, ALICE_PW, resource=RESOURCE)
            bob = Client(f.lf, BOB, BOB_PW, resource="b")
            carol = Client(f.lf, CAROL, CAROL_PW, resource="c")
            dave = Client(f.pr, DAVE, DAVE_PW, resource="d")
            # The person's client answers what clients answer, so a probe that reached it
            # would show in the viewers' answers.
            for plugin in ("xep_0030", "xep_0092", "xep_0012", "xep_0054", "xep_0060"):
                alice.x.register_plugin(plugin)
            api = Api(f.node, make_token(f.node, "oracle", "personal"))
            viewers = {"blocked": Observer(bob), "stranger": Observer(carol),
                       "federated stranger": Observer(dave)}
            rounds: dict[str, dict[str, dict[str, list[str]]]] = {v: {} for v in viewers}

            async def probe_round(state: str, target: str) -> None:
                for viewer in viewers.values():
                    viewer.probe(state, target)
                await asyncio.sleep(QUIET_S)
                for name, viewer in viewers.items():
                    rounds[name][state] = viewer.answers(state, target)

            async with logged_in(bob, carol, dave):
                await alice.login()
                await befriend(alice, bob)
                # She has a vCard, which none of these viewers may read.
                card = alice.x.plugin["xep_0054"].make_vcard()
                card["FN"] = "Alice Oracle"
                await alice.x.plugin["xep_0054"].publish_vcard(card, timeout=WAIT_S)
                # Published items (XEP-0163) are there to be probed, an avatar and a location.
                for node_name, payload in (
                        ("urn:xmpp:avatar:metadata", "<metadata xmlns='urn:xmpp:avatar:metadata'/>"),
                        ("http://jabber.org/protocol/geoloc", "<geoloc xmlns='http://jabber.org/protocol/geoloc'/>")):
                    await alice.x.plugin["xep_0060"].publish(
                        ALICE, node_name, id="current", payload=ET.fromstring(payload), timeout=WAIT_S)
                api.put(f"/v1/users/{ALICE}/rules", {"contacts": {BOB: "blocked"}})
                await asyncio.sleep(0.5)

                await probe_round("online", ALICE)

                status, body = api.call("PUT", f"/v1/users/{ALICE}/manual",
                                        {"availability": "appear_offline"})
                assert status < 300, (status, body)
                await asyncio.sleep(0.5)
                await probe_round("appear offline", ALICE)
                api.call("DELETE", f"/v1/users/{ALICE}/manual")

                await alice.close()
                await asyncio.sleep(0.5)
                await probe_round("offline", ALICE)
                await probe_round("no such account", NOBODY)

            failures = []
            failures += differences("blocked (bob)", rounds["blocked"])
            for name in ("stranger", "federated stranger"):
                three = {s: rounds[name][s] for s in ("online", "appear offline", "offline")}
                failures += differences(name, three)
            assert not failures, "a viewer can tell the states apart:\n" + "\n".join(failures)

            # And the answers are the ones docs/ACCESS.md promises.
            blocked = rounds["blocked"]["online"]
            assert any("service-unavailable" in a for a in blocked["message chat to bare"]), blocked
            for probe in ("iq vcard to bare", "iq last activity to bare"):
                assert any("service-unavailable" in a for a in blocked[probe]), (probe, blocked)
            assert blocked["presence probe"] == [] and blocked["subscription request"] == []
            for name in ("stranger", "federated stranger"):
                seen = rounds[name]["online"]
                assert seen["message chat to bare"] == [], (name, seen)
                assert any("service-unavailable" in a for a in seen["iq version to full"]), (name, seen)
                assert any("urn:xmpp:ping" in a or "type=\"result\"" in a
                           for a in seen["iq ping to bare"]), (name, seen)
                assert seen["(no id)"] == [], (name, seen)
                # A stranger gets the empty vCard a user who never set one gives, and no last
                # activity (docs/ACCESS.md: team and above).
                [vcard] = seen["iq vcard to bare"]
                assert 'type="result"' in vcard and "vcard-temp" in vcard, (name, vcard)
                assert "Alice Oracle" not in vcard and "FN" not in vcard, (name, vcard)
                assert any("service-unavailable" in a for a in seen["iq last activity to bare"]), \
                    (name, seen)

            # What alice missed while offline waits for her; nothing of bob's does.
            alice2 = Client(f.lf, ALICE, ALICE_PW, resource=RESOURCE)
            async with logged_in(alice2):
                await alice2.wait_message("carol's message kept while she was offline",
                                          from_bare=CAROL, body="hi")
                await alice2.assert_no("messages", lambda r: r["from"].startswith(BOB),
                                       "a message from the blocked viewer")
            assert not [m for m in alice.messages if m["from"].startswith(BOB)], \
                f"alice received a blocked viewer's message: {alice.messages}"

        run(scenario())
