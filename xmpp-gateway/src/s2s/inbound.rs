//! Receiving server streams (RFC 6120 §4.3, §5, §6; XEP-0220 §2.1-§2.4): the accept
//! loop and one task per connection. A peer authenticates a domain with SASL EXTERNAL
//! (certificate valid for it) or dialback (verified with the domain's authoritative
//! server); only then are its stanzas routed, and only those from that domain.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jid::Jid;
use minidom::Element;
use rustls_pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::Context;
use super::conn::{self, End, S2sConn};
use super::dialback::{self, Request, Verdict};
use super::negotiate::{InPhase, external_identity, inbound_features};
use super::outbound;
use crate::ns::{DIALBACK, JABBER_CLIENT, JABBER_SERVER, SASL, STREAM, TLS};
use crate::ports::backend::Backend;
use crate::router::RemoteError;
use crate::stream::accept::{self, Listener};
use crate::stream::{Item, MaybeTls, StreamCondition, check_header};

/// Failed SASL attempts per connection before `not-authorized`.
const MAX_AUTH_FAILURES: u32 = 3;
/// Most domains one connection may authenticate (XEP-0220 §2.5 multiplexing).
const MAX_DOMAINS_PER_STREAM: usize = 64;

/// Accept server connections until shutdown; returns when every connection ended.
pub(crate) async fn serve<B: Backend>(listener: TcpListener, shared: Arc<Context<B>>) {
    let this = Listener {
        name: "s2s",
        max_connections: shared.cfg.max_connections.max(1),
        span: |peer| tracing::info_span!("s2s_in", %peer),
    };
    let shutdown = shared.shutdown.clone();
    accept::serve(listener, this, &shutdown, |tcp, _| {
        let shared = Arc::clone(&shared);
        async move {
            let end = connection(tcp, &shared).await;
            tracing::debug!(?end, "inbound stream ended");
        }
    })
    .await;
}

/// What one inbound connection knows about its peer.
struct Peer {
    phase: InPhase,
    /// The `from` of the peer's current header, lowercased.
    from: Option<String>,
    /// Our stream id for the current stream (dialback keys are bound to it).
    id: String,
    /// Domains the peer proved on this connection.
    authed: HashSet<String>,
    auth_failures: u32,
    /// The certificate chain the peer showed in the TLS handshake.
    chain: Vec<CertificateDer<'static>>,
    /// When an unauthenticated connection is given up.
    negotiation_end: Instant,
}

/// One inbound connection, under the negotiation deadline until a domain is
/// authenticated and then under the idle timeout.
async fn connection<B: Backend>(tcp: TcpStream, shared: &Context<B>) -> End {
    let cfg = &shared.cfg;
    let mut conn = conn::new(tcp, &cfg.domain, cfg.preauth_limits(), cfg.write_timeout);
    let mut peer = Peer {
        phase: InPhase {
            tls: false,
            require_tls: cfg.require_tls,
            cert_valid: false,
            sasl_done: false,
        },
        from: None,
        id: String::new(),
        authed: HashSet::new(),
        auth_failures: 0,
        chain: Vec::new(),
        negotiation_end: Instant::now() + cfg.negotiation_timeout,
    };
    loop {
        let step = tokio::select! {
            () = shared.shutdown.cancelled() => return conn.fail(StreamCondition::SystemShutdown).await,
            r = Box::pin(stream(&mut conn, &mut peer, shared)) => r,
        };
        match step {
            Ok(()) => {} // the stream restarts
            Err(end) => return end,
        }
    }
}

/// The next stream item under the deadline that applies: the negotiation deadline
/// until a domain is authenticated (then `connection-timeout`), the idle timeout
/// after (then a plain close).
async fn next_item(conn: &mut S2sConn, peer: &Peer, idle: Duration) -> Result<Item, End> {
    let negotiating = peer.authed.is_empty();
    let deadline = if negotiating {
        peer.negotiation_end
    } else {
        Instant::now() + idle
    };
    match tokio::time::timeout_at(deadline, conn.read()).await {
        Ok(Ok(item)) => Ok(item),
        Ok(Err(e)) => Err(conn.on_read_error(e).await),
        Err(_) if negotiating => Err(conn.fail(StreamCondition::ConnectionTimeout).await),
        Err(_) => Err(conn.close().await),
    }
}

