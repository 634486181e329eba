//! Two gateways federating over loopback s2s (RFC 6120 server streams, XEP-0220
//! dialback, SASL EXTERNAL), RFC 6121 across domains, bounces, idle streams, and
//! hostile peers refused with the right stream error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;
mod s2s_support;

use std::sync::Arc;
use std::time::Duration;

use features_support::{Client, error_condition, error_shape, pushed};
use minidom::Element;
use s2s_support::{Ca, Gateway, Options, RawPeer, dialback_key, header, listener, pair};

const A: &str = "a.example";
const B: &str = "b.example";

/// The next stanza matching `pick` for `c`, skipping others, within 5 s.
async fn wait_for(c: &mut Client, what: &str, pick: impl Fn(&Element) -> bool) -> Element {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let next = tokio::time::timeout_at(deadline, c.rx.recv()).await;
        match next {
            Ok(Some(out)) => {
                if let Some(e) = out.stanza().filter(|e| pick(e)) {
                    return e;
                }
            }
            Ok(None) => panic!("{}: session closed while waiting for {what}", c.jid),
            Err(_) => panic!("{}: no {what} within 5 s", c.jid),
        }
    }
}

fn is(e: &Element, name: &str, type_: Option<&str>, from_bare: &str) -> bool {
    e.name() == name
        && e.attr("type") == type_
        && e.attr("from")
            .is_some_and(|f| f.split('/').next() == Some(from_bare))
}

async fn online(g: &Gateway, user: &str, resource: &str) -> Client {
    let mut c = Client::login(&g.router, &format!("{user}@{}", g.domain), Some(resource)).await;
    c.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    c.send("<presence/>").await;
    c.drain();
    c
}

/// Subscription, approval, presence, a message and the unavailable on logout, from
/// alice@a to bob@b.
async fn federate(a: &Gateway, b: &Gateway) {
    let mut alice = online(a, "alice", "desk").await;
    let mut bob = online(b, "bob", "phone").await;
    let (alice_bare, bob_bare) = ("alice@a.example", "bob@b.example");

    alice
        .send(&format!("<presence type='subscribe' to='{bob_bare}'/>"))
        .await;
    wait_for(&mut bob, "subscribe", |e| {
        is(e, "presence", Some("subscribe"), alice_bare)
    })
    .await;
    bob.send(&format!("<presence type='subscribed' to='{alice_bare}'/>"))
        .await;
    wait_for(&mut alice, "subscribed", |e| {
        is(e, "presence", Some("subscribed"), bob_bare)
    })
    .await;
    wait_for(&mut alice, "bob's presence", |e| {
        is(e, "presence", None, bob_bare)
    })
    .await;
    let stored = a.backend.stored(alice_bare, bob_bare).unwrap();
    assert!(stored.subscription.to && !stored.subscription.pending_out);
    let stored = b.backend.stored(bob_bare, alice_bare).unwrap();
    assert!(stored.subscription.from);

    bob.send("<presence><show>away</show><status>lunch</status></presence>")
        .await;
    let p = wait_for(&mut alice, "bob away", |e| {
        is(e, "presence", None, bob_bare) && e.get_child("show", "jabber:client").is_some()
    })
    .await;
    assert_eq!(
        p.get_child("status", "jabber:client").unwrap().text(),
        "lunch"
    );
    assert_eq!(p.attr("from"), Some("bob@b.example/phone"));

    alice
        .send("<message type='chat' to='bob@b.example/phone' id='m1'><body>hi bob</body></message>")
        .await;
    let m = wait_for(&mut bob, "message", |e| e.name() == "message").await;
    assert_eq!(m.attr("from"), Some("alice@a.example/desk"));
    assert_eq!(
        m.get_child("body", "jabber:client").unwrap().text(),
        "hi bob"
    );

    bob.logout().await;
    wait_for(&mut alice, "bob unavailable", |e| {
        is(e, "presence", Some("unavailable"), bob_bare)
    })
    .await;
    alice.logout().await;
}

