//! Stream negotiation up to resource binding (RFC 6120 §4.3, §5, §6, §7): stream
//! headers and features, STARTTLS, SASL, and the stream restarts between them.

use std::sync::Arc;

use jid::BareJid;
use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite};

use super::auth;
use super::bind::{self, BindRequest};
use super::conn::{Conn, End};
use super::sm::resume::Handover;
use super::sm::{self, Nonza};
use crate::ns::{
    BIND, COMPONENT_ACCEPT, CSI, JABBER_CLIENT, JABBER_SERVER, ROSTER_VERSIONING, SASL,
    SASL_CHANNEL_BINDING, SESSION, SM, STREAM_LIMITS, TLS,
};
use crate::ports::backend::Backend;
use crate::sasl::{Mechanism, SaslError};
use crate::stream::{Item, ServerTls, StreamCondition, check_header};

/// How a client connection reaches the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// TCP, with STARTTLS (RFC 6120 §5).
    Starttls,
    /// TLS from the first byte, no STARTTLS (XEP-0368).
    DirectTls,
    /// Inside a WebSocket of the HTTP listener (RFC 7395): its encryption is the HTTP
    /// listener's (wss through a TLS proxy in front, or loopback), and there is no STARTTLS
    /// inside a WebSocket (§3.9).
    WebSocket,
}

/// Where a connection stands in negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Phase {
    /// STARTTLS is possible (a TLS configuration exists).
    pub(crate) tls_available: bool,
    /// The stream is encrypted.
    pub(crate) tls: bool,
    /// SASL may only run over TLS.
    pub(crate) require_tls: bool,
    /// SASL succeeded.
    pub(crate) authenticated: bool,
    /// The TLS connection yields `tls-exporter` channel binding data (TLS 1.3).
    pub(crate) channel_binding: bool,
}

impl Phase {
    /// Whether SASL may run now.
    pub(crate) fn sasl_allowed(self) -> bool {
        !self.authenticated && (self.tls || !self.require_tls)
    }

    /// Whether STARTTLS is offered now.
    pub(crate) fn starttls_offered(self) -> bool {
        self.tls_available && !self.tls && !self.authenticated
    }
}

/// The `<stream:features/>` for a phase (RFC 6120 §4.3.2).
pub(crate) fn features(phase: Phase, mechanisms: &[Mechanism], limits: &StreamLimits) -> String {
    let mut out = String::from("<stream:features>");
    // XEP-0478: tell the client the budget it must stay within.
    out.push_str(&format!(
        "<limits xmlns='{STREAM_LIMITS}'><max-bytes>{}</max-bytes>\
         <idle-seconds>{}</idle-seconds></limits>",
        limits.max_bytes, limits.idle_seconds
    ));
    if phase.starttls_offered() {
        let required = if phase.require_tls { "<required/>" } else { "" };
        out.push_str(&format!("<starttls xmlns='{TLS}'>{required}</starttls>"));
    }
    if phase.sasl_allowed() {
        out.push_str(&format!("<mechanisms xmlns='{SASL}'>"));
        let offered = || {
            mechanisms
                .iter()
                .filter(|m| m.offered(phase.tls, phase.channel_binding))
        };
        for m in offered() {
            out.push_str(&format!("<mechanism>{}</mechanism>", m.name()));
        }
        out.push_str("</mechanisms>");
        // XEP-0440: name the channel binding type, so a client need not guess one.
        if offered().any(|m| m.binds_channel()) {
            out.push_str(&format!(
                "<sasl-channel-binding xmlns='{SASL_CHANNEL_BINDING}'>\
                 <channel-binding type='tls-exporter'/></sasl-channel-binding>"
            ));
        }
    }
    if phase.authenticated {
        out.push_str(&format!(
            "<bind xmlns='{BIND}'/><session xmlns='{SESSION}'><optional/></session>\
             <csi xmlns='{CSI}'/><ver xmlns='{ROSTER_VERSIONING}'/><sm xmlns='{SM}'/>"
        ));
    }
    out.push_str("</stream:features>");
    out
}

/// What XEP-0478 stream limits advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamLimits {
    /// The byte budget of one stanza in the current phase.
    pub(crate) max_bytes: usize,
    /// Silence before the server probes or closes.
    pub(crate) idle_seconds: u64,
}

