"""XEP-0077 §3.3: a logged-in user changes their own password from their client (slixmpp's
xep_0077 plugin); the next login takes the new password and refuses the old one. Nobody changes
anyone else's password, accounts are not created or cancelled in-band."""

from __future__ import annotations

import slixmpp

from conftest import USERS
from harness import Client, WAIT_S, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"
NEW = "alice-new-secret-9"


async def iq_error(client: Client, xml: str) -> str:
    """Send a raw iq set and return the defined condition of the error it gets."""
    iq = client.x.Iq()
    iq["type"] = "set"
    iq["to"] = "localhost"
    from xml.etree import ElementTree as ET
    iq.append(ET.fromstring(xml))
    try:
        await iq.send(timeout=WAIT_S)
    except slixmpp.exceptions.IqError as e:
        return e.iq["error"]["condition"]
    raise AssertionError(f"{xml} was accepted")


def test_a_user_changes_their_own_password_and_only_theirs(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0077")
        bob = Client(node, BOB, USERS[BOB])
        async with logged_in(alice, bob):
            # Bob cannot set alice's password, nor cancel an account, nor send an empty one.
            assert await iq_error(bob, "<query xmlns='jabber:iq:register'><username>alice</username>"
                                       "<password>taken-over</password></query>") == "not-authorized"
            assert await iq_error(bob, "<query xmlns='jabber:iq:register'><remove/></query>") == "not-allowed"
            assert await iq_error(bob, "<query xmlns='jabber:iq:register'><username>bob</username>"
                                       "<password/></query>") == "bad-request"
            await alice.x["xep_0077"].change_password(NEW, jid="localhost", timeout=WAIT_S)

        # The old password no longer logs in; the new one does; bob's is untouched.
        old = Client(node, ALICE, USERS[ALICE])
        try:
            await old.login()
        except (AssertionError, ConnectionError):
            pass
        else:
            await old.close()
            raise AssertionError("the old password still logs in")
        assert old.failed_auth, "the old password was not refused by SASL"
        async with logged_in(Client(node, ALICE, NEW), Client(node, BOB, USERS[BOB])):
            pass

    run(scenario())
