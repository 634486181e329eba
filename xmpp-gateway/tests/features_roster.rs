//! RFC 6121 §2 roster management through the router.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;

#[tokio::test]
async fn set_pushes_to_every_interested_resource() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a1 = online(&router, "alice", "a1", 0).await;
    let mut a2 = online(&router, "alice", "a2", 0).await;
    let mut a3 = Client::login(&router, "alice", Some("a3")).await; // never asked for the roster
    a1.drain();

    a1.send("<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='bob@example.org' name='Bob'><group>Friends</group></item></query></iq>").await;
    let got = a1.drain();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        pushed(&got[0]),
        Some(("bob@example.org".into(), "none".into(), None))
    );
    assert_eq!(
        (got[1].attr("type"), got[1].attr("id")),
        (Some("result"), Some("s1"))
    );
    let got = a2.drain();
    assert_eq!(got.len(), 1);
    assert!(pushed(&got[0]).is_some());
    assert!(a3.drain().is_empty(), "not interested");
    let stored = backend.stored("alice", "bob@example.org").unwrap();
    assert_eq!(
        (
            stored.name.as_deref(),
            stored.groups.as_slice(),
            stored.in_roster
        ),
        (Some("Bob"), &["Friends".to_owned()][..], true)
    );

    // The roster get shows it, with name and group.
    a3.send("<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    let got = a3.drain();
    let item = got[0]
        .get_child("query", "jabber:iq:roster")
        .unwrap()
        .children()
        .next()
        .unwrap()
        .clone();
    assert_eq!(
        (item.attr("jid"), item.attr("name")),
        (Some("bob@example.org"), Some("Bob"))
    );
}

#[tokio::test]
async fn get_hides_pending_strangers() {
    let (router, _) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let b = online(&router, "bob", "b", 0).await;
    b.send("<presence type='subscribe' to='alice@example.org'/>")
        .await;
    a.drain();
    a.send("<iq type='get' id='g'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    let got = a.drain();
    assert_eq!(
        got[0]
            .get_child("query", "jabber:iq:roster")
            .unwrap()
            .children()
            .count(),
        0
    );
}

#[tokio::test]
async fn errors_per_section_2_3_3() {
    let (router, _) = router(&["alice"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let cases = [
        (
            "<query xmlns='jabber:iq:roster'><item jid='x@example.org'/><item jid='y@example.org'/></query>",
            "bad-request",
        ),
        (
            "<query xmlns='jabber:iq:roster'><item jid='alice@example.org'/></query>",
            "not-allowed",
        ),
        (
            "<query xmlns='jabber:iq:roster'><item jid='x@example.org' subscription='remove'/></query>",
            "item-not-found",
        ),
        (
            "<query xmlns='jabber:iq:roster'><item jid='x@example.org/res'/></query>",
            "bad-request",
        ),
    ];
    for (query, condition) in cases {
        a.send(&format!("<iq type='set' id='e'>{query}</iq>")).await;
        let got = a.drain();
        assert_eq!(got.len(), 1, "{query}: {got:?}");
        assert_eq!(
            error_condition(&got[0]).as_deref(),
            Some(condition),
            "{query}"
        );
    }
}

#[tokio::test]
async fn remove_cancels_both_directions() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "a", 0).await;
    let mut b = online(&router, "bob", "b", 0).await;
    befriend(&mut a, &mut b).await;

    a.send("<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@example.org' subscription='remove'/></query></iq>").await;
    let got = a.drain();
    assert_eq!(
        pushed(&got[0]),
        Some(("bob@example.org".into(), "remove".into(), None))
    );
    assert_eq!(got[1].attr("type"), Some("result"));
    assert!(backend.stored("alice", "bob@example.org").is_none());
    // §2.5.2: bob is told both directions are over and sees alice go unavailable.
    let got = b.drain();
    assert_eq!(
        of(&got, "presence", Some("unavailable")).len(),
        1,
        "{got:?}"
    );
    assert_eq!(
        of(&got, "presence", Some("unsubscribe")).len(),
        1,
        "{got:?}"
    );
    assert_eq!(
        of(&got, "presence", Some("unsubscribed")).len(),
        1,
        "{got:?}"
    );
    let bobs = backend.stored("bob", "alice@example.org").unwrap();
    assert_eq!(bobs.subscription, Default::default());
    assert!(bobs.in_roster, "bob keeps the item, with subscription none");
    // alice's updates reach bob no more.
    a.send("<presence><show>xa</show></presence>").await;
    assert!(b.drain().is_empty());
}
