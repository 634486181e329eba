//! An account removed through the router: local contacts lose it with a roster push and see it
//! go offline, contacts at other domains get `unsubscribe`/`unsubscribed` (RFC 6121 §2.5.2) and,
//! if they were shown its presence, `unavailable`; its sessions end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use lampfield_xmpp::router::{Outgoing, RemoteSender};
use lampfield_xmpp::{Contact, Router, Subscription};
use minidom::Element;
use tokio::sync::mpsc;

fn remote_contact(jid: &str, subscription: Subscription, in_roster: bool) -> Contact {
    Contact {
        jid: bare(jid),
        name: None,
        groups: Vec::new(),
        subscription,
        in_roster,
    }
}

/// (type, to) of every stanza queued for other domains, skipping probes.
fn remote_sent(rx: &mut mpsc::Receiver<Element>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(el) = rx.try_recv() {
        let kind = el.attr("type").unwrap_or("available").to_owned();
        if kind != "probe" {
            out.push((kind, el.attr("to").unwrap_or_default().to_owned()));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn removal_cleans_local_rosters_and_cancels_remote_subscriptions() {
    let backend = FakeBackend::with_accounts(&["alice", "bob"]);
    let (tx, mut remote) = mpsc::channel(64);
    let router = Router::new(DOMAIN, ports(&backend, RemoteSender::new(tx)));
    let alice = bare("alice");
    let both = Subscription {
        to: true,
        from: true,
        ..Subscription::default()
    };
    let asks = Subscription {
        pending_in: true,
        ..Subscription::default()
    };
    let watches = Subscription {
        to: true,
        ..Subscription::default()
    };
    for c in [
        remote_contact("friend@other.example", both, true),
        remote_contact("asker@other.example", asks, false),
        remote_contact("watched@other.example", watches, true),
    ] {
        backend
            .rosters
            .lock()
            .unwrap()
            .entry(alice.clone())
            .or_default()
            .insert(c.jid.to_string(), c);
    }
    let mut a = online(&router, "alice", "desk", 0).await;
    let mut b = online(&router, "bob", "laptop", 0).await;
    befriend(&mut a, &mut b).await;
    remote_sent(&mut remote);

    let removed = router
        .remove_account(&alice, async {
            backend.accounts.lock().unwrap().remove(&alice);
            backend.rosters.lock().unwrap().remove(&alice);
            Ok::<_, ()>(("done", vec![bare("bob")]))
        })
        .await;
    assert_eq!(removed, Ok("done"));

    // bob: alice goes offline, then leaves his roster.
    let got = b.drain();
    let unavailable = of(&got, "presence", Some("unavailable"));
    assert_eq!(unavailable.len(), 1, "{got:?}");
    assert_eq!(unavailable[0].attr("from"), Some("alice@example.org/desk"));
    let pushes: Vec<_> = got.iter().filter_map(pushed).collect();
    assert_eq!(
        pushes,
        vec![("alice@example.org".into(), "remove".into(), None)]
    );
    assert!(backend.stored("bob", "alice").is_none());

    // Other domains: the subscriber that was shown alice gets unavailable, and everyone the
    // cancellations their subscription states call for.
    assert_eq!(
        remote_sent(&mut remote),
        vec![
            ("unavailable".into(), "friend@other.example".into()),
            ("unsubscribe".into(), "friend@other.example".into()),
            ("unsubscribe".into(), "watched@other.example".into()),
            ("unsubscribed".into(), "asker@other.example".into()),
            ("unsubscribed".into(), "friend@other.example".into()),
        ]
    );

    // alice's session is told its login is gone.
    let mut closed = None;
    while let Ok(m) = a.rx.try_recv() {
        if let Outgoing::Close(c) = m {
            closed = Some(c);
        }
    }
    assert_eq!(closed, Some("not-authorized"));
    a.logout().await;
    assert!(
        b.drain().is_empty(),
        "the session's end says nothing more to bob"
    );
}

#[tokio::test]
async fn a_failed_removal_changes_nothing() {
    let (router, backend) = router(&["alice", "bob"]);
    let mut a = online(&router, "alice", "desk", 0).await;
    let mut b = online(&router, "bob", "laptop", 0).await;
    befriend(&mut a, &mut b).await;
    let failed = router
        .remove_account(&bare("alice"), async {
            Err::<((), Vec<_>), _>("disk full")
        })
        .await;
    assert_eq!(failed, Err("disk full"));
    assert!(b.drain().is_empty());
    assert!(a.drain().is_empty());
    assert!(backend.stored("bob", "alice").is_some());
}
