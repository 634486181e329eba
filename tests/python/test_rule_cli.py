"""`lampfield rule`: an administrator (or a script) sets who sees what; a running node applies it
to watchers at once, a stopped node's database keeps it for the next start."""

from conftest import USERS
from harness import Client, befriend, run, logged_in

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_rule_set_on_a_running_node_reaches_the_watcher_at_once(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})
            out = node.cli("rule", "set", ALICE, f"contact:{BOB}", "blocked").stdout
            assert "blocked" in out, out
            await bob.wait_presence("alice gone for bob", type="unavailable", **{"from": alice.person})
            explained = node.cli("rule", "explain", ALICE, BOB).stdout
            assert explained.startswith("blocked") and f"contact:{BOB}" in explained, explained
            listed = node.cli("rule", "list", ALICE).stdout
            assert f"contact:{BOB}\tblocked" in listed, listed
            bad = node.cli("rule", "set", ALICE, "nobody", "team", check=False)
            assert bad.returncode != 0 and "expected contact:" in bad.stderr, bad.stderr

    run(scenario())


def test_rules_set_while_stopped_apply_after_start(make_node):
    node = make_node(start=False)
    node.cli("rule", "set", ALICE, "default", "public")
    assert "default\tpublic" in node.cli("rule", "list", ALICE).stdout
    node.start()
    assert node.cli("rule", "explain", ALICE, BOB).stdout.startswith("public")
    node.cli("rule", "remove", ALICE, "default")
    assert node.cli("rule", "explain", ALICE, BOB).stdout.startswith("business")
