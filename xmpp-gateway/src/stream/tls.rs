//! The server side of a STARTTLS connection (RFC 6120 §5) that holds no buffers while it
//! is idle.
//!
//! rustls' buffered connection (what `tokio-rustls` drives) keeps a receive buffer of at
//! least 4 KiB for the life of every connection. A node holds thousands of client
//! sessions that are silent nearly all the time, so that buffer was the largest single
//! cost per session. Here rustls runs through its unbuffered API and the three buffers
//! are ours: received TLS bytes, decrypted bytes the XML reader has not taken yet, and
//! encrypted bytes the socket has not taken yet. Each is freed as soon as it is empty;
//! an idle session keeps at most the tail of a partial record.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustls::ServerConfig;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::bytes::poll_read_appending;
use super::channel_binding::{self, TLS_EXPORTER_LEN};
use super::shared::{Direct, WriteNow};

/// Bytes asked from the transport per read.
const READ_CHUNK: usize = 4096;

/// Received bytes we hold before rustls has taken a complete message from them. A TLS
/// record is at most 16 KiB plus overhead; a handshake message spread over records is
/// capped by rustls at 64 KiB. More than this is a peer that never completes one.
const MAX_INCOMING: usize = 96 * 1024;

/// Plaintext taken from the writer per `poll_write` (four full records).
const MAX_PLAINTEXT_PER_WRITE: usize = 64 * 1024;

/// Where the connection rests once rustls has processed what it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rest {
    /// The handshake needs more bytes from the peer.
    Handshaking,
    /// Application data may flow.
    Open,
    /// Both sides have sent close_notify.
    Closed,
}

/// A server-side TLS stream over a transport `S`.
pub struct ServerTls<S> {
    io: S,
    conn: UnbufferedServerConnection,
    /// Received bytes rustls has not consumed: between reads, at most a partial record.
    incoming: Vec<u8>,
    /// Decrypted bytes not yet read, from `plain_pos` on.
    plaintext: Vec<u8>,
    plain_pos: usize,
    /// Encrypted bytes not yet written, from `out_pos` on.
    outgoing: Vec<u8>,
    out_pos: usize,
    /// The peer sent close_notify: reads end after the plaintext already received.
    peer_closed: bool,
    /// We sent close_notify: no more writes.
    sent_close: bool,
    /// Bytes arrived since rustls last processed `incoming`. A session polls its reader
    /// after every stanza it writes; without new bytes rustls has nothing to do.
    unprocessed: bool,
    /// The client random of the handshake, read from the ClientHello; only kept until the
    /// handshake completes.
    client_random: Option<[u8; 32]>,
    /// RFC 9266 `tls-exporter` data for SCRAM-*-PLUS, until authentication has used it.
    channel_binding: Option<Box<[u8; TLS_EXPORTER_LEN]>>,
}

impl<S> ServerTls<S> {
    /// The RFC 9266 `tls-exporter` channel binding data of this connection, on TLS 1.3.
    pub fn tls_exporter(&self) -> Option<&[u8; TLS_EXPORTER_LEN]> {
        self.channel_binding.as_deref()
    }

