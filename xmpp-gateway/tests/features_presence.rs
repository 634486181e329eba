//! RFC 6121 §3 and §4 through the router: subscriptions, broadcasts, probes,
//! directed presence and the goodbye on unbind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use lampfield_xmpp::Subscription;

#[tokio::test]
async fn mutual_subscription_then_presence_flows_both_ways() {
    let (router, backend) = router(&["alice", "bob", "carol"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    let mut c = online(&router, "carol", "c", 0).await;

    // §3.1.2: alice asks; her roster shows ask=subscribe, bob gets the request.
    a.send("<presence type='subscribe' to='bob@example.org/whatever'/>")
        .await;
    let got = a.drain();
    assert_eq!(
        pushed(&got[0]),
        Some((
            "bob@example.org".into(),
            "none".into(),
            Some("subscribe".into())
        ))
    );
    let got = b.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].attr("type"), Some("subscribe"));
    assert_eq!(
        got[0].attr("from"),
        Some("alice@example.org"),
        "stamped with the bare JID"
    );
    let stored = backend.stored("bob", "alice@example.org").unwrap();
    assert!(
        stored.subscription.pending_in && !stored.in_roster,
        "durable before delivery"
    );

    // §3.1.5: bob approves; he gets a push with from, alice a push with to, the
    // subscribed, and bob's current presence.
    b.send("<presence type='subscribed' to='alice@example.org'/>")
        .await;
    let got = b.drain();
    assert_eq!(
        pushed(&got[0]),
        Some(("alice@example.org".into(), "from".into(), None))
    );
    let got = a.drain();
    assert_eq!(
        pushed(&got[0]),
        Some(("bob@example.org".into(), "to".into(), None)),
        "{got:?}"
    );
    assert_eq!(of(&got, "presence", Some("subscribed")).len(), 1);
    let avail = of(&got, "presence", None);
    assert_eq!(avail.len(), 1);
    assert_eq!(avail[0].attr("from"), Some("bob@example.org/b"));

    // The other direction.
    b.send("<presence type='subscribe' to='alice@example.org'/>")
        .await;
    a.send("<presence type='subscribed' to='bob@example.org'/>")
        .await;
    let got = a.drain();
    assert!(
        got.iter()
            .any(|e| pushed(e) == Some(("bob@example.org".into(), "both".into(), None))),
        "{got:?}"
    );
    let got = b.drain();
    assert!(
        got.iter()
            .any(|e| pushed(e) == Some(("alice@example.org".into(), "both".into(), None))),
        "{got:?}"
    );
    assert_eq!(
        of(&got, "presence", None)[0].attr("from"),
        Some("alice@example.org/a")
    );
    assert_eq!(
        backend
            .stored("alice", "bob@example.org")
            .unwrap()
            .subscription,
        Subscription {
            to: true,
            from: true,
            ..Default::default()
        }
    );

    // §4.4: an update reaches the subscriber and the user's own resources, not carol.
    a.send("<presence><show>away</show></presence>").await;
    let got = b.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("from"), Some("alice@example.org/a"));
    assert!(got[0].get_child("show", "jabber:client").is_some());
    assert_eq!(a.drain().len(), 1, "own resource gets its broadcast");
    assert!(c.drain().is_empty(), "carol is not subscribed");

    // §4.5.2: the stream drops; bob hears unavailable, carol nothing.
    a.logout().await;
    let got = b.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("type"), Some("unavailable"));
    assert_eq!(got[0].attr("from"), Some("alice@example.org/a"));
    assert!(c.drain().is_empty());
}

#[tokio::test]
async fn initial_presence_probes_and_pending_requests() {
    let (router, _) = router(&["alice", "bob", "dave"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    befriend(&mut a, &mut b).await;
    // dave asks alice while she has a second resource connected but not available.
    let mut a2 = Client::login(&router, "alice", Some("a2")).await;
    let mut d = online(&router, "dave", "d", 0).await;
    d.send("<presence type='subscribe' to='alice@example.org'/>")
        .await;
    assert!(
        a2.drain().is_empty(),
        "requests go to available resources only"
    );
    a.drain();

    // §4.2.2: a2's initial presence probes bob: a2 gets bob's presence; §3.1.3: and
    // dave's pending request again.
    a2.send("<presence/>").await;
    let got = a2.drain();
    let from_bob: Vec<_> = of(&got, "presence", None)
        .into_iter()
        .filter(|e| e.attr("from") == Some("bob@example.org/b"))
        .collect();
    assert_eq!(from_bob.len(), 1, "{got:?}");
    assert_eq!(from_bob[0].attr("to"), Some("alice@example.org/a2"));
    let requests = of(&got, "presence", Some("subscribe"));
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].attr("from"), Some("dave@example.org"));
    // The older resource hears about the new one, bob too.
    assert_eq!(of(&a.drain(), "presence", None).len(), 1);
    assert_eq!(
        of(&b.drain(), "presence", None)[0].attr("from"),
        Some("alice@example.org/a2")
    );
    // dave is not subscribed: a probe from him learns nothing.
    d.drain();
    d.send("<presence type='probe' to='alice@example.org'/>")
        .await;
    assert!(d.drain().is_empty());
    // bob is: his probe gets both of alice's resources.
    b.send("<presence type='probe' to='alice@example.org'/>")
        .await;
    assert_eq!(of(&b.drain(), "presence", None).len(), 2);
}

