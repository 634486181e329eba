//! XEP-0114 §3 on the wire: the accept loop for components and one task per connection,
//! from the stream header through the handshake to the routed stanzas of an authenticated
//! component, until either side ends the stream.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use minidom::Element;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ComponentConfig;
use super::handshake;
use super::registry::{Attached, Out};
use crate::ns::{COMPONENT_ACCEPT, STREAM, XMPP_STREAMS};
use crate::ports::backend::Backend;
use crate::remote::RemoteError;
use crate::router::Router;
use crate::stream::accept::{self, Listener};
use crate::stream::{self, Conn, Content, End, Fixed, Item, ReadLimits, StreamCondition};

/// Addresses whose failures are remembered at most; beyond it the oldest are forgotten,
/// so that a flood of addresses costs bounded memory.
const MAX_TRACKED_ADDRESSES: usize = 4096;
/// Stanzas written per flush when the queue holds many.
const WRITE_BATCH: usize = 64;

type ComponentConn = Conn<TcpStream, Fixed>;

/// Failed handshakes per address, within a window.
#[derive(Default)]
struct Failures(Mutex<HashMap<IpAddr, (u32, Instant)>>);

impl Failures {
    fn blocked(&self, ip: IpAddr, cfg: &ComponentConfig) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ip).is_some_and(|(n, since)| {
            *n >= cfg.max_failures && since.elapsed() < cfg.failure_window
        })
    }

    fn record(&self, ip: IpAddr, cfg: &ComponentConfig) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, (_, since)| since.elapsed() < cfg.failure_window);
            if map.len() >= MAX_TRACKED_ADDRESSES {
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= cfg.failure_window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

struct Shared<B: Backend> {
    cfg: ComponentConfig,
    router: Router<B>,
    failures: Failures,
    shutdown: CancellationToken,
}

/// Accept component connections on `listener` until `shutdown` fires, routing through
/// `router`; returns once every connection has ended.
pub async fn serve_components<B: Backend>(
    listener: TcpListener,
    cfg: ComponentConfig,
    router: Router<B>,
    shutdown: CancellationToken,
) {
    router
        .components()
        .configure(cfg.secrets.keys().map(String::as_str));
    let this = Listener {
        name: "component",
        max_connections: cfg.max_connections.max(1),
        span: |peer| tracing::info_span!("component", %peer),
    };
    let shared = Arc::new(Shared {
        cfg,
        router,
        failures: Failures::default(),
        shutdown: shutdown.clone(),
    });
    accept::serve(listener, this, &shutdown, |tcp, peer| {
        let shared = Arc::clone(&shared);
        async move {
            let end = connection(tcp, peer, &shared).await;
            tracing::debug!(?end, "component stream ended");
        }
    })
    .await;
}

/// One connection: the handshake under the negotiation deadline, then the session.
async fn connection<B: Backend>(tcp: TcpStream, peer: SocketAddr, shared: &Shared<B>) -> End {
    let cfg = &shared.cfg;
    let ours = Fixed {
        domain: cfg.server_domain.clone(),
        write_timeout: cfg.write_timeout,
    };
    let limits = ReadLimits {
        max_stanza_bytes: cfg.max_preauth_stanza_bytes,
        ..ReadLimits::default()
    };
    let mut conn = Conn::new(tcp, ours, limits, Content::Component);
    if shared.failures.blocked(peer.ip(), cfg) {
        tracing::info!("component connection refused: too many failed handshakes");
        return conn.fail(StreamCondition::PolicyViolation).await;
    }
    let deadline = Instant::now() + cfg.negotiation_timeout;
    let domain = tokio::select! {
        () = shared.shutdown.cancelled() => return conn.fail(StreamCondition::SystemShutdown).await,
        r = tokio::time::timeout_at(deadline, negotiate(&mut conn, peer, shared)) => match r {
            Ok(Ok(domain)) => domain,
            Ok(Err(end)) => return end,
            Err(_) => return conn.fail(StreamCondition::ConnectionTimeout).await,
        },
    };
    conn.reader.set_max_stanza_bytes(cfg.max_stanza_bytes);
    let attached = shared
        .router
        .components()
        .attach(&domain, cfg.max_queue_bytes);
    let id = attached.id;
    tracing::info!(component = %domain, "component connected");
    let end = session(&mut conn, &domain, attached, shared).await;
    shared.router.components().detach(&domain, id);
    tracing::info!(component = %domain, ?end, "component disconnected");
    end
}

/// §3: the component's header names its domain; our header gives the stream id; its
/// `<handshake/>` proves the secret. `Ok` with the domain once proven.
async fn negotiate<B: Backend>(
    conn: &mut ComponentConn,
    peer: SocketAddr,
    shared: &Shared<B>,
) -> Result<String, End> {
    let header = match conn.read().await {
        Ok(Item::Header(h)) => h,
        Ok(_) => return Err(conn.fail(StreamCondition::BadFormat).await),
        Err(e) => return Err(conn.on_read_error(e).await),
    };
    let domain = header
        .to
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(secret) = shared.cfg.secrets.get(&domain) else {
        tracing::info!(to = ?header.to, "component stream for an unknown domain");
        return Err(conn.fail(StreamCondition::HostUnknown).await);
    };
    let id = stream::new_stream_id();
    conn.writer.header(&domain, None, Some(&id));
    conn.flush().await?;
    let el = conn.element().await?;
    if !el.is("handshake", COMPONENT_ACCEPT) {
        // Stanzas before the handshake (XEP-0114 §3), or anything else.
        let condition = if el.has_ns(COMPONENT_ACCEPT) {
            StreamCondition::NotAuthorized
        } else {
            StreamCondition::InvalidNamespace
        };
        return Err(conn.fail(condition).await);
    }
    if !handshake::verify(&id, secret, &el.text()) {
        shared.failures.record(peer.ip(), &shared.cfg);
        tracing::info!(component = %domain, "component handshake refused");
        return Err(conn.fail(StreamCondition::NotAuthorized).await);
    }
    conn.send_raw(&format!("<handshake xmlns='{COMPONENT_ACCEPT}'/>"))
        .await?;
    Ok(domain)
}

/// An authenticated component: its stanzas to the router, the router's to it.
async fn session<B: Backend>(
    conn: &mut ComponentConn,
    domain: &str,
    mut attached: Attached,
    shared: &Shared<B>,
) -> End {
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => return conn.fail(StreamCondition::SystemShutdown).await,
            out = attached.rx.recv() => {
                let Some(out) = out else {
                    return conn.fail(StreamCondition::InternalServerError).await;
                };
                if let Err(end) = write(conn, &mut attached, out).await {
                    return end;
                }
            }
            item = conn.read() => {
                let el = match item {
                    Ok(Item::Element(el)) => el,
                    Ok(Item::Close) => return conn.close().await,
                    Ok(Item::Header(_)) => return conn.fail(StreamCondition::BadFormat).await,
                    Err(e) => return conn.on_read_error(e).await,
                };
                if let Err(condition) = stanza(domain, el, shared).await {
                    return match condition {
                        Some(condition) => conn.fail(condition).await,
                        None => conn.close().await,
                    };
                }
            }
        }
    }
}

