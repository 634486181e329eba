//! One XMPP byte stream (plain TCP before STARTTLS, TLS after) with its read buffer and splitter.
//!
//! [`Conn::next`] returns the next complete top-level element as a slice of the buffer, however the
//! bytes were cut across reads. It is cancel-safe: all state lives in `self`, so it can be raced
//! against a timer or a command channel.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::splitter::{Event, SplitError, Splitter, find};

/// Largest element the client accepts (a 1,000-item roster is ~100 KiB).
const MAX_ELEMENT: usize = 8 * 1024 * 1024;
const READ_CHUNK: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("connection closed by the server")]
    Closed,
    #[error("server closed the stream")]
    StreamClosed,
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("bad XML from the server: {0}")]
    Xml(#[from] SplitError),
    #[error("unexpected reply while waiting for {want}: {got}")]
    Unexpected { want: &'static str, got: String },
    #[error("stream error from the server: {0}")]
    StreamError(String),
}

pub struct Conn<S> {
    io: S,
    buf: Vec<u8>,
    splitter: Splitter,
}

/// The first bytes of an element, for error messages.
pub fn preview(el: &[u8]) -> String {
    let n = el.len().min(200);
    String::from_utf8_lossy(&el[..n]).into_owned()
}

/// `XMPP_BENCH_TRACE=1` prints every element sent and received (for debugging a server, small N).
fn tracing_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("XMPP_BENCH_TRACE").is_some_and(|v| v != "0"))
}

fn trace(el: &[u8]) -> &[u8] {
    if tracing_on() {
        eprintln!("xmpp-bench << {}", String::from_utf8_lossy(el));
    }
    el
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub fn new(io: S) -> Self {
        Self {
            io,
            buf: Vec::with_capacity(READ_CHUNK),
            splitter: Splitter::new(MAX_ELEMENT),
        }
    }

    pub fn into_inner(self) -> S {
        self.io
    }

    /// Expect a new stream header next (after STARTTLS or SASL success).
    pub fn reset(&mut self) {
        self.splitter.reset();
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        if tracing_on() {
            eprintln!("xmpp-bench >> {}", String::from_utf8_lossy(bytes));
        }
        self.io.write_all(bytes).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Reads until the next event. Stream errors are reported as errors.
    async fn next_event(&mut self) -> Result<Event, ConnError> {
        loop {
            if let Some(ev) = self.splitter.next(&self.buf)? {
                if let Event::Element(r) = &ev
                    && self.buf[r.clone()].starts_with(b"<stream:error")
                {
                    return Err(ConnError::StreamError(preview(&self.buf[r.clone()])));
                }
                return Ok(ev);
            }
            let consumed = self.splitter.consumed();
            if consumed > 0 {
                self.buf.drain(..consumed);
                self.splitter.rebase(consumed);
            }
            self.buf.reserve(READ_CHUNK);
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return Err(ConnError::Closed);
            }
        }
    }

    /// The next top-level element (waits forever: wrap it in a timeout).
    pub async fn next(&mut self) -> Result<&[u8], ConnError> {
        match self.next_event().await? {
            Event::Element(r) => Ok(trace(&self.buf[r])),
            Event::StreamClose => Err(ConnError::StreamClosed),
            Event::StreamOpen(_) => Err(ConnError::Unexpected {
                want: "an element",
                got: "a stream header".into(),
            }),
        }
    }

    /// The next element, within `limit`.
    pub async fn next_within(
        &mut self,
        limit: Duration,
        what: &'static str,
    ) -> Result<&[u8], ConnError> {
        match tokio::time::timeout(limit, self.next_event()).await {
            Err(_) => Err(ConnError::Timeout(what)),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Event::Element(r))) => Ok(trace(&self.buf[r])),
            Ok(Ok(Event::StreamClose)) => Err(ConnError::StreamClosed),
            Ok(Ok(Event::StreamOpen(_))) => Err(ConnError::Unexpected {
                want: what,
                got: "a stream header".into(),
            }),
        }
    }

    /// Sends a stream header and waits for the server's header and `<stream:features/>`; returns the
    /// features element.
    pub async fn open_stream(
        &mut self,
        domain: &str,
        limit: Duration,
    ) -> Result<Vec<u8>, ConnError> {
        let header = format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' to='{domain}' version='1.0'>"
        );
        self.send(header.as_bytes()).await?;
        match tokio::time::timeout(limit, self.next_event()).await {
            Err(_) => return Err(ConnError::Timeout("the stream header")),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Event::StreamOpen(_))) => {}
            Ok(Ok(_)) => {
                return Err(ConnError::Unexpected {
                    want: "the stream header",
                    got: "an element".into(),
                });
            }
        }
        let el = self.next_within(limit, "stream features").await?;
        if !el.starts_with(b"<stream:features") && find(el, b"features").is_none() {
            return Err(ConnError::Unexpected {
                want: "stream features",
                got: preview(el),
            });
        }
        Ok(el.to_vec())
    }
}
