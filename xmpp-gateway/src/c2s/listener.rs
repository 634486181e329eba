//! The c2s listener and the life of one connection (RFC 6120 §4.3-§7, then §8 and
//! §10): negotiation under a deadline, resource binding, the bound session, and exactly
//! one unbind. The accept loop itself is the stream layer's, shared with s2s.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::C2sConfig;
use super::bind;
use super::conn::{self, End};
use super::negotiate::{Transport, negotiate};
use super::session::{self, SessionEnd};
use crate::ports::backend::Backend;
use crate::router::Router;
use crate::stream::StreamCondition;
use crate::stream::accept::{self, Listener};

/// Serve client connections on `listener` until `shutdown` is cancelled; returns once
/// every session has unbound and said goodbye with `system-shutdown`.
///
/// `tls` is required when `config.require_tls` is set (the default); without it the
/// function fails at once with `InvalidInput`.
pub async fn serve_c2s<B: Backend>(
    listener: TcpListener,
    config: C2sConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router<B>,
    backend: Arc<B>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve(
        listener,
        config,
        tls,
        Transport::Starttls,
        router,
        backend,
        shutdown,
    )
    .await
}

/// XEP-0368: serve client connections that start with the TLS handshake (direct TLS, as on
/// port 5223), with no STARTTLS step; otherwise as [`serve_c2s`]. `tls` is required.
pub async fn serve_c2s_direct_tls<B: Backend>(
    listener: TcpListener,
    config: C2sConfig,
    tls: Arc<rustls::ServerConfig>,
    router: Router<B>,
    backend: Arc<B>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    serve(
        listener,
        config,
        Some(tls),
        Transport::DirectTls,
        router,
        backend,
        shutdown,
    )
    .await
}

async fn serve<B: Backend>(
    listener: TcpListener,
    config: C2sConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    transport: Transport,
    router: Router<B>,
    backend: Arc<B>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    if config.require_tls && tls.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "c2s requires TLS but no certificate is configured",
        ));
    }
    let config = Arc::new(config);
    let this = Listener {
        name: if transport == Transport::DirectTls {
            "c2s-direct-tls"
        } else {
            "c2s"
        },
        max_connections: config.max_connections,
        span: |peer| tracing::info_span!("c2s", %peer),
    };
    accept::serve(listener, this, &shutdown, |tcp, peer| {
        let ctx = Ctx {
            cfg: Arc::clone(&config),
            tls: tls.clone(),
            transport,
            router: router.clone(),
            backend: Arc::clone(&backend),
            shutdown: shutdown.clone(),
        };
        connection(tcp, peer, ctx)
    })
    .await;
    Ok(())
}

/// What one connection task needs.
pub(crate) struct Ctx<B: Backend> {
    pub(crate) cfg: Arc<C2sConfig>,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) transport: Transport,
    pub(crate) router: Router<B>,
    pub(crate) backend: Arc<B>,
    pub(crate) shutdown: CancellationToken,
}

