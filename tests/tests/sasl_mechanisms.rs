//! RFC 6120 §6 with RFC 7677, RFC 5802 and RFC 4616, driven by tokio-xmpp's SASL client:
//! SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN all authenticate and bind after STARTTLS; a wrong
//! password fails with `<not-authorized/>`.

use std::collections::BTreeSet;

use futures::{SinkExt, StreamExt};
use lampfield_tests::TestNode;
use lampfield_tests::start_node;
use sasl::common::{ChannelBinding, Credentials};
use tokio_xmpp::connect::ServerConnector;
use tokio_xmpp::error::AuthError;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::bind::{BindQuery, BindResponse};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::sasl::DefinedCondition;
use tokio_xmpp::parsers::{ns, stream_features::StreamFeatures};
use tokio_xmpp::xmlstream::{ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement};
use tokio_xmpp::{Stanza, client_login};

const WAIT: std::time::Duration = lampfield_tests::client::WAIT;

/// STARTTLS, then SASL with only `mech`, then bind. Returns the bound JID.
async fn login_with(node: &TestNode, mech: &str, password: &str) -> Result<Jid, tokio_xmpp::Error> {
    let jid: Jid = "alice@localhost".parse().unwrap();
    let (pending, binding) = node
        .connector()
        .connect(&jid, ns::JABBER_CLIENT, Timeouts::tight())
        .await?;
    let (features, stream): (StreamFeatures, XmppStream<_>) = pending.recv_features().await?;
    assert!(
        features.sasl_mechanisms.contains(mech),
        "{mech} not offered after STARTTLS: {:?}",
        features.sasl_mechanisms
    );
    let only: BTreeSet<String> = [mech.to_owned()].into();
    // With channel-binding data tokio-xmpp's SCRAM names itself SCRAM-*-PLUS, which the
    // node does not offer; without it, the client sends the `n,,` GS2 header.
    let _ = binding;
    let creds = Credentials::default()
        .with_username("alice")
        .with_password(password)
        .with_channel_binding(ChannelBinding::None);
    let reset = client_login(stream, only, creds).await?;
    let header = StreamHeader {
        to: Some("localhost".into()),
        from: None,
        id: None,
    };
    let (features, mut stream): (StreamFeatures, XmppStream<_>) =
        reset.send_header(header).await?.recv_features().await?;
    assert!(
        features.can_bind(),
        "no resource binding offered after {mech}"
    );
    let bind = Iq::from_set("bind-1", BindQuery::new(None));
    stream
        .send(&XmppStreamElement::Stanza(Stanza::Iq(bind)))
        .await?;
    loop {
        match stream
            .next()
            .await
            .map(|r| r.and_then(|e| e.into_read_error()))
        {
            Some(Ok(XmppStreamElement::Stanza(Stanza::Iq(Iq::Result {
                id,
                payload: Some(el),
                ..
            }))))
                if id == "bind-1" =>
            {
                let resp = BindResponse::try_from(el).expect("bind result parses");
                return Ok(Jid::from(resp));
            }
            Some(Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))) if iq.id() == "bind-1" => {
                panic!("{mech}: bind failed: {iq:?}")
            }
            Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => {}
            other => panic!("{mech}: stream ended while binding: {other:?}"),
        }
    }
}

async fn logs_in(mech: &str) {
    let node = start_node().await;
    let jid = tokio::time::timeout(WAIT, login_with(&node, mech, "alice-secret-1"))
        .await
        .unwrap_or_else(|_| panic!("{mech}: no login within {WAIT:?}"))
        .unwrap_or_else(|e| panic!("{mech}: login failed: {e}"));
    assert_eq!(jid.to_bare().to_string(), "alice@localhost");
    assert!(
        jid.resource().is_some(),
        "{mech}: the server must generate a resource: {jid}"
    );
    node.stop().await;
}

async fn wrong_password_fails(mech: &str) {
    let node = start_node().await;
    let res = tokio::time::timeout(WAIT, login_with(&node, mech, "not-alices-password"))
        .await
        .unwrap_or_else(|_| {
            panic!("{mech}: wrong password neither failed nor succeeded within {WAIT:?}")
        });
    match res {
        Err(tokio_xmpp::Error::Auth(AuthError::Fail(DefinedCondition::NotAuthorized))) => {}
        other => panic!("{mech}: expected SASL <not-authorized/>, got {other:?}"),
    }
    // The node keeps serving: the right password works at once.
    login_with(&node, mech, "alice-secret-1")
        .await
        .expect("right password after a wrong one");
    node.stop().await;
}

#[tokio::test]
async fn scram_sha_256_logs_in() {
    logs_in("SCRAM-SHA-256").await;
}

#[tokio::test]
async fn scram_sha_1_logs_in() {
    logs_in("SCRAM-SHA-1").await;
}

#[tokio::test]
async fn plain_over_tls_logs_in() {
    logs_in("PLAIN").await;
}

#[tokio::test]
async fn wrong_password_scram_sha_256() {
    wrong_password_fails("SCRAM-SHA-256").await;
}

#[tokio::test]
async fn wrong_password_scram_sha_1() {
    wrong_password_fails("SCRAM-SHA-1").await;
}

#[tokio::test]
async fn wrong_password_plain() {
    wrong_password_fails("PLAIN").await;
}

#[tokio::test]
async fn full_client_logs_in_with_its_preferred_mechanism() {
    // tokio-xmpp's Client, as shipped: on TLS 1.3 it has tls-exporter data and so only
    // considers SCRAM-*-PLUS; against a node without -PLUS it picks PLAIN over TLS.
    let node = start_node().await;
    let alice = node.login("alice@localhost", "desk").await;
    assert_eq!(alice.jid.to_string(), "alice@localhost/desk");
    alice.close().await;
    node.stop().await;
}
