//! What a viewer learns of a user's clients, by disclosure (docs/ACCESS.md, "Client extensions in
//! presence"): one presence per person below team and one per device from team on, each client's
//! extensions by level, never the same presence twice, and a full JID only for those who may
//! address it (RFC 6121 §8.5.3.2.1).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use lampfield_xmpp::Disclosure::{self, Devices, Everything, Person};
use lampfield_xmpp::Router;
use minidom::Element;

const NODE: &str = "alice@example.org/lampfield";
const DESK: &str = "alice@example.org/desk";
const PHONE: &str = "alice@example.org/phone";

/// `viewer` (online) subscribes to `owner`, who shows it `disclosure`.
async fn watch(
    relay: &Relay,
    owner: &mut Client,
    viewer: &mut Client,
    disclosure: Option<Disclosure>,
) {
    let (o, v) = (owner.jid.to_bare(), viewer.jid.to_bare());
    relay.disclose(&o, &v, disclosure);
    viewer
        .send(&format!("<presence type='subscribe' to='{o}'/>"))
        .await;
    owner
        .send(&format!("<presence type='subscribed' to='{v}'/>"))
        .await;
    owner.drain();
}

/// The available and unavailable presences in `els`, as (from, "available" or "unavailable").
fn presences(els: &[Element]) -> Vec<(String, &'static str)> {
    els.iter()
        .filter(|e| e.name() == "presence")
        .filter_map(|e| {
            let kind = match e.attr("type") {
                None => "available",
                Some("unavailable") => "unavailable",
                Some(_) => return None,
            };
            Some((e.attr("from")?.to_owned(), kind))
        })
        .collect()
}

fn pairs(want: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    want.iter().map(|(f, k)| ((*f).to_owned(), *k)).collect()
}

/// The one available presence in `els`.
fn only_available(els: &[Element]) -> &Element {
    let avail = of(els, "presence", None);
    assert_eq!(avail.len(), 1, "{els:?}");
    avail[0]
}

/// The namespaces of the children of `p` outside `jabber:client`.
fn extensions(p: &Element) -> Vec<String> {
    p.children()
        .map(|c| c.ns())
        .filter(|ns| ns != "jabber:client")
        .collect()
}

fn nick(p: &Element) -> Option<String> {
    p.get_child("nick", "http://jabber.org/protocol/nick")
        .map(Element::text)
}

/// Alice on her desk (priority 5), watched by bob below team and by carol at team.
struct Watched {
    router: Router<FakeBackend>,
    desk: Client,
    bob: Client,
    carol: Client,
}

async fn alice_watched(others: &[&str]) -> Watched {
    let names: Vec<&str> = ["alice", "bob", "carol"]
        .into_iter()
        .chain(others.iter().copied())
        .collect();
    let (router, _, relay) = router_with_relay(&names);
    let mut desk = online(&router, "alice", "desk", 5).await;
    let mut bob = online(&router, "bob", "b", 0).await;
    let mut carol = online(&router, "carol", "c", 0).await;
    watch(&relay, &mut desk, &mut bob, Some(Person)).await;
    watch(&relay, &mut desk, &mut carol, Some(Devices)).await;
    Watched {
        router,
        desk,
        bob,
        carol,
    }
}

#[tokio::test]
async fn below_team_one_presence_per_person_and_never_the_same_twice() {
    let Watched {
        router,
        desk,
        mut bob,
        mut carol,
    } = alice_watched(&[]).await;

    let got = bob.drain();
    assert_eq!(presences(&got), pairs(&[(NODE, "available")]));
    assert!(
        only_available(&got)
            .get_child("priority", "jabber:client")
            .is_none(),
        "the person has no priority: {got:?}"
    );
    let got = carol.drain();
    assert_eq!(presences(&got), pairs(&[(DESK, "available")]));

    // A second device: the team viewer sees it come, the other one holds that person already.
    let mut phone = online(&router, "alice", "phone", 0).await;
    assert_eq!(presences(&bob.drain()), []);
    assert_eq!(presences(&carol.drain()), pairs(&[(PHONE, "available")]));

    // A change both may see: the person once, each device once.
    desk.send("<presence><priority>5</priority><show>away</show></presence>")
        .await;
    let got = bob.drain();
    assert_eq!(presences(&got), pairs(&[(NODE, "available")]));
    assert!(
        only_available(&got)
            .get_child("show", "jabber:client")
            .is_some()
    );
    assert_eq!(
        presences(&carol.drain()),
        pairs(&[(DESK, "available"), (PHONE, "available")])
    );

    // Published again with nothing either may see changed (a change underneath): silence.
    router.publish(&bare("alice")).await;
    assert_eq!(presences(&bob.drain()), []);
    assert_eq!(presences(&carol.drain()), []);

    // The devices go one by one; the person goes with the last.
    phone.drain();
    phone.logout().await;
    assert_eq!(presences(&bob.drain()), []);
    assert_eq!(presences(&carol.drain()), pairs(&[(PHONE, "unavailable")]));
    desk.logout().await;
    assert_eq!(presences(&bob.drain()), pairs(&[(NODE, "unavailable")]));
    assert_eq!(presences(&carol.drain()), pairs(&[(DESK, "unavailable")]));
}

