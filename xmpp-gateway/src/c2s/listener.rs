//! The c2s listener and the life of one connection (RFC 6120 §4.3-§7, then §8 and
//! §10): negotiation under a deadline, resource binding, the bound session, and exactly
//! one unbind. The accept loop itself is the stream layer's, shared with s2s.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use jid::{BareJid, FullJid};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::C2sConfig;
use super::bind;
use super::conn::{self, End};
use super::negotiate::{Start, Transport, negotiate};
use super::session::{self, SessionEnd};
use super::sm::resume::{Handover, Ticket};
use super::sm::{self, Managed, Sm};
use crate::ports::backend::Backend;
use crate::router::{Outbox, Outgoing, Router};
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
        let (user, start) = match negotiated {
            Ok(n) => n,
            Err(end) => break end,
        };
        let (jid, rx, managed, first) = match start {
            // The router's futures are boxed too: they are large and run once.
            Start::Bind(req) => {
                match Box::pin(ctx.router.bind(&user, req.resource.as_deref())).await {
                    Ok((jid, rx)) => {
                        tracing::info!(%jid, "session bound");
                        let first = conn.send(&bind::bind_result(&req.id, &jid)).await;
                        if first.is_ok() {
                            // Only now: nothing may reach the client before its bind result.
                            if let Some(direct) = conn.io.share() {
                                rx.attach(direct);
                            }
                        }
                        (jid, rx, Managed::default(), first)
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "bind refused");
                        if let Err(end) = conn.send(&bind::bind_error(&req.id, &e)).await {
                            break end;
                        }
                        // The client may try another resource, still under the deadline.
                        continue;
                    }
                }
            }
            Start::Resume {
                previd,
                h,
                handover,
            } => {
                let (jid, rx, managed) = resumed(&mut conn, &user, previd, h, handover);
                tracing::info!(%jid, "session resumed");
                let first = conn.flush().await;
                (jid, rx, managed, first)
            }
        };
        break Box::pin(live(&mut conn, &ctx, jid, rx, managed, first)).await;
    };
    match end {
        End::Closed => tracing::debug!("stream closed"),
        End::Sent(condition) => tracing::debug!(%condition, "stream error sent"),
        End::Received(condition) => tracing::debug!(%condition, "stream error received"),
        End::Transport(why) => tracing::debug!(%why, "transport ended"),
    }
}

/// Take over a resumed session on this connection (XEP-0198 §5): `<resumed/>`, then what the
/// client has not acknowledged, again, in order; the session is registered under the same id.
/// Written, not flushed.
fn resumed<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut conn::Conn<S>,
    user: &BareJid,
    previd: String,
    h: u32,
    handover: Handover,
) -> (FullJid, Outbox, Managed) {
    let Handover { jid, rx, mut sm } = handover;
    if let Err(e) = sm.acked(h) {
        // Sending again what the client may have is better than losing what it has not.
        tracing::debug!(error = %e, "resumed with an h too high; everything is sent again");
    }
    sm.reset_request();
    conn.writer.raw(&sm::resumed(&previd, sm.handled_count()));
    for xml in sm.unacked() {
        conn.writer.raw(xml);
    }
    let ticket = conn.cfg.resumable.register(previd, user.clone());
    let managed = Managed {
        sm: Some(sm),
        ticket: Some(ticket),
    };
    (jid, rx, managed)
}

