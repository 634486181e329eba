//! RFC 6120 §10.4: stanzas from and to other domains (RFC 6121 §3-§4 across servers).
//!
//! Outbound, every stanza for another domain leaves through the
//! [`RemoteSender`](crate::ports::RemoteSender) the router was built with. Inbound, the s2s
//! layer calls [`Router::handle_remote`](crate::Router::handle_remote) for each stanza a
//! verified remote domain sent; it is checked against that domain, rewritten to
//! `jabber:client` and dispatched to local sessions with the same helpers local stanzas use,
//! so subscriptions, probes and presence follow one state machine whichever side the contact
//! is on.

mod handler;

/// Why a stanza from a remote domain is refused; the s2s stream closes with the
/// stream error of the same name (RFC 6120 §4.9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// `from` is missing or not of the domain the stream authenticated (§4.9.3.9).
    #[error("invalid-from")]
    InvalidFrom,
    /// `to` is missing or not a valid JID (§4.9.3.14 improper-addressing).
    #[error("improper-addressing")]
    ImproperAddressing,
    /// `to` names a domain we do not serve (§4.9.3.6).
    #[error("host-unknown")]
    HostUnknown,
}

/// The `from` and `to` of a stanza the domain `peer` sent over a stream that authenticated it:
/// `from` must be at `peer` (RFC 6120 §4.9.3.9), `to` a valid JID (§4.9.3.14).
pub(crate) fn addresses(
    stanza: &minidom::Element,
    peer: &str,
) -> Result<(jid::Jid, jid::Jid), RemoteError> {
    let from = stanza
        .attr("from")
        .and_then(|f| jid::Jid::new(f).ok())
        .ok_or(RemoteError::InvalidFrom)?;
    if !from.domain().as_str().eq_ignore_ascii_case(peer) {
        return Err(RemoteError::InvalidFrom);
    }
    let to = stanza
        .attr("to")
        .and_then(|t| jid::Jid::new(t).ok())
        .ok_or(RemoteError::ImproperAddressing)?;
    Ok((from, to))
}
