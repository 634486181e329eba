"""XEP-0050 ad-hoc commands from a plain client: list the commands, set one's presence, and
decide who sees what; a rule change reaches the watcher at once (docs/ACCESS.md)."""

import asyncio
from xml.etree import ElementTree as ET

from conftest import USERS
from harness import DOMAIN, Client, befriend, close_all, run, logged_in

ALICE, BOB = "alice@localhost", "bob@localhost"
CMD = "http://jabber.org/protocol/commands"
DATA = "jabber:x:data"


async def command(client: Client, node: str, fields: dict[str, str] | None = None) -> ET.Element:
    """Execute `node`, and when `fields` is given submit them in the same session; returns the
    final `<command/>` element."""
    iq = client.x.Iq()
    iq["type"] = "set"
    iq["to"] = DOMAIN
    iq.xml.append(ET.fromstring(f"<command xmlns='{CMD}' node='{node}' action='execute'/>"))
    first = (await iq.send(timeout=10)).xml.find(f"{{{CMD}}}command")
    if fields is None:
        return first
    assert first.get("status") == "executing", ET.tostring(first)
    values = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in fields.items())
    iq = client.x.Iq()
    iq["type"] = "set"
    iq["to"] = DOMAIN
    iq.xml.append(ET.fromstring(
        f"<command xmlns='{CMD}' node='{node}' sessionid='{first.get('sessionid')}' action='complete'>"
        f"<x xmlns='{DATA}' type='submit'>{values}</x></command>"))
    return (await iq.send(timeout=10)).xml.find(f"{{{CMD}}}command")


def note(cmd: ET.Element) -> tuple[str, str]:
    n = cmd.find(f"{{{CMD}}}note")
    return (n.get("type"), n.text or "") if n is not None else ("", "")


def test_commands_are_listed_at_the_server(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0030")
        await alice.login()
        try:
            items = await alice.x.plugin["xep_0030"].get_items(jid=DOMAIN, node=CMD, timeout=10)
            nodes = {i[1] for i in items["disco_items"]["items"]}
            assert {"lampfield:profile", "lampfield:presence", "lampfield:rule", "lampfield:rules"} <= nodes, nodes
        finally:
            await close_all(alice)

    run(scenario())


def test_blocking_a_watcher_by_command_hides_everything_at_once(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})

            done = await command(alice, "lampfield:rule", {"who": f"contact:{BOB}", "level": "blocked"})
            assert note(done)[0] == "info", ET.tostring(done)
            # Bob was shown alice available: he is told she is gone, exactly as if she logged out.
            await bob.wait_presence("alice unavailable after the block", type="unavailable",
                                    **{"from": alice.person})

            seen = len(bob.presences)
            done = await command(alice, "lampfield:presence",
                                 {"availability": "do_not_disturb", "note": "Focus time"})
            assert "Do not disturb" in note(done)[1], ET.tostring(done)
            await asyncio.sleep(1.5)
            leaked = [r["xml"] for r in bob.presences[seen:] if r["from"].startswith(ALICE)]
            assert not leaked, f"bob saw alice while blocked: {leaked}"

            # Team level: bob sees the full picture again, immediately, from alice's device.
            await command(alice, "lampfield:rule", {"who": f"contact:{BOB}", "level": "team"})
            await bob.wait_presence("alice dnd with her note", show="dnd",
                                    status="Focus time", **{"from": alice.jid})

            shown = await command(alice, "lampfield:rules")
            texts = [v.text for v in shown.iter(f"{{{DATA}}}value")]
            assert any(f"contact:{BOB}: team" == t for t in texts), texts

            refused = await command(alice, "lampfield:rule", {"who": "nobody", "level": "team"})
            assert note(refused)[0] == "error", ET.tostring(refused)

    run(scenario())


def test_switching_the_presence_profile_by_command(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            form = await command(alice, "lampfield:profile")
            options = [o.text for o in form.iter(f"{{{DATA}}}value")]
            assert "Do not disturb" in options, ET.tostring(form)
            done = await command(alice, "lampfield:profile", {"profile": "Do not disturb"})
            assert note(done) == ("info", "Profile Do not disturb is active"), ET.tostring(done)
            await bob.wait_presence("alice in do not disturb", show="dnd", **{"from": alice.person})
            done = await command(alice, "lampfield:profile", {"profile": "-"})
            assert note(done)[0] == "info", ET.tostring(done)
            await bob.wait_presence("alice available again", type="available", show="", **{"from": alice.person})
            refused = await command(alice, "lampfield:profile", {"profile": "No such profile"})
            assert note(refused)[0] == "error", ET.tostring(refused)

    run(scenario())
