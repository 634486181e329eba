"""The organization directory (docs/DIRECTORY.md): every account of the domain sees every other in
its roster, in a group per department, without a single subscription request; rules and blocking
still decide what each colleague is shown; new and removed accounts show up and go live."""

from __future__ import annotations

import asyncio
import time

from harness import WAIT_S, Client, logged_in, run
from test_http_api import Api, make_token

ALICE, BOB, CAROL, DAVE = "alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"
PW = {ALICE: "alice-pw-1", BOB: "bob-pw-2", CAROL: "carol-pw-3", DAVE: "dave-pw-4"}


def office(make_node):
    """A stopped node with the directory on and three accounts made by the CLI."""
    node = make_node(users={}, start=False, directory=True)
    node.cli("user", "add", ALICE, "--password", PW[ALICE], "--name", "Alice Liddell",
             "--department", "Sales", "--extension", "201")
    node.cli("user", "add", BOB, "--password", PW[BOB], "--name", "Bob Builder",
             "--department", "Sales", "--email", "bob@example.com")
    node.cli("user", "add", CAROL, "--password", PW[CAROL], "--name", "Carol")
    return node


def desk(node, jid: str) -> Client:
    """`jid`'s desktop client."""
    return Client(node, jid, PW[jid], resource="desk")


def roster_has(client: Client, bare: str) -> bool:
    return client.x.client_roster.has_jid(bare)


async def until(pred, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S}s: {what}")
        await asyncio.sleep(0.02)


def test_colleagues_are_in_the_roster_by_department_and_their_presence_arrives(make_node):
    node = office(make_node)
    listed = node.cli("user", "list").stdout.splitlines()
    assert f"{ALICE}\tAlice Liddell\tSales\t201\t-" in listed, listed
    assert f"{BOB}\tBob Builder\tSales\t-\tbob@example.com" in listed, listed
    node.start()

    async def scenario():
        alice = desk(node, ALICE)
        bob = desk(node, BOB)
        async with logged_in(alice, bob):
            roster = alice.x.client_roster
            assert roster_has(alice, BOB) and roster_has(alice, CAROL), roster
            assert roster[BOB]["name"] == "Bob Builder"
            assert roster[BOB]["groups"] == ["Sales"]
            assert roster[BOB]["subscription"] == "both"
            assert roster[CAROL]["groups"] == ["Colleagues"], "no department: the default group"
            fetched = await alice.roster()
            assert sorted(fetched) == [BOB, CAROL], "everyone but herself"
            assert fetched[BOB]["name"] == "Bob Builder" and fetched[BOB]["subscription"] == "both"
            # Business, the default for colleagues: availability and the note, from the person.
            bob.presence(show="away", status="at lunch")
            await alice.wait_presence("bob's note", show="away", status="at lunch",
                                      **{"from": bob.person})
            # Already subscribed: a request is answered at once and never bothers bob.
            alice.x.send_presence_subscription(pto=BOB, ptype="subscribe")
            await alice.wait_presence("subscribed", type="subscribed", from_bare=BOB)
            await bob.assert_no("presences", lambda r: r["type"] == "subscribe", "a request")

    run(scenario())


def test_accounts_added_and_removed_show_live(make_node):
    node = office(make_node)
    node.start()

    async def scenario():
        alice = desk(node, ALICE)
        async with logged_in(alice):
            node.cli("user", "add", DAVE, "--password", PW[DAVE], "--name", "Dave",
                     "--department", "Support")
            await until(lambda: roster_has(alice, DAVE), "dave pushed into alice's roster")
            assert alice.x.client_roster[DAVE]["groups"] == ["Support"]
            dave = desk(node, DAVE)
            async with logged_in(dave):
                await alice.wait_presence("dave online", type="available", **{"from": dave.person})
                node.cli("user", "edit", DAVE, "--department", "Sales")
                await until(lambda: alice.x.client_roster[DAVE]["groups"] == ["Sales"],
                            "dave's new department pushed")
            node.cli("user", "remove", DAVE)
            await until(lambda: not roster_has(alice, DAVE), "dave gone from alice's roster")

    run(scenario())


