//! RFC 6120 §8.1.2.1: the server stamps a client's stanzas with its full JID or refuses
//! them (stream error `<invalid-from/>`). tokio-xmpp sends the `from` we set unchanged,
//! so this is a real forgery.

use std::time::Duration;

use lampfield_tests::client::{WAIT, body};
use lampfield_tests::start_node;
use tokio::time::Instant;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::Message;

#[tokio::test]
async fn forged_from_is_rewritten_or_refused() {
    let node = start_node().await;
    let mut bob = node.online("bob@localhost", "victim", 0).await;
    let carol = node.online("carol@localhost", "real", 0).await;

    let forgeries: [(Jid, &str); 3] = [
        (carol.jid.clone().into(), "forged-carol"),
        ("bob@localhost/other".parse().unwrap(), "forged-self"),
        ("admin@example.com/x".parse().unwrap(), "forged-remote"),
    ];
    for (i, (from, text)) in forgeries.iter().enumerate() {
        // A fresh session per forgery: a refusal ends the stream.
        let mut alice = node
            .online("alice@localhost", &format!("forger{i}"), 0)
            .await;
        let alice_jid: Jid = alice.jid.clone().into();
        let mut m = Message::chat(Some(bob.jid.clone().into()))
            .with_body(Default::default(), (*text).to_owned());
        m.from = Some(from.clone());
        alice.send(m).await;

        let deadline = Instant::now() + WAIT;
        let outcome = loop {
            let step = Duration::from_millis(50);
            if let Some(got) = bob.message_within(step, |m| body(m) == *text).await {
                break format!("delivered from {:?}", got.from.map(|f| f.to_string()));
            }
            if alice.stream_restarted_within(step).await {
                break "refused".to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "'{text}' from {from}: within {WAIT:?} neither delivered to bob nor refused"
            );
        };
        assert!(
            outcome == "refused"
                || outcome == format!("delivered from {:?}", Some(alice_jid.to_string())),
            "'{text}' claiming to be from {from}: {outcome}, expected alice's own JID {alice_jid} or a refusal"
        );
        alice.close().await;
    }
    bob.close().await;
    carol.close().await;
    node.stop().await;
}
