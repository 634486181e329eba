//! XEP-0280 Message Carbons 1.0.1: a user's resources that enabled carbons see the chats the
//! user's other resources received and sent; nothing else is copied, nothing reaches anyone
//! else, and a sender the user blocks gets no copy delivered either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use lampfield_xmpp::Router;
use lampfield_xmpp::router::RemoteSender;
use minidom::Element;

const CARBONS: &str = "urn:xmpp:carbons:2";
const FORWARD: &str = "urn:xmpp:forward:0";

async fn enable(c: &mut Client, with_to: bool) {
    let to = if with_to {
        " to='alice@example.org'"
    } else {
        ""
    };
    c.send(&format!(
        "<iq type='set' id='c1'{to}><enable xmlns='{CARBONS}'/></iq>"
    ))
    .await;
    let got = c.drain();
    let answer: Vec<_> = got.iter().filter(|e| e.name() == "iq").collect();
    assert_eq!(answer.len(), 1, "{got:?}");
    assert_eq!(answer[0].attr("type"), Some("result"), "{got:?}");
    assert_eq!(answer[0].attr("id"), Some("c1"));
}

/// The message a carbon carries, if `e` is one of `direction` from `user`'s bare JID.
fn carried<'a>(e: &'a Element, direction: &str, user: &str) -> Option<&'a Element> {
    if e.name() != "message" || e.attr("from") != Some(user) {
        return None;
    }
    e.get_child(direction, CARBONS)?
        .get_child("forwarded", FORWARD)?
        .get_child("message", "jabber:client")
}

fn body(e: &Element) -> Option<String> {
    e.get_child("body", "jabber:client").map(|b| b.text())
}

/// Alice on a desk (priority 5), a phone and a tablet (priority 1; the tablet without carbons),
/// bob on one resource.
async fn world() -> (Router<FakeBackend>, Client, Client, Client, Client) {
    let (router, _) = router(&["alice", "bob"]);
    let mut desk = online(&router, "alice", "desk", 5).await;
    let mut phone = online(&router, "alice", "phone", 1).await;
    let tablet = online(&router, "alice", "tablet", 1).await;
    let mut bob = online(&router, "bob", "b", 0).await;
    enable(&mut desk, false).await;
    enable(&mut phone, true).await;
    for c in [&mut desk, &mut phone, &mut bob] {
        c.drain();
    }
    (router, desk, phone, tablet, bob)
}

#[tokio::test]
async fn received_and_sent_carbons_reach_the_other_enabled_resources() {
    let (_router, mut desk, mut phone, mut tablet, mut bob) = world().await;
    tablet.drain();

    // Bob writes to alice's bare JID: the desk (highest priority) gets it, the phone a copy.
    bob.send("<message type='chat' to='alice@example.org' id='m1'><body>hi alice</body></message>")
        .await;
    let got = desk.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(body(&got[0]).as_deref(), Some("hi alice"));
    let got = phone.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    let inner = carried(&got[0], "received", "alice@example.org").expect("a received carbon");
    assert_eq!(got[0].attr("to"), Some("alice@example.org/phone"));
    assert_eq!(inner.attr("from"), Some("bob@example.org/b"));
    assert_eq!(body(inner).as_deref(), Some("hi alice"));
    assert!(tablet.drain().is_empty(), "carbons not enabled there");

    // The desk answers: bob gets it, the phone a sent copy, the desk itself nothing.
    desk.send("<message type='chat' to='bob@example.org' id='m2'><body>hi bob</body></message>")
        .await;
    assert_eq!(body(&bob.drain()[0]).as_deref(), Some("hi bob"));
    let got = phone.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    let inner = carried(&got[0], "sent", "alice@example.org").expect("a sent carbon");
    assert_eq!(inner.attr("from"), Some("alice@example.org/desk"));
    assert_eq!(inner.attr("to"), Some("bob@example.org"));
    assert!(desk.drain().is_empty() && tablet.drain().is_empty());
    assert!(bob.drain().is_empty(), "bob gets no carbon");

    // A normal message with a body to the bare JID reaches every non-negative resource itself:
    // none of them gets it twice.
    bob.send("<message to='alice@example.org' id='m3'><body>note</body></message>")
        .await;
    for c in [&mut desk, &mut phone, &mut tablet] {
        let got = c.drain();
        assert_eq!(got.len(), 1, "{}: {got:?}", c.jid);
        assert_eq!(body(&got[0]).as_deref(), Some("note"));
    }
}

