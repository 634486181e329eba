//! RFC 6121 §4: one account, two resources with different priorities. A contact at team sees
//! each resource separately; a colleague at business sees the person once, from the node's
//! resource, with no priority, and no device coming or going; the account's resources see each
//! other.

use lampfield_tests::client::{QUIET, from_is, person, status};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::presence::{Show, Type};

#[tokio::test]
async fn two_resources_with_different_priorities() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "desk", 0).await;
    let mut carol = node.online("carol@localhost", "desk", 0).await;
    let mut setup = node.online("bob@localhost", "setup", 0).await;
    node.show_devices(&setup, &alice).await;
    befriend(&mut alice, &mut setup).await;
    befriend(&mut carol, &mut setup).await;
    let bob = person(&setup.bare());
    setup.close().await;
    carol
        .expect_presence("bob gone with his setup client", |p| {
            p.type_ == Type::Unavailable && from_is(p, &bob)
        })
        .await;
    carol.forget_backlog();

    let mut phone = node.online("bob@localhost", "phone", -1).await;
    let mut desk = node.online("bob@localhost", "desk", 5).await;
    let (pj, dj) = (phone.jid.clone(), desk.jid.clone());

    let p = alice
        .expect_presence("bob/phone available", |p| {
            p.type_ == Type::None && from_is(p, &pj)
        })
        .await;
    assert_eq!(p.priority.0, -1);
    let p = alice
        .expect_presence("bob/desk available", |p| {
            p.type_ == Type::None && from_is(p, &dj)
        })
        .await;
    assert_eq!(p.priority.0, 5);
    let p = carol
        .expect_presence("bob available, once", |p| {
            p.type_ == Type::None && from_is(p, &bob)
        })
        .await;
    assert_eq!(p.priority.0, 0, "the person has no priority");
    carol.forget_backlog();
    carol
        .assert_none(
            "bob again when his second device came",
            QUIET / 3,
            |s| matches!(s, Stanza::Presence(p) if from_is(p, &bob)),
        )
        .await;
    phone
        .expect_presence("the account's other resource", |p| {
            p.type_ == Type::None && from_is(p, &dj)
        })
        .await;
    desk.expect_presence("alice (at business), answering the login probe", |p| {
        p.type_ == Type::None && from_is(p, &person(&alice.bare()))
    })
    .await;

    desk.presence(Some(Show::Away), Some("lunch"), 5).await;
    alice
        .expect_presence("bob/desk away", |p| from_is(p, &dj) && status(p) == "lunch")
        .await;
    carol
        .expect_presence("bob's note", |p| from_is(p, &bob) && status(p) == "lunch")
        .await;

    carol.forget_backlog();
    phone.close().await;
    alice
        .expect_presence("bob/phone unavailable", |p| {
            p.type_ == Type::Unavailable && from_is(p, &pj)
        })
        .await;
    alice
        .assert_none(
            "bob/desk unavailable while online",
            QUIET / 3,
            |s| matches!(s, Stanza::Presence(p) if p.type_ == Type::Unavailable && from_is(p, &dj)),
        )
        .await;
    // For carol the person changed (only the away desk is left), not a device.
    carol
        .expect_presence("bob away once the phone is gone", |p| {
            from_is(p, &bob) && p.type_ == Type::None && status(p) == "lunch"
        })
        .await;
    carol
        .assert_none("bob unavailable while his desk stays", QUIET / 3, |s| {
            matches!(s, Stanza::Presence(p) if from_is(p, &bob) && p.type_ == Type::Unavailable)
        })
        .await;
    alice.close().await;
    carol.close().await;
    desk.close().await;
    node.stop().await;
}
