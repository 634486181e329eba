//! XEP-0198 stream management with tokio-xmpp's own implementation (its `StanzaStream`
//! enables it with resumption whenever the server offers it): the server acknowledges what
//! the client sends, and a session whose TCP connection is cut is resumed on the next one,
//! with what was sent to it meanwhile and without its contacts seeing it go away.

use std::time::Duration;

use lampfield_tests::client::{WAIT, body, from_is};
use lampfield_tests::start_node;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::presence::Type;

#[tokio::test]
async fn acks_and_resumption_after_the_transport_is_cut() {
    let node = start_node().await;
    let (mut alice, mut bob, aj) = node.alice_and_bob().await;

    // The server acknowledges what alice sends (tokio-xmpp asks with <r/>).
    let hello = Message::chat(Some(bob.jid.clone().into()))
        .with_body(Default::default(), "before the cut".to_owned());
    alice.send_acked(hello).await;
    bob.expect_message("alice's message", |m| body(m) == "before the cut")
        .await;

    alice.cut();
    bob.chat(alice.jid.clone(), "while you were away").await;
    assert!(
        alice.resumed_within(WAIT).await,
        "tokio-xmpp resumed the stream rather than logging in afresh"
    );
    let got = alice
        .expect_message("the message sent while the connection was cut", |m| {
            body(m) == "while you were away"
        })
        .await;
    assert_eq!(got.to, Some(alice.jid.clone().into()), "same full JID");
    // Once, not again from offline storage or a retransmission.
    alice
        .assert_none(
            "the message twice",
            Duration::from_millis(500),
            |s| matches!(s, Stanza::Message(m) if body(m) == "while you were away"),
        )
        .await;
    // The resumed session works both ways.
    alice.chat(bob.jid.clone(), "back").await;
    bob.expect_message("alice's message after resuming", |m| body(m) == "back")
        .await;
    bob.assert_none(
        "alice unavailable, though her session was resumed",
        Duration::from_millis(500),
        |s| matches!(s, Stanza::Presence(p) if p.type_ == Type::Unavailable && from_is(p, &aj)),
    )
    .await;
    alice.close().await;
    bob.expect_presence("alice unavailable once she logs out", |p| {
        p.type_ == Type::Unavailable && from_is(p, &aj)
    })
    .await;
    bob.close().await;
    node.stop().await;
}
