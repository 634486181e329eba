//! Removing an account removes every trace of it: bob, who had alice in his roster with a
//! rule for her, sees her go offline and her roster item go (a roster push), and a new
//! account of the same name inherits nothing: it is in nobody's roster, holds no
//! subscription, no rule names it, and its presence reaches no one. A contact at another
//! organization sees its subscriptions cancelled.

use lampfield_domain::access::{Level, Rules};
use lampfield_tests::client::{QUIET, from_bare};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::presence::Type as PresenceType;
use tokio_xmpp::parsers::roster::{Roster, Subscription};

const ALICE: &str = "alice@localhost";

/// The roster item a push carries, if `stanza` is a roster push.
fn pushed(stanza: &Stanza) -> Option<tokio_xmpp::parsers::roster::Item> {
    let Stanza::Iq(Iq::Set { payload, .. }) = stanza else {
        return None;
    };
    let mut roster = Roster::try_from(payload.clone()).ok()?;
    roster.items.pop()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_account_leaves_no_trace_in_other_rosters_and_rules() {
    let node = start_node().await;
    let mut alice = node.online(ALICE, "desk", 0).await;
    let mut bob = node.online("bob@localhost", "desk", 0).await;
    let mut carol = node.online("carol@localhost", "desk", 0).await;
    let (a, b) = (alice.bare(), bob.bare());
    befriend(&mut alice, &mut bob).await;
    bob.expect_presence("alice available", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;
    // carol asked for alice's presence; alice never answered.
    carol.subscription(&a, PresenceType::Subscribe).await;
    alice
        .expect_presence("carol's request", |p| p.type_ == PresenceType::Subscribe)
        .await;
    let engine = node.engine();
    let mut rules = Rules::default();
    rules.contacts.insert(a.clone(), Level::Team);
    engine.set_rules(&b, rules).await.unwrap();
    bob.forget_backlog();
    carol.forget_backlog();

    assert!(node.node().remove_user(ALICE).await.unwrap());

    bob.expect_presence("alice unavailable", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
    })
    .await;
    for client in [&mut bob, &mut carol] {
        client
            .expect("the roster push removing alice", |s| {
                pushed(s).filter(|i| i.jid == a && i.subscription == Subscription::Remove)
            })
            .await;
    }

    // A new account of the same name.
    node.node()
        .add_user(ALICE, lampfield_tests::node::password(ALICE))
        .await
        .unwrap();
    let new_alice = node.online(ALICE, "laptop", 0).await;
    assert!(
        new_alice.roster().await.is_empty(),
        "the new alice has contacts"
    );
    assert!(!bob.roster().await.iter().any(|i| i.jid == a));
    assert!(!carol.roster().await.iter().any(|i| i.jid == a));
    let rules = engine.rules(&b).unwrap();
    assert!(
        !rules.contacts.contains_key(&a),
        "bob's rules still name alice: {rules:?}"
    );
    // Nobody sees the new alice, and she sees nobody.
    new_alice.presence(None, Some("new here"), 0).await;
    bob.assert_none("the new alice's presence", QUIET, |s| {
        matches!(s, Stanza::Presence(p) if from_bare(&p.from, &a) && p.type_ == PresenceType::None)
    })
    .await;
    let mut new_alice = new_alice;
    new_alice
        .assert_none("anyone's presence or a stale request", QUIET, |s| {
            matches!(s, Stanza::Presence(p) if p.from.as_ref().is_some_and(|f| f.to_bare() != a))
        })
        .await;

    new_alice.close().await;
    bob.close().await;
    carol.close().await;
    node.stop().await;
}

/// A contact at another organization (Lampfield federation) sees the account go offline and
/// both subscriptions cancelled: its server keeps no subscription to the removed account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_account_cancels_its_subscriptions_at_other_organizations() {
    let orgs = lampfield_tests::federation::Orgs::start(2).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let a = alice.bare();
    befriend(&mut alice, &mut bob).await;
    bob.expect_presence("alice available", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    assert!(orgs.node(0).remove_user(a.as_str()).await.unwrap());
    bob.expect_presence("alice unavailable", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
    })
    .await;
    for kind in [PresenceType::Unsubscribe, PresenceType::Unsubscribed] {
        bob.expect_presence("alice's cancellation", |p| {
            p.type_ == kind && from_bare(&p.from, &a)
        })
        .await;
    }
    let item = bob.roster().await.into_iter().find(|i| i.jid == a);
    assert!(
        item.as_ref()
            .is_none_or(|i| i.subscription == Subscription::None),
        "bob's server still holds a subscription: {item:?}"
    );

    alice.close().await;
    bob.close().await;
    orgs.shutdown().await;
}
