//! A bound session's TLS transport (RFC 6120 §5), shared between the session's own task and writers that
//! deliver a stanza directly while the session has nothing else on its way out.
//!
//! Why: a presence change fans out to every subscriber. Queuing each copy and waking each
//! subscriber's task costs a wake-up, a turn of the scheduler and a poll of that task per
//! watcher, on top of the one encryption and one `send` the copy really needs; and the
//! subscribers' tasks only start once the scheduler gets to them. Written directly from the
//! fan-out, the copies leave in order, as fast as the kernel takes them.
//!
//! A direct write never waits: it happens only when the transport is free at that moment
//! (nobody else holds it, the session's own writes are all flushed, the session has not
//! started to close), and otherwise the caller queues the stanza for the session as before.

use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The outcome of [`DirectWrite::write_now`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direct {
    /// All of it is on the wire (handed to the kernel).
    Written,
    /// Encrypted and owned by the transport, but the socket did not take all of it: the
    /// session's task must flush the rest.
    Started,
    /// Nothing was taken; queue it for the session.
    Refused,
}

/// A transport that takes a complete stanza from a writer other than its session's task.
pub trait DirectWrite: Send + Sync {
    /// Write `bytes` (one or more complete stanzas) now, if the transport is free.
    fn write_now(&self, bytes: &[u8]) -> Direct;
}

/// A transport that can take bytes without waiting for the socket: the TLS stream, which
/// keeps what the socket does not take in a buffer of its own. Generic here so that this
/// module needs nothing from the transports above it.
pub trait WriteNow {
    /// Take `bytes` if nothing of the owner's is in the way; see [`Direct`].
    fn write_now(&mut self, bytes: &[u8]) -> Direct;
}

/// The transport `T` of a bound session, behind a lock held only for one poll or one
/// direct write.
pub struct SharedTransport<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    io: T,
    /// The session's task has handed bytes to the transport that are not flushed yet; a
    /// direct write now could land in the middle of its element.
    session_writing: bool,
    /// The session closes its stream: nothing may follow its closing tag.
    ended: bool,
}

impl<T> SharedTransport<T> {
    pub(super) fn new(io: T) -> Self {
        Self {
            inner: Mutex::new(Inner {
                io,
                session_writing: false,
                ended: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// No more direct writes: the session's own closing follows.
    pub(super) fn end_direct(&self) {
        self.lock().ended = true;
    }
}

impl<T: WriteNow + Send> DirectWrite for SharedTransport<T> {
    fn write_now(&self, bytes: &[u8]) -> Direct {
        let mut inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => return Direct::Refused,
        };
        if inner.session_writing || inner.ended {
            return Direct::Refused;
        }
        inner.io.write_now(bytes)
    }
}

pub(super) fn poll_read<T: AsyncRead + Unpin>(
    shared: &SharedTransport<T>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    Pin::new(&mut shared.lock().io).poll_read(cx, buf)
}

pub(super) fn poll_write<T: AsyncWrite + Unpin>(
    shared: &SharedTransport<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    let mut inner = shared.lock();
    inner.session_writing = true;
    Pin::new(&mut inner.io).poll_write(cx, buf)
}

pub(super) fn poll_flush<T: AsyncWrite + Unpin>(
    shared: &SharedTransport<T>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let mut inner = shared.lock();
    ready!(Pin::new(&mut inner.io).poll_flush(cx))?;
    inner.session_writing = false;
    Poll::Ready(Ok(()))
}

pub(super) fn poll_shutdown<T: AsyncWrite + Unpin>(
    shared: &SharedTransport<T>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let mut inner = shared.lock();
    inner.ended = true;
    Pin::new(&mut inner.io).poll_shutdown(cx)
}