/// One stream on the connection: header, features, elements until a restart (`Ok`)
/// or the end (`Err`).
async fn stream<B: Backend>(
    conn: &mut S2sConn,
    peer: &mut Peer,
    shared: &Context<B>,
) -> Result<(), End> {
    let idle = shared.cfg.idle_timeout;
    let Item::Header(header) = next_item(conn, peer, idle).await? else {
        return Err(conn.fail(StreamCondition::BadFormat).await);
    };
    if let Err(condition) = check_header(&header, &shared.cfg.domain) {
        return Err(conn.fail(condition).await);
    }
    peer.from = header.from.map(|f| f.to_ascii_lowercase());
    // The header names the domain the certificate must be valid for (RFC 6120 §13.7.2).
    peer.phase.cert_valid = peer
        .from
        .as_deref()
        .is_some_and(|from| shared.tls.valid_for(&peer.chain, from));
    peer.id = crate::stream::new_stream_id();
    conn.header(peer.from.as_deref(), Some(&peer.id));
    conn.send_raw(&inbound_features(peer.phase)).await?;
    loop {
        let el = match next_item(conn, peer, idle).await? {
            Item::Element(el) if el.is("error", STREAM) => {
                tracing::debug!(error = ?el.children().next().map(Element::name), "stream error from peer");
                return Err(conn.close().await);
            }
            Item::Element(el) => el,
            Item::Close => return Err(conn.close().await),
            Item::Header(_) => return Err(conn.fail(StreamCondition::BadFormat).await),
        };
        if el.is("starttls", TLS) {
            starttls(conn, peer, shared).await?;
            return Ok(());
        }
        if el.is("auth", SASL) {
            if external(conn, peer, &el).await? {
                conn.reader
                    .set_max_stanza_bytes(shared.cfg.max_stanza_bytes);
                conn.restart();
                return Ok(());
            }
            continue;
        }
        if el.has_ns(DIALBACK) {
            if !peer.phase.dialback_allowed() {
                return Err(conn.fail(StreamCondition::PolicyViolation).await);
            }
            match el.name() {
                "result" => dialback_result(conn, peer, shared, &el).await?,
                "verify" => dialback_verify(conn, shared, &el).await?,
                _ => return Err(conn.fail(StreamCondition::UnsupportedStanzaType).await),
            }
            continue;
        }
        if el.has_ns(JABBER_SERVER) && matches!(el.name(), "message" | "presence" | "iq") {
            stanza(conn, peer, shared, el).await?;
            continue;
        }
        let condition = if el.ns().is_empty() || el.has_ns(JABBER_CLIENT) {
            StreamCondition::InvalidNamespace
        } else {
            StreamCondition::UnsupportedStanzaType
        };
        return Err(conn.fail(condition).await);
    }
}

/// RFC 6120 §5.4.2-§5.4.3: `<proceed/>`, the handshake as server, then a new stream.
async fn starttls<B: Backend>(
    conn: &mut S2sConn,
    peer: &mut Peer,
    shared: &Context<B>,
) -> Result<(), End> {
    if peer.phase.tls {
        conn.writer.raw(&format!("<failure xmlns='{TLS}'/>"));
        return Err(conn.close().await);
    }
    // Bytes sent after <starttls/> would be read as if encrypted (cf. CVE-2011-0411).
    if conn.reader.buffered() > 0 {
        return Err(conn.fail(StreamCondition::PolicyViolation).await);
    }
    conn.send_raw(&format!("<proceed xmlns='{TLS}'/>")).await?;
    let Some(tcp) = conn.io.take_plain() else {
        return Err(End::Transport("no plain transport".into()));
    };
    let handshake = TlsAcceptor::from(Arc::clone(&shared.tls.server)).accept(tcp);
    let tls = tokio::time::timeout_at(peer.negotiation_end, handshake)
        .await
        .map_err(|_| End::Transport("TLS handshake timed out".into()))?
        .map_err(|e| End::Transport(format!("TLS handshake: {e}")))?;
    conn.io = MaybeTls::Buffered(Box::new(tls.into()));
    peer.phase.tls = true;
    // The header that follows names the domain the certificate must be valid for.
    conn.restart();
    peer.chain = conn.io.peer_certificates();
    Ok(())
}

