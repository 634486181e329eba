//! RFC 6120 §6 with RFC 7677, RFC 5802 and RFC 4616, driven by tokio-xmpp's SASL client:
//! SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS with `tls-exporter` channel binding (RFC 9266)
//! over TLS 1.3, SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN all authenticate and bind after
//! STARTTLS; a wrong password, or channel binding data of another TLS connection, fails
//! with `<not-authorized/>`.

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

/// How a -PLUS login binds to the channel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bind {
    /// With this connection's `tls-exporter` data.
    Ours,
    /// With data of some other connection, as a relay in the middle would have.
    Relayed,
}

/// STARTTLS, then SASL with only `mech`, then bind. Returns the bound JID.
async fn login_with(node: &TestNode, mech: &str, password: &str) -> Result<Jid, tokio_xmpp::Error> {
    login_bound(node, mech, password, Bind::Ours).await
}

async fn login_bound(
    node: &TestNode,
    mech: &str,
    password: &str,
    bind: Bind,
) -> Result<Jid, tokio_xmpp::Error> {
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
    // With channel-binding data tokio-xmpp's SCRAM names itself SCRAM-*-PLUS; without
    // it, the client sends the `n,,` GS2 header and the plain name.
    let binding = if mech.ends_with("-PLUS") {
        assert!(
            features
                .sasl_mechanisms
                .iter()
                .any(|m| m.ends_with("-PLUS")),
            "no -PLUS offered"
        );
        match (binding, bind) {
            (ChannelBinding::TlsExporter(_), Bind::Relayed) => {
                ChannelBinding::TlsExporter(vec![0x42; 32])
            }
            (b @ ChannelBinding::TlsExporter(_), Bind::Ours) => b,
            (other, _) => panic!("the test client has no tls-exporter data: {other:?}"),
        }
    } else {
        ChannelBinding::None
    };
    let creds = Credentials::default()
        .with_username("alice")
        .with_password(password)
        .with_channel_binding(binding);
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
async fn scram_sha_256_plus_logs_in() {
    logs_in("SCRAM-SHA-256-PLUS").await;
}

#[tokio::test]
async fn scram_sha_1_plus_logs_in() {
    logs_in("SCRAM-SHA-1-PLUS").await;
}

#[tokio::test]
async fn wrong_password_scram_sha_256_plus() {
    wrong_password_fails("SCRAM-SHA-256-PLUS").await;
}

#[tokio::test]
async fn binding_to_another_tls_connection_fails() {
    // A relay that terminates the client's TLS and opens its own to the node passes the
    // password proof through, but the client's binding names the relay's connection.
    let node = start_node().await;
    let res = tokio::time::timeout(
        WAIT,
        login_bound(&node, "SCRAM-SHA-256-PLUS", "alice-secret-1", Bind::Relayed),
    )
    .await
    .expect("relayed login neither failed nor succeeded");
    match res {
        Err(tokio_xmpp::Error::Auth(AuthError::Fail(DefinedCondition::NotAuthorized))) => {}
        other => panic!("expected <not-authorized/>, got {other:?}"),
    }
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
    // tokio-xmpp's Client, as shipped: on TLS 1.3 it has tls-exporter data and so
    // considers SCRAM-*-PLUS first, which the node offers.
    let node = start_node().await;
    let alice = node.login("alice@localhost", "desk").await;
    assert_eq!(alice.jid.to_string(), "alice@localhost/desk");
    alice.close().await;
    node.stop().await;
}
