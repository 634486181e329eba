"""XEP-0049 private XML storage with slixmpp's xep_0049 plugin: what a user's client stores is
there for the user's next client, also after a restart, and for nobody else."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.xmlstream import ElementBase, register_stanza_plugin
from slixmpp.plugins.xep_0049 import PrivateXML

from conftest import USERS
from harness import Client, WAIT_S, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"


class Prefs(ElementBase):
    name = "prefs"
    namespace = "urn:example:prefs"
    plugin_attrib = "prefs"
    interfaces = {"color"}
    sub_interfaces = interfaces


register_stanza_plugin(PrivateXML, Prefs)


def client(node, jid: str) -> Client:
    c = Client(node, jid, USERS[jid])
    c.x.register_plugin("xep_0049")
    return c


def test_private_xml_is_kept_for_the_user_alone_across_a_restart(node):
    async def store():
        alice = client(node, ALICE)
        async with logged_in(alice):
            prefs = Prefs()
            prefs["color"] = "blue"
            await alice.x["xep_0049"].store(prefs, timeout=WAIT_S)

    async def read_back():
        alice, bob = client(node, ALICE), client(node, BOB)
        async with logged_in(alice, bob):
            got = await alice.x["xep_0049"].retrieve("prefs", timeout=WAIT_S)
            assert got["private"]["prefs"]["color"] == "blue", str(got)
            # Bob asking alice's bare JID gets what any unanswered namespace gets there.
            iq = bob.x.Iq()
            iq["type"] = "get"
            iq["to"] = ALICE
            iq.append(ET.fromstring("<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>"))
            try:
                await iq.send(timeout=WAIT_S)
            except slixmpp.exceptions.IqError as e:
                assert e.iq["error"]["condition"] == "service-unavailable", str(e.iq)
            else:
                raise AssertionError("bob read alice's private XML")
            # Bob's own storage has nothing of alice's.
            mine = await bob.x["xep_0049"].retrieve("prefs", timeout=WAIT_S)
            assert not mine["private"]["prefs"]["color"], str(mine)

    run(store())
    node.stop()
    node.start()
    run(read_back())
