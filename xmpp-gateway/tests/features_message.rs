//! RFC 6121 §8.5 message routing and RFC 6120 §8.1.2.1 sender stamping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;

#[tokio::test]
async fn bare_jid_by_type_and_priority() {
    let (router, _) = router(&["alice", "bob"]);
    let a = online(&router, "alice", "a", 0).await;
    let mut hi = online(&router, "bob", "hi", 5).await;
    let mut lo = online(&router, "bob", "lo", 1).await;
    let mut neg = online(&router, "bob", "neg", -1).await;
    let mut idle = Client::login(&router, "bob", Some("idle")).await;
    for c in [&mut hi, &mut lo, &mut neg] {
        c.drain();
    }

    a.send("<message type='chat' to='bob@example.org' id='m1'><body>chat</body></message>")
        .await;
    assert_eq!(hi.drain().len(), 1, "chat: highest priority only");
    assert!(lo.drain().is_empty() && neg.drain().is_empty() && idle.drain().is_empty());

    a.send("<message to='bob@example.org' id='m2'><body>normal</body></message>")
        .await;
    assert_eq!(hi.drain().len(), 1);
    assert_eq!(lo.drain().len(), 1, "normal: every non-negative priority");
    assert!(neg.drain().is_empty() && idle.drain().is_empty());

    // §8.5.3.1: for the account itself, a full JID reaches that session whatever its priority
    // or presence.
    hi.send("<message type='chat' to='bob@example.org/idle' id='m3'><body>x</body></message>")
        .await;
    assert_eq!(idle.drain().len(), 1);
    // §8.5.3.2.1: an unbound resource is treated as the bare JID.
    a.send("<message type='chat' to='bob@example.org/gone' id='m4'><body>x</body></message>")
        .await;
    assert_eq!(hi.drain().len(), 1);
    // So is a bound one that alice may not address: she was never shown it.
    a.send("<message type='chat' to='bob@example.org/neg' id='m5'><body>x</body></message>")
        .await;
    assert_eq!(hi.drain().len(), 1);
    assert!(neg.drain().is_empty() && idle.drain().is_empty());
}

#[tokio::test]
async fn forged_from_is_rewritten() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    // Bob tells alice he is there, so she may address his resource (RFC 6121 §4.6).
    b.send("<presence to='alice@example.org'/>").await;
    a.drain();
    a.send("<message type='chat' from='bob@example.org/b' to='bob@example.org'><body>x</body></message>").await;
    a.send("<iq type='get' id='q' from='admin@example.org' to='bob@example.org/b'><query xmlns='jabber:iq:version'/></iq>").await;
    a.send("<presence type='subscribe' from='carol@example.org' to='bob@example.org'/>")
        .await;
    let got = b.drain();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].attr("from"), Some("alice@example.org/a"));
    assert_eq!(got[1].attr("from"), Some("alice@example.org/a"));
    assert_eq!(got[2].attr("from"), Some("alice@example.org"));
}

#[tokio::test]
async fn undeliverable_messages_get_errors() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let cases = [
        (
            "<message to='nobody@example.org' id='unknown'><body>x</body></message>",
            "service-unavailable",
        ),
        (
            "<message type='groupchat' to='alice@example.org' id='gc'><body>x</body></message>",
            "service-unavailable",
        ),
        (
            "<message type='chat' to='x@elsewhere.net' id='remote'><body>x</body></message>",
            "remote-server-not-found",
        ),
        (
            "<message type='chat' to='bob@example.org' id='bad'><thread>a</thread><thread>b</thread></message>",
            "bad-request",
        ),
    ];
    for (xml, condition) in cases {
        a.send(xml).await;
        let got = a.drain();
        assert_eq!(got.len(), 1, "{xml}: {got:?}");
        assert_eq!(got[0].attr("type"), Some("error"), "{xml}");
        assert_eq!(
            error_condition(&got[0]).as_deref(),
            Some(condition),
            "{xml}"
        );
    }
    // Errors are never answered with errors.
    a.send("<message type='error' to='bob@example.org' id='e'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>").await;
    assert!(a.drain().is_empty());
}

#[tokio::test]
async fn iq_to_full_jid_and_account() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    // Alice is shown bob's devices, so she may address them.
    befriend(&mut a, &mut b).await;
    a.send("<iq type='get' id='v' to='bob@example.org/b'><query xmlns='jabber:iq:version'/></iq>")
        .await;
    assert_eq!(b.drain().len(), 1);
    b.send("<iq type='result' id='v' to='alice@example.org/a'/>")
        .await;
    assert_eq!(a.drain()[0].attr("type"), Some("result"));
    // §8.5.3.2.1: iq to an unbound resource.
    a.send(
        "<iq type='get' id='g' to='bob@example.org/gone'><query xmlns='jabber:iq:version'/></iq>",
    )
    .await;
    assert_eq!(
        error_condition(&a.drain()[0]).as_deref(),
        Some("service-unavailable")
    );
    // XEP-0199 and XEP-0030 on a bare JID are answered by the server.
    a.send("<iq type='get' id='p' to='bob@example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    let got = a.drain();
    assert_eq!(
        (got[0].attr("type"), got[0].attr("from")),
        (Some("result"), Some("bob@example.org"))
    );
    a.send("<iq type='get' id='d' to='bob@example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>").await;
    let got = a.drain();
    let id = got[0]
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap()
        .get_child("identity", "http://jabber.org/protocol/disco#info")
        .unwrap();
    assert_eq!(
        (id.attr("category"), id.attr("type")),
        (Some("account"), Some("registered"))
    );
    a.send("<iq type='get' id='s' to='example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>").await;
    let got = a.drain();
    let q = got[0]
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap();
    assert!(
        q.children()
            .any(|c| c.attr("var") == Some("jabber:iq:roster"))
    );
    // Unknown account, unknown namespace, someone else's roster.
    a.send("<iq type='get' id='n' to='nobody@example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    assert_eq!(
        error_condition(&a.drain()[0]).as_deref(),
        Some("service-unavailable")
    );
    a.send("<iq type='get' id='r' to='bob@example.org'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    assert_eq!(error_condition(&a.drain()[0]).as_deref(), Some("forbidden"));
    a.send("<iq type='set' id='u' to='bob@example.org'><query xmlns='urn:unknown'/></iq>")
        .await;
    assert_eq!(
        error_condition(&a.drain()[0]).as_deref(),
        Some("service-unavailable")
    );
}
