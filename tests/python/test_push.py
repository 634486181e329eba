"""XEP-0357 push notifications, as a phone (Conversations, Monal, Siskin) uses them: the phone
enables push through an app server, falls asleep (its connection drops and its session waits
for XEP-0198 resumption, or it is simply offline), and a message from a contact makes the
server publish one notification to the app server's node, with the phone's secret from its
publish-options and nothing of the message: no body, no sender (the app server is a third
party outside the organization; docs/ACCESS.md). Disabling stops notifications; a registration
survives a restart of the node.

slixmpp 1.17 ships no XEP-0357 plugin, so the phone sends `<enable/>` and `<disable/>` as raw
iq payloads through slixmpp's own iq API. The app server is a second slixmpp client, logged in
as the local account pushapp@localhost/appserver, that answers every publish."""

import asyncio

from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import USERS
from harness import WAIT_S, Client, close_all, run
from test_stream_management import drop, with_stream_management

ALICE, BOB = "alice@localhost", "bob@localhost"
PUSHAPP = "pushapp@localhost"
APP_JID = f"{PUSHAPP}/appserver"
USERS_AND_APP = {**USERS, PUSHAPP: "pushapp-secret-9"}
NODE = "node-alice-phone"
SECRET = "eruio234vzxc2kla-91"

PS = "{http://jabber.org/protocol/pubsub}"
DATA = "{jabber:x:data}"
PUSH = "urn:xmpp:push:0"

ENABLE = f"""<enable xmlns='{PUSH}' jid='{APP_JID}' node='{NODE}'>
  <x xmlns='jabber:x:data' type='submit'>
    <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
    <field var='secret'><value>{SECRET}</value></field>
  </x>
</enable>"""
DISABLE = f"<disable xmlns='{PUSH}' jid='{APP_JID}' node='{NODE}'/>"


async def own_iq(client: Client, payload: str):
    """An iq set with `payload` to the client's own account; the result, or an error raised."""
    iq = client.x.make_iq_set(ito=client.bare)
    iq.xml.append(ET.fromstring(payload))
    return await iq.send(timeout=WAIT_S)


def app_server(node, refuse: str | None = None) -> Client:
    """pushapp@localhost/appserver, recording every pubsub publish it gets and answering it
    with a result, as an app server does, or with the error `refuse` (type cancel)."""
    client = Client(node, PUSHAPP, USERS_AND_APP[PUSHAPP], resource="appserver")
    client.notifications = []

    def publish(iq):
        client.notifications.append(iq)
        answer = iq.reply()
        if refuse is not None:
            answer.error()
            answer["error"]["type"] = "cancel"
            answer["error"]["condition"] = refuse
        answer.send()

    client.x.register_handler(Callback(
        "push publish", MatchXPath(f"{{jabber:client}}iq/{PS}pubsub"), publish))
    return client


async def wait_notifications(app: Client, count: int) -> list:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while len(app.notifications) < count:
        assert asyncio.get_running_loop().time() < deadline, \
            f"{len(app.notifications)} notifications within {WAIT_S}s, expected {count}"
        await asyncio.sleep(0.05)
    return app.notifications


def check_notification(iq) -> None:
    """One notification as XEP-0357 §7 has it, saying nothing of the message."""
    assert iq["type"] == "set" and iq["from"].bare == ALICE, str(iq)
    publish = iq.xml.find(f"{PS}pubsub/{PS}publish")
    assert publish is not None and publish.get("node") == NODE, str(iq)
    form = publish.find(f"{PS}item/{{{PUSH}}}notification/{DATA}x")
    assert form is not None, str(iq)
    fields = {f.get("var"): f.findtext(f"{DATA}value") for f in form.findall(f"{DATA}field")}
    assert fields.get("FORM_TYPE") == "urn:xmpp:push:summary", fields
    assert int(fields.get("message-count", "0")) >= 1, fields
    assert "last-message-sender" not in fields and "last-message-body" not in fields, fields
    options = iq.xml.find(f"{PS}pubsub/{PS}publish-options/{DATA}x")
    assert options is not None, f"the phone's publish-options are missing: {iq}"
    secret = [f.findtext(f"{DATA}value") for f in options.findall(f"{DATA}field")
              if f.get("var") == "secret"]
    assert secret == [SECRET], str(iq)
    text = str(iq)
    assert "secret plans" not in text and BOB not in text, f"the message leaked: {text}"


