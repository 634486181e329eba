use super::*;
use crate::stream::StreamHeader;

fn header(to: Option<&str>, version: Option<&str>) -> StreamHeader {
    StreamHeader {
        to: to.map(Into::into),
        version: version.map(Into::into),
        ..StreamHeader::default()
    }
}

#[test]
fn headers() {
    assert_eq!(
        check_header(&header(Some("example.com"), Some("1.0")), "example.com"),
        Ok(())
    );
    assert_eq!(
        check_header(&header(Some("EXAMPLE.com"), Some("1.1")), "example.com"),
        Ok(())
    );
    assert_eq!(
        check_header(&header(Some("other.org"), Some("1.0")), "example.com"),
        Err(StreamCondition::HostUnknown)
    );
    assert_eq!(
        check_header(&header(None, Some("1.0")), "example.com"),
        Err(StreamCondition::HostUnknown)
    );
    assert_eq!(
        check_header(&header(Some("example.com"), None), "example.com"),
        Err(StreamCondition::UnsupportedVersion)
    );
}

fn phase(tls: bool, authenticated: bool) -> Phase {
    Phase {
        tls_available: true,
        tls,
        require_tls: true,
        authenticated,
        channel_binding: tls,
    }
}

const LIMITS: StreamLimits = StreamLimits {
    max_bytes: 16384,
    idle_seconds: 30,
};

#[test]
fn features_follow_the_phase() {
    let f = features(phase(false, false), &Mechanism::ALL, &LIMITS);
    assert!(f.contains("<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>16384</max-bytes><idle-seconds>30</idle-seconds></limits>"), "{f}");
    assert!(f.contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"));
    assert!(
        !f.contains("mechanisms"),
        "no SASL before TLS when TLS is required: {f}"
    );

    let f = features(phase(true, false), &Mechanism::ALL, &LIMITS);
    assert!(!f.contains("starttls"));
    assert!(f.contains(
        "<mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism>\
         <mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>"
    ));
    assert!(f.contains(
        "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/>"
    ));
    // TLS 1.2: no channel binding data, so neither -PLUS nor the binding types.
    let tls12 = Phase {
        channel_binding: false,
        ..phase(true, false)
    };
    let f = features(tls12, &Mechanism::ALL, &LIMITS);
    assert!(!f.contains("-PLUS") && !f.contains("sasl-cb"), "{f}");

    let plain_ok = Phase {
        require_tls: false,
        ..phase(false, false)
    };
    let f = features(plain_ok, &Mechanism::ALL, &LIMITS);
    assert!(f.contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'></starttls>"));
    assert!(f.contains("SCRAM-SHA-1") && !f.contains("PLAIN"), "{f}");

    let f = features(phase(true, true), &Mechanism::ALL, &LIMITS);
    assert!(f.contains("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"));
    assert!(
        f.contains("<ver xmlns='urn:xmpp:features:rosterver'/>"),
        "XEP-0237: {f}"
    );
    assert!(f.contains("<sm xmlns='urn:xmpp:sm:3'/>"), "XEP-0198: {f}");
    assert!(
        f.contains("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>")
    );
    assert!(!f.contains("mechanisms"));
}

#[test]
fn unexpected_elements() {
    let el = |s: &str| -> Element { s.parse().unwrap() };
    assert_eq!(
        first_level_condition(&el("<message xmlns='jabber:client'/>"), phase(true, false)),
        StreamCondition::NotAuthorized
    );
    assert_eq!(
        first_level_condition(&el("<message xmlns='jabber:server'/>"), phase(true, false)),
        StreamCondition::InvalidNamespace
    );
    assert_eq!(
        first_level_condition(&el("<x xmlns='urn:x'/>"), phase(false, false)),
        StreamCondition::PolicyViolation
    );
    assert_eq!(
        first_level_condition(&el("<x xmlns='urn:x'/>"), phase(true, false)),
        StreamCondition::UnsupportedStanzaType
    );
}