#[tokio::test]
async fn gateways_federate_with_sasl_external() {
    let ca = Arc::new(Ca::new());
    let mut oa = Options::new(A, &["alice"]);
    oa.ca = Some(Arc::clone(&ca));
    let mut ob = Options::new(B, &["bob"]);
    ob.ca = Some(ca);
    let (a, b) = pair(oa, ob).await;
    federate(&a, &b).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn gateways_federate_with_dialback() {
    let (a, b) = pair(Options::new(A, &["alice"]), Options::new(B, &["bob"])).await;
    federate(&a, &b).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn unreachable_domain_bounces_remote_server_not_found() {
    // A route to a port nobody listens on.
    let closed = listener().await.local_addr().unwrap();
    let a = Gateway::start(
        Options::new(A, &["alice"]).route("c.example", closed),
        listener().await,
    );
    let mut alice = online(&a, "alice", "desk").await;
    alice
        .send("<message type='chat' to='carol@c.example' id='m1'><body>hi</body></message>")
        .await;
    let e = wait_for(&mut alice, "bounce", |e| e.attr("type") == Some("error")).await;
    assert_eq!(e.attr("id"), Some("m1"));
    assert_eq!(e.attr("from"), Some("carol@c.example"));
    assert_eq!(
        error_condition(&e).as_deref(),
        Some("remote-server-not-found")
    );
    // Right after a failure, the next stanza bounces at once too.
    alice
        .send("<message type='chat' to='carol@c.example' id='m2'><body>again</body></message>")
        .await;
    let e = wait_for(&mut alice, "second bounce", |e| {
        e.attr("type") == Some("error")
    })
    .await;
    assert_eq!(e.attr("id"), Some("m2"));
    assert_eq!(
        error_condition(&e).as_deref(),
        Some("remote-server-not-found")
    );
    a.stop().await;
}

#[tokio::test]
async fn idle_streams_close_and_reopen_on_demand() {
    let mut oa = Options::new(A, &["alice"]);
    oa.idle_timeout = Duration::from_millis(300);
    let mut ob = Options::new(B, &["bob"]);
    ob.idle_timeout = Duration::from_millis(300);
    let (a, b) = pair(oa, ob).await;
    let alice = online(&a, "alice", "desk").await;
    let mut bob = online(&b, "bob", "phone").await;
    for n in 0..2 {
        alice
            .send(&format!(
                "<message type='chat' to='bob@b.example/phone'><body>n{n}</body></message>"
            ))
            .await;
        let m = wait_for(&mut bob, "message", |e| e.name() == "message").await;
        assert_eq!(
            m.get_child("body", "jabber:client").unwrap().text(),
            format!("n{n}")
        );
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// Gateway b accepts plain streams here so a raw TCP peer can talk to it; a is the
/// genuine a.example, authoritative for dialback.
async fn hostile_setup() -> (Gateway, Gateway, Client) {
    let ob = Options {
        require_tls: false,
        ..Options::new(B, &["bob"])
    };
    let (a, b) = pair(Options::new(A, &["alice"]), ob).await;
    let bob = online(&b, "bob", "phone").await;
    (a, b, bob)
}

async fn nothing_for(bob: &mut Client) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = bob.drain();
    assert!(got.is_empty(), "bob received {got:?}");
}

#[tokio::test]
async fn garbage_is_refused_not_well_formed() {
    let (a, b, mut bob) = hostile_setup().await;
    let mut peer = RawPeer::connect(b.addr).await;
    peer.send(&header(A, B)).await;
    assert!(peer.until("</stream:features>").await, "{}", peer.heard);
    peer.send("<message from='x@a.example' to='bob@b.example'><body>hi</body></presence>")
        .await;
    assert!(peer.until("</stream:stream>").await, "{}", peer.heard);
    assert!(peer.heard.contains("<not-well-formed"), "{}", peer.heard);
    nothing_for(&mut bob).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn stanzas_before_authentication_are_not_authorized() {
    let (a, b, mut bob) = hostile_setup().await;
    let mut peer = RawPeer::connect(b.addr).await;
    peer.send(&header(A, B)).await;
    assert!(peer.until("</stream:features>").await);
    peer.send("<message from='alice@a.example' to='bob@b.example'><body>hi</body></message>")
        .await;
    assert!(peer.until("</stream:stream>").await, "{}", peer.heard);
    assert!(peer.heard.contains("<not-authorized"), "{}", peer.heard);
    nothing_for(&mut bob).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_wrong_dialback_key_is_refused() {
    let (a, b, mut bob) = hostile_setup().await;
    let mut peer = RawPeer::connect(b.addr).await;
    peer.send(&header(A, B)).await;
    assert!(peer.until("</stream:features>").await);
    assert!(
        peer.heard.contains("urn:xmpp:features:dialback"),
        "{}",
        peer.heard
    );
    peer.send("<db:result from='a.example' to='b.example'>0123456789abcdef</db:result>")
        .await;
    peer.send("<message from='alice@a.example' to='bob@b.example'><body>hi</body></message>")
        .await;
    assert!(peer.until("</stream:stream>").await, "{}", peer.heard);
    assert!(
        peer.heard.contains("type='invalid'") || peer.heard.contains("type=\"invalid\""),
        "{}",
        peer.heard
    );
    assert!(peer.heard.contains("<not-authorized"), "{}", peer.heard);
    nothing_for(&mut bob).await;
    a.stop().await;
    b.stop().await;
}

/// A peer that passed dialback for a.example (it knows a's secret here) and then
/// claims other domains or addresses nobody.
async fn authenticated_peer(a: &Gateway, b: &Gateway) -> RawPeer {
    let mut peer = RawPeer::connect(b.addr).await;
    peer.send(&header(A, B)).await;
    assert!(peer.until("</stream:features>").await);
    let key = dialback_key(&a.secret, B, A, &peer.stream_id());
    peer.send(&format!(
        "<db:result from='a.example' to='b.example'>{key}</db:result>"
    ))
    .await;
    assert!(
        peer.until("type='valid'").await || peer.heard.contains("type=\"valid\""),
        "{}",
        peer.heard
    );
    peer
}

#[tokio::test]
async fn a_verified_peer_is_routed_and_a_forged_domain_is_invalid_from() {
    let (a, b, mut bob) = hostile_setup().await;
    let mut peer = authenticated_peer(&a, &b).await;
    peer.send("<message from='alice@a.example/x' to='bob@b.example' type='chat'><body>genuine</body></message>")
        .await;
    let m = wait_for(&mut bob, "genuine message", |e| e.name() == "message").await;
    assert_eq!(
        m.get_child("body", "jabber:client").unwrap().text(),
        "genuine"
    );
    peer.send("<message from='mallory@c.example' to='bob@b.example' type='chat'><body>forged</body></message>")
        .await;
    assert!(peer.until("</stream:stream>").await, "{}", peer.heard);
    assert!(peer.heard.contains("<invalid-from"), "{}", peer.heard);
    nothing_for(&mut bob).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn misaddressed_stanzas_close_the_stream() {
    let (a, b, mut bob) = hostile_setup().await;
    for (stanza, condition) in [
        (
            "<message from='alice@a.example' type='chat'><body>x</body></message>",
            "<improper-addressing",
        ),
        (
            "<message from='alice@a.example' to='bob@c.example'><body>x</body></message>",
            "<host-unknown",
        ),
        (
            "<presence from='a.example@' to='bob@b.example'/>",
            "<invalid-from",
        ),
    ] {
        let mut peer = authenticated_peer(&a, &b).await;
        peer.send(stanza).await;
        assert!(
            peer.until("</stream:stream>").await,
            "{stanza}: {}",
            peer.heard
        );
        assert!(peer.heard.contains(condition), "{stanza}: {}", peer.heard);
    }
    nothing_for(&mut bob).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_subscription_from_the_remote_side_is_pushed() {
    let (a, b) = pair(Options::new(A, &["alice"]), Options::new(B, &["bob"])).await;
    let mut alice = online(&a, "alice", "desk").await;
    let mut bob = online(&b, "bob", "phone").await;
    bob.send("<presence type='subscribe' to='alice@a.example'/>")
        .await;
    wait_for(&mut alice, "subscribe", |e| {
        is(e, "presence", Some("subscribe"), "bob@b.example")
    })
    .await;
    alice
        .send("<presence type='subscribed' to='bob@b.example'/>")
        .await;
    let push = wait_for(&mut alice, "roster push", |e| pushed(e).is_some()).await;
    let (jid, sub, _) = pushed(&push).unwrap();
    assert_eq!((jid.as_str(), sub.as_str()), ("bob@b.example", "from"));
    wait_for(&mut bob, "alice's presence", |e| {
        is(e, "presence", None, "alice@a.example")
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_silent_peer_times_out_but_an_authenticated_one_stays() {
    let ob = Options {
        require_tls: false,
        negotiation_timeout: Duration::from_millis(500),
        ..Options::new(B, &["bob"])
    };
    let (a, b) = pair(Options::new(A, &["alice"]), ob).await;
    let mut bob = online(&b, "bob", "phone").await;

    let mut silent = RawPeer::connect(b.addr).await;
    silent.send(&header(A, B)).await;
    assert!(silent.until("</stream:stream>").await, "{}", silent.heard);
    assert!(
        silent.heard.contains("<connection-timeout"),
        "{}",
        silent.heard
    );

    let mut peer = authenticated_peer(&a, &b).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    peer.send("<message from='alice@a.example/x' to='bob@b.example' type='chat'><body>later</body></message>")
        .await;
    let m = wait_for(&mut bob, "message after the negotiation deadline", |e| {
        e.name() == "message"
    })
    .await;
    assert_eq!(
        m.get_child("body", "jabber:client").unwrap().text(),
        "later"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_probe_on_login_is_answered_across_gateways() {
    let (a, b) = pair(Options::new(A, &["alice"]), Options::new(B, &["bob"])).await;
    let mut alice = online(&a, "alice", "desk").await;
    let mut bob = online(&b, "bob", "phone").await;
    alice
        .send("<presence type='subscribe' to='bob@b.example'/>")
        .await;
    wait_for(&mut bob, "subscribe", |e| {
        is(e, "presence", Some("subscribe"), "alice@a.example")
    })
    .await;
    bob.send("<presence type='subscribed' to='alice@a.example'/>")
        .await;
    bob.send("<presence><status>here</status></presence>").await;
    wait_for(&mut alice, "bob's presence", |e| {
        is(e, "presence", None, "bob@b.example")
    })
    .await;
    alice.logout().await;

    // A new session's initial presence probes bob's server, which answers for him.
    let mut again = Client::login(&a.router, "alice@a.example", Some("laptop")).await;
    again.send("<presence/>").await;
    let p = wait_for(&mut again, "probe answer", |e| {
        is(e, "presence", None, "bob@b.example")
    })
    .await;
    assert_eq!(
        p.get_child("status", "jabber:client").unwrap().text(),
        "here"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_remote_stranger_reaches_no_resource_by_its_full_jid() {
    let (a, b) = pair(Options::new(A, &["alice"]), Options::new(B, &["bob"])).await;
    let mut alice = online(&a, "alice", "desk").await;
    let mut bob = online(&b, "bob", "phone").await;
    let ask = |to: &str, id: &str| {
        format!("<iq type='get' id='{id}' to='{to}'><query xmlns='jabber:iq:version'/></iq>")
    };
    let error = |e: &Element| e.name() == "iq" && e.attr("type") == Some("error");
    alice.send(&ask("bob@b.example/nosuch", "u")).await;
    let unbound = wait_for(&mut alice, "unbound resource's error", error).await;
    alice.send(&ask("bob@b.example/phone", "p")).await;
    let bound = wait_for(&mut alice, "bound resource's error", error).await;
    assert_eq!(bound.attr("from"), Some("bob@b.example/phone"));
    assert_eq!(
        error_condition(&bound).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(error_shape(&bound), error_shape(&unbound));
    nothing_for(&mut bob).await;

    // Once bob's client tells alice it is there (RFC 6121 §4.6), she may address it.
    bob.send("<presence to='alice@a.example'/>").await;
    wait_for(&mut alice, "bob's directed presence", |e| {
        is(e, "presence", None, "bob@b.example")
    })
    .await;
    alice.send(&ask("bob@b.example/phone", "q")).await;
    let got = wait_for(&mut bob, "alice's request", |e| e.name() == "iq").await;
    assert_eq!(got.attr("from"), Some("alice@a.example/desk"));
    a.stop().await;
    b.stop().await;
}