def test_rules_still_decide_and_colleagues_cannot_be_removed(make_node):
    node = office(make_node)
    node.start()

    async def scenario():
        alice = desk(node, ALICE)
        bob = desk(node, BOB)
        async with logged_in(alice, bob):
            await alice.wait_presence("bob online", type="available", **{"from": bob.person})
            node.cli("rule", "set", BOB, f"contact:{ALICE}", "blocked")
            await alice.wait_presence("bob looks offline", type="unavailable", from_bare=BOB)
            iq = alice.x.Iq()
            iq["type"] = "set"
            iq["roster"]["items"] = {BOB: {"subscription": "remove"}}
            try:
                await iq.send(timeout=WAIT_S)
                raise AssertionError("removing a colleague was accepted")
            except Exception as e:  # slixmpp raises IqError with the stanza
                stanza = getattr(e, "iq", None)
                assert stanza is not None, e
                assert stanza["error"]["condition"] == "not-allowed", stanza
            assert roster_has(alice, BOB)

    run(scenario())


def test_rules_naming_a_department_follow_a_colleague_who_moves(make_node):
    node = office(make_node)
    node.cli("rule", "set", ALICE, "group:Support", "blocked")
    node.start()

    async def scenario():
        alice = desk(node, ALICE)
        bob = desk(node, BOB)
        async with logged_in(alice, bob):
            await bob.wait_presence("alice online", type="available", **{"from": alice.person})
            node.cli("user", "edit", BOB, "--department", "Support")
            await bob.wait_presence("alice looks offline", type="unavailable", from_bare=ALICE)

    run(scenario())


def test_the_api_reads_and_changes_entries_and_rosters_follow(make_node):
    node = office(make_node)
    node.start()
    api = Api(node, make_token(node, "hr", "business", "--can", "profiles"))
    no_scope = Api(node, make_token(node, "pbx", "business", "--can", "sources"))

    async def scenario():
        alice = desk(node, ALICE)
        async with logged_in(alice):
            status, got = api.call("GET", f"/v1/users/{ALICE}/directory")
            assert status == 200 and got == {"jid": ALICE, "name": "Alice Liddell",
                                             "department": "Sales", "extension": "201"}, got
            assert no_scope.call("GET", f"/v1/users/{ALICE}/directory")[0] == 403
            changed = api.put(f"/v1/users/{BOB}/directory", {"department": "Support", "name": ""})
            assert changed == {"jid": BOB, "department": "Support", "email": "bob@example.com"}
            await until(lambda: alice.x.client_roster[BOB]["groups"] == ["Support"],
                        "bob's new department pushed")
            status, bad = api.call("PUT", f"/v1/users/{BOB}/directory", {"name": "a\nb"})
            assert status == 422, (status, bad)

    run(scenario())


def test_the_directory_survives_a_restart(make_node):
    node = office(make_node)
    node.start()
    node.stop()
    node.start()
    listed = node.cli("user", "list").stdout
    assert "Bob Builder\tSales" in listed, listed

    async def scenario():
        alice = desk(node, ALICE)
        async with logged_in(alice):
            assert alice.x.client_roster[BOB]["groups"] == ["Sales"]
            assert alice.x.client_roster[BOB]["name"] == "Bob Builder"

    run(scenario())


def test_a_colleagues_vcard_carries_the_directory_fields(make_node):
    """What standard clients and the panel show as contact details (XEP-0054): the directory's
    name, department, extension and e-mail, where the person wrote none of their own."""
    node = office(make_node)
    node.start()

    async def scenario():
        alice = desk(node, ALICE)
        bob = desk(node, BOB)
        for c in (alice, bob):
            c.x.register_plugin("xep_0054")
        async with logged_in(alice, bob):
            card = (await bob.x.plugin["xep_0054"].get_vcard(ALICE, cached=False, timeout=WAIT_S))
            xml = str(card)
            for expected in ("Alice Liddell", "<ORGUNIT>Sales</ORGUNIT>", "<NUMBER>201</NUMBER>"):
                assert expected in xml, xml
            card = (await alice.x.plugin["xep_0054"].get_vcard(BOB, cached=False, timeout=WAIT_S))
            assert "bob@example.com" in str(card), str(card)
            # Her own words win: a name she sets herself is what colleagues see.
            own = alice.x.plugin["xep_0054"].make_vcard()
            own["FN"] = "Alice L."
            await alice.x.plugin["xep_0054"].publish_vcard(own, timeout=WAIT_S)
            card = (await bob.x.plugin["xep_0054"].get_vcard(ALICE, cached=False, timeout=WAIT_S))
            assert "Alice L." in str(card) and "Alice Liddell" not in str(card), str(card)
            assert "<NUMBER>201</NUMBER>" in str(card), str(card)

    run(scenario())
