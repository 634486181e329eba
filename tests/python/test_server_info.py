"""The server answers for itself, with slixmpp's own plugins: XEP-0092 software version,
XEP-0202 entity time and XEP-0012 last activity (its uptime), all advertised in its
disco#info. An account's bare JID answers none of them to a stranger (docs/ACCESS.md; last
activity for contacts at team is test_last_activity.py)."""

import datetime

import pytest
from slixmpp.exceptions import IqError

from conftest import USERS
from harness import Client, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_server_tells_version_time_and_uptime(make_node):
    node = make_node()

    async def go():
        alice = Client(node, ALICE, USERS[ALICE])
        for plugin in ("xep_0030", "xep_0092", "xep_0202", "xep_0012"):
            alice.x.register_plugin(plugin)
        async with logged_in(alice):
            info = await alice.x.plugin["xep_0030"].get_info(jid="localhost", timeout=10)
            features = set(info["disco_info"]["features"])
            for var in ("jabber:iq:version", "urn:xmpp:time", "jabber:iq:last"):
                assert var in features, features

            iq = await alice.x.plugin["xep_0092"].get_version("localhost", timeout=10)
            assert iq["software_version"]["name"] == "Lampfield", iq
            assert iq["software_version"]["version"], iq
            assert not iq["software_version"]["os"], "the server does not tell its OS"

            iq = await alice.x.plugin["xep_0202"].get_entity_time("localhost", timeout=10)
            # read the raw XML: slixmpp's xep_0202 parser fails on a `utc` ending in `Z`
            utc = iq.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}utc").text
            told = datetime.datetime.fromisoformat(utc.replace("Z", "+00:00"))
            now = datetime.datetime.now(datetime.timezone.utc)
            assert abs((now - told).total_seconds()) < 60, (told, now)
            assert iq.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}tzo").text == "+00:00"

            iq = await alice.x.plugin["xep_0012"].get_last_activity("localhost", timeout=10)
            assert 0 <= iq["last_activity"]["seconds"] < 600, iq

            # an account's bare JID answers none of them: the same error a missing account gives
            for target in (BOB, "nobody@localhost"):
                for ask in (lambda t: alice.x.plugin["xep_0092"].get_version(t, timeout=10),
                            lambda t: alice.x.plugin["xep_0202"].get_entity_time(t, timeout=10),
                            lambda t: alice.x.plugin["xep_0012"].get_last_activity(t, timeout=10)):
                    with pytest.raises(IqError) as err:
                        await ask(target)
                    assert err.value.iq["error"]["condition"] == "service-unavailable", target

    run(go())
