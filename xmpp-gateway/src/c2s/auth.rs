//! SASL negotiation on the stream (RFC 6120 §6.4): `<auth/>`, challenges and
//! responses, `<abort/>`, `<success/>` and `<failure/>`, with credentials from the
//! backend. The mechanisms themselves are pure code in `crate::sasl`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jid::{BareJid, DomainPart, NodePart};
use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::{Conn, End};
use crate::ns::SASL;
use crate::ports::backend::{Backend, ScramCredentials, ScramHash};
use crate::sasl::{
    Binding, ClientFirst, Mechanism, PlainRequest, SaslError, fake_credentials, verify_plain,
};
use crate::stream::{Item, StreamCondition};

/// Run one authentication attempt that starts with `auth`, on a stream that is encrypted
/// when `secure`. The outer error ends the connection; the inner one is a failed attempt
/// whose `<failure/>` has been sent.
pub(crate) async fn attempt<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    backend: &B,
    auth: &Element,
    secure: bool,
) -> Result<Result<BareJid, SaslError>, End> {
    let outcome = exchange(conn, backend, auth, secure).await?;
    match outcome {
        Ok((user, additional)) => {
            conn.io.forget_channel_binding();
            let data = additional.map(|d| B64.encode(d)).unwrap_or_default();
            conn.send_raw(&format!("<success xmlns='{SASL}'>{data}</success>"))
                .await?;
            Ok(Ok(user))
        }
        Err(e) => {
            send_failure(conn, e).await?;
            Ok(Err(e))
        }
    }
}

/// Send `<failure/>` with the condition of `e`.
pub(crate) async fn send_failure<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    e: SaslError,
) -> Result<(), End> {
    let text = e
        .text()
        .map(|t| format!("<text xml:lang='en'>{t}</text>"))
        .unwrap_or_default();
    conn.send_raw(&format!(
        "<failure xmlns='{SASL}'><{}/>{text}</failure>",
        e.condition()
    ))
    .await
}

/// The exchange: the authenticated user and the additional data of `<success/>`.
async fn exchange<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    backend: &B,
    auth: &Element,
    tls: bool,
) -> Result<Result<(BareJid, Option<Vec<u8>>), SaslError>, End> {
    let exporter = conn.io.tls_exporter();
    // What this stream advertised (PLAIN is picked even without TLS, to refuse it clearly).
    let advertised = |m: &Mechanism| {
        conn.cfg.mechanisms.contains(m)
            && (*m == Mechanism::Plain || m.offered(tls, exporter.is_some()))
    };
    let plus_offered = Mechanism::ALL
        .iter()
        .any(|m| m.binds_channel() && advertised(m));
    let mechanism = match auth
        .attr("mechanism")
        .and_then(Mechanism::from_name)
        .filter(advertised)
    {
        Some(Mechanism::Plain) if !tls => return Ok(Err(SaslError::EncryptionRequired)),
        Some(m) => m,
        None => return Ok(Err(SaslError::InvalidMechanism)),
    };
    let initial = match decode(auth) {
        Ok(data) => data,
        Err(e) => return Ok(Err(e)),
    };
    let initial = match initial {
        Some(data) => data,
        // No initial response: an empty challenge asks for it (RFC 6120 §6.4.2).
        None => match respond(conn, b"").await? {
            Ok(data) => data,
            Err(e) => return Ok(Err(e)),
        },
    };
    let domain = conn.cfg.domain.clone();
    let secret = conn.cfg.unknown_user_secret.clone();
    let Some(hash) = mechanism.scram_hash() else {
        return Ok(plain(backend, &domain, &secret, &initial)
            .await
            .map(|u| (u, None)));
    };
    let binding = match exporter.as_ref().filter(|_| mechanism.binds_channel()) {
        Some(data) => Binding::Plus(data),
        None => Binding::Without { plus_offered },
    };
    let first = match ClientFirst::parse(hash, &initial, binding) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let user = user_jid(first.username(), &domain);
    if let Err(e) = check_authzid(first.authzid(), user.as_ref()) {
        return Ok(Err(e));
    }
    let (creds, real) = match lookup(backend, user.as_ref(), hash).await {
        Ok(Some(c)) => (c, true),
        Ok(None) => (fake_credentials(&secret, first.username(), hash), false),
        Err(e) => return Ok(Err(e)),
    };
    let (server_first, awaiting) = first.challenge(&creds, real);
    let response = match respond(conn, &server_first).await? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    Ok(match (awaiting.finish(&response), user) {
        (Ok(server_final), Some(user)) => Ok((user, Some(server_final))),
        (Ok(_), None) => Err(SaslError::NotAuthorized),
        (Err(e), _) => Err(e),
    })
}

