//! One connection's transport, XML reader and writer, for client and server streams
//! alike (RFC 6120 §4): writes under a timeout, stream errors (§4.9), the closing
//! handshake (§4.4), and the ways a connection ends.

use std::time::Duration;

use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::error::{ReadError, StreamCondition};
use super::io::MaybeTls;
use super::reader::{Item, ReadLimits, XmlReader};
use super::writer::{Content, StreamWriter};
use crate::ns::{STREAM, XMPP_STREAMS};

/// How long closing the transport may take once our last bytes are written.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// What a connection needs from the configuration of its side (c2s or s2s).
pub(crate) trait Settings {
    /// Our domain: the `from` of our stream headers.
    fn domain(&self) -> &str;
    /// How long a write may stay blocked by a peer that does not read.
    fn write_timeout(&self) -> Duration;
}

/// [`Settings`] that are just a domain and a write timeout (server and component streams).
pub(crate) struct Fixed {
    /// Our domain, the `from` of our headers.
    pub(crate) domain: String,
    pub(crate) write_timeout: Duration,
}

impl Settings for Fixed {
    fn domain(&self) -> &str {
        &self.domain
    }

    fn write_timeout(&self) -> Duration {
        self.write_timeout
    }
}

/// Why a connection ended (for the log and for bounces; the peer has been told already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The peer closed its stream and we closed ours.
    Closed,
    /// We sent this stream error.
    Sent(StreamCondition),
    /// The peer sent a stream error with this condition.
    Received(String),
    /// The TCP connection dropped, a write timed out, or TLS failed.
    Transport(String),
}

/// The transport with its XML reader and writer, and the settings `C` of its side.
pub(crate) struct Conn<S, C> {
    pub(crate) io: MaybeTls<S>,
    pub(crate) reader: XmlReader,
    pub(crate) writer: StreamWriter,
    pub(crate) cfg: C,
}

impl<S: AsyncRead + AsyncWrite + Unpin, C: Settings> Conn<S, C> {
    /// A connection that has not started its stream: a `content` stream over `io`, read
    /// within `limits`.
    pub(crate) fn new(io: S, cfg: C, limits: ReadLimits, content: Content) -> Self {
        Self {
            io: MaybeTls::Plain(io),
            reader: XmlReader::new(limits),
            writer: StreamWriter::new(content),
            cfg,
        }
    }

    /// The next stream item. Cancel-safe.
    pub(crate) async fn read(&mut self) -> Result<Item, ReadError> {
        self.reader.next(&mut self.io).await
    }

    /// Queue our stream header (RFC 6120 §4.7) from our domain; `to` echoes the peer's
    /// `from`, `id` is ours when we are the receiving entity.
    pub(crate) fn header(&mut self, to: Option<&str>, id: Option<&str>) {
        let domain = self.cfg.domain();
        self.writer.header(domain, to, id);
    }

    /// Start a new stream on the same transport (after STARTTLS or SASL success, RFC 6120
    /// §4.3.3). Bytes already read are kept for the new stream.
    pub(crate) fn restart(&mut self) {
        self.reader.reset();
        self.writer.reset();
    }

    /// Write what is pending, within the write timeout.
    pub(crate) async fn flush(&mut self) -> Result<(), End> {
        let timeout = self.cfg.write_timeout();
        match tokio::time::timeout(timeout, self.writer.flush(&mut self.io)).await {
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

    /// Send a stream error (after our header, RFC 6120 §4.9.1.2), close the stream and
    /// the transport.
    pub(crate) async fn fail(&mut self, condition: StreamCondition) -> End {
        let domain = self.cfg.domain();
        self.writer.stream_error(condition, None, domain);
        self.finish().await;
        End::Sent(condition)
    }

    /// Close our stream (the peer closed its own or is being let go) and the transport.
    pub(crate) async fn close(&mut self) -> End {
        self.writer.close();
        self.finish().await;
        End::Closed
    }

    /// The connection ends on a read failure: tell the peer when it broke a rule.
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

    /// Read the next first-level element; a header, the peer's close or its stream error
    /// (RFC 6120 §4.9.1.3) ends the stream.
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
        // Nothing may follow our closing tag, not even a stanza written past the session.
        self.io.end_direct();
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.io.shutdown()).await;
        }
    }
}
