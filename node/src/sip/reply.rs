//! Responses (RFC 3261 §8.2.6) and the `Expires` a request is granted (RFC 3903 §6, RFC 6665
//! §4.2.1.1), shared by PUBLISH and SUBSCRIBE.

use super::raw::Echo;

/// A response to the request `echo` was read from. `to_tag` is added to `To` when the request
/// had none (a response that establishes or names the dialog, §8.2.6.2); `extra` are further
/// header lines.
pub(super) fn response(
    echo: &Echo,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for via in &echo.vias {
        out.push_str(&format!("Via: {via}\r\n"));
    }
    out.push_str(&format!("From: {}\r\n", echo.from));
    match (echo.to_tag(), to_tag) {
        (None, Some(tag)) => out.push_str(&format!("To: {};tag={tag}\r\n", echo.to)),
        _ => out.push_str(&format!("To: {}\r\n", echo.to)),
    }
    out.push_str(&format!(
        "Call-ID: {}\r\nCSeq: {}\r\n",
        echo.call_id, echo.cseq
    ));
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Server: Lampfield\r\nContent-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// The methods this listener answers, for `Allow` (405, OPTIONS).
pub(super) const ALLOW: &str = "OPTIONS, PUBLISH, SUBSCRIBE";

/// What a request's `Expires` comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grant {
    /// `Expires: 0`: remove the publication, end the subscription.
    Remove,
    /// Granted this many seconds (a longer request is cut to the maximum).
    Seconds(u32),
    /// Shorter than the minimum: 423 Interval Too Brief with `Min-Expires`.
    TooBrief,
}

/// The grant for `requested` seconds (`None`: the event package's `default`).
pub(super) fn grant(requested: Option<u32>, min: u32, max: u32, default: u32) -> Grant {
    match requested.unwrap_or(default.min(max)) {
        0 => Grant::Remove,
        s if s < min => Grant::TooBrief,
        s => Grant::Seconds(s.min(max)),
    }
}

/// A random token for tags, entity-tags and branches.
pub(super) fn token() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_is_bounded_and_zero_removes() {
        assert_eq!(grant(None, 60, 3600, 3600), Grant::Seconds(3600));
        assert_eq!(grant(None, 60, 600, 3600), Grant::Seconds(600));
        assert_eq!(grant(Some(0), 60, 3600, 3600), Grant::Remove);
        assert_eq!(grant(Some(30), 60, 3600, 3600), Grant::TooBrief);
        assert_eq!(grant(Some(86_400), 60, 3600, 3600), Grant::Seconds(3600));
        assert_eq!(grant(Some(120), 60, 3600, 3600), Grant::Seconds(120));
    }

    #[test]
    fn a_response_copies_the_request_and_tags_to_once() {
        let echo = Echo {
            vias: vec!["SIP/2.0/UDP a;branch=z9hG4bK1".into()],
            from: "<sip:pbx@h>;tag=1".into(),
            to: "<sip:201@h>".into(),
            call_id: "c".into(),
            cseq: "1 PUBLISH".into(),
        };
        let text = String::from_utf8(response(&echo, 200, "OK", Some("x"), &[])).unwrap();
        assert!(text.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"));
        assert!(text.contains("To: <sip:201@h>;tag=x\r\n"), "{text}");
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"));
        let tagged = Echo {
            to: "<sip:201@h>;tag=y".into(),
            ..echo
        };
        let text = String::from_utf8(response(&tagged, 200, "OK", Some("x"), &[])).unwrap();
        assert!(text.contains("To: <sip:201@h>;tag=y\r\n"), "{text}");
    }
}
