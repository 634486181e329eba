//! One complete client login (RFC 6120 §5-§7, RFC 6121 §4.2): TCP connect, STARTTLS, SASL SCRAM,
//! resource binding, initial presence.
//!
//! The login counts as done when the server answers an XEP-0199 ping sent right behind the initial
//! presence: a server handles one session's stanzas in order, so by then it has processed the
//! presence. The ping rides in the same write, so it adds no round trip.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::bytes;
use crate::conn::{Conn, ConnError, preview};
use crate::scram::{self, Mechanism, SaltedKey};

pub type TlsConn = Conn<TlsStream<TcpStream>>;

/// Where and how to log in.
pub struct Target {
    pub addr: SocketAddr,
    pub domain: String,
    pub user_prefix: String,
    pub password: String,
    pub mechanism: Mechanism,
    pub tls: Arc<rustls::ClientConfig>,
    /// Limit for each single wait on the server.
    pub step_timeout: Duration,
}

impl Target {
    pub fn user(&self, account: usize) -> String {
        format!("{}{}", self.user_prefix, account)
    }

    pub fn bare_jid(&self, account: usize) -> String {
        format!("{}{}@{}", self.user_prefix, account, self.domain)
    }
}

/// A logged-in, available session.
pub struct Session {
    pub conn: TlsConn,
    pub account: usize,
    /// Stanzas that arrived between the initial presence and the ping answer (kept only on request).
    pub early: Vec<Vec<u8>>,
}

pub struct LoginOk {
    pub session: Session,
    pub key: SaltedKey,
    pub cache_hit: bool,
    pub latency: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("tcp connect: {0}")]
    Connect(std::io::Error),
    #[error("tls handshake: {0}")]
    Tls(std::io::Error),
    #[error("{stage}: {source}")]
    Stream {
        stage: &'static str,
        source: ConnError,
    },
    #[error("server offers no STARTTLS")]
    NoStartTls,
    #[error("server does not offer {0}")]
    NoMechanism(&'static str),
    #[error("SASL failure: {0}")]
    AuthFailed(String),
    #[error("SCRAM: {0}")]
    Scram(#[from] scram::ScramError),
    #[error("resource binding failed: {0}")]
    Bind(String),
    #[error("login took longer than {0:?}")]
    Timeout(Duration),
}

impl LoginError {
    /// A short category for the report.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Tls(_) => "tls",
            Self::Stream { stage, .. } => stage,
            Self::NoStartTls => "no-starttls",
            Self::NoMechanism(_) => "no-mechanism",
            Self::AuthFailed(_) => "auth-failed",
            Self::Scram(_) => "scram",
            Self::Bind(_) => "bind",
            Self::Timeout(_) => "timeout",
        }
    }
}