    /// Forget the channel binding data once authentication is over.
    pub fn forget_channel_binding(&mut self) {
        self.channel_binding = None;
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ServerTls<S> {
    /// Run the TLS handshake as the server on `io`.
    pub async fn accept(io: S, config: Arc<ServerConfig>) -> io::Result<Self> {
        let conn = UnbufferedServerConnection::new(config).map_err(tls_error)?;
        let mut tls = Self {
            io,
            conn,
            incoming: Vec::new(),
            plaintext: Vec::new(),
            plain_pos: 0,
            outgoing: Vec::new(),
            out_pos: 0,
            peer_closed: false,
            sent_close: false,
            unprocessed: true,
            client_random: None,
            channel_binding: None,
        };
        std::future::poll_fn(|cx| tls.poll_handshake(cx)).await?;
        if let Some(random) = tls.client_random.take() {
            tls.channel_binding = channel_binding::tls_exporter(
                &random,
                tls.conn.protocol_version(),
                tls.conn.negotiated_cipher_suite(),
            )
            .map(Box::new);
        }
        Ok(tls)
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.client_random.is_none() {
                self.client_random = channel_binding::client_random(&self.incoming);
            }
            let rest = self.process_or_alert(cx, None, false)?.0;
            // Each flight must be on the wire before we wait for the answer to it.
            ready!(self.poll_flush_out(cx))?;
            match rest {
                Rest::Open => return Poll::Ready(Ok(())),
                Rest::Closed => return Poll::Ready(Err(eof_in_handshake())),
                Rest::Handshaking => {
                    if ready!(self.poll_fill(cx))? == 0 {
                        return Poll::Ready(Err(eof_in_handshake()));
                    }
                }
            }
        }
    }

    /// [`Self::process`], and on a TLS error one attempt to tell the peer with the alert
    /// rustls queued for it.
    fn process_or_alert(
        &mut self,
        cx: &mut Context<'_>,
        app: Option<&[u8]>,
        close: bool,
    ) -> io::Result<(Rest, usize)> {
        self.process(app, close).inspect_err(|_| {
            let _ = self.poll_flush_out(cx);
        })
    }

    /// Let rustls take what has been received until it rests: decrypted data lands in
    /// `plaintext`, handshake messages and alerts in `outgoing`. When the connection is
    /// open, `app` is encrypted (the count of its bytes taken is returned) and, with
    /// `close`, a close_notify follows it.
    fn process(&mut self, app: Option<&[u8]>, close: bool) -> io::Result<(Rest, usize)> {
        let mut written = 0;
        loop {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut self.incoming);
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    drain_front(&mut self.incoming, discard);
                    queue_alert(&mut self.conn, &mut self.incoming, &mut self.outgoing);
                    return Err(tls_error(e));
                }
            };
            let rest = match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    while let Some(record) = traffic.next_record() {
                        let record = record.map_err(tls_error)?;
                        discard += record.discard;
                        self.plaintext.extend_from_slice(record.payload);
                    }
                    None
                }
                ConnectionState::EncodeTlsData(mut data) => {
                    append_sized(&mut self.outgoing, 512, |out| {
                        data.encode(out).map_err(encode_needs)
                    })?;
                    None
                }
                // Our outgoing buffer keeps the order of everything encoded into it, so
                // the flight counts as sent once it is queued there; it is written out
                // before anything else waits on the socket.
                ConnectionState::TransmitTlsData(data) => {
                    data.done();
                    None
                }
                ConnectionState::BlockedHandshake => Some(Rest::Handshaking),
                ConnectionState::WriteTraffic(mut traffic) => {
                    if let Some(app) = app.filter(|a| !a.is_empty()) {
                        let estimate = app.len() + 64 * (app.len() / 16_384 + 1);
                        append_sized(&mut self.outgoing, estimate, |out| {
                            traffic.encrypt(app, out).map_err(encrypt_needs)
                        })?;
                        written = app.len();
                    }
                    if close && !self.sent_close {
                        append_sized(&mut self.outgoing, 64, |out| {
                            traffic.queue_close_notify(out).map_err(encrypt_needs)
                        })?;
                        self.sent_close = true;
                    }
                    Some(Rest::Open)
                }
                ConnectionState::PeerClosed => {
                    self.peer_closed = true;
                    None
                }
                ConnectionState::Closed => {
                    self.peer_closed = true;
                    Some(Rest::Closed)
                }
                // We never accept 0-RTT data (it could be replayed).
                ConnectionState::ReadEarlyData(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "TLS early data is not accepted",
                    ));
                }
                other => {
                    return Err(io::Error::other(format!(
                        "unexpected TLS connection state {other:?}"
                    )));
                }
            };
            drain_front(&mut self.incoming, discard);
            if let Some(rest) = rest {
                self.unprocessed = false;
                return Ok((rest, written));
            }
        }
    }

    /// Read more TLS bytes from the transport into `incoming`; 0 means end of file.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.incoming.len() >= MAX_INCOMING {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "TLS peer sent too much without completing a message",
            )));
        }
        let n = ready!(poll_read_appending(
            &mut self.io,
            cx,
            READ_CHUNK,
            &mut self.incoming
        ))?;
        self.unprocessed |= n > 0;
        Poll::Ready(Ok(n))
    }

    /// Write `outgoing` to the transport; the buffer is freed once all of it is out.
    fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_pos < self.outgoing.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.outgoing[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.outgoing = Vec::new();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }

    /// Copy decrypted bytes into `buf`; false when there are none.
    fn deliver(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        let pending = &self.plaintext[self.plain_pos..];
        if pending.is_empty() {
            return false;
        }
        let n = pending.len().min(buf.remaining());
        buf.put_slice(&pending[..n]);
        self.plain_pos += n;
        if self.plain_pos == self.plaintext.len() {
            self.plaintext = Vec::new();
            self.plain_pos = 0;
        }
        true
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteNow for ServerTls<S> {
    /// Encrypt `app` and hand it to the transport without waiting, for a writer other than
    /// the session's task ([`super::shared`]). Only when nothing of ours is waiting to go
    /// out and no received bytes wait to be processed, so the record lands between whole
    /// elements and rustls has nothing to read meanwhile. What the socket does not take
    /// stays in `outgoing` for the session's next flush.
    fn write_now(&mut self, app: &[u8]) -> Direct {
        if self.sent_close || self.unprocessed || !self.outgoing.is_empty() || app.is_empty() {
            return Direct::Refused;
        }
        match self.process(Some(app), false) {
            Ok((Rest::Open, written)) if written == app.len() => {}
            // rustls took nothing (or queued an alert): the session's own write will
            // find out what is wrong.
            _ => return Direct::Refused,
        }
        // Polled once, with a waker that does nothing: the session, not this writer, waits
        // for the socket. Outside tokio's cooperative budget, which counts per task: the
        // fan-out writes to many sessions from one task, and a spent budget would make every
        // write after the first hundred look like a full socket.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let flush = tokio::task::unconstrained(std::future::poll_fn(|cx| self.poll_flush_out(cx)));
        match std::pin::pin!(flush).poll(&mut cx) {
            Poll::Ready(Ok(())) => Direct::Written,
            // The rest is ours now; a failed socket fails the session's next flush too.
            Poll::Ready(Err(_)) | Poll::Pending => Direct::Started,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ServerTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.deliver(buf) {
                return Poll::Ready(Ok(()));
            }
            if this.peer_closed {
                return Poll::Ready(Ok(()));
            }
            if this.unprocessed {
                if this.process_or_alert(cx, None, false)?.0 == Rest::Closed {
                    return Poll::Ready(Ok(()));
                }
                if this.plain_pos < this.plaintext.len() || this.peer_closed {
                    continue;
                }
            }
            // What rustls produced while reading (a key update answer, session tickets)
            // goes out now; if the socket is full it goes with the next write or read.
            if let Poll::Ready(Err(e)) = this.poll_flush_out(cx) {
                return Poll::Ready(Err(e));
            }
            // A transport closed without close_notify ends the stream like one with it:
            // XMPP streams carry their own end, so truncation cannot go unnoticed.
            if ready!(this.poll_fill(cx))? == 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ServerTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.sent_close {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        // Take new data only once earlier records are on the wire: the socket's
        // backpressure reaches the writer instead of growing `outgoing`.
        ready!(this.poll_flush_out(cx))?;
        let take = &buf[..buf.len().min(MAX_PLAINTEXT_PER_WRITE)];
        let (rest, written) = this.process_or_alert(cx, Some(take), false)?;
        match rest {
            Rest::Open => {}
            Rest::Handshaking => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "TLS handshake not complete",
                )));
            }
            Rest::Closed => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
        if let Poll::Ready(Err(e)) = this.poll_flush_out(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_flush_out(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.sent_close {
            ready!(this.poll_flush_out(cx))?;
            this.process_or_alert(cx, None, true)?;
            // Closed before the handshake finished: there is nothing to close_notify.
            this.sent_close = true;
        }
        ready!(this.poll_flush_out(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// What an encoding step needs to succeed.
enum Needs {
    More(InsufficientSizeError),
    Failed(io::Error),
}

fn encode_needs(e: EncodeError) -> Needs {
    match e {
        EncodeError::InsufficientSize(size) => Needs::More(size),
        other => Needs::Failed(io::Error::other(other)),
    }
}

fn encrypt_needs(e: EncryptError) -> Needs {
    match e {
        EncryptError::InsufficientSize(size) => Needs::More(size),
        other => Needs::Failed(io::Error::other(other)),
    }
}

/// Append what `encode` writes to `out`, growing the room to what rustls asks for.
fn append_sized(
    out: &mut Vec<u8>,
    first_guess: usize,
    mut encode: impl FnMut(&mut [u8]) -> Result<usize, Needs>,
) -> io::Result<()> {
    let start = out.len();
    let mut room = first_guess;
    loop {
        out.resize(start + room, 0);
        match encode(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(Needs::More(InsufficientSizeError { required_size })) if required_size > room => {
                room = required_size;
            }
            Err(Needs::More(_)) => {
                out.truncate(start);
                return Err(io::Error::other(
                    "TLS encoder asked for less room than it had",
                ));
            }
            Err(Needs::Failed(e)) => {
                out.truncate(start);
                return Err(e);
            }
        }
    }
}

/// After a TLS error rustls holds the alert for the peer; encode it for one last write.
fn queue_alert(conn: &mut UnbufferedServerConnection, incoming: &mut [u8], out: &mut Vec<u8>) {
    if let Ok(ConnectionState::EncodeTlsData(mut data)) = conn.process_tls_records(incoming).state {
        let _ = append_sized(out, 64, |buf| data.encode(buf).map_err(encode_needs));
    }
}

fn drain_front(buf: &mut Vec<u8>, n: usize) {
    if n >= buf.len() {
        *buf = Vec::new();
    } else if n > 0 {
        buf.drain(..n);
    }
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn eof_in_handshake() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed during the TLS handshake",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "tls_tests.rs"]
mod tests;
