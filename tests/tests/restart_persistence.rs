//! Storage: rosters and subscription states survive a restart of the node on the same
//! data folder; a pending inbound request is delivered again at the next login.

use lampfield_tests::client::{from_bare, from_is, person, status};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::parsers::presence::{Show, Type};
use tokio_xmpp::parsers::roster::{Ask, Group, Item, Subscription};

#[tokio::test]
async fn roster_and_subscriptions_survive_restart() {
    let mut node = start_node().await;
    let dave: BareJid = "dave@example.net".parse().unwrap();
    {
        let mut alice = node.online("alice@localhost", "a", 0).await;
        let mut bob = node.online("bob@localhost", "b", 0).await;
        let carol = node.online("carol@localhost", "c", 0).await;
        befriend(&mut alice, &mut bob).await;
        alice
            .roster_set(Item {
                jid: dave.clone(),
                name: Some("Dave".to_owned()),
                subscription: Subscription::None,
                ask: Ask::None,
                groups: vec![Group("Friends".to_owned())],
                approved: None,
            })
            .await;
        carol.subscription(&alice.bare(), Type::Subscribe).await;
        let cb = carol.bare();
        alice
            .expect_presence("carol's request", |p| {
                p.type_ == Type::Subscribe && from_bare(&p.from, &cb)
            })
            .await;
        for c in [alice, bob, carol] {
            c.close().await;
        }
    }

    node.restart().await;

    let mut alice = node.online("alice@localhost", "after", 0).await;
    let bob = node.online("bob@localhost", "after", 0).await;
    let items = alice.roster().await;
    let find = |jid: &BareJid| items.iter().find(|i| &i.jid == jid).cloned();
    let b =
        find(&bob.bare()).unwrap_or_else(|| panic!("bob missing from alice's roster: {items:?}"));
    assert_eq!(
        b.subscription,
        Subscription::Both,
        "alice's roster after restart: {items:?}"
    );
    let d = find(&dave).unwrap_or_else(|| panic!("dave missing from alice's roster: {items:?}"));
    assert_eq!(d.name.as_deref(), Some("Dave"), "{items:?}");
    assert_eq!(d.groups, vec![Group("Friends".to_owned())], "{items:?}");
    let bob_items = bob.roster().await;
    assert!(
        bob_items
            .iter()
            .any(|i| i.jid == alice.bare() && i.subscription == Subscription::Both),
        "bob's roster after restart: {bob_items:?}"
    );

    let carol: BareJid = "carol@localhost".parse().unwrap();
    alice
        .expect_presence("carol's pending request again after restart", |p| {
            p.type_ == Type::Subscribe && from_bare(&p.from, &carol)
        })
        .await;
    let bj = person(&bob.bare());
    bob.presence(Some(Show::Away), Some("restarted"), 0).await;
    alice
        .expect_presence("bob away after restart", |p| {
            from_is(p, &bj) && status(p) == "restarted"
        })
        .await;
    alice.close().await;
    bob.close().await;
    node.stop().await;
}
