//! Initiating server streams (RFC 6120 §4.3, §5, §6; XEP-0220 §2.1): connect to a
//! remote domain's server, upgrade with STARTTLS, authenticate with SASL EXTERNAL
//! when the peer offers it (it found our certificate valid), else with dialback.
//! Also the short verification streams of dialback (XEP-0220 §2.2).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use minidom::Element;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::Context;
use super::conn::{self, End, S2sConn};
use super::dialback::{self, Verdict};
use super::negotiate::{Offered, Step, next_step};
use crate::ns::{DIALBACK, SASL, STREAM, TLS};
use crate::ports::backend::Backend;
use crate::stream::{Item, MaybeTls, ReadLimits};

/// Time one TCP connect may take before the next address is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most dialback answers or other elements skipped while waiting for one answer.
const MAX_SKIPPED: usize = 64;

/// Why no stream to a domain could be had; decides the bounce condition.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// Resolution or every connection attempt failed.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The peer refused us or broke the protocol.
    #[error("refused: {0}")]
    Refused(String),
}

impl Failure {
    /// The stanza error for stanzas that were waiting (RFC 6120 §8.3.3.15, §8.3.3.16).
    pub(crate) fn condition(&self) -> DefinedCondition {
        match self {
            Self::Unreachable(_) => DefinedCondition::RemoteServerNotFound,
            Self::Refused(_) => DefinedCondition::RemoteServerTimeout,
        }
    }
}

impl From<End> for Failure {
    fn from(end: End) -> Self {
        Self::Refused(format!("{end:?}"))
    }
}

/// An encrypted (or, if allowed, plain) stream to `domain` with its features read.
pub(crate) struct Opened {
    pub(crate) conn: S2sConn,
    /// The id the peer gave its stream (the dialback key binds it).
    pub(crate) stream_id: Option<String>,
    pub(crate) offered: Offered,
    pub(crate) tls: bool,
}

/// Connect to `domain` and negotiate up to (not including) authentication.
pub(crate) async fn open<B: Backend>(shared: &Context<B>, domain: &str) -> Result<Opened, Failure> {
    let addrs = shared
        .resolver
        .resolve(domain)
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let tcp = connect_any(&addrs).await?;
    let _ = tcp.set_nodelay(true);
    let cfg = &shared.cfg;
    let limits = ReadLimits {
        max_stanza_bytes: cfg.max_stanza_bytes,
        ..ReadLimits::default()
    };
    let mut conn = conn::new(tcp, &cfg.domain, limits, cfg.write_timeout);
    let mut tls = false;
    loop {
        let (stream_id, offered) = start(&mut conn, domain).await?;
        match next_step(offered, tls, cfg.require_tls, false) {
            Step::StartTls => {
                conn.send_raw(&format!("<starttls xmlns='{TLS}'/>")).await?;
                let answer = conn.element().await?;
                if !answer.is("proceed", TLS) {
                    return Err(Failure::Refused("STARTTLS refused".into()));
                }
                upgrade(shared, &mut conn, domain).await?;
                tls = true;
            }
            Step::Fail(why) => return Err(Failure::Refused(why.into())),
            Step::External | Step::Dialback => {
                return Ok(Opened {
                    conn,
                    stream_id,
                    offered,
                    tls,
                });
            }
        }
    }
}

/// Open and authenticate a stream for our stanzas to `domain`.
pub(crate) async fn connect<B: Backend>(
    shared: &Context<B>,
    domain: &str,
) -> Result<S2sConn, Failure> {
    let Opened {
        mut conn,
        mut stream_id,
        offered,
        tls,
    } = open(shared, domain).await?;
    let ours = shared.cfg.domain.clone();
    if next_step(offered, tls, shared.cfg.require_tls, false) == Step::External {
        let authzid = base64::engine::general_purpose::STANDARD.encode(&ours);
        conn.send_raw(&format!(
            "<auth xmlns='{SASL}' mechanism='EXTERNAL'>{authzid}</auth>"
        ))
        .await?;
        let answer = conn.element().await?;
        if answer.is("success", SASL) {
            conn.restart();
            start(&mut conn, domain).await?;
            tracing::debug!(%domain, "authenticated with SASL EXTERNAL");
            return Ok(conn);
        }
        tracing::debug!(%domain, "SASL EXTERNAL refused; trying dialback");
    }
    let Some(id) = stream_id.take() else {
        return Err(Failure::Refused("no stream id for dialback".into()));
    };
    let key = dialback::key(&shared.cfg.dialback_secret, domain, &ours, &id);
    conn.send(&dialback::result_request(&ours, domain, &key))
        .await?;
    let answer = wait_for(&mut conn, "result", |el| {
        el.attr("from")
            .is_some_and(|f| f.eq_ignore_ascii_case(domain))
    })
    .await?;
    match Verdict::of(&answer) {
        Verdict::Valid => {
            tracing::debug!(%domain, "authenticated with dialback");
            Ok(conn)
        }
        v => {
            let _ = conn.close().await;
            Err(Failure::Refused(format!("dialback {v:?}")))
        }
    }
}

