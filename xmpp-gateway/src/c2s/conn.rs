//! One client connection's transport, reader and writer, and the ways it can end.

use std::sync::Arc;
use std::time::Duration;

use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::C2sConfig;
use crate::stream::{Item, MaybeTls, ReadError, StreamCondition, StreamWriter, XmlReader};

/// How long closing the transport may take once our last bytes are written.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a connection ended (for the log; the peer has been told already).
#[derive(Debug)]
pub(crate) enum End {
    /// The peer closed its stream and we closed ours.
    Closed,
    /// We sent this stream error.
    Error(StreamCondition),
    /// The TCP connection dropped or a write timed out.
    Transport(String),
}

/// The transport with its XML reader and writer.
pub(crate) struct Conn<S> {
    pub(crate) io: MaybeTls<S>,
    pub(crate) reader: XmlReader,
    pub(crate) writer: StreamWriter,
    pub(crate) cfg: Arc<C2sConfig>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// A connection that has not started its stream.
    pub(crate) fn new(io: S, cfg: Arc<C2sConfig>) -> Self {
        Self {
            io: MaybeTls::Plain(io),
            reader: XmlReader::new(cfg.preauth_limits()),
            writer: StreamWriter::new(),
            cfg,
        }
    }

    /// The next stream item. Cancel-safe.
    pub(crate) async fn read(&mut self) -> Result<Item, ReadError> {
        self.reader.next(&mut self.io).await
    }

    /// Write what is pending, within the write timeout.
    pub(crate) async fn flush(&mut self) -> Result<(), End> {
        match tokio::time::timeout(self.cfg.write_timeout, self.writer.flush(&mut self.io)).await {
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

    /// Send a stream error, close the stream and the transport.
    pub(crate) async fn fail(&mut self, condition: StreamCondition, text: Option<&str>) -> End {
        let domain = self.cfg.domain.clone();
        self.writer.stream_error(condition, text, &domain);
        self.finish().await;
        End::Error(condition)
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
                self.fail(condition, None).await
            }
            ReadError::Eof => End::Transport("connection closed by peer".into()),
            ReadError::Io(e) => End::Transport(e.to_string()),
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
