//! Logins with the real tokio-xmpp client: SCRAM-SHA-256 on a plain stream, and
//! SCRAM-SHA-256 and PLAIN after STARTTLS with a client that trusts our self-signed
//! test certificate (tokio-xmpp's own STARTTLS connector only trusts system roots,
//! so the test brings a connector with its own rustls configuration).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod c2s_support;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use c2s_support::*;
use futures::{SinkExt, StreamExt};
use lampfield_xmpp::sasl::Mechanism;
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_xmpp::connect::{DnsConfig, ServerConnector};
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::parsers::starttls;
use tokio_xmpp::xmlstream::{
    PendingFeaturesRecv, StreamHeader, Timeouts, XmppStream, XmppStreamElement, initiate_stream,
};
use tokio_xmpp::{Client, Event};

/// STARTTLS to a fixed address with a given rustls client configuration.
#[derive(Clone)]
struct TestStartTls {
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TestStartTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestStartTls")
    }
}

impl ServerConnector for TestStartTls {
    type Stream = BufStream<tokio_rustls::client::TlsStream<TcpStream>>;

    async fn connect(
        &self,
        jid: &Jid,
        ns: &'static str,
        timeouts: Timeouts,
    ) -> Result<
        (
            PendingFeaturesRecv<Self::Stream>,
            sasl::common::ChannelBinding,
        ),
        tokio_xmpp::Error,
    > {
        let header = || StreamHeader {
            to: Some(Cow::Owned(jid.domain().as_str().to_owned())),
            from: None,
            id: None,
        };
        let tcp = TcpStream::connect(self.addr).await?;
        let pending = initiate_stream(BufStream::new(tcp), ns, header(), timeouts).await?;
        let (features, mut xs): (_, XmppStream<_>) = pending.recv_features().await?;
        assert!(features.can_starttls());
        xs.send(&XmppStreamElement::Starttls(starttls::Nonza::Request(
            starttls::Request,
        )))
        .await?;
        loop {
            match xs.next().await.map(|v| v.and_then(|v| v.into_read_error())) {
                Some(Ok(XmppStreamElement::Starttls(starttls::Nonza::Proceed(_)))) => break,
                Some(Ok(_)) => {}
                other => panic!("no proceed: {other:?}"),
            }
        }
        let tcp = xs.into_inner().into_inner();
        let name =
            rustls_pki_types::ServerName::try_from(jid.domain().as_str().to_owned()).unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
            .connect(name, tcp)
            .await?;
        let pending = initiate_stream(BufStream::new(tls), ns, header(), timeouts).await?;
        Ok((pending, sasl::common::ChannelBinding::None))
    }
}

/// Poll the client until it is online; returns the bound JID.
async fn online(client: &mut Client) -> Jid {
    let wait = async {
        while let Some(event) = client.next().await {
            match event {
                Event::Online { bound_jid, .. } => return bound_jid,
                Event::Disconnected(e) => panic!("disconnected: {e}"),
                Event::Stanza(_) => {}
            }
        }
        panic!("client stream ended");
    };
    tokio::time::timeout(TIMEOUT, wait)
        .await
        .expect("login in time")
}

fn user() -> Jid {
    BareJid::new("user@example.com").unwrap().into()
}

#[tokio::test]
async fn tokio_xmpp_scram_sha256_plaintext() {
    let server = start(false, |_| {}).await;
    let mut client = Client::new_plaintext(
        user(),
        "pencil",
        DnsConfig::addr(&server.addr.to_string()),
        Timeouts::tight(),
    );
    let jid = online(&mut client).await;
    assert_eq!(jid.to_bare().as_str(), "user@example.com");
    assert!(jid.resource().is_some());
    client.send_end().await.unwrap();
}

async fn login_over_starttls(mechanisms: Vec<Mechanism>) {
    let server = start(true, move |c| c.mechanisms = mechanisms).await;
    let connector = TestStartTls {
        addr: server.addr,
        tls: client_tls(server.cert.as_ref().unwrap()),
    };
    let mut client = Client::new_with_connector(user(), "pencil", connector, Timeouts::tight());
    let jid = online(&mut client).await;
    assert_eq!(jid.to_bare().as_str(), "user@example.com");
    client.send_end().await.unwrap();
}

#[tokio::test]
async fn tokio_xmpp_scram_sha256_over_starttls() {
    login_over_starttls(vec![Mechanism::ScramSha256]).await;
}

#[tokio::test]
async fn tokio_xmpp_plain_over_starttls() {
    login_over_starttls(vec![Mechanism::Plain]).await;
}