/// How an authenticated client starts its session.
#[derive(Debug)]
pub(crate) enum Start {
    /// It binds a resource.
    Bind(BindRequest),
    /// It resumed a session (XEP-0198 §5), acknowledging `h` of the stanzas sent to it.
    Resume {
        previd: String,
        h: u32,
        handover: Handover,
    },
}

/// Negotiate until the client asks to bind a resource or resumes a session: returns the
/// authenticated user and how it starts. Runs under the caller's deadline.
pub(crate) async fn negotiate<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    backend: &B,
    tls: Option<&Arc<rustls::ServerConfig>>,
    transport: Transport,
) -> Result<(BareJid, Start), End> {
    let mut phase = Phase {
        tls_available: tls.is_some(),
        tls: false,
        require_tls: conn.cfg.require_tls,
        authenticated: false,
        channel_binding: false,
    };
    match transport {
        Transport::Starttls => {}
        Transport::DirectTls => {
            // XEP-0368: the TLS handshake comes first; the stream opens inside it, and
            // STARTTLS is not offered again.
            let Some(config) = tls else {
                return Err(End::Transport("direct TLS without a certificate".into()));
            };
            handshake(conn, config).await?;
            phase.tls = true;
            phase.channel_binding = conn.io.tls_exporter().is_some();
        }
        Transport::WebSocket => {
            phase.tls_available = false;
            phase.tls = true;
        }
    }
    let mut user: Option<BareJid> = None;
    let mut failures = 0u32;
    loop {
        open_stream(conn, phase).await?;
        // Elements until the stream restarts (STARTTLS, SASL success) or bind.
        loop {
            let el = match conn.read().await {
                Ok(Item::Element(el)) => el,
                Ok(Item::Close) => return Err(conn.close().await),
                Ok(Item::Header(_)) => {
                    return Err(conn.fail(StreamCondition::BadFormat).await);
                }
                Err(e) => return Err(conn.on_read_error(e).await),
            };
            if el.is("starttls", TLS) {
                let Some(config) = tls.filter(|_| phase.starttls_offered()) else {
                    // RFC 6120 §5.4.2.2: failure, then close.
                    conn.writer.raw(&format!("<failure xmlns='{TLS}'/>"));
                    return Err(conn.close().await);
                };
                starttls(conn, config).await?;
                phase.tls = true;
                phase.channel_binding = conn.io.tls_exporter().is_some();
                break;
            }
            if el.is("auth", SASL) {
                if phase.authenticated {
                    // RFC 6120 §6.4.8: no second authentication on a stream.
                    return Err(conn.fail(StreamCondition::PolicyViolation).await);
                }
                if !phase.sasl_allowed() {
                    auth::send_failure(conn, SaslError::EncryptionRequired).await?;
                } else {
                    match auth::attempt(conn, backend, &el, phase.tls).await? {
                        Ok(u) => {
                            tracing::debug!(user = %u, "authenticated");
                            user = Some(u);
                            phase.authenticated = true;
                            conn.restart();
                            conn.reader.set_max_stanza_bytes(conn.cfg.max_stanza_bytes);
                            break;
                        }
                        Err(e) => tracing::debug!(error = %e, "authentication failed"),
                    }
                }
                failures += 1;
                if failures >= conn.cfg.max_auth_failures {
                    return Err(conn.fail(StreamCondition::NotAuthorized).await);
                }
                continue;
            }
            if el.is("abort", SASL) {
                // An abort outside an exchange: nothing to abort.
                auth::send_failure(conn, SaslError::Aborted).await?;
                continue;
            }
            if let (Some(u), Some(nonza)) = (&user, sm::nonza(&el)) {
                match nonza {
                    Nonza::Resume { previd, h } => {
                        if let Some(handover) = take_over(conn, u, &previd).await {
                            let start = Start::Resume {
                                previd,
                                h,
                                handover,
                            };
                            return Ok((u.clone(), start));
                        }
                        // Unknown, expired or someone else's: the client binds instead.
                        conn.send_raw(&sm::failed("item-not-found")).await?;
                    }
                    // Stream management is enabled after binding (XEP-0198 §3).
                    _ => conn.send_raw(&sm::failed("unexpected-request")).await?,
                }
                continue;
            }
            match (&user, bind::bind_request(&el)) {
                (Some(u), Some(Ok(req))) => return Ok((u.clone(), Start::Bind(req))),
                (Some(_), Some(Err(reply))) => conn.send(&reply).await?,
                _ => return Err(reject(conn, &el, phase).await),
            }
        }
    }
}

