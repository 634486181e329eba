"""RFC 6120 server-to-server and RFC 6121 across domains, against a real Prosody.

A Lampfield node (`lampfield.test`) and Prosody 0.12 from Debian (`prosody.test`) run
on loopback with certificates from a CA the test makes. Prosody keeps its default
s2s security (TLS required, certificates checked against the CA); the node finds
Prosody through a static route, Prosody finds the node through the route plugin
described in prosody.py. slixmpp clients on each server then subscribe, approve, see
presence changes and the unavailable on logout, and exchange messages, once with the
request starting on each side.
"""

from __future__ import annotations

import pytest

from harness import Client, WAIT_S, befriend, close_all, login_all, run
from prosody import LF, PR, Federation, lampfield_and_prosody

ALICE, ALICE_PW = f"alice@{LF}", "alice-secret-1"
BOB, BOB_PW = f"bob@{PR}", "bob-secret-2"



@pytest.fixture(params=["certificates", "dialback"])
def federation(tmp_path, request):
    """`certificates`: the node has a CA-signed certificate and checks Prosody's against
    the CA, so both sides use SASL EXTERNAL. `dialback`: the node keeps its generated
    self-signed certificate and has no CA, so both sides fall back to dialback (XEP-0220)
    over TLS, as Prosody's defaults allow for certificates it cannot verify."""
    with_certs = request.param == "certificates"
    with lampfield_and_prosody(tmp_path, with_certs=with_certs, users={ALICE: ALICE_PW},
                               prosody_users={"bob": BOB_PW}) as f:
        yield f
    how = "SASL EXTERNAL" if with_certs else "dialback"
    log = f.node.log_path.read_text(errors="replace")
    assert f"peer authenticated with {how} domain={PR}" in log, f"Prosody did not use {how}:\n{f.node.log_tail()}"


def diagnose(f: Federation) -> str:
    return f"\n--- lampfield log ---\n{f.node.log_tail(80)}\n--- prosody log ---\n{f.prosody.log_tail(80)}"


async def presence_changes_seen(watcher: Client, changer: Client, *, full_detail: bool,
                                seen_from: str) -> None:
    """`changer` changes show and status; `watcher` on the other server sees each change, from
    `seen_from`.

    A Lampfield user's presence reaches another organization through the node's access
    rules (docs/ACCESS.md): at the default level it carries the availability, not the
    user's own words, so only the show values are checked in that direction; and it comes
    once per person, from the node's resource."""
    frm = {"from": seen_from}
    changer.presence(show="away", status="in a meeting")
    if full_detail:
        await watcher.wait_presence("away across servers", show="away", status="in a meeting", **frm)
    else:
        await watcher.wait("presences", lambda r: r["from"] == seen_from and r["show"] in ("away", "xa"),
                           "away across servers")
    changer.presence(show="dnd", status="presenting")
    if full_detail:
        await watcher.wait_presence("dnd across servers", show="dnd", status="presenting", **frm)
    else:
        await watcher.wait_presence("dnd across servers", show="dnd", **frm)
    changer.presence(status="back")
    if full_detail:
        await watcher.wait_presence("available across servers", type="available", show="", status="back",
                                    **frm)
    else:
        await watcher.wait_presence("available across servers", type="available", show="", **frm)


async def message_both_ways(a: Client, b: Client) -> None:
    a.x.send_message(mto=b.jid, mbody="hello from " + a.bare, mtype="chat")
    await b.wait_message("message across servers", body="hello from " + a.bare, from_bare=a.bare)
    b.x.send_message(mto=a.bare, mbody="hello back from " + b.bare, mtype="chat")
    await a.wait_message("reply across servers", body="hello back from " + b.bare, from_bare=b.bare)


def scenario(f: Federation, body) -> None:
    """Log alice in at the node and bob at Prosody, run `body(alice, bob)`, log both out; a
    failed assertion carries both servers' logs."""

    async def go():
        alice = Client(f.lf, ALICE, ALICE_PW, resource="desk")
        bob = Client(f.pr, BOB, BOB_PW, resource="phone")
        await login_all(alice, bob)
        try:
            await body(alice, bob)
        except AssertionError as e:
            raise AssertionError(f"{e}{diagnose(f)}") from None
        finally:
            await close_all(alice, bob)

    run(go())