#[tokio::test]
async fn moving_between_person_and_devices_withdraws_what_was_held_first() {
    let (router, _, relay) = router_with_relay(&["alice", "bob"]);
    let alice = bare("alice");
    let mut desk = online(&router, "alice", "desk", 5).await;
    let _phone = online(&router, "alice", "phone", 0).await;
    let mut bob = online(&router, "bob", "b", 0).await;
    watch(&relay, &mut desk, &mut bob, Some(Person)).await;
    assert_eq!(presences(&bob.drain()), pairs(&[(NODE, "available")]));
    let bj = bob.jid.to_bare();

    // A rule change, published by the node: bob gets `want`.
    let mut rule = async |disclosure, want: &[(&str, &'static str)]| {
        relay.disclose(&alice, &bj, disclosure);
        router.publish(&alice).await;
        assert_eq!(presences(&bob.drain()), pairs(want), "{disclosure:?}");
    };
    let devices_came = [(DESK, "available"), (PHONE, "available")];
    let devices_went = [(DESK, "unavailable"), (PHONE, "unavailable")];
    rule(
        Some(Devices),
        &[(NODE, "unavailable"), devices_came[0], devices_came[1]],
    )
    .await;
    rule(
        Some(Person),
        &[devices_went[0], devices_went[1], (NODE, "available")],
    )
    .await;
    // Blocked: unavailable for exactly what it held, then nothing.
    rule(None, &[(NODE, "unavailable")]).await;
    rule(None, &[]).await;
    rule(Some(Devices), &devices_came).await;
    rule(None, &devices_went).await;

    // A roster-group move shows the new place at once (Router::reshow), in its form.
    relay.disclose(&alice, &bj, Some(Person));
    desk.send(
        "<iq type='set' id='g'><query xmlns='jabber:iq:roster'>\
         <item jid='bob@example.org'><group>Friends</group></item></query></iq>",
    )
    .await;
    assert_eq!(presences(&bob.drain()), pairs(&[(NODE, "available")]));
    relay.disclose(&alice, &bj, Some(Devices));
    desk.send(
        "<iq type='set' id='g2'><query xmlns='jabber:iq:roster'>\
         <item jid='bob@example.org'><group>Team</group></item></query></iq>",
    )
    .await;
    assert_eq!(
        presences(&bob.drain()),
        pairs(&[
            (NODE, "unavailable"),
            (DESK, "available"),
            (PHONE, "available")
        ])
    );
}

#[tokio::test]
async fn client_extensions_pass_on_by_level() {
    let (router, _, relay) = router_with_relay(&["alice", "bob", "carol", "dave", "erin"]);
    let mut desk = online(&router, "alice", "desk", 0).await;
    let mut viewers = Vec::new();
    for (name, disclosure) in [
        ("bob", Some(Person)),
        ("carol", Some(Devices)),
        ("dave", Some(Everything)),
        ("erin", None),
    ] {
        let mut v = online(&router, name, "r", 0).await;
        watch(&relay, &mut desk, &mut v, disclosure).await;
        v.drain();
        viewers.push(v);
    }
    let presence = |mood: &str, photo: &str| {
        format!(
            "<presence><show>dnd</show><status>x</status>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://client' ver='v1'/>\
             <x xmlns='vcard-temp:x:update'><photo>{photo}</photo></x>\
             <nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>\
             <mood xmlns='urn:example:mood'><{mood}/></mood>\
             <delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>\
             <idle xmlns='urn:xmpp:idle:1' since='2020-01-01T00:00:00Z'/>\
             <activity xmlns='http://jabber.org/protocol/activity'><relaxing/></activity>\
             <device xmlns='urn:lampfield:presence:0' kind='mobile'/></presence>"
        )
    };
    desk.send(&presence("happy", "aaa")).await;
    let got: Vec<Vec<Element>> = viewers.iter_mut().map(Client::drain).collect();
    let person = only_available(&got[0]);
    assert_eq!(person.attr("from"), Some(NODE));
    assert_eq!(
        extensions(person),
        ["vcard-temp:x:update", "http://jabber.org/protocol/nick"]
    );
    let devices = only_available(&got[1]);
    assert_eq!(devices.attr("from"), Some(DESK));
    assert_eq!(
        extensions(devices),
        [
            "http://jabber.org/protocol/caps",
            "vcard-temp:x:update",
            "http://jabber.org/protocol/nick"
        ]
    );
    let everything = only_available(&got[2]);
    assert_eq!(
        extensions(everything),
        [
            "http://jabber.org/protocol/caps",
            "vcard-temp:x:update",
            "http://jabber.org/protocol/nick",
            "urn:example:mood"
        ],
        "never what the node renders or must not pass on"
    );
    assert!(got[3].is_empty(), "erin sees nothing: {:?}", got[3]);

    // A new mood is news at personal only; a new avatar for everyone who sees the person.
    desk.send(&presence("sad", "aaa")).await;
    let got: Vec<Vec<Element>> = viewers.iter_mut().map(Client::drain).collect();
    assert_eq!(presences(&got[0]), []);
    assert_eq!(presences(&got[1]), []);
    assert_eq!(presences(&got[2]), pairs(&[(DESK, "available")]));
    desk.send(&presence("sad", "bbb")).await;
    let got: Vec<Vec<Element>> = viewers.iter_mut().map(Client::drain).collect();
    assert_eq!(presences(&got[0]), pairs(&[(NODE, "available")]));
    assert_eq!(presences(&got[1]), pairs(&[(DESK, "available")]));
    assert_eq!(presences(&got[2]), pairs(&[(DESK, "available")]));
    assert!(got[3].is_empty());
}

#[tokio::test]
async fn the_person_speaks_with_the_first_clients_nickname() {
    let (router, _, relay) = router_with_relay(&["alice", "bob"]);
    let mut desk = online(&router, "alice", "desk", 0).await;
    let mut bob = online(&router, "bob", "b", 0).await;
    watch(&relay, &mut desk, &mut bob, Some(Person)).await;
    bob.drain();
    let named = |name: &str, priority: i8| {
        format!(
            "<presence><priority>{priority}</priority>\
             <nick xmlns='http://jabber.org/protocol/nick'>{name}</nick></presence>"
        )
    };
    desk.send(&named("Desk", 5)).await;
    assert_eq!(nick(only_available(&bob.drain())).as_deref(), Some("Desk"));

    let mut phone = Client::login(&router, "alice", Some("phone")).await;
    phone.send(&named("Phone", 10)).await;
    assert_eq!(nick(only_available(&bob.drain())).as_deref(), Some("Phone"));
    // A tie goes to the first resource name: "desk" before "laptop".
    let laptop = Client::login(&router, "alice", Some("laptop")).await;
    laptop.send(&named("Laptop", 5)).await;
    assert_eq!(presences(&bob.drain()), []);
    phone.drain();
    phone.logout().await;
    assert_eq!(nick(only_available(&bob.drain())).as_deref(), Some("Desk"));
}

#[tokio::test]
async fn a_full_jid_iq_reaches_the_client_only_from_who_may_address_it() {
    let Watched {
        router,
        mut desk,
        mut bob,
        mut carol,
        ..
    } = alice_watched(&["dave"]).await;
    let mut dave = online(&router, "dave", "d", 0).await;
    for v in [&mut bob, &mut carol] {
        v.drain();
    }
    let version = |to: &str, id: &str| {
        format!("<iq type='get' id='{id}' to='{to}'><query xmlns='jabber:iq:version'/></iq>")
    };

    // An unbound resource: the answer everyone must get when they may not address one.
    bob.send(&version("alice@example.org/nosuch", "u")).await;
    let unbound = bob.drain();
    assert_eq!(
        error_condition(&unbound[0]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(unbound[0].attr("from"), Some("alice@example.org/nosuch"));
    for (who, to) in [("bob", DESK), ("bob", NODE), ("dave", DESK), ("dave", NODE)] {
        let viewer = if who == "bob" { &mut bob } else { &mut dave };
        viewer.send(&version(to, "x")).await;
        let got = viewer.drain();
        assert_eq!(got.len(), 1, "{to}: {got:?}");
        assert_eq!(got[0].attr("from"), Some(to));
        assert_eq!(error_shape(&got[0]), error_shape(&unbound[0]), "{to}");
    }
    assert!(desk.drain().is_empty(), "the client never saw them");

    // Shown the device: the request reaches it, and its answer comes back.
    carol.send(&version(DESK, "v")).await;
    let got = desk.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].attr("from"), Some("carol@example.org/c"));
    // An answer passes even where a request would not: alice does not watch bob.
    desk.send("<iq type='result' id='r' to='bob@example.org/b'/>")
        .await;
    assert_eq!(bob.drain()[0].attr("type"), Some("result"));

    // Directed presence lets its target address the resource until it is withdrawn.
    desk.send("<presence to='dave@example.org'/>").await;
    dave.drain();
    dave.send(&version(DESK, "y")).await;
    assert_eq!(desk.drain().len(), 1);
    desk.send("<presence type='unavailable' to='dave@example.org'/>")
        .await;
    dave.drain();
    dave.send(&version(DESK, "z")).await;
    assert_eq!(
        error_shape(&dave.drain()[0]),
        error_shape(&unbound[0]),
        "withdrawn"
    );
    assert!(desk.drain().is_empty());
}

#[tokio::test]
async fn a_full_jid_message_goes_to_the_bare_jid_from_who_may_not_address_it() {
    let Watched {
        router,
        mut desk,
        mut bob,
        mut carol,
        ..
    } = alice_watched(&[]).await;
    let mut phone = online(&router, "alice", "phone", 0).await;
    for c in [&mut desk, &mut phone, &mut bob, &mut carol] {
        c.drain();
    }
    let chat = |to: &str| format!("<message type='chat' to='{to}'><body>hi</body></message>");

    // RFC 6121 §8.5.3.2.1: as to the bare JID, where chat goes to the highest priority.
    for to in [PHONE, NODE] {
        bob.send(&chat(to)).await;
        assert_eq!(desk.drain().len(), 1, "{to}");
        assert!(phone.drain().is_empty(), "{to}");
    }
    carol.send(&chat(PHONE)).await;
    assert_eq!(phone.drain().len(), 1);
    assert!(desk.drain().is_empty());

    // A groupchat to a resource bob may not address is refused as for an unbound one.
    let groupchat =
        |to: &str| format!("<message type='groupchat' to='{to}'><body>x</body></message>");
    bob.send(&groupchat("alice@example.org/nosuch")).await;
    let unbound = bob.drain();
    bob.send(&groupchat(PHONE)).await;
    let bound = bob.drain();
    assert_eq!(
        error_condition(&bound[0]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(error_shape(&bound[0]), error_shape(&unbound[0]));
    assert!(phone.drain().is_empty() && desk.drain().is_empty());
}

#[tokio::test]
async fn probes_get_the_form_of_the_probers_level() {
    let Watched {
        router,
        mut bob,
        mut carol,
        ..
    } = alice_watched(&[]).await;
    let _phone = online(&router, "alice", "phone", 0).await;
    bob.drain();
    carol.drain();
    let probe = "<presence type='probe' to='alice@example.org'/>";
    bob.send(probe).await;
    assert_eq!(presences(&bob.drain()), pairs(&[(NODE, "available")]));
    carol.send(probe).await;
    assert_eq!(
        presences(&carol.drain()),
        pairs(&[(DESK, "available"), (PHONE, "available")])
    );
}

#[tokio::test]
async fn no_client_binds_the_node_resource() {
    let (router, _) = router(&["alice"]);
    let c = Client::login(&router, "alice", Some("lampfield")).await;
    assert_ne!(c.jid.resource().as_str(), "lampfield");
}
