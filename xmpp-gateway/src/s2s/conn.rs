//! One server stream's transport (TCP, then TLS either way round), its reader and
//! writer, and how it ends. Shared by inbound and outbound streams.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use minidom::Element;
use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::ns::{DIALBACK, JABBER_SERVER, STREAM, XMPP_STREAMS};
use crate::stream::{
    Item, ReadError, ReadLimits, StreamCondition, StreamWriter, XmlReader, escape_attr,
};

/// How long closing the transport may take once our last bytes are written.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// A TCP connection, upgraded to TLS or not.
pub(crate) enum Transport {
    /// Before STARTTLS.
    Plain(TcpStream),
    /// After STARTTLS, as client or server; boxed to keep the plain variant small.
    Tls(Box<tokio_rustls::TlsStream<TcpStream>>),
    /// Taken out for the handshake, or after a failed one.
    Detached,
}

impl Transport {
    /// Take the TCP stream out for the TLS handshake.
    pub(crate) fn take_plain(&mut self) -> Option<TcpStream> {
        match std::mem::replace(self, Self::Detached) {
            Self::Plain(s) => Some(s),
            other => {
                *self = other;
                None
            }
        }
    }

    /// The certificate chain the peer presented in the TLS handshake, leaf first.
    pub(crate) fn peer_certificates(&self) -> Vec<CertificateDer<'static>> {
        let certs = match self {
            Self::Tls(tls) => match tls.as_ref() {
                tokio_rustls::TlsStream::Client(c) => c.get_ref().1.peer_certificates(),
                tokio_rustls::TlsStream::Server(s) => s.get_ref().1.peer_certificates(),
            },
            _ => None,
        };
        certs
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default()
    }
}

fn detached() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "transport detached")
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Detached => Poll::Ready(Ok(())),
        }
    }
}

/// Why a server stream ended (for the log and for bounces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Both sides closed their streams.
    Closed,
    /// We sent this stream error.
    Sent(&'static str),
    /// The peer sent a stream error.
    Received(String),
    /// The TCP connection dropped, a write timed out, or TLS failed.
    Transport(String),
}

/// A server stream: transport, reader and writer.
pub(crate) struct S2sConn {
    pub(crate) io: Transport,
    pub(crate) reader: XmlReader,
    pub(crate) writer: StreamWriter,
    /// Our domain, named in stream errors sent before our header.
    domain: String,
    header_sent: bool,
    write_timeout: Duration,
}

impl S2sConn {
    /// A stream over a fresh TCP connection.
    pub(crate) fn new(
        tcp: TcpStream,
        domain: &str,
        limits: ReadLimits,
        write_timeout: Duration,
    ) -> Self {
        Self {
            io: Transport::Plain(tcp),
            reader: XmlReader::new(limits),
            writer: StreamWriter::new(),
            domain: domain.to_owned(),
            header_sent: false,
            write_timeout,
        }
    }

    /// The next stream item. Cancel-safe.
    pub(crate) async fn read(&mut self) -> Result<Item, ReadError> {
        self.reader.next(&mut self.io).await
    }

    /// Queue our stream header (RFC 6120 §4.7), declaring the dialback namespace so
    /// peers know we speak it (XEP-0220 §2.1).
    pub(crate) fn header(&mut self, to: Option<&str>, id: Option<&str>) {
        let to = to
            .map(|t| format!(" to='{}'", escape_attr(t)))
            .unwrap_or_default();
        let id = id
            .map(|i| format!(" id='{}'", escape_attr(i)))
            .unwrap_or_default();
        self.writer.raw(&format!(
            "<?xml version='1.0'?><stream:stream xmlns='{JABBER_SERVER}' \
             xmlns:stream='{STREAM}' xmlns:db='{DIALBACK}' from='{}'{to}{id} \
             version='1.0' xml:lang='en'>",
            escape_attr(&self.domain)
        ));
        self.header_sent = true;
    }

    /// Start a new stream on the same transport (after STARTTLS or SASL success).
    pub(crate) fn restart(&mut self) {
        self.reader.reset();
        self.header_sent = false;
    }

    /// Write what is pending, within the write timeout.
    pub(crate) async fn flush(&mut self) -> Result<(), End> {
        match tokio::time::timeout(self.write_timeout, self.writer.flush(&mut self.io)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(End::Transport(e.to_string())),
            Err(_) => Err(End::Transport("write timed out".into())),
        }
    }

    /// Write one element now.
    pub(crate) async fn send(&mut self, el: &Element) -> Result<(), End> {
        self.writer.element(el);
        self.flush().await
    }

    /// Write raw XML of our own now.
    pub(crate) async fn send_raw(&mut self, xml: &str) -> Result<(), End> {
        self.writer.raw(xml);
        self.flush().await
    }

    /// Send a stream error (after our header, RFC 6120 §4.9.1.2) and close.
    pub(crate) async fn fail(&mut self, condition: StreamCondition) -> End {
        self.fail_named(condition.name()).await
    }

    /// [`S2sConn::fail`] for a condition by name, for those the c2s side never sends
    /// (`improper-addressing`).
    pub(crate) async fn fail_named(&mut self, condition: &'static str) -> End {
        if !self.header_sent {
            self.header(None, Some(&crate::stream::new_stream_id()));
        }
        self.writer.raw(&format!(
            "<stream:error><{condition} xmlns='{XMPP_STREAMS}'/></stream:error>"
        ));
        self.writer.close();
        self.finish().await;
        End::Sent(condition)
    }

    /// Close our stream and the transport.
    pub(crate) async fn close(&mut self) -> End {
        self.writer.close();
        self.finish().await;
        End::Closed
    }

    /// The stream ends on a read failure: tell the peer when it broke a rule.
    pub(crate) async fn on_read_error(&mut self, e: ReadError) -> End {
        match e {
            ReadError::Stream { condition, reason } => {
                tracing::debug!(%condition, %reason, "peer broke the stream");
                self.fail(condition).await
            }
            ReadError::Eof => End::Transport("connection closed by peer".into()),
            ReadError::Io(e) => End::Transport(e.to_string()),
        }
    }

    /// Read the next first-level element; a header, close or error ends the stream.
    pub(crate) async fn element(&mut self) -> Result<Element, End> {
        match self.read().await {
            Ok(Item::Element(el)) => {
                if el.is("error", STREAM) {
                    let condition = el
                        .children()
                        .find(|c| c.has_ns(XMPP_STREAMS) && c.name() != "text")
                        .map(|c| c.name().to_owned())
                        .unwrap_or_else(|| "undefined-condition".to_owned());
                    self.writer.close();
                    self.finish().await;
                    return Err(End::Received(condition));
                }
                Ok(el)
            }
            Ok(Item::Close) => Err(self.close().await),
            Ok(Item::Header(_)) => Err(self.fail(StreamCondition::BadFormat).await),
            Err(e) => Err(self.on_read_error(e).await),
        }
    }

    async fn finish(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.io.shutdown()).await;
        }
    }
}