#[tokio::test]
async fn unavailable_broadcast_and_directed_presence() {
    let (router, _) = router(&["alice", "bob", "eve"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    let mut e = online(&router, "eve", "e", 0).await;
    befriend(&mut a, &mut b).await;
    e.drain();

    // §4.6: directed presence to eve (no subscription) reaches her...
    a.send("<presence to='eve@example.org'><status>hi</status></presence>")
        .await;
    let got = e.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("from"), Some("alice@example.org/a"));
    // ...and she is told when alice's session ends (§4.6.3), as is bob.
    a.logout().await;
    let got = e.drain();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].attr("type"), Some("unavailable"));
    assert_eq!(of(&b.drain(), "presence", Some("unavailable")).len(), 1);

    // An explicit unavailable is broadcast once; the later unbind adds nothing.
    b.send("<presence type='unavailable'/>").await;
    b.logout().await;
}

#[tokio::test]
async fn presence_to_unknown_account_is_dropped_and_remote_gets_error() {
    let (router, _) = router(&["alice"]);
    let mut a = online(&router, "alice", "a", 0).await;
    a.send("<presence type='subscribe' to='nobody@example.org'/>")
        .await;
    let got = a.drain();
    assert!(
        got.iter().all(|e| e.name() == "iq"),
        "only the roster push: {got:?}"
    );
    a.send("<presence to='nobody@example.org'/>").await;
    assert!(a.drain().is_empty());
    a.send("<presence to='x@elsewhere.net'/>").await;
    let got = a.drain();
    assert_eq!(
        error_condition(&got[0]).as_deref(),
        Some("remote-server-not-found")
    );
}

#[tokio::test]
async fn cancel_and_unsubscribe() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    befriend(&mut a, &mut b).await;
    // §3.2: alice cancels bob's subscription to her; bob hears unsubscribed and her
    // unavailable, and his roster now says from... seen from bob: `from` only.
    a.send("<presence type='unsubscribed' to='bob@example.org'/>")
        .await;
    let got = b.drain();
    assert_eq!(
        of(&got, "presence", Some("unsubscribed")).len(),
        1,
        "{got:?}"
    );
    assert_eq!(
        of(&got, "presence", Some("unavailable")).len(),
        1,
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|e| pushed(e) == Some(("alice@example.org".into(), "from".into(), None)))
    );
    assert_eq!(
        backend
            .stored("alice", "bob@example.org")
            .unwrap()
            .subscription,
        Subscription {
            to: true,
            ..Default::default()
        }
    );
    // §4.4: alice's updates no longer reach bob.
    a.drain();
    a.send("<presence><show>dnd</show></presence>").await;
    assert!(b.drain().is_empty());
    // §3.3: bob unsubscribes from... he has only `from`; alice unsubscribes from bob.
    a.send("<presence type='unsubscribe' to='bob@example.org'/>")
        .await;
    assert_eq!(
        backend
            .stored("alice", "bob@example.org")
            .unwrap()
            .subscription,
        Subscription::default()
    );
    let got = b.drain();
    assert_eq!(
        of(&got, "presence", Some("unsubscribe")).len(),
        1,
        "{got:?}"
    );
}

#[tokio::test]
async fn preapproval_is_used_without_asking() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    // §3.4: bob pre-approves alice, then alice asks: bob is not asked, alice gets
    // subscribed and bob's presence at once.
    b.send("<presence type='subscribed' to='alice@example.org'/>")
        .await;
    a.send("<presence type='subscribe' to='bob@example.org'/>")
        .await;
    assert!(of(&b.drain(), "presence", Some("subscribe")).is_empty());
    let got = a.drain();
    assert_eq!(of(&got, "presence", Some("subscribed")).len(), 1, "{got:?}");
    assert_eq!(of(&got, "presence", None).len(), 1, "{got:?}");
    assert!(
        backend
            .stored("bob", "alice@example.org")
            .unwrap()
            .subscription
            .from
    );
}

#[tokio::test]
async fn a_new_resource_hears_of_the_users_other_resources_when_the_view_stays_the_same() {
    // RFC 6121 §4.2.2: initial presence from a second client leaves what contacts see
    // unchanged, so they get only the new resource's presence; the new client itself still
    // learns that the user's first client is online (as Prosody and ejabberd do).
    let (router, _) = router(&["alice"]);
    let mut desk = online(&router, "alice", "desk", 0).await;
    let mut laptop = Client::login(&router, "alice", Some("laptop")).await;
    laptop.send("<presence/>").await;
    let got = laptop.drain();
    let froms: Vec<_> = of(&got, "presence", None)
        .iter()
        .filter_map(|p| p.attr("from"))
        .map(str::to_owned)
        .collect();
    assert!(
        froms.contains(&"alice@example.org/desk".to_owned()),
        "the laptop hears of the desk: {got:?}"
    );
    assert!(
        froms.contains(&"alice@example.org/laptop".to_owned()),
        "and of itself: {got:?}"
    );
    let got = desk.drain();
    let froms: Vec<_> = of(&got, "presence", None)
        .iter()
        .filter_map(|p| p.attr("from"))
        .collect();
    assert_eq!(
        froms,
        vec!["alice@example.org/laptop"],
        "the desk hears of the laptop once, not of itself again"
    );
}
