//! Resource binding, ping and unknown iqs through the router.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use lampfield_xmpp::router::Outgoing;

#[tokio::test]
async fn bind_generates_and_conflict_takes_over() {
    let (router, _) = router(&["alice"]);
    let a = Client::login(&router, "alice", None).await;
    assert!(!a.jid.resource().as_str().is_empty());
    let mut r1 = Client::login(&router, "alice", Some("phone")).await;
    let mut r2 = Client::login(&router, "alice", Some("phone")).await;
    assert_eq!(r1.jid, r2.jid);
    assert!(matches!(r1.next().await, Outgoing::Close("conflict")));
    // The old session's unbind leaves the new one in place.
    router.unbind(&r1.jid).await;
    r2.send("<iq type='get' id='p' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    let got = r2.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("type"), Some("result"));
}

#[tokio::test]
async fn ping_server_and_unknown_iq() {
    let (router, _) = router(&["alice"]);
    let mut a = Client::login(&router, "alice", Some("r")).await;
    a.send("<iq type='get' id='p1' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    a.send("<iq type='get' id='u1' to='example.org'><query xmlns='urn:unknown'/></iq>")
        .await;
    a.send("<iq type='result' id='r1' to='example.org'/>").await;
    a.send("<iq type='get' id='bad'><a xmlns='x'/><b xmlns='y'/></iq>")
        .await;
    let got = a.drain();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].attr("id"), Some("p1"));
    assert_eq!(got[0].attr("type"), Some("result"));
    assert_eq!(got[0].attr("from"), Some("example.org"));
    assert_eq!(got[1].attr("id"), Some("u1"));
    assert_eq!(
        error_condition(&got[1]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(got[2].attr("id"), Some("bad"));
    assert_eq!(error_condition(&got[2]).as_deref(), Some("bad-request"));
}

#[tokio::test]
async fn takeover_says_goodbye_for_the_old_session() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    befriend(&mut a, &mut b).await;
    // RFC 6120 §7.7.2.2: a new session takes "a"; the old one was available, so bob
    // hears it leave, and the new one starts unavailable.
    let mut a2 = Client::login(&router, "alice", Some("a")).await;
    assert!(matches!(a.next().await, Outgoing::Close("conflict")));
    let got = b.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].attr("type"), Some("unavailable"));
    a2.send("<presence/>").await;
    let got = b.drain();
    assert_eq!(
        (got[0].attr("type"), got[0].attr("from")),
        (None, Some("alice@example.org/a"))
    );
    // The old session's unbind is a no-op; the new one's says unavailable once.
    router.unbind(&a.jid).await;
    assert!(b.drain().is_empty());
    a2.drain();
    a2.logout().await;
    assert_eq!(of(&b.drain(), "presence", Some("unavailable")).len(), 1);
}

#[tokio::test]
async fn explicit_unavailable_then_unbind_is_said_once() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    befriend(&mut a, &mut b).await;
    a.send("<presence type='unavailable'/>").await;
    assert_eq!(of(&b.drain(), "presence", Some("unavailable")).len(), 1);
    a.logout().await;
    assert!(b.drain().is_empty());
}

#[tokio::test]
async fn stanzas_from_unbound_or_foreign_namespace_are_ignored() {
    let (router, _) = router(&["alice"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let ghost = jid::FullJid::new("alice@example.org/ghost").unwrap();
    router
        .handle(
            &ghost,
            client("<message to='alice@example.org' type='chat'><body>x</body></message>"),
        )
        .await;
    a.send("<message xmlns='jabber:server' to='alice@example.org'><body>x</body></message>")
        .await;
    assert!(a.drain().is_empty());
}