/// The life of one connection: negotiation under a deadline, binding, the session,
/// and exactly one unbind.
pub(crate) async fn connection<B: Backend, S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: S,
    peer: SocketAddr,
    ctx: Ctx<B>,
) {
    tracing::debug!(%peer, "connected");
    let mut conn = conn::new(io, Arc::clone(&ctx.cfg));
    let deadline = Instant::now() + ctx.cfg.negotiation_timeout;
    let end = loop {
        let negotiated = tokio::select! {
            () = ctx.shutdown.cancelled() => Err(conn.fail(StreamCondition::SystemShutdown).await),
            // Boxed: negotiation's state is large and short-lived; an idle session
            // should not carry its space.
            r = tokio::time::timeout_at(deadline, Box::pin(negotiate(&mut conn, ctx.backend.as_ref(), ctx.tls.as_ref(), ctx.transport))) => match r {
                Ok(r) => r,
                Err(_) => Err(conn.fail(StreamCondition::ConnectionTimeout).await),
            },
        };
        let (user, req) = match negotiated {
            Ok(n) => n,
            Err(end) => break end,
        };
        // The router's futures are boxed too: they are large and run once.
        match Box::pin(ctx.router.bind(&user, req.resource.as_deref())).await {
            Ok((jid, mut rx)) => {
                tracing::info!(%jid, "session bound");
                let ended = match conn.send(&bind::bind_result(&req.id, &jid)).await {
                    Ok(()) => {
                        // Only now: nothing may reach the client before its bind result.
                        if let Some(direct) = conn.io.share() {
                            rx.attach(direct);
                        }
                        session::run(&mut conn, &ctx.router, &jid, &mut rx, &ctx.shutdown).await
                    }
                    Err(end) => SessionEnd::Done(end),
                };
                Box::pin(ctx.router.unbind(&jid)).await;
                break match ended {
                    SessionEnd::Done(end) => end,
                    SessionEnd::Shutdown => conn.fail(StreamCondition::SystemShutdown).await,
                };
            }
            Err(e) => {
                tracing::debug!(error = %e, "bind refused");
                if let Err(end) = conn.send(&bind::bind_error(&req.id, &e)).await {
                    break end;
                }
                // The client may try another resource, still under the deadline.
            }
        }
    };
    match end {
        End::Closed => tracing::debug!("stream closed"),
        End::Sent(condition) => tracing::debug!(%condition, "stream error sent"),
        End::Received(condition) => tracing::debug!(%condition, "stream error received"),
        End::Transport(why) => tracing::debug!(%why, "transport ended"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use jid::BareJid;

    use super::*;
    use crate::ports::backend::{BackendError, Contact, ScramCredentials, ScramHash};

    struct NoAccounts;

    impl Backend for NoAccounts {
        async fn account_exists(&self, _: &BareJid) -> Result<bool, BackendError> {
            Ok(false)
        }
        async fn credentials(
            &self,
            _: &BareJid,
            _: ScramHash,
        ) -> Result<Option<ScramCredentials>, BackendError> {
            Ok(None)
        }
        async fn contacts(&self, _: &BareJid) -> Result<Vec<Contact>, BackendError> {
            Ok(Vec::new())
        }
        async fn contact(&self, _: &BareJid, _: &BareJid) -> Result<Option<Contact>, BackendError> {
            Ok(None)
        }
        async fn put_contact(&self, _: &BareJid, _: Contact) -> Result<(), BackendError> {
            Ok(())
        }
        async fn remove_contact(&self, _: &BareJid, _: &BareJid) -> Result<(), BackendError> {
            Ok(())
        }
    }

    /// The connection task lives as long as the session: its size is per-session memory.
    #[test]
    fn connection_task_stays_small() {
        let backend = Arc::new(NoAccounts);
        let ctx = Ctx {
            cfg: Arc::new(C2sConfig::new("example.com")),
            tls: None,
            transport: Transport::Starttls,
            router: Router::new(
                "example.com",
                crate::router::Ports {
                    backend: Arc::clone(&backend),
                    authority: Arc::new(crate::ports::authority::Unseen),
                    commands: None,
                    remote: crate::router::RemoteSender::none(),
                },
            ),
            backend,
            shutdown: CancellationToken::new(),
        };
        let (io, _) = tokio::io::duplex(64);
        let fut = connection(io, "127.0.0.1:1".parse().unwrap(), ctx);
        let size = std::mem::size_of_val(&fut);
        println!("connection future: {size} bytes");
        println!(
            "conn {} reader {} parser {} writer {}",
            std::mem::size_of::<conn::Conn<tokio::io::DuplexStream>>(),
            std::mem::size_of::<crate::stream::XmlReader>(),
            std::mem::size_of::<rxml::Parser>(),
            std::mem::size_of::<crate::stream::StreamWriter>()
        );
        println!(
            "outgoing {} tls stream {} server connection {} maybe-tls {}",
            std::mem::size_of::<crate::router::Outgoing>(),
            std::mem::size_of::<crate::stream::ServerTls<tokio::net::TcpStream>>(),
            std::mem::size_of::<rustls::server::UnbufferedServerConnection>(),
            std::mem::size_of::<crate::stream::MaybeTls<tokio::net::TcpStream>>(),
        );
        assert!(size < 4 * 1024, "connection future is {size} bytes");
    }
}
