//! Server stream negotiation as pure decisions (RFC 6120 §4.3, §5, §6; XEP-0220
//! §2.1): the features a receiving server offers in each phase, what an initiating
//! server does with the features it is offered, and header checks.

use minidom::Element;

use crate::ns::{DIALBACK_FEATURE, SASL, TLS};

/// Where an inbound stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InPhase {
    /// The stream is encrypted.
    pub(crate) tls: bool,
    /// TLS is required before anything else.
    pub(crate) require_tls: bool,
    /// The peer's certificate is valid for the domain in its header.
    pub(crate) cert_valid: bool,
    /// The peer authenticated with SASL EXTERNAL on this TCP connection.
    pub(crate) sasl_done: bool,
}

impl InPhase {
    /// Whether dialback requests may be made now.
    pub(crate) fn dialback_allowed(self) -> bool {
        self.tls || !self.require_tls
    }

    /// Whether SASL EXTERNAL is offered now.
    pub(crate) fn external_offered(self) -> bool {
        self.tls && self.cert_valid && !self.sasl_done
    }
}

/// The `<stream:features/>` of an inbound stream in `phase`.
pub(crate) fn inbound_features(phase: InPhase) -> String {
    let mut out = String::from("<stream:features>");
    if !phase.tls {
        let required = if phase.require_tls { "<required/>" } else { "" };
        out.push_str(&format!("<starttls xmlns='{TLS}'>{required}</starttls>"));
    }
    if phase.external_offered() {
        out.push_str(&format!(
            "<mechanisms xmlns='{SASL}'><mechanism>EXTERNAL</mechanism></mechanisms>"
        ));
    }
    if !phase.sasl_done && phase.dialback_allowed() {
        out.push_str(&format!(
            "<dialback xmlns='{DIALBACK_FEATURE}'><errors/></dialback>"
        ));
    }
    out.push_str("</stream:features>");
    out
}

/// What a receiving server offered us.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Offered {
    /// STARTTLS.
    pub(crate) starttls: bool,
    /// SASL with the EXTERNAL mechanism.
    pub(crate) external: bool,
    /// Dialback (the feature element).
    pub(crate) dialback: bool,
}

impl Offered {
    /// Read `<stream:features/>`.
    pub(crate) fn of(features: &Element) -> Self {
        let external = features.get_child("mechanisms", SASL).is_some_and(|m| {
            m.children()
                .any(|c| c.name() == "mechanism" && c.text().trim() == "EXTERNAL")
        });
        Self {
            starttls: features.has_child("starttls", TLS),
            external,
            dialback: features.has_child("dialback", DIALBACK_FEATURE),
        }
    }
}

/// The initiating server's next move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Upgrade with STARTTLS.
    StartTls,
    /// Authenticate with SASL EXTERNAL (our certificate speaks for us).
    External,
    /// Authenticate with dialback.
    Dialback,
    /// Nothing acceptable: give up on this peer.
    Fail(&'static str),
}

/// Decide the next move from the features offered, whether the stream is encrypted
/// already, whether we insist on TLS, and whether EXTERNAL failed once already.
pub(crate) fn next_step(
    offered: Offered,
    tls: bool,
    require_tls: bool,
    external_failed: bool,
) -> Step {
    if !tls && offered.starttls {
        return Step::StartTls;
    }
    if !tls && require_tls {
        return Step::Fail("the peer does not offer STARTTLS");
    }
    if offered.external && !external_failed && tls {
        return Step::External;
    }
    // Peers that predate the feature element still speak dialback (XEP-0220 §2.1).
    Step::Dialback
}

/// The authorization identity of SASL EXTERNAL (RFC 6120 §6.4.2, §13.7.2.2): empty or
/// `=` means "the identity of my certificate", i.e. the domain of the header.
pub(crate) fn external_identity(payload: &str, header_from: &str) -> Option<String> {
    use base64::Engine;
    let payload = payload.trim();
    if payload.is_empty() || payload == "=" {
        return Some(header_from.to_owned());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::stream::{StreamCondition, StreamHeader, check_header};

    fn phase(tls: bool, cert_valid: bool, sasl_done: bool) -> InPhase {
        InPhase {
            tls,
            require_tls: true,
            cert_valid,
            sasl_done,
        }
    }

    #[test]
    fn inbound_features_by_phase() {
        let plain = inbound_features(phase(false, false, false));
        assert!(plain.contains("<starttls") && plain.contains("<required/>"));
        assert!(
            !plain.contains("dialback"),
            "no dialback before TLS: {plain}"
        );
        assert!(!plain.contains("EXTERNAL"));

        let tls_unknown_cert = inbound_features(phase(true, false, false));
        assert!(!tls_unknown_cert.contains("starttls"));
        assert!(!tls_unknown_cert.contains("EXTERNAL"));
        assert!(tls_unknown_cert.contains(DIALBACK_FEATURE));

        let tls_valid_cert = inbound_features(phase(true, true, false));
        assert!(tls_valid_cert.contains("<mechanism>EXTERNAL</mechanism>"));
        assert!(tls_valid_cert.contains(DIALBACK_FEATURE));

        let done = inbound_features(phase(true, true, true));
        assert_eq!(done, "<stream:features></stream:features>");

        let lax = inbound_features(InPhase {
            tls: false,
            require_tls: false,
            cert_valid: false,
            sasl_done: false,
        });
        assert!(!lax.contains("<required/>") && lax.contains(DIALBACK_FEATURE));
    }

    fn offered(xml: &str) -> Offered {
        Offered::of(&xml.parse::<Element>().unwrap())
    }

    #[test]
    fn outbound_steps() {
        let pre_tls = offered(
            "<features xmlns='http://etherx.jabber.org/streams'>\
             <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
             <dialback xmlns='urn:xmpp:features:dialback'/></features>",
        );
        assert!(pre_tls.starttls && pre_tls.dialback && !pre_tls.external);
        assert_eq!(next_step(pre_tls, false, true, false), Step::StartTls);

        let none = Offered::default();
        assert!(matches!(next_step(none, false, true, false), Step::Fail(_)));
        assert_eq!(next_step(none, false, false, false), Step::Dialback);

        let after_tls = offered(
            "<features xmlns='http://etherx.jabber.org/streams'>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>EXTERNAL</mechanism></mechanisms>\
             <dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback></features>",
        );
        assert!(after_tls.external && after_tls.dialback);
        assert_eq!(next_step(after_tls, true, true, false), Step::External);
        assert_eq!(next_step(after_tls, true, true, true), Step::Dialback);
    }

    #[test]
    fn headers_and_external_identity() {
        let h = |to: Option<&str>, version: Option<&str>| StreamHeader {
            to: to.map(str::to_owned),
            version: version.map(str::to_owned),
            ..StreamHeader::default()
        };
        assert_eq!(
            check_header(&h(Some("A.example"), Some("1.0")), "a.example"),
            Ok(())
        );
        assert_eq!(
            check_header(&h(Some("b.example"), Some("1.0")), "a.example"),
            Err(StreamCondition::HostUnknown)
        );
        assert_eq!(
            check_header(&h(Some("a.example"), None), "a.example"),
            Err(StreamCondition::UnsupportedVersion)
        );
        assert_eq!(
            external_identity("=", "p.example").as_deref(),
            Some("p.example")
        );
        assert_eq!(
            external_identity("", "p.example").as_deref(),
            Some("p.example")
        );
        assert_eq!(
            external_identity("cC5leGFtcGxl", "x").as_deref(),
            Some("p.example")
        );
        assert_eq!(external_identity("!!", "x"), None);
    }
}