/// The session `previd` of `user`, handed over by its task; `None` when there is none to
/// resume. The wait is bounded by the negotiation deadline.
async fn take_over<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &Conn<S>,
    user: &BareJid,
    previd: &str,
) -> Option<Handover> {
    let handover = conn.cfg.resumable.take_over(previd, user)?;
    handover.await.ok()
}

/// Read the client's header, answer with ours and the features of `phase`.
async fn open_stream<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    phase: Phase,
) -> Result<(), End> {
    let header = match conn.read().await {
        Ok(Item::Header(h)) => h,
        Ok(_) => return Err(conn.fail(StreamCondition::BadFormat).await),
        Err(e) => return Err(conn.on_read_error(e).await),
    };
    if let Err(condition) = check_header(&header, &conn.cfg.domain) {
        return Err(conn.fail(condition).await);
    }
    let id = crate::stream::new_stream_id();
    conn.header(header.from.as_deref(), Some(&id));
    let cfg = &conn.cfg;
    let limits = StreamLimits {
        max_bytes: if phase.authenticated {
            cfg.max_stanza_bytes
        } else {
            cfg.max_preauth_stanza_bytes
        },
        idle_seconds: if phase.authenticated {
            cfg.idle_timeout.as_secs()
        } else {
            cfg.negotiation_timeout.as_secs()
        },
    };
    let features = features(phase, &cfg.mechanisms, &limits);
    conn.send_raw(&features).await
}

/// `<proceed/>`, then the TLS handshake on the same TCP connection, then a fresh stream.
async fn starttls<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    config: &Arc<rustls::ServerConfig>,
) -> Result<(), End> {
    // Bytes the client sent after <starttls/> would be read as if encrypted: an
    // injection attempt (cf. CVE-2011-0411), never legitimate.
    if conn.reader.buffered() > 0 {
        return Err(conn.fail(StreamCondition::PolicyViolation).await);
    }
    conn.send_raw(&format!("<proceed xmlns='{TLS}'/>")).await?;
    handshake(conn, config).await?;
    conn.restart();
    Ok(())
}

/// The server side of a TLS handshake on the connection's plain transport.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    config: &Arc<rustls::ServerConfig>,
) -> Result<(), End> {
    let Some(plain) = conn.io.take_plain() else {
        return Err(End::Transport("no plain transport to upgrade".into()));
    };
    let tls = ServerTls::accept(plain, Arc::clone(config))
        .await
        .map_err(|e| End::Transport(format!("TLS handshake: {e}")))?;
    conn.io = crate::stream::MaybeTls::Tls(Box::new(tls));
    Ok(())
}

/// Anything else during negotiation ends the stream with the RFC 6120 condition.
async fn reject<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    el: &Element,
    phase: Phase,
) -> End {
    let condition = first_level_condition(el, phase);
    tracing::debug!(name = el.name(), ns = %el.ns(), %condition, "unexpected element during negotiation");
    conn.fail(condition).await
}

/// The stream error for a first-level element we cannot take in this phase.
pub(crate) fn first_level_condition(el: &Element, phase: Phase) -> StreamCondition {
    let ns = el.ns();
    if ns.is_empty() || ns == JABBER_SERVER || ns == COMPONENT_ACCEPT {
        return StreamCondition::InvalidNamespace;
    }
    let stanza = ns == JABBER_CLIENT && matches!(el.name(), "iq" | "message" | "presence");
    if stanza && !phase.authenticated {
        // RFC 6120 §4.9.3.12: stanzas before authentication.
        return StreamCondition::NotAuthorized;
    }
    if stanza {
        // Authenticated but not bound yet (RFC 6120 §7.1).
        return StreamCondition::NotAuthorized;
    }
    if phase.require_tls && !phase.tls && phase.tls_available {
        return StreamCondition::PolicyViolation;
    }
    StreamCondition::UnsupportedStanzaType
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "negotiate_tests.rs"]
mod tests;
