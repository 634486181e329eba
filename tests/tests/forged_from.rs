//! RFC 6120 §8.1.2.1: the server stamps a client's stanzas with its full JID or refuses
//! them. tokio-xmpp sends the `from` we set unchanged, so this is a real forgery.

use lampfield_tests::client::{QUIET, body};
use lampfield_tests::start_node;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::{Message, MessageType};

#[tokio::test]
async fn forged_from_is_rewritten_or_refused() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "honest", 0).await;
    let mut bob = node.online("bob@localhost", "victim", 0).await;
    let carol = node.online("carol@localhost", "real", 0).await;

    let forgeries: [(Jid, &str); 3] = [
        (carol.jid.clone().into(), "forged-carol"),
        ("bob@localhost/other".parse().unwrap(), "forged-self"),
        ("admin@example.com/x".parse().unwrap(), "forged-remote"),
    ];
    for (from, text) in &forgeries {
        let mut m = Message::chat(Some(bob.jid.clone().into()))
            .with_body(Default::default(), (*text).to_owned());
        m.from = Some(from.clone());
        alice.send(m).await;
    }
    alice.chat(bob.jid.clone(), "marker").await;
    bob.expect_message("the honest message sent after the forgeries", |m| {
        body(m) == "marker"
    })
    .await;

    let alice_jid: Jid = alice.jid.clone().into();
    // Every forged message bob got must carry alice's full JID.
    bob.assert_none("a message with a forged sender", QUIET, |s| match s {
        Stanza::Message(m) if body(m).starts_with("forged") => m.from.as_ref() != Some(&alice_jid),
        _ => false,
    })
    .await;
    // Those bob did not get were refused, and alice was told.
    for (_, text) in &forgeries {
        let delivered = bob.expect_message_now(|m| body(m) == *text);
        if !delivered {
            alice
                .expect_message(&format!("an error for the refused '{text}'"), |m| {
                    m.type_ == MessageType::Error
                })
                .await;
        }
    }
    alice.close().await;
    bob.close().await;
    carol.close().await;
    node.stop().await;
}
