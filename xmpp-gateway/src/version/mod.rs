//! XEP-0092: Software Version 1.1, answered by the server for its own JID only. An account's
//! bare JID does not answer it (docs/ACCESS.md: iqs to the bare JID other than ping and disco
//! are `service-unavailable`); a full JID reaches the client, as any iq does.

use minidom::Element;
use xmpp_parsers::version::VersionResult;

/// The namespace, for disco#info.
pub(crate) use xmpp_parsers::ns::VERSION as NS;

/// The server's answer to a version query, or `None` if `payload` is not one. The operating
/// system is left out: it helps an attacker more than an admin (§3, "os" is optional).
pub(crate) fn answer(payload: &Element) -> Option<Element> {
    if !payload.is("query", NS) {
        return None;
    }
    Some(
        VersionResult {
            name: "Lampfield".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            os: None,
        }
        .into(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_the_server_and_its_version_not_the_os() {
        let query: Element = "<query xmlns='jabber:iq:version'/>".parse().unwrap();
        let result = VersionResult::try_from(answer(&query).unwrap()).unwrap();
        assert_eq!(result.name, "Lampfield");
        assert_eq!(result.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(result.os, None);
        let other: Element = "<query xmlns='jabber:iq:last'/>".parse().unwrap();
        assert!(answer(&other).is_none());
    }
}