/// SASL EXTERNAL (RFC 6120 §6.4, §13.7.2.2): `Ok(true)` on success.
async fn external(conn: &mut S2sConn, peer: &mut Peer, auth: &Element) -> Result<bool, End> {
    let offered = peer.phase.external_offered() && auth.attr("mechanism") == Some("EXTERNAL");
    let identity = peer
        .from
        .as_deref()
        .and_then(|from| external_identity(&auth.text(), from));
    match (offered, identity, peer.from.clone()) {
        (true, Some(id), Some(from)) if id.eq_ignore_ascii_case(&from) => {
            conn.send_raw(&format!("<success xmlns='{SASL}'/>")).await?;
            tracing::info!(domain = %from, "peer authenticated with SASL EXTERNAL");
            peer.phase.sasl_done = true;
            peer.authed.insert(from);
            Ok(true)
        }
        (offered, ..) => {
            let condition = if offered {
                "not-authorized"
            } else {
                "invalid-mechanism"
            };
            conn.send_raw(&format!("<failure xmlns='{SASL}'><{condition}/></failure>"))
                .await?;
            peer.auth_failures += 1;
            if peer.auth_failures >= MAX_AUTH_FAILURES {
                return Err(conn.fail(StreamCondition::NotAuthorized).await);
            }
            Ok(false)
        }
    }
}

/// XEP-0220 §2.1.2-§2.4: the peer asks us to accept it for a domain; we ask that
/// domain's authoritative server whether it made the key.
async fn dialback_result<B: Backend>(
    conn: &mut S2sConn,
    peer: &mut Peer,
    shared: &Context<B>,
    el: &Element,
) -> Result<(), End> {
    let ours = shared.cfg.domain.clone();
    let Some(req) = Request::parse(el) else {
        return Err(conn.fail(StreamCondition::BadFormat).await);
    };
    if !req.to.eq_ignore_ascii_case(&ours) {
        return Err(conn.fail(StreamCondition::HostUnknown).await);
    }
    let from = req.from.to_ascii_lowercase();
    if Jid::new(&from).map_or(true, |j| j.node().is_some() || j.resource().is_some()) {
        return Err(conn.fail(StreamCondition::InvalidFrom).await);
    }
    let verdict = if peer.authed.contains(&from) {
        Verdict::Valid
    } else if from == ours {
        Verdict::Invalid
    } else {
        outbound::verify(shared, &from, &peer.id, &req.key).await
    };
    conn.send(&dialback::result_answer(&ours, &from, verdict))
        .await?;
    match verdict {
        Verdict::Valid => {
            if peer.authed.len() >= MAX_DOMAINS_PER_STREAM {
                return Err(conn.fail(StreamCondition::PolicyViolation).await);
            }
            tracing::info!(domain = %from, "peer authenticated with dialback");
            peer.authed.insert(from);
            conn.reader
                .set_max_stanza_bytes(shared.cfg.max_stanza_bytes);
            Ok(())
        }
        Verdict::Invalid => {
            tracing::info!(domain = %from, "dialback key refused");
            Err(conn.fail(StreamCondition::NotAuthorized).await)
        }
        Verdict::Error => Ok(()),
    }
}

/// XEP-0220 §2.2.2: a receiving server asks whether we made a key.
async fn dialback_verify<B: Backend>(
    conn: &mut S2sConn,
    shared: &Context<B>,
    el: &Element,
) -> Result<(), End> {
    let ours = &shared.cfg.domain;
    let Some(req) = Request::parse(el) else {
        return Err(conn.fail(StreamCondition::BadFormat).await);
    };
    let Some(id) = req.id.as_deref() else {
        return Err(conn.fail(StreamCondition::BadFormat).await);
    };
    let valid = req.to.eq_ignore_ascii_case(ours)
        && dialback::key_matches(&shared.cfg.dialback_secret, &req.from, ours, id, &req.key);
    conn.send(&dialback::verify_answer(ours, &req.from, id, valid))
        .await
}

/// A stanza: only from an authenticated domain, then to the router.
async fn stanza<B: Backend>(
    conn: &mut S2sConn,
    peer: &Peer,
    shared: &Context<B>,
    el: Element,
) -> Result<(), End> {
    if peer.authed.is_empty() {
        return Err(conn.fail(StreamCondition::NotAuthorized).await);
    }
    let domain = el
        .attr("from")
        .and_then(|f| Jid::new(f).ok())
        .map(|j| j.domain().as_str().to_ascii_lowercase());
    let Some(domain) = domain.filter(|d| peer.authed.contains(d)) else {
        return Err(conn.fail(StreamCondition::InvalidFrom).await);
    };
    match shared.router.handle_remote(&domain, el).await {
        Ok(()) => Ok(()),
        Err(RemoteError::InvalidFrom) => Err(conn.fail(StreamCondition::InvalidFrom).await),
        Err(RemoteError::HostUnknown) => Err(conn.fail(StreamCondition::HostUnknown).await),
        Err(RemoteError::ImproperAddressing) => {
            Err(conn.fail(StreamCondition::ImproperAddressing).await)
        }
    }
}