/// Attaches a stage name to stream errors.
trait Stage<T> {
    fn at(self, stage: &'static str) -> Result<T, LoginError>;
}

impl<T> Stage<T> for Result<T, ConnError> {
    fn at(self, stage: &'static str) -> Result<T, LoginError> {
        self.map_err(|source| LoginError::Stream { stage, source })
    }
}

/// Logs `account` in within `total`.
pub async fn login(
    t: &Target,
    account: usize,
    cached: Option<&SaltedKey>,
    keep_early: bool,
    total: Duration,
) -> Result<LoginOk, LoginError> {
    match tokio::time::timeout(total, login_steps(t, account, cached, keep_early)).await {
        Ok(r) => r,
        Err(_) => Err(LoginError::Timeout(total)),
    }
}

async fn login_steps(
    t: &Target,
    account: usize,
    cached: Option<&SaltedKey>,
    keep_early: bool,
) -> Result<LoginOk, LoginError> {
    let started = Instant::now();
    let step = t.step_timeout;
    let tcp = TcpStream::connect(t.addr)
        .await
        .map_err(LoginError::Connect)?;
    tcp.set_nodelay(true).map_err(LoginError::Connect)?;

    // RFC 6120 §5: STARTTLS.
    let mut plain = Conn::new(tcp);
    let features = plain.open_stream(&t.domain, step).await.at("stream")?;
    if !bytes::contains(&features, "urn:ietf:params:xml:ns:xmpp-tls") {
        return Err(LoginError::NoStartTls);
    }
    plain
        .send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        .await
        .at("starttls")?;
    let el = plain.next_within(step, "<proceed/>").await.at("starttls")?;
    if !bytes::is(el, "proceed") {
        return Err(LoginError::Stream {
            stage: "starttls",
            source: ConnError::Unexpected {
                want: "<proceed/>",
                got: preview(el),
            },
        });
    }
    let name = ServerName::try_from(t.domain.clone())
        .map_err(|e| LoginError::Tls(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let tls = tokio::time::timeout(
        step,
        TlsConnector::from(t.tls.clone()).connect(name, plain.into_inner()),
    )
    .await
    .map_err(|_| LoginError::Tls(std::io::ErrorKind::TimedOut.into()))?
    .map_err(LoginError::Tls)?;
    let mut conn = Conn::new(tls);

    // RFC 6120 §6: SASL.
    let features = conn.open_stream(&t.domain, step).await.at("stream-tls")?;
    let mech = t.mechanism.name();
    if !bytes::contains(&features, &format!(">{mech}<")) {
        return Err(LoginError::NoMechanism(mech));
    }
    let client = scram::Client::new(
        t.mechanism,
        &t.user(account),
        &t.password,
        &scram::Client::random_nonce(),
    );
    let auth = format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mech}'>{}</auth>",
        B64.encode(client.first_message())
    );
    conn.send(auth.as_bytes()).await.at("sasl")?;
    let server_first = sasl_payload(
        conn.next_within(step, "SASL challenge").await.at("sasl")?,
        "challenge",
    )?;
    let fin = client.final_message(&server_first, cached)?;
    let response = format!(
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
        B64.encode(&fin.message)
    );
    conn.send(response.as_bytes()).await.at("sasl")?;
    let el = conn.next_within(step, "SASL success").await.at("sasl")?;
    if bytes::is(el, "challenge") {
        // RFC 6120 §6.4.6 allows the server-final message in a challenge: answer it empty.
        fin.verify(&sasl_payload(el, "challenge")?)?;
        conn.send(b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
            .await
            .at("sasl")?;
        let el = conn.next_within(step, "SASL success").await.at("sasl")?;
        sasl_payload(el, "success")?;
    } else {
        fin.verify(&sasl_payload(el, "success")?)?;
    }

    // RFC 6120 §7: resource binding, with a server-generated resource.
    conn.reset();
    let features = conn.open_stream(&t.domain, step).await.at("stream-auth")?;
    conn.send(b"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        .await
        .at("bind")?;
    wait_iq(&mut conn, "bind1", step, None).await?;
    // The RFC 3921 session, only when the server says it is not optional.
    if bytes::contains(&features, "urn:ietf:params:xml:ns:xmpp-session")
        && !bytes::contains(&features, "<optional")
    {
        conn.send(b"<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
            .await
            .at("session")?;
        wait_iq(&mut conn, "sess1", step, None).await?;
    }

    // RFC 6121 §4.2: initial presence, then the ping that tells us it was processed.
    let ping = format!(
        "<presence/><iq type='get' id='ping1' to='{}'><ping xmlns='urn:xmpp:ping'/></iq>",
        t.domain
    );
    conn.send(ping.as_bytes()).await.at("presence")?;
    let mut early = Vec::new();
    wait_iq(&mut conn, "ping1", step, keep_early.then_some(&mut early)).await?;
    Ok(LoginOk {
        session: Session {
            conn,
            account,
            early,
        },
        key: fin.key,
        cache_hit: fin.cache_hit,
        latency: started.elapsed(),
    })
}

/// Base64-decoded payload of a `<challenge>`/`<success>`; a `<failure>` becomes an error.
fn sasl_payload(el: &[u8], want: &'static str) -> Result<String, LoginError> {
    if bytes::is(el, "failure") {
        return Err(LoginError::AuthFailed(preview(el)));
    }
    if !bytes::is(el, want) {
        return Err(LoginError::Stream {
            stage: "sasl",
            source: ConnError::Unexpected {
                want,
                got: preview(el),
            },
        });
    }
    let text: Vec<u8> = bytes::inner(el)
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = B64
        .decode(&text)
        .map_err(|_| LoginError::AuthFailed(format!("bad base64 in {want}")))?;
    String::from_utf8(raw).map_err(|_| LoginError::AuthFailed(format!("non-UTF-8 {want}")))
}

/// Waits for the iq answer with `id`; other stanzas are skipped or kept in `keep` (at most 10,000).
async fn wait_iq(
    conn: &mut TlsConn,
    id: &str,
    step: Duration,
    mut keep: Option<&mut Vec<Vec<u8>>>,
) -> Result<(), LoginError> {
    let stage = if id == "ping1" { "presence" } else { "bind" };
    for _ in 0..100_000 {
        let el = conn.next_within(step, "iq result").await.at(stage)?;
        if bytes::is(el, "iq") && bytes::attr(el, "id").as_deref() == Some(id) {
            return match bytes::attr(el, "type").as_deref() {
                Some("result") => Ok(()),
                // A ping answered with an error (no XEP-0199) still proves the presence was handled.
                Some("error") if id == "ping1" => Ok(()),
                _ => Err(LoginError::Bind(preview(el))),
            };
        }
        if let Some(k) = keep.as_deref_mut()
            && k.len() < 10_000
        {
            k.push(el.to_vec());
        }
    }
    Err(LoginError::Bind("no answer among 100,000 stanzas".into()))
}