/// Write `first` and whatever else is queued already, in one flush.
async fn write(conn: &mut ComponentConn, attached: &mut Attached, first: Out) -> Result<(), End> {
    let mut next = Some(first);
    let mut n = 0;
    while let Some(out) = next.take() {
        match out {
            Out::Xml(xml) => {
                conn.writer.raw(&xml);
                attached.queued.fetch_sub(xml.len(), Ordering::AcqRel);
            }
            Out::Replaced => {
                tracing::info!("component replaced by a newer connection");
                return Err(conn.fail(StreamCondition::Conflict).await);
            }
        }
        n += 1;
        if n < WRITE_BATCH {
            next = attached.rx.try_recv().ok();
        }
    }
    conn.flush().await
}

/// One first-level element from an authenticated component: a stanza to route, the peer's
/// stream error, or something to refuse. `Err(None)` ends the stream with a plain close.
async fn stanza<B: Backend>(
    domain: &str,
    el: Element,
    shared: &Shared<B>,
) -> Result<(), Option<StreamCondition>> {
    if el.is("error", STREAM) {
        let condition = el
            .children()
            .find(|c| c.has_ns(XMPP_STREAMS) && c.name() != "text")
            .map(|c| c.name().to_owned());
        tracing::debug!(?condition, "stream error from component");
        return Err(None);
    }
    if !el.has_ns(COMPONENT_ACCEPT) {
        return Err(Some(StreamCondition::InvalidNamespace));
    }
    if !matches!(el.name(), "message" | "presence" | "iq") {
        return Err(Some(StreamCondition::UnsupportedStanzaType));
    }
    match shared.router.handle_component(domain, el).await {
        Ok(()) => Ok(()),
        Err(RemoteError::InvalidFrom) => Err(Some(StreamCondition::InvalidFrom)),
        Err(RemoteError::ImproperAddressing) => Err(Some(StreamCondition::ImproperAddressing)),
        Err(RemoteError::HostUnknown) => Err(Some(StreamCondition::HostUnknown)),
    }
}
