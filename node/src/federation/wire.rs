//! What the node puts inside federation envelopes (docs/PROTOCOL.md, "Presence between
//! Lampfield organizations"). Pure encoding, tested here.
//!
//! - `xmpp` requests: a batch of XMPP stanzas for users of the receiving organization,
//!   each a 4-byte big-endian length followed by the stanza's UTF-8 XML (`jabber:client`).
//!   The answer is empty: it only says the batch was handled, so the sender keeps order.
//! - `presence-notice` requests: change notices for users watched from the receiving
//!   organization (a JSON array). The answer is empty: it only acknowledges.

use minidom::Element;
use serde::{Deserialize, Serialize};

/// Payload type of stanza batches (request/response).
pub const XMPP_TYPE: &str = "xmpp";
/// Payload type of change notices (request/response, to one organization).
pub const NOTICE_TYPE: &str = "presence-notice";
/// Most stanzas in one batch.
pub const MAX_BATCH: usize = 64;

/// Why a payload from a peer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A length prefix runs past the end, or the batch is empty or too long.
    #[error("malformed stanza batch")]
    Framing,
    /// A stanza is not well-formed XML.
    #[error("stanza is not well-formed XML")]
    Xml,
    /// A notice is not the expected JSON.
    #[error("malformed presence notice")]
    Notice,
}

/// One stanza's wire form.
pub fn encode_stanza(stanza: &Element) -> Vec<u8> {
    let mut xml = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = stanza.write_to(&mut xml);
    let mut out = Vec::with_capacity(xml.len() + 4);
    out.extend_from_slice(&(xml.len() as u32).to_be_bytes());
    out.extend_from_slice(&xml);
    out
}

/// The stanzas of a batch, in order.
pub fn decode_batch(mut bytes: &[u8]) -> Result<Vec<Element>, WireError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if out.len() == MAX_BATCH || bytes.len() < 4 {
            return Err(WireError::Framing);
        }
        let (len, rest) = bytes.split_at(4);
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if rest.len() < len {
            return Err(WireError::Framing);
        }
        let (xml, rest) = rest.split_at(len);
        let text = std::str::from_utf8(xml).map_err(|_| WireError::Xml)?;
        out.push(text.parse::<Element>().map_err(|_| WireError::Xml)?);
        bytes = rest;
    }
    if out.is_empty() {
        return Err(WireError::Framing);
    }
    Ok(out)
}

/// A change notice: what the receiving organization's watchers see of `user` of the origin
/// organization changed; `available` says whether any of them sees the user available.
/// `epoch` changes when the origin node restarts, `n` counts the user's notices to this
/// organization within an epoch, so a receiver sees when it missed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Local part of the user.
    pub user: String,
    /// Whether any watcher at the receiving organization sees the user available.
    pub available: bool,
    /// The origin node's start time (ms since the epoch).
    pub epoch: u64,
    /// The user's notice counter for the receiving organization within `epoch`, from 1.
    pub n: u64,
}

/// Most notices in one envelope (about 60 bytes each, well under the envelope limit).
pub const MAX_NOTICES: usize = 200;

/// One request's payload: the notices of the changes since the last one, as a JSON
/// array. Batching keeps a busy organization within its peers' per-peer request rate.
pub fn encode_notices(notices: &[Notice]) -> Vec<u8> {
    serde_json::to_vec(notices).unwrap_or_default()
}

/// Parse a peer's notices: a JSON array of 1 to [`MAX_NOTICES`] notices.
pub fn decode_notices(bytes: &[u8]) -> Result<Vec<Notice>, WireError> {
    let notices: Vec<Notice> = serde_json::from_slice(bytes).map_err(|_| WireError::Notice)?;
    if notices.is_empty() || notices.len() > MAX_NOTICES {
        return Err(WireError::Notice);
    }
    Ok(notices)
}

impl Notice {
    /// Whether this notice, after `last` from the same origin and user, shows that
    /// notices (and so perhaps stanzas) were missed.
    pub fn gap_after(&self, last: Option<(u64, u64)>) -> bool {
        match last {
            None => false,
            Some((epoch, n)) => epoch != self.epoch || self.n > n + 1,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn batches_round_trip_in_order() {
        let a = el("<presence xmlns='jabber:client' from='a@a.example/x' to='b@b.example'/>");
        let b = el(
            "<message xmlns='jabber:client' to='b@b.example'><body>hi &amp; bye</body></message>",
        );
        let mut bytes = encode_stanza(&a);
        bytes.extend(encode_stanza(&b));
        let out = decode_batch(&bytes).unwrap();
        assert_eq!(out, vec![a, b]);
    }

    #[test]
    fn hostile_batches_are_refused() {
        assert_eq!(decode_batch(&[]), Err(WireError::Framing));
        assert_eq!(decode_batch(&[0, 0, 0]), Err(WireError::Framing));
        assert_eq!(decode_batch(&[0, 0, 0, 9, b'<']), Err(WireError::Framing));
        assert_eq!(
            decode_batch(&[0xff, 0xff, 0xff, 0xff]),
            Err(WireError::Framing)
        );
        let mut junk = 5u32.to_be_bytes().to_vec();
        junk.extend_from_slice(b"<a><b");
        assert_eq!(decode_batch(&junk), Err(WireError::Xml));
        let one = encode_stanza(&el("<presence xmlns='jabber:client'/>"));
        let many: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * (MAX_BATCH + 1))
            .collect();
        assert_eq!(decode_batch(&many), Err(WireError::Framing));
    }

    #[test]
    fn notices_round_trip_and_show_gaps() {
        let n = Notice {
            user: "alice".into(),
            available: true,
            epoch: 7,
            n: 3,
        };
        let one = encode_notices(std::slice::from_ref(&n));
        assert_eq!(decode_notices(&one).unwrap(), vec![n.clone()]);
        assert!(decode_notices(b"[{\"user\":1}]").is_err());
        assert!(decode_notices(b"[]").is_err());
        let many = vec![n.clone(); MAX_NOTICES + 1];
        assert!(decode_notices(&encode_notices(&many)).is_err());
        assert!(!n.gap_after(None));
        assert!(!n.gap_after(Some((7, 2))));
        assert!(n.gap_after(Some((7, 1))));
        assert!(n.gap_after(Some((6, 9))));
    }
}