/// PLAIN: verify against the stored SCRAM-SHA-256 keys, or SHA-1 ones when those are
/// all the account has. PBKDF2 runs off the async threads.
async fn plain<B: Backend>(
    backend: &B,
    domain: &str,
    secret: &[u8],
    msg: &[u8],
) -> Result<BareJid, SaslError> {
    let req = PlainRequest::parse(msg)?;
    let user = user_jid(&req.authcid, domain);
    let authzid = (!req.authzid.is_empty()).then_some(req.authzid.as_str());
    check_authzid(authzid, user.as_ref())?;
    let (hash, creds, real) = match lookup(backend, user.as_ref(), ScramHash::Sha256).await? {
        Some(c) => (ScramHash::Sha256, c, true),
        None => match lookup(backend, user.as_ref(), ScramHash::Sha1).await? {
            Some(c) => (ScramHash::Sha1, c, true),
            None => (
                ScramHash::Sha256,
                fake_credentials(secret, &req.authcid, ScramHash::Sha256),
                false,
            ),
        },
    };
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || verify_plain(&password, hash, &creds, real))
        .await
        .map_err(|_| SaslError::TemporaryAuthFailure)?;
    match (ok, user) {
        (true, Some(user)) => Ok(user),
        _ => Err(SaslError::NotAuthorized),
    }
}

/// The account's credentials; `None` for an unknown account or an unusable username.
async fn lookup<B: Backend>(
    backend: &B,
    user: Option<&BareJid>,
    hash: ScramHash,
) -> Result<Option<ScramCredentials>, SaslError> {
    let Some(user) = user else { return Ok(None) };
    backend.credentials(user, hash).await.map_err(|e| {
        tracing::warn!(%user, error = %e, "credential lookup failed");
        SaslError::TemporaryAuthFailure
    })
}

/// The bare JID of a SASL username: a localpart of our domain, or a bare JID of it.
/// `None` when it is neither; such a user then fails like a wrong password.
pub(crate) fn user_jid(username: &str, domain: &str) -> Option<BareJid> {
    let local = match username.rsplit_once('@') {
        Some((local, d)) if d.eq_ignore_ascii_case(domain) => local,
        Some(_) => return None,
        None => username,
    };
    let node = NodePart::new(local).ok()?;
    let domain = DomainPart::new(domain).ok()?;
    Some(BareJid::from_parts(Some(&node), &domain))
}

/// An authorization identity must be absent or the authenticated account itself.
fn check_authzid(authzid: Option<&str>, user: Option<&BareJid>) -> Result<(), SaslError> {
    let Some(authzid) = authzid else {
        return Ok(());
    };
    match (BareJid::new(authzid), user) {
        (Ok(asked), Some(user)) if &asked == user => Ok(()),
        // Unknown or malformed users fail later, the same way as wrong passwords.
        (Ok(_), None) => Ok(()),
        _ => Err(SaslError::InvalidAuthzid),
    }
}

/// The decoded payload of `<auth/>` or `<response/>`: `None` when empty, `Some(empty)`
/// for `=` (RFC 6120 §6.4.2).
fn decode(el: &Element) -> Result<Option<Vec<u8>>, SaslError> {
    let text = el.text();
    let text = text.trim();
    match text {
        "" => Ok(None),
        "=" => Ok(Some(Vec::new())),
        t => B64
            .decode(t)
            .map(Some)
            .map_err(|_| SaslError::IncorrectEncoding),
    }
}

/// Send a challenge and wait for the client's `<response/>` (or `<abort/>`).
async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    challenge: &[u8],
) -> Result<Result<Vec<u8>, SaslError>, End> {
    let data = if challenge.is_empty() {
        "=".to_owned()
    } else {
        B64.encode(challenge)
    };
    conn.send_raw(&format!("<challenge xmlns='{SASL}'>{data}</challenge>"))
        .await?;
    let el = match conn.read().await {
        Ok(Item::Element(el)) => el,
        Ok(_) => return Err(conn.close().await),
        Err(e) => return Err(conn.on_read_error(e).await),
    };
    if el.is("abort", SASL) {
        return Ok(Err(SaslError::Aborted));
    }
    if !el.is("response", SASL) {
        return Err(conn.fail(StreamCondition::NotAuthorized).await);
    }
    Ok(decode(&el).map(Option::unwrap_or_default))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn usernames_map_to_local_accounts_only() {
        let u = user_jid("alice", "example.com").unwrap();
        assert_eq!(u.as_str(), "alice@example.com");
        assert_eq!(
            user_jid("Alice@example.com", "example.com")
                .unwrap()
                .as_str(),
            "alice@example.com"
        );
        assert!(user_jid("alice@other.org", "example.com").is_none());
        assert!(user_jid("", "example.com").is_none());
    }

    #[test]
    fn authzid_must_be_the_user() {
        let u = user_jid("alice", "example.com");
        assert!(check_authzid(None, u.as_ref()).is_ok());
        assert!(check_authzid(Some("alice@example.com"), u.as_ref()).is_ok());
        assert_eq!(
            check_authzid(Some("bob@example.com"), u.as_ref()),
            Err(SaslError::InvalidAuthzid)
        );
        assert_eq!(
            check_authzid(Some("@@"), u.as_ref()),
            Err(SaslError::InvalidAuthzid)
        );
    }

    #[test]
    fn payload_decoding() {
        let el =
            |t: &str| -> Element { format!("<auth xmlns='{SASL}'>{t}</auth>").parse().unwrap() };
        assert_eq!(decode(&el("")).unwrap(), None);
        assert_eq!(decode(&el("=")).unwrap(), Some(Vec::new()));
        assert_eq!(decode(&el(" AGEAYg== ")).unwrap(), Some(b"\0a\0b".to_vec()));
        assert_eq!(decode(&el("!!")), Err(SaslError::IncorrectEncoding));
    }
}