#[tokio::test]
async fn private_and_other_types_are_not_copied() {
    let (_router, mut desk, mut phone, mut tablet, mut bob) = world().await;
    tablet.drain();
    let quiet = [
        "<message type='chat' to='alice@example.org' id='p'><body>secret</body><private xmlns='urn:xmpp:carbons:2'/></message>",
        "<message type='chat' to='alice@example.org' id='n'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>",
        "<message type='headline' to='alice@example.org/desk' id='h'><body>x</body></message>",
        "<message type='normal' to='alice@example.org' id='nb'><subject>no body</subject></message>",
    ];
    // Alice may be written to on her desk: she is bob's friend.
    befriend(&mut desk, &mut bob).await;
    phone.drain();
    tablet.drain();
    for xml in quiet {
        bob.send(xml).await;
        let got = desk.drain();
        assert!(!got.is_empty(), "{xml}: delivered itself");
        for e in &got {
            assert!(
                !e.has_child("private", CARBONS),
                "§7: removed before delivery: {e:?}"
            );
        }
        let got: Vec<_> = phone
            .drain()
            .into_iter()
            .filter(|e| e.has_child("received", CARBONS))
            .collect();
        assert!(got.is_empty(), "{xml}: {got:?}");
    }
    // An error and a groupchat alice's desk sends are not copied either; nor a private chat.
    for xml in [
        "<message type='error' to='bob@example.org' id='e'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        "<message type='groupchat' to='room@elsewhere.net' id='g'><body>x</body></message>",
        "<message type='chat' to='bob@example.org' id='p2'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>",
    ] {
        desk.send(xml).await;
        assert!(phone.drain().is_empty(), "{xml}");
    }
    let got = bob.drain();
    assert!(
        got.iter().all(|e| !e.has_child("private", CARBONS)),
        "{got:?}"
    );
}

#[tokio::test]
async fn disabled_and_new_sessions_get_nothing() {
    let (router, mut desk, mut phone, _tablet, bob) = world().await;
    phone
        .send(&format!(
            "<iq type='set' id='d'><disable xmlns='{CARBONS}'/></iq>"
        ))
        .await;
    assert_eq!(of(&phone.drain(), "iq", Some("result")).len(), 1);
    bob.send("<message type='chat' to='alice@example.org' id='m'><body>x</body></message>")
        .await;
    assert_eq!(desk.drain().len(), 1);
    assert!(phone.drain().is_empty(), "disabled");

    // A session ends: a new one of the same resource starts without carbons.
    phone.logout().await;
    let mut phone = online(&router, "alice", "phone", 1).await;
    desk.drain();
    bob.send("<message type='chat' to='alice@example.org' id='m'><body>y</body></message>")
        .await;
    assert_eq!(desk.drain().len(), 1);
    assert!(
        phone.drain().is_empty(),
        "the state was the ended session's"
    );
}

#[tokio::test]
async fn a_blocked_sender_creates_no_copy() {
    let (router, _, relay) = router_with_relay(&["alice", "bob", "carol"]);
    let mut desk = online(&router, "alice", "desk", 5).await;
    let mut phone = online(&router, "alice", "phone", 1).await;
    let carol = online(&router, "carol", "c", 0).await;
    enable(&mut desk, false).await;
    enable(&mut phone, false).await;
    relay.hide(&bare("alice"), &bare("carol"));
    for to in [
        "alice@example.org",
        "alice@example.org/desk",
        "alice@example.org/phone",
    ] {
        carol
            .send(&format!(
                "<message type='chat' to='{to}' id='x'><body>x</body></message>"
            ))
            .await;
    }
    assert!(desk.drain().is_empty() && phone.drain().is_empty());
}

#[tokio::test]
async fn from_another_domain_the_gate_holds_and_carbons_follow() {
    let backend = FakeBackend::with_accounts(&["alice"]);
    let (tx, _out) = tokio::sync::mpsc::channel(64);
    let router = Router::new(DOMAIN, ports(&backend, RemoteSender::new(tx)));
    let mut desk = online(&router, "alice", "desk", 5).await;
    let mut phone = online(&router, "alice", "phone", 1).await;
    enable(&mut desk, false).await;
    enable(&mut phone, false).await;
    // To the phone's full JID, which the remote sender was never shown: as to the bare JID, so
    // the desk gets it and the phone only the carbon of what the desk got.
    let m = client(
        "<message type='chat' from='x@remote.net/r' to='alice@example.org/phone' id='r'><body>from afar</body><private xmlns='urn:xmpp:carbons:2'/></message>",
    );
    router.handle_remote("remote.net", m).await.unwrap();
    let got = desk.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!got[0].has_child("private", CARBONS));
    assert!(phone.drain().is_empty(), "private: no carbon");
    let m = client(
        "<message type='chat' from='x@remote.net/r' to='alice@example.org' id='r2'><body>again</body></message>",
    );
    router.handle_remote("remote.net", m).await.unwrap();
    assert_eq!(desk.drain().len(), 1);
    let got = phone.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    let inner = carried(&got[0], "received", "alice@example.org").unwrap();
    assert_eq!(inner.attr("from"), Some("x@remote.net/r"));
}

#[tokio::test]
async fn the_server_advertises_carbons() {
    let (router, _) = router(&["alice"]);
    let mut a = online(&router, "alice", "a", 0).await;
    a.send("<iq type='get' id='d' to='example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        .await;
    let got = a.drain();
    let features: Vec<_> = got[0]
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap()
        .children()
        .filter_map(|f| f.attr("var"))
        .collect();
    assert!(features.contains(&CARBONS), "{features:?}");
}