def test_a_sleeping_phone_is_woken_once_with_nothing_of_the_message(make_node):
    node = make_node(users=USERS_AND_APP)

    async def scenario():
        app = app_server(node)
        phone = with_stream_management(Client(node, ALICE, USERS[ALICE], resource="phone"))
        phone.x.register_plugin("xep_0030")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        try:
            await app.login()
            await phone.login()
            await bob.login()
            await asyncio.wait_for(phone.sm_enabled, WAIT_S)
            info = await phone.x.plugin["xep_0030"].get_info(jid=ALICE, timeout=WAIT_S)
            assert PUSH in info["disco_info"]["features"], "push is advertised on the own account"
            await own_iq(phone, ENABLE)

            # Awake: nothing to wake.
            bob.x.send_message(mto=ALICE, mbody="while you look", mtype="chat")
            await phone.wait_message("the message while awake", body="while you look")
            await asyncio.sleep(1.0)
            assert app.notifications == [], "a connected phone is not woken"

            # Acknowledge what was read: a message still unacknowledged when the connection
            # drops may never have reached the phone, and wakes it (the next test).
            phone.x.plugin["xep_0198"].send_ack()
            await asyncio.sleep(0.5)
            await drop(phone)
            await asyncio.sleep(0.3)
            # A chat state alone wakes nobody.
            state = bob.x.make_message(mto=ALICE, mtype="chat")
            state.xml.append(ET.fromstring("<composing xmlns='http://jabber.org/protocol/chatstates'/>"))
            state.send()
            await asyncio.sleep(1.0)
            assert app.notifications == [], "a chat state woke the phone"

            bob.x.send_message(mto=ALICE, mbody="secret plans", mtype="chat")
            [notification] = await wait_notifications(app, 1)
            check_notification(notification)
            await asyncio.sleep(2.0)
            assert len(app.notifications) == 1, "exactly one notification"
        finally:
            await close_all(app, phone, bob)

    run(scenario())


def test_disable_stops_notifications_and_registrations_survive_a_restart(make_node):
    node = make_node(users=USERS_AND_APP)

    async def enable():
        phone = Client(node, ALICE, USERS[ALICE], resource="phone")
        try:
            await phone.login()
            await own_iq(phone, ENABLE)
        finally:
            await close_all(phone)

    run(enable())
    code = node.stop()
    assert code == 0, node.log_tail()
    node.start()

    async def after_restart():
        app = app_server(node)
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        try:
            await app.login()
            await bob.login()
            # The phone is offline: the message is kept, and the phone woken.
            bob.x.send_message(mto=ALICE, mbody="secret plans", mtype="chat")
            [notification] = await wait_notifications(app, 1)
            check_notification(notification)

            phone = Client(node, ALICE, USERS[ALICE], resource="phone")
            await phone.login()
            await phone.wait_message("the message kept offline", body="secret plans")
            await own_iq(phone, DISABLE)
            await close_all(phone)

            bob.x.send_message(mto=ALICE, mbody="after disable", mtype="chat")
            # Longer than the 5 s a registration's notifications are coalesced in.
            await asyncio.sleep(6.0)
            assert len(app.notifications) == 1, "disable stopped notifications"
        finally:
            await close_all(app, bob)

    run(after_restart())


def test_an_app_server_that_lost_the_node_disables_the_registration(make_node):
    """An app server answering `item-not-found` (the app was uninstalled) is not bothered again."""
    node = make_node(users=USERS_AND_APP)

    async def scenario():
        app = app_server(node, refuse="item-not-found")
        phone = Client(node, ALICE, USERS[ALICE], resource="phone")
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        try:
            await app.login()
            await bob.login()
            await phone.login()
            await own_iq(phone, ENABLE)
            await close_all(phone)
            bob.x.send_message(mto=ALICE, mbody="secret plans", mtype="chat")
            await wait_notifications(app, 1)
            # Past the 5 s in which notifications are coalesced.
            await asyncio.sleep(5.5)
            bob.x.send_message(mto=ALICE, mbody="and more", mtype="chat")
            await asyncio.sleep(1.5)
            assert len(app.notifications) == 1, "the refused registration was disabled"
            assert not app.disconnected, "the app server stayed online to be asked again"
        finally:
            await close_all(app, bob)

    run(scenario())


def test_a_message_unacknowledged_when_the_connection_drops_wakes_the_phone(make_node):
    """The phone's connection died silently: the server wrote a message the phone never
    acknowledged. When the server notices the drop, that message wakes the phone."""
    node = make_node(users=USERS_AND_APP)

    async def scenario():
        app = app_server(node)
        phone = with_stream_management(Client(node, ALICE, USERS[ALICE], resource="phone"))
        bob = Client(node, BOB, USERS[BOB], resource="desk")
        try:
            await app.login()
            await phone.login()
            await bob.login()
            await asyncio.wait_for(phone.sm_enabled, WAIT_S)
            await own_iq(phone, ENABLE)
            phone.x.plugin["xep_0198"].send_ack()
            await asyncio.sleep(0.5)
            # From now on the phone answers no <r/>, as a dead connection would not.
            phone.x.remove_handler("Stream Management Request Ack")
            bob.x.send_message(mto=ALICE, mbody="secret plans", mtype="chat")
            await phone.wait_message("the message, never acknowledged", body="secret plans")
            assert app.notifications == [], "a connected phone is not woken"
            await drop(phone)
            [notification] = await wait_notifications(app, 1)
            check_notification(notification)
        finally:
            await close_all(app, phone, bob)

    run(scenario())
