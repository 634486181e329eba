//! RFC 6121 §4: one account, two resources with different priorities. A contact sees
//! each resource separately; the account's resources see each other.

use lampfield_tests::client::{QUIET, from_is, status};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::presence::{Show, Type};

#[tokio::test]
async fn two_resources_with_different_priorities() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "desk", 0).await;
    let mut setup = node.online("bob@localhost", "setup", 0).await;
    befriend(&mut alice, &mut setup).await;
    setup.close().await;

    let mut phone = node.online("bob@localhost", "phone", -1).await;
    let mut desk = node.online("bob@localhost", "desk", 5).await;
    let (pj, dj, aj) = (phone.jid.clone(), desk.jid.clone(), alice.jid.clone());

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
    phone
        .expect_presence("the account's other resource", |p| {
            p.type_ == Type::None && from_is(p, &dj)
        })
        .await;
    desk.expect_presence("alice, answering the login probe", |p| {
        p.type_ == Type::None && from_is(p, &aj)
    })
    .await;

    desk.presence(Some(Show::Away), Some("lunch"), 5).await;
    alice
        .expect_presence("bob/desk away", |p| from_is(p, &dj) && status(p) == "lunch")
        .await;

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
    alice.close().await;
    desk.close().await;
    node.stop().await;
}
