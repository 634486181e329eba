//! RFC 6121 §8.5: chat messages between local accounts. To a full JID: that resource.
//! To the bare JID: the available resource with the highest non-negative priority.

use lampfield_tests::client::{QUIET, body};
use lampfield_tests::start_node;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::Jid;

#[tokio::test]
async fn message_to_full_jid_reaches_that_resource() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "desk", 0).await;
    let mut bob = node.online("bob@localhost", "laptop", 0).await;
    alice.chat(bob.jid.clone(), "hello bob").await;
    let m = bob
        .expect_message("alice's message", |m| body(m) == "hello bob")
        .await;
    assert_eq!(m.from, Some(Jid::from(alice.jid.clone())));
    bob.chat(alice.jid.clone(), "hello alice").await;
    let m = alice
        .expect_message("bob's reply", |m| body(m) == "hello alice")
        .await;
    assert_eq!(m.from, Some(Jid::from(bob.jid.clone())));
    alice.close().await;
    bob.close().await;
    node.stop().await;
}

#[tokio::test]
async fn message_to_bare_jid_reaches_highest_priority_resource() {
    let node = start_node().await;
    let alice = node.online("alice@localhost", "desk", 0).await;
    let mut low = node.online("bob@localhost", "phone", 1).await;
    let mut high = node.online("bob@localhost", "workstation", 10).await;
    let bob = low.bare();

    alice.chat(bob.clone(), "to-bare-1").await;
    high.expect_message("message to the bare JID at the priority-10 resource", |m| {
        body(m) == "to-bare-1"
    })
    .await;
    low.assert_none(
        "the message meant for the priority-10 resource",
        QUIET / 3,
        |s| matches!(s, Stanza::Message(m) if body(m) == "to-bare-1"),
    )
    .await;

    low.presence(None, None, 20).await;
    // Once the account's other resource sees the new priority, the node has applied it.
    let lj = low.jid.clone();
    high.expect_presence("the phone's new priority", |p| {
        p.from.as_ref() == Some(&Jid::from(lj.clone())) && p.priority.0 == 20
    })
    .await;
    alice.chat(bob.clone(), "to-bare-2").await;
    low.expect_message("message to the bare JID after the priority change", |m| {
        body(m) == "to-bare-2"
    })
    .await;
    high.assert_none(
        "the message meant for the priority-20 resource",
        QUIET / 3,
        |s| matches!(s, Stanza::Message(m) if body(m) == "to-bare-2"),
    )
    .await;
    alice.close().await;
    low.close().await;
    high.close().await;
    node.stop().await;
}