/// A bound or resumed session, from its first flush (`first`) to its end: it is handed over
/// to a connection that resumes it, waits detached for one, or ends and unbinds.
async fn live<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut conn::Conn<S>,
    ctx: &Ctx<B>,
    jid: FullJid,
    mut rx: Outbox,
    mut managed: Managed,
    first: Result<(), End>,
) -> End {
    let ended = match first {
        Ok(()) => {
            let run = session::run(
                conn,
                &ctx.router,
                &jid,
                &mut rx,
                &ctx.shutdown,
                &mut managed,
            );
            run.await
        }
        Err(end) => SessionEnd::Done(end),
    };
    let (end, sm) = match (ended, managed.sm.take(), managed.ticket.take()) {
        // The resume took the registration out already.
        (SessionEnd::TakenOver(reply), Some(sm), _) => {
            let handover = Handover {
                jid: jid.clone(),
                rx,
                sm,
            };
            match reply.send(handover) {
                Ok(()) => {
                    tracing::info!(%jid, "session taken over by a resumed stream");
                    return conn.fail(StreamCondition::Conflict).await;
                }
                // The new connection gave up waiting: the session ends here.
                Err(back) => {
                    rx = back.rx;
                    (
                        Some(conn.fail(StreamCondition::Conflict).await),
                        Some(back.sm),
                    )
                }
            }
        }
        (SessionEnd::Done(end), Some(sm), Some(ticket)) if may_detach(&end) => {
            match Box::pin(detached(ctx, &jid, rx, sm, ticket)).await {
                None => return end,
                Some((sm, left)) => {
                    rx = left;
                    (Some(end), Some(sm))
                }
            }
        }
        (ended, sm, ticket) => {
            if let Some(ticket) = &ticket {
                ctx.cfg.resumable.withdraw(ticket);
            }
            match ended {
                SessionEnd::Done(end) => (Some(end), sm),
                // Unbind first, so contacts see unavailable, then close.
                SessionEnd::Shutdown => (None, sm),
                SessionEnd::TakenOver(_) => (Some(conn.fail(StreamCondition::Conflict).await), sm),
            }
        }
    };
    Box::pin(ctx.router.unbind(&jid)).await;
    if let Some(sm) = sm {
        // XEP-0198 §5: what the client did not acknowledge, and what was queued for it and
        // never written, is undelivered.
        let mut left = sm.into_unacked();
        while let Ok(out) = rx.try_recv() {
            left.extend(sm::serialized(out));
        }
        Box::pin(sm::undelivered::reroute(&ctx.router, &jid, left)).await;
    }
    match end {
        Some(end) => end,
        None => conn.fail(StreamCondition::SystemShutdown).await,
    }
}

/// Whether a session whose stream ended so may be resumed: the connection dropped, or the
/// client stopped answering (XEP-0198 §5), not when either side closed or broke the stream.
fn may_detach(end: &End) -> bool {
    matches!(
        end,
        End::Transport(_) | End::Sent(StreamCondition::ConnectionTimeout)
    )
}

/// The resume window of a session whose connection dropped: its presence stays, stanzas for
/// it are kept (bounded). `None` once handed over to a resumed stream; otherwise the state
/// and queue to end the session with (the window ran out, the queue overflowed, the resource
/// was taken over by a new bind, or the server shuts down).
async fn detached<B: Backend>(
    ctx: &Ctx<B>,
    jid: &FullJid,
    mut rx: Outbox,
    mut sm: Sm,
    mut ticket: Ticket,
) -> Option<(Sm, Outbox)> {
    tracing::info!(%jid, window = ?ctx.cfg.resume_window, "connection lost; session resumable");
    ctx.router.set_detached(jid, true);
    // XEP-0357: a message written just before the drop may never have reached the phone.
    if let Some(message) = crate::push::last_wanted(sm.unacked()) {
        Box::pin(ctx.router.push_detached(jid, message)).await;
    }
    let window = tokio::time::sleep(ctx.cfg.resume_window);
    tokio::pin!(window);
    let mut ending = false;
    loop {
        tokio::select! {
            biased;
            reply = &mut ticket.takeover => {
                let Ok(reply) = reply else {
                    return Some((sm, rx));
                };
                let handover = Handover { jid: jid.clone(), rx, sm };
                ctx.router.set_detached(jid, false);
                return match reply.send(handover) {
                    Ok(()) => None,
                    Err(back) => Some((back.sm, back.rx)),
                };
            }
            () = ctx.shutdown.cancelled(), if !ending => ending = true,
            () = &mut window, if !ending => {
                tracing::info!(%jid, "resume window over");
                ending = true;
            }
            out = rx.recv(), if !ending => match out {
                Some(Outgoing::Close(_)) | None => ending = true,
                Some(out) => {
                    if let Some(xml) = sm::serialized(out) {
                        ending = sm.sent(xml).is_err();
                    }
                }
            },
        }
        // A resume that took the entry first has its request waiting in the ticket.
        if ending && ctx.cfg.resumable.withdraw(&ticket) {
            return Some((sm, rx));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

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
