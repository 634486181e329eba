//! A tokio-xmpp `ServerConnector` for test nodes: TCP to a fixed address, STARTTLS
//! (RFC 6120 §5) trusting exactly the node's self-signed certificate, and a kill switch
//! that drops the TCP connection without `</stream:stream>`.
//!
//! tokio-xmpp's own `StartTlsServerConnector` resolves DNS and trusts only system roots,
//! so it cannot reach a node on `127.0.0.1:<port>` with a generated certificate.

use std::borrow::Cow;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{SinkExt, StreamExt};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sasl::common::ChannelBinding;
use tokio::io::{AsyncRead, AsyncWrite, BufStream, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio_xmpp::connect::ServerConnector;
use tokio_xmpp::error::ProtocolError;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::starttls;
use tokio_xmpp::xmlstream::{
    PendingFeaturesRecv, ReadError, StreamHeader, Timeouts, XmppStream, XmppStreamElement,
    initiate_stream,
};

/// A rustls client config that trusts exactly the certificate in `cert_pem` (pinned by
/// its DER bytes) for any name. A self-signed certificate cannot be checked against a
/// root store when it is marked as a CA (webpki: `CaUsedAsEndEntity`), so it is pinned.
pub fn trust_only(cert_pem: &Path) -> anyhow::Result<Arc<ClientConfig>> {
    let pinned: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert_pem)?.collect::<Result<_, _>>()?;
    anyhow::ensure!(
        !pinned.is_empty(),
        "no certificate in {}",
        cert_pem.display()
    );
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        certs: pinned,
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts the pinned certificate and nothing else; handshake signatures are verified.
#[derive(Debug)]
struct Pinned {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One connection, and the reader waiting on it: taking the socket away must wake it, or
/// the client would wait for bytes from a socket that no longer exists.
#[derive(Debug, Default)]
struct Socket {
    tcp: Option<TcpStream>,
    reader: Option<std::task::Waker>,
}

type Slot = Arc<Mutex<Socket>>;

/// Drops every TCP connection made through one connector, at once, and refuses new ones.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch {
    killed: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<Slot>>>,
}

impl KillSwitch {
    /// Close the sockets (the peer sees EOF with no closing stream tag).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// Close the sockets as [`Self::kill`] does, but let new connections be made.
    pub fn cut(&self) {
        let slots = std::mem::take(&mut *self.sockets.lock().unwrap_or_else(|e| e.into_inner()));
        for slot in slots {
            let (tcp, reader) = {
                let mut socket = slot.lock().unwrap_or_else(|e| e.into_inner());
                (socket.tcp.take(), socket.reader.take())
            };
            drop(tcp);
            if let Some(reader) = reader {
                reader.wake();
            }
        }
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    fn adopt(&self, tcp: TcpStream) -> Killable {
        let slot: Slot = Arc::new(Mutex::new(Socket {
            tcp: Some(tcp),
            reader: None,
        }));
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(slot.clone());
        Killable(slot)
    }
}

/// A TCP stream the kill switch can take away; afterwards every call fails.
#[derive(Debug)]
pub struct Killable(Slot);

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection killed by the test",
    )
}

impl Killable {
    fn with<R>(
        &self,
        f: impl FnOnce(Pin<&mut TcpStream>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match guard.tcp.as_mut() {
            Some(tcp) => f(Pin::new(tcp)),
            None => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncRead for Killable {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Under one lock, so a cut cannot fall between the read and noting who waits.
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tcp) = guard.tcp.as_mut() else {
            return Poll::Ready(Err(gone()));
        };
        let read = Pin::new(tcp).poll_read(cx, buf);
        if read.is_pending() {
            guard.reader = Some(cx.waker().clone());
        }
        read
    }
}

impl AsyncWrite for Killable {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|tcp| tcp.poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|tcp| tcp.poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|tcp| tcp.poll_shutdown(cx))
    }
}

/// Connects to one node address with STARTTLS.
#[derive(Clone, Debug)]
pub struct TestConnector {
    /// The node's c2s address.
    pub addr: SocketAddr,
    /// TLS settings (see [`trust_only`]).
    pub tls: Arc<ClientConfig>,
    /// Drops this connector's connections.
    pub kill: KillSwitch,
}

fn header(jid: &Jid) -> StreamHeader<'_> {
    StreamHeader {
        to: Some(Cow::Borrowed(jid.domain().as_str())),
        from: None,
        id: None,
    }
}

impl ServerConnector for TestConnector {
    type Stream = BufStream<TlsStream<Killable>>;

    async fn connect(
        &self,
        jid: &Jid,
        ns: &'static str,
        timeouts: Timeouts,
    ) -> Result<(PendingFeaturesRecv<Self::Stream>, ChannelBinding), tokio_xmpp::Error> {
        if self.kill.is_killed() {
            return Err(gone().into());
        }
        let tcp = self.kill.adopt(TcpStream::connect(self.addr).await?);
        let plain = initiate_stream(BufStream::new(tcp), ns, header(jid), timeouts).await?;
        let (features, mut plain): (_, XmppStream<_>) = plain.recv_features().await?;
        if !features.can_starttls() {
            return Err(tokio_xmpp::Error::Protocol(ProtocolError::NoTls));
        }
        plain
            .send(&XmppStreamElement::Starttls(starttls::Nonza::Request(
                starttls::Request,
            )))
            .await?;
        loop {
            match plain
                .next()
                .await
                .map(|v| v.and_then(|v| v.into_read_error()))
            {
                Some(Ok(XmppStreamElement::Starttls(starttls::Nonza::Proceed(_)))) => break,
                Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => {}
                Some(Err(ReadError::HardError(e))) => return Err(e.into()),
                Some(Err(ReadError::ParseError(e))) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e).into());
                }
                None | Some(Err(ReadError::StreamFooterReceived)) => {
                    return Err(tokio_xmpp::Error::Disconnected);
                }
            }
        }
        let name = ServerName::try_from(jid.domain().as_str().to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, plain.into_inner().into_inner())
            .await?;
        // As tokio-xmpp does: offer tls-exporter channel binding data on TLS 1.3. A
        // server without SCRAM-*-PLUS must then accept the `y,,` GS2 header.
        let binding = match tls.get_ref().1.protocol_version() {
            Some(tokio_rustls::rustls::ProtocolVersion::TLSv1_3) => tls
                .get_ref()
                .1
                .export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
                .map(ChannelBinding::TlsExporter)
                .unwrap_or(ChannelBinding::None),
            _ => ChannelBinding::None,
        };
        let stream = initiate_stream(BufStream::new(tls), ns, header(jid), timeouts).await?;
        Ok((stream, binding))
    }
}
