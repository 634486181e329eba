//! One transport type for a connection before and after STARTTLS (RFC 6120 §5), client
//! and server streams alike.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::shared::{self, DirectWrite, SharedTransport};
use super::tls::ServerTls;

/// A connection that may have been upgraded to TLS.
pub enum MaybeTls<S> {
    /// Before STARTTLS.
    Plain(S),
    /// After STARTTLS as the server of a client stream, with no buffers while idle (see
    /// [`ServerTls`]); boxed so the plain variant stays small.
    Tls(Box<ServerTls<S>>),
    /// A bound session's TLS transport, shared with direct writers ([`Self::share`]).
    Shared(Arc<SharedTransport<ServerTls<S>>>),
    /// After STARTTLS on a server stream, as either side: tokio-rustls, which can be the
    /// TLS client and tells us the certificates the peer presented. Server streams are
    /// few, so its buffers cost little.
    Buffered(Box<tokio_rustls::TlsStream<S>>),
    /// Taken out for the TLS handshake, or after a failed one: every I/O fails.
    Detached,
}

impl<S> MaybeTls<S> {
    /// Take the plain transport out for the TLS handshake.
    pub fn take_plain(&mut self) -> Option<S> {
        match std::mem::replace(self, Self::Detached) {
            Self::Plain(s) => Some(s),
            other => {
                *self = other;
                None
            }
        }
    }
}

fn detached() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "transport detached")
}

impl<S> MaybeTls<S> {
    /// RFC 9266 `tls-exporter` data of a client stream's TLS 1.3, until it is forgotten.
    pub fn tls_exporter(&self) -> Option<[u8; super::channel_binding::TLS_EXPORTER_LEN]> {
        match self {
            Self::Tls(tls) => tls.tls_exporter().copied(),
            _ => None,
        }
    }

    /// Drop the channel binding data: authentication is over.
    pub fn forget_channel_binding(&mut self) {
        if let Self::Tls(tls) = self {
            tls.forget_channel_binding();
        }
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        match self {
            // Only a TLS transport is ever shared: without TLS there is no buffer of ours
            // to hold what the socket does not take from a direct write.
            Self::Tls(_) | Self::Shared(_) | Self::Buffered(_) => true,
            Self::Plain(_) | Self::Detached => false,
        }
    }

    /// No more direct writes: the session is about to close its stream.
    pub fn end_direct(&self) {
        if let Self::Shared(s) = self {
            s.end_direct();
        }
    }

    /// The certificate chain the peer presented in the TLS handshake, leaf first; empty
    /// unless the transport is [`Self::Buffered`].
    pub fn peer_certificates(&self) -> Vec<CertificateDer<'static>> {
        let certs = match self {
            Self::Buffered(tls) => match tls.as_ref() {
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

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> MaybeTls<S> {
    /// Let writers other than the session's task write to this transport when it is free
    /// (see [`shared`]); a TLS transport only. Returns the handle they write through.
    pub fn share(&mut self) -> Option<Arc<dyn DirectWrite>> {
        match std::mem::replace(self, Self::Detached) {
            Self::Tls(tls) => {
                let shared = Arc::new(SharedTransport::new(*tls));
                *self = Self::Shared(Arc::clone(&shared));
                Some(shared)
            }
            other => {
                *self = other;
                None
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Shared(s) => shared::poll_read(s, cx, buf),
            Self::Buffered(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Shared(s) => shared::poll_write(s, cx, buf),
            Self::Buffered(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Shared(s) => shared::poll_flush(s, cx),
            Self::Buffered(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Shared(s) => shared::poll_shutdown(s, cx),
            Self::Buffered(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Detached => Poll::Ready(Ok(())),
        }
    }
}
