"""XEP-0237 roster versioning (RFC 6121 §2.6): the node offers the stream feature, a client
holding the current version gets an empty result instead of the whole roster, every change
gives a new version (carried by its push), and versions survive a restart."""

from conftest import USERS
from harness import Client, logged_in, run

ALICE = "alice@localhost"
ERIN, FRANK = "erin@example.net", "frank@example.net"


async def roster_get(client: Client, ver: str):
    """A roster get naming `ver`: (the result's version, its items), or None for an empty
    result (the client's version is current)."""
    req = client.x.Iq()
    req["type"] = "get"
    req.enable("roster")
    req["roster"]["ver"] = ver
    iq = await req.send(timeout=10)
    if iq.xml.find("{jabber:iq:roster}query") is None:
        return None
    return iq["roster"]["ver"], sorted(str(j) for j in iq["roster"]["items"])


def test_versions_spare_the_full_roster_and_change_with_it(make_node):
    node = make_node()
    seen = {}

    async def before_restart():
        alice = Client(node, ALICE, USERS[ALICE])
        async with logged_in(alice):
            assert "rosterver" in alice.x.features, alice.x.features
            await alice.x.update_roster(ERIN, name="Erin", timeout=10)
            # slixmpp keeps the version each push carries
            v1 = alice.x.client_roster.version
            assert v1, "the push of erin carried no version"
            full = await roster_get(alice, "")
            assert full == (v1, [ERIN]), full
            assert await roster_get(alice, v1) is None, "current version: empty result expected"
            await alice.x.update_roster(FRANK, timeout=10)
            v2 = alice.x.client_roster.version
            assert v2 and v2 != v1, (v1, v2)
            # an older version gets the whole roster at the new version
            assert await roster_get(alice, v1) == (v2, [ERIN, FRANK])
            # removing frank gives yet another version, not v1 again, though erin alone is left
            await alice.x.del_roster_item(FRANK)
            v3 = (await roster_get(alice, ""))[0]
            assert v3 not in (v1, v2), (v1, v2, v3)
            assert await roster_get(alice, v2) == (v3, [ERIN])
            seen["v3"] = v3

    async def after_restart():
        alice = Client(node, ALICE, USERS[ALICE], resource="after")
        async with logged_in(alice):
            assert await roster_get(alice, seen["v3"]) is None, "version lost in the restart"
            assert await roster_get(alice, "stale") == (seen["v3"], [ERIN])

    run(before_restart())
    assert node.stop() == 0, node.log_tail()
    node.start()
    run(after_restart())