/// Ask `originating`'s authoritative server whether it made `key` for the stream
/// `stream_id` it opened to us (XEP-0220 §2.2). Any failure is `Verdict::Error`.
pub(crate) async fn verify<B: Backend>(
    shared: &Context<B>,
    originating: &str,
    stream_id: &str,
    key: &str,
) -> Verdict {
    let run = async {
        let mut opened = open(shared, originating).await?;
        let conn = &mut opened.conn;
        let ours = shared.cfg.domain.clone();
        conn.send(&dialback::verify_request(
            &ours,
            originating,
            stream_id,
            key,
        ))
        .await?;
        let answer = wait_for(conn, "verify", |el| el.attr("id") == Some(stream_id)).await?;
        let _ = conn.close().await;
        Ok::<_, Failure>(Verdict::of(&answer))
    };
    match tokio::time::timeout(shared.cfg.negotiation_timeout, run).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::debug!(%originating, error = %e, "dialback verification failed");
            Verdict::Error
        }
        Err(_) => Verdict::Error,
    }
}

/// Send our header, read the peer's and its features. Returns the peer's stream id.
async fn start(conn: &mut S2sConn, domain: &str) -> Result<(Option<String>, Offered), Failure> {
    conn.header(Some(domain), None);
    conn.flush().await?;
    let header = match conn.read().await {
        Ok(Item::Header(h)) => h,
        Ok(_) => return Err(Failure::Refused("no stream header".into())),
        Err(e) => return Err(conn.on_read_error(e).await.into()),
    };
    let features = conn.element().await?;
    if !features.is("features", STREAM) {
        return Err(Failure::Refused(format!(
            "expected features, got {}",
            features.name()
        )));
    }
    Ok((header.id, Offered::of(&features)))
}

/// The TLS handshake as client, then a fresh stream.
async fn upgrade<B: Backend>(
    shared: &Context<B>,
    conn: &mut S2sConn,
    domain: &str,
) -> Result<(), Failure> {
    if conn.reader.buffered() > 0 {
        return Err(Failure::Refused("data after <proceed/>".into()));
    }
    let name = ServerName::try_from(domain.to_owned())
        .map_err(|e| Failure::Refused(format!("server name: {e}")))?;
    let Some(tcp) = conn.io.take_plain() else {
        return Err(Failure::Refused("no plain transport".into()));
    };
    let tls = TlsConnector::from(Arc::clone(&shared.tls.client))
        .connect(name, tcp)
        .await
        .map_err(|e| Failure::Refused(format!("TLS handshake: {e}")))?;
    conn.io = MaybeTls::Buffered(Box::new(tls.into()));
    let valid = shared.tls.valid_for(&conn.io.peer_certificates(), domain);
    tracing::debug!(%domain, certificate_valid = valid, "TLS established");
    conn.restart();
    Ok(())
}

/// The first dialback `name` element matching `pick`; other elements are skipped
/// (a bounded number of them).
async fn wait_for(
    conn: &mut S2sConn,
    name: &str,
    pick: impl Fn(&Element) -> bool,
) -> Result<Element, Failure> {
    for _ in 0..MAX_SKIPPED {
        let el = conn.element().await?;
        if el.is(name, DIALBACK) && pick(&el) {
            return Ok(el);
        }
    }
    Err(Failure::Refused("no dialback answer".into()))
}

/// The first address that accepts a TCP connection.
async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, Failure> {
    let mut last = String::from("no address");
    for addr in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: connect timed out"),
        }
    }
    Err(Failure::Unreachable(last))
}
