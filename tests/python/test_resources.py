"""RFC 6121 §4: one account with two resources at different priorities. Contacts at team see
each resource's presence separately; the account's other resources see each other."""

from conftest import USERS
from harness import Client, befriend, close_all, login_all, run, show_devices

ALICE, BOB = "alice@localhost", "bob@localhost"


def test_two_resources_with_different_priorities(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="desk")
        setup = Client(node, BOB, USERS[BOB], resource="setup")
        await login_all(alice, setup)
        show_devices(node, BOB, ALICE)
        await befriend(alice, setup)
        await setup.close()

        phone = Client(node, BOB, USERS[BOB], resource="phone", priority=-1)
        desk = Client(node, BOB, USERS[BOB], resource="desk", priority=5)
        await phone.login()
        await desk.login()
        try:
            p = await alice.wait_presence("bob/phone available", type="available", **{"from": phone.jid})
            assert p["priority"] == -1, p
            p = await alice.wait_presence("bob/desk available", type="available", **{"from": desk.jid})
            assert p["priority"] == 5, p
            # RFC 6121 §4.2.2: the user's own other resources get the initial presence too.
            await phone.wait_presence("own other resource's initial presence", type="available",
                                      **{"from": desk.jid})
            # And a new resource learns the presence of the contacts (probe answered); bob sees
            # alice at business, the person.
            await desk.wait_presence("alice's presence via probe", type="available",
                                     **{"from": alice.person})

            # Clients combine most-active-wins (docs/PRESENCE.md rule 6): with the phone still
            # available bob stays available, and the higher-priority desk's text is the note.
            desk.presence(show="away", status="lunch", priority=5)
            await alice.wait_presence("bob available with the desk's note", type="available", show="",
                                      status="lunch", **{"from": desk.jid})

            # One resource leaves; the other stays available, and now it alone says away.
            await phone.close()
            await alice.wait_presence("bob/phone unavailable", type="unavailable", **{"from": phone.jid})
            await alice.wait_presence("bob away once only the desk is left", show="away",
                                      status="lunch", **{"from": desk.jid})
            await alice.assert_no("presences", lambda r: r["from"] == desk.jid and r["type"] == "unavailable",
                                  "bob/desk unavailable while it is still online", quiet=0.5)
        finally:
            await close_all(alice, phone, desk)

    run(scenario())
