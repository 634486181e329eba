//! The c2s accept loop and the life of one connection.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::C2sConfig;
use super::bind;
use super::conn::{Conn, End};
use super::negotiate::negotiate;
use super::session::{self, SessionEnd};
use crate::backend::Backend;
use crate::router::Router;
use crate::stream::StreamCondition;

/// Longest pause after failing accepts (e.g. out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

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
    if config.require_tls && tls.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "c2s requires TLS but no certificate is configured",
        ));
    }
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let tracker = TaskTracker::new();
    let mut backoff = Duration::from_millis(5);
    loop {
        // Wait for a free slot first, so excess clients wait in the accept queue.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(accepted) => {
                    backoff = Duration::from_millis(5);
                    accepted
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let ctx = Ctx {
            cfg: Arc::clone(&config),
            tls: tls.clone(),
            router: router.clone(),
            backend: Arc::clone(&backend),
            shutdown: shutdown.clone(),
        };
        let span = tracing::info_span!("c2s", %peer);
        tracker.spawn(
            async move {
                connection(tcp, peer, ctx).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// What one connection task needs.
pub(crate) struct Ctx<B: Backend> {
    pub(crate) cfg: Arc<C2sConfig>,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
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
    let mut conn = Conn::new(io, Arc::clone(&ctx.cfg));
    let deadline = Instant::now() + ctx.cfg.negotiation_timeout;
    let end = loop {
        let negotiated = tokio::select! {
            () = ctx.shutdown.cancelled() => Err(conn.fail(StreamCondition::SystemShutdown, None).await),
            // Boxed: negotiation's state is large and short-lived; an idle session
            // should not carry its space.
            r = tokio::time::timeout_at(deadline, Box::pin(negotiate(&mut conn, ctx.backend.as_ref(), ctx.tls.as_ref()))) => match r {
                Ok(r) => r,
                Err(_) => Err(conn.fail(StreamCondition::ConnectionTimeout, None).await),
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
                    SessionEnd::Shutdown => conn.fail(StreamCondition::SystemShutdown, None).await,
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
        End::Error(condition) => tracing::debug!(%condition, "stream error sent"),
        End::Transport(why) => tracing::debug!(%why, "transport ended"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use jid::BareJid;

    use super::*;
    use crate::backend::{BackendError, Contact, ScramCredentials, ScramHash};

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
            router: Router::new(
                "example.com",
                crate::router::Ports {
                    backend: Arc::clone(&backend),
                    authority: Arc::new(crate::authority::Unseen),
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
            std::mem::size_of::<Conn<tokio::io::DuplexStream>>(),
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
