//! XEP-0160: messages nobody could take are kept, stamped (XEP-0203), and delivered at the
//! user's next available presence with a non-negative priority; a full store refuses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use minidom::Element;

const DELAY: &str = "urn:xmpp:delay";

fn body(m: &Element) -> String {
    m.get_child("body", "jabber:client").unwrap().text()
}

#[tokio::test]
async fn kept_while_offline_then_delivered_in_order_with_the_servers_stamp() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    for (i, kind) in ["chat", "normal"].iter().enumerate() {
        a.send(&format!(
            "<message type='{kind}' to='bob@example.org' id='m{i}'><body>{i}</body></message>"
        ))
        .await;
    }
    assert!(a.drain().is_empty(), "no answer: the messages are kept");
    assert_eq!(backend.kept("bob").len(), 2);

    // A resource with a negative priority collects nothing; raising it does.
    let mut b = Client::login(&router, "bob", Some("b")).await;
    b.send("<presence><priority>-1</priority></presence>").await;
    assert!(of(&b.drain(), "message", Some("chat")).is_empty());
    b.send("<presence><priority>1</priority></presence>").await;
    let got: Vec<Element> = b
        .drain()
        .into_iter()
        .filter(|e| e.name() == "message")
        .collect();
    assert_eq!(
        got.iter().map(body).collect::<Vec<_>>(),
        ["0", "1"],
        "in order"
    );
    for m in &got {
        assert_eq!(m.attr("from"), Some("alice@example.org/a"));
        let delay = m.get_child("delay", DELAY).expect("a XEP-0203 delay");
        assert_eq!(delay.attr("from"), Some(DOMAIN));
        xmpp_parsers::delay::Delay::try_from(delay.clone()).expect("a valid stamp");
    }
    assert!(backend.kept("bob").is_empty(), "delivered once, then gone");

    // A second resource gets nothing more.
    let mut b2 = Client::login(&router, "bob", Some("b2")).await;
    b2.send("<presence/>").await;
    assert!(b2.drain().iter().all(|e| e.name() != "message"));
}

#[tokio::test]
async fn only_messages_someone_reads_later_are_kept() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let dropped = [
        "<message type='chat' to='bob@example.org'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        "<message type='chat' to='bob@example.org'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>",
        "<message type='headline' to='bob@example.org'><body>x</body></message>",
        "<message type='error' to='bob@example.org'><body>x</body></message>",
    ];
    for xml in dropped {
        a.send(xml).await;
        assert!(a.drain().is_empty(), "{xml}");
    }
    assert!(backend.kept("bob").is_empty());
    a.send("<message type='chat' to='bob@example.org'><x xmlns='urn:other'/><store xmlns='urn:xmpp:hints'/></message>").await;
    assert_eq!(backend.kept("bob").len(), 1, "a <store/> hint keeps it");
    // Groupchat to a bare JID is refused whatever the user's state.
    a.send("<message type='groupchat' to='bob@example.org' id='g'><body>x</body></message>")
        .await;
    assert_eq!(
        error_condition(&a.drain()[0]).as_deref(),
        Some("service-unavailable")
    );
}

#[tokio::test]
async fn a_full_store_refuses_with_service_unavailable() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    for i in 0..OFFLINE_MAX {
        a.send(&format!(
            "<message type='chat' to='bob@example.org' id='m{i}'><body>{i}</body></message>"
        ))
        .await;
    }
    assert!(a.drain().is_empty());
    a.send("<message type='chat' to='bob@example.org/gone' id='over'><body>x</body></message>")
        .await;
    let got = a.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].attr("id"), Some("over"));
    assert_eq!(got[0].attr("from"), Some("bob@example.org"));
    assert_eq!(
        error_condition(&got[0]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(backend.kept("bob").len(), OFFLINE_MAX);
}

#[tokio::test]
async fn a_message_from_another_domain_is_kept_too() {
    let backend = FakeBackend::with_accounts(&["bob"]);
    let (tx, mut out) = tokio::sync::mpsc::channel(8);
    let router = lampfield_xmpp::Router::new(
        DOMAIN,
        ports(&backend, lampfield_xmpp::RemoteSender::new(tx)),
    );
    let m: Element = "<message xmlns='jabber:server' from='eve@remote.net/r' \
                      to='bob@example.org' type='chat' id='r1'><body>hi</body></message>"
        .parse()
        .unwrap();
    router.handle_remote("remote.net", m).await.unwrap();
    assert!(out.try_recv().is_err(), "no answer");
    let mut b = Client::login(&router, "bob", Some("b")).await;
    b.send("<presence/>").await;
    let got = b.drain();
    let m = got.iter().find(|e| e.name() == "message").unwrap();
    assert_eq!(m.attr("from"), Some("eve@remote.net/r"));
    assert!(m.has_child("delay", DELAY));
}