async def subscribe(asker: Client, owner: Client, *, timeout: float = WAIT_S) -> None:
    """`asker` asks for `owner`'s presence (RFC 6121 §3.1) and `owner` approves."""
    asker.x.send_presence_subscription(pto=owner.bare, ptype="subscribe")
    await owner.wait_presence(f"subscribe request from {asker.bare}", type="subscribe",
                              from_bare=asker.bare, timeout=timeout)
    owner.x.send_presence_subscription(pto=asker.bare, ptype="subscribed")
    await asker.wait_presence(f"approval from {owner.bare}", type="subscribed", from_bare=owner.bare)


def test_lampfield_user_subscribes_to_prosody_user(federation):
    async def body(alice: Client, bob: Client) -> None:
        await subscribe(alice, bob, timeout=2 * WAIT_S)
        await alice.wait_presence("bob's presence after approval", type="available", **{"from": bob.jid})
        roster = await alice.roster()
        assert roster.get(BOB, {}).get("subscription") == "to", f"alice's roster: {roster}"

        await presence_changes_seen(alice, bob, full_detail=True, seen_from=bob.jid)
        await message_both_ways(alice, bob)

        await bob.close()
        await alice.wait_presence("bob unavailable after logout", type="unavailable", **{"from": bob.jid})

    scenario(federation, body)


def test_prosody_user_subscribes_to_lampfield_user(federation):
    async def body(alice: Client, bob: Client) -> None:
        await subscribe(bob, alice, timeout=2 * WAIT_S)
        # Another organization sees alice at public: the person, from the node's resource.
        await bob.wait_presence("alice's presence after approval", type="available",
                                **{"from": alice.person})
        roster = await alice.roster()
        assert roster.get(BOB, {}).get("subscription") == "from", f"alice's roster: {roster}"

        await presence_changes_seen(bob, alice, full_detail=False, seen_from=alice.person)
        # docs/ACCESS.md: another organization sees the availability alone by default,
        # never the user's own words.
        leaked = [r["xml"] for r in bob.presences
                  if "in a meeting" in r["xml"] or "presenting" in r["xml"] or ">back<" in r["xml"]]
        assert not leaked, "alice's status text reached prosody.test:\n" + "\n".join(leaked)
        await message_both_ways(bob, alice)

        # Now both ways, the way clients usually end up.
        await subscribe(alice, bob)
        roster = await alice.roster()
        assert roster.get(BOB, {}).get("subscription") == "both", f"alice's roster: {roster}"

        await alice.close()
        await bob.wait_presence("alice unavailable after logout", type="unavailable",
                                **{"from": alice.person})

    scenario(federation, body)


def test_mutual_subscription_helper_works_across_servers(federation):
    """The same handshake the single-server tests use, across servers."""

    async def body(alice: Client, bob: Client) -> None:
        await befriend(alice, bob)
        await alice.wait_presence("bob available", type="available", **{"from": bob.jid})
        await bob.wait_presence("alice available", type="available", **{"from": alice.person})

    scenario(federation, body)


def test_removed_account_leaves_the_prosody_users_roster(federation):
    """Removing a Lampfield account tells its contacts at other servers: Prosody's user sees
    it go offline and both subscriptions cancelled (RFC 6121 §3.2, §3.3), so Prosody drops
    them from its roster."""

    async def body(alice: Client, bob: Client) -> None:
        await befriend(alice, bob)
        await bob.wait_presence("alice available", type="available", **{"from": alice.person})
        roster = await bob.roster()
        assert roster.get(ALICE, {}).get("subscription") == "both", f"bob's roster: {roster}"

        federation.node.cli("user", "remove", ALICE)
        await bob.wait_presence("alice unavailable", type="unavailable", **{"from": alice.person})
        await bob.wait_presence("alice cancels bob's subscription", type="unsubscribed", from_bare=ALICE)
        await bob.wait_presence("alice ends her subscription", type="unsubscribe", from_bare=ALICE)
        roster = await bob.roster()
        assert roster.get(ALICE, {}).get("subscription", "none") == "none", f"bob's roster: {roster}"
        assert not roster.get(ALICE, {}).get("ask"), f"bob's roster: {roster}"

    scenario(federation, body)
