//! Change notices leak nothing a partner organization's watchers do not see: an organization
//! that alice blocks never hears of her, whatever she does; an organization that sees her at
//! public level hears of a change it sees, nothing new of changes its level hides (a line
//! ringing and going idle), and of her going offline.

use std::collections::BTreeMap;
use std::time::Duration;

use lampfield_domain::access::{Level, Rules};
use lampfield_domain::presence::{LineId, LineState};
use lampfield_node::engine::SourceChange;
use lampfield_node::federation::wire::{Notice, decode_notices};
use lampfield_tests::befriend;
use lampfield_tests::client::{QUIET, from_bare};
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::{Show, Type as PresenceType};

/// The notices organization `i` received from org0, as payloads.
fn from_org0(orgs: &Orgs, i: usize) -> Vec<Vec<u8>> {
    orgs.node(i)
        .federation_notices_received()
        .into_iter()
        .filter(|(origin, _)| origin == "org0.test")
        .map(|(_, payload)| payload)
        .collect()
}

fn notices(payloads: &[Vec<u8>]) -> Vec<Notice> {
    payloads
        .iter()
        .flat_map(|p| decode_notices(p).expect("well-formed notices"))
        .collect()
}

/// Wait until organization `i` received a notice from org0 matching `pred`.
async fn told(orgs: &Orgs, i: usize, what: &str, pred: impl Fn(&Notice) -> bool) {
    for _ in 0..100 {
        if notices(&from_org0(orgs, i)).iter().any(&pred) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("org{i} was not told {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_notices_follow_what_each_partner_sees() {
    let orgs = Orgs::start(3).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let mut carol = orgs.online(2, "carol", "phone").await;
    let a = alice.bare();
    befriend(&mut alice, &mut bob).await;
    befriend(&mut alice, &mut carol).await;
    // Then org1 sees alice at public level and org2 is blocked. (Blocked first, carol's request
    // would never have reached alice: a blocked viewer's subscription request is dropped.) The
    // block itself may be told to org2 as what carol sees, alice going unavailable; from then
    // on org2 hears nothing.
    let engine = orgs.node(0).engine();
    let rules = Rules {
        domains: BTreeMap::from([
            ("org1.test".parse().unwrap(), Level::Public),
            ("org2.test".parse().unwrap(), Level::Blocked),
        ]),
        ..Rules::default()
    };
    engine.set_rules(&a, rules).await.unwrap();
    carol
        .expect_presence("alice unavailable once blocked", |p| {
            p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
        })
        .await;
    tokio::time::sleep(QUIET).await;
    let blocked_at = from_org0(&orgs, 2).len();

    // A change org1 sees: it is told.
    alice.presence(Some(Show::Away), None, 0).await;
    bob.expect_presence("alice away", |p| {
        from_bare(&p.from, &a) && p.show == Some(Show::Away)
    })
    .await;
    told(&orgs, 1, "of alice's change", |n| n.user == "alice").await;
    tokio::time::sleep(QUIET).await;
    let seen1 = from_org0(&orgs, 1);

    // A line rings, goes idle, rings and goes away: public level shows none of it, so org1
    // hears nothing new (at most the very same bytes again).
    let line = LineId::new("201").unwrap();
    for state in [
        Some(LineState::Ringing),
        Some(LineState::Idle),
        Some(LineState::Ringing),
        None,
    ] {
        engine
            .update(&a, SourceChange::Line(line.clone(), state))
            .await
            .unwrap();
    }
    tokio::time::sleep(QUIET).await;
    let after1 = from_org0(&orgs, 1);
    for extra in &after1[seen1.len()..] {
        assert!(
            seen1.contains(extra),
            "org1 was told of a change it cannot see: {}",
            String::from_utf8_lossy(extra)
        );
    }

    // alice goes offline: org1 sees that, and is told; org2 still hears nothing.
    alice.close().await;
    bob.expect_presence("alice offline", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
    })
    .await;
    told(&orgs, 1, "that alice went offline", |n| {
        n.user == "alice" && !n.available
    })
    .await;
    tokio::time::sleep(QUIET).await;
    let heard = from_org0(&orgs, 2);
    assert!(
        heard.len() == blocked_at,
        "org2 heard of alice although she blocks it: {:?}",
        notices(&heard[blocked_at..])
    );

    bob.close().await;
    carol.close().await;
    orgs.shutdown().await;
}
