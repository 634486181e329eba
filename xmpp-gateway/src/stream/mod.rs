//! XML streams (RFC 6120 §4) for client and server connections alike: bytes to the
//! stream header and first-level elements with hard limits, our side of the stream back
//! to bytes, the transport before and after STARTTLS, one connection type and one
//! accept loop.

pub(crate) mod accept;
mod bytes;
pub mod channel_binding;
mod conn;
mod error;
mod io;
mod reader;
mod shared;
mod stanza;
mod tls;
mod writer;

pub(crate) use conn::{Conn, End, Fixed, Settings};
pub use error::{ReadError, StreamCondition};
pub use io::MaybeTls;
pub use reader::{Item, ReadLimits, XmlReader};
pub use shared::{Direct, DirectWrite};
pub(crate) use stanza::{error_reply, rewrite_ns};
pub use tls::ServerTls;
pub(crate) use writer::new_stream_id;
pub use writer::{Content, StreamWriter, escape_attr};

/// The attributes of a peer's stream header (RFC 6120 §4.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHeader {
    /// `to`: the domain the peer wants to reach.
    pub to: Option<String>,
    /// `from`: who the peer says it is.
    pub from: Option<String>,
    /// `version`: absent means a pre-RFC 3920 peer.
    pub version: Option<String>,
    /// `xml:lang`: the default language of the peer's stream.
    pub lang: Option<String>,
    /// `id`: only set by responding entities.
    pub id: Option<String>,
}

impl StreamHeader {
    pub(crate) fn from_attrs(attrs: &rxml::AttrMap) -> Self {
        let plain = |name: &str| attrs.get("", name).cloned();
        Self {
            to: plain("to"),
            from: plain("from"),
            version: plain("version"),
            lang: attrs.get(rxml::Namespace::xml().as_str(), "lang").cloned(),
            id: plain("id"),
        }
    }
}

/// Check the header of a peer's stream (RFC 6120 §4.7, §4.9.3): `to` must be our
/// domain, and the version 1.x. No version means a pre-RFC 3920 peer (§4.7.5); we speak
/// 1.x only.
pub(crate) fn check_header(header: &StreamHeader, domain: &str) -> Result<(), StreamCondition> {
    match header.to.as_deref() {
        Some(to) if to.eq_ignore_ascii_case(domain) => {}
        _ => return Err(StreamCondition::HostUnknown),
    }
    let major = header.version.as_deref().and_then(|v| v.split('.').next());
    match major {
        Some("1") => Ok(()),
        _ => Err(StreamCondition::UnsupportedVersion),
    }
}
