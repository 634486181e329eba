//! The few things read from a SIP message before (or without) the parser: where the header ends,
//! `Content-Length` for framing on TCP (RFC 3261 §18.3), and the headers an error response copies
//! (§8.2.6.2) when the message is too broken for the parser.

/// The end of the header section (the index after the blank line), if it is in `bytes`.
pub(super) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The values of the header called `long` (or its compact form `short`, RFC 3261 §7.3.3), in
/// order, from a header section. Folded continuation lines are not joined: the values read here
/// are copied or checked, never interpreted further.
pub(super) fn values<'a>(head: &'a str, long: &'a str, short: Option<&'a str>) -> Vec<&'a str> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| {
            let name = name.trim();
            name.eq_ignore_ascii_case(long) || short.is_some_and(|s| name.eq_ignore_ascii_case(s))
        })
        .map(|(_, value)| value.trim())
        .collect()
}

/// The first value of a header.
pub(super) fn value<'a>(head: &'a str, long: &'a str, short: Option<&'a str>) -> Option<&'a str> {
    values(head, long, short).into_iter().next()
}

/// `Content-Length` of a header section: `None` when absent or not a number.
pub(super) fn content_length(head: &str) -> Option<usize> {
    value(head, "Content-Length", Some("l")).and_then(|v| v.parse().ok())
}

/// The headers a response copies from its request (RFC 3261 §8.2.6.2), as read from the raw
/// text, so that even a request the parser refuses can be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Echo {
    /// Every `Via`, in order.
    pub(super) vias: Vec<String>,
    /// `From`, with its tag.
    pub(super) from: String,
    /// `To`, as received.
    pub(super) to: String,
    /// `Call-ID`.
    pub(super) call_id: String,
    /// `CSeq`.
    pub(super) cseq: String,
}

impl Echo {
    /// The copied headers of a request's header section; `None` when one is missing, in which
    /// case no response can be routed and the message is dropped.
    pub(super) fn of(head: &str) -> Option<Echo> {
        let vias: Vec<String> = values(head, "Via", Some("v"))
            .into_iter()
            .map(str::to_owned)
            .collect();
        if vias.is_empty() {
            return None;
        }
        Some(Echo {
            vias,
            from: value(head, "From", Some("f"))?.to_owned(),
            to: value(head, "To", Some("t"))?.to_owned(),
            call_id: value(head, "Call-ID", Some("i"))?.to_owned(),
            cseq: value(head, "CSeq", None)?.to_owned(),
        })
    }

    /// The tag parameter of `To`, if the request is inside a dialog.
    pub(super) fn to_tag(&self) -> Option<&str> {
        tag(&self.to)
    }
}

/// The `tag` parameter of a From or To value (after the closing `>` when the URI is bracketed).
pub(super) fn tag(value: &str) -> Option<&str> {
    let params = match value.rfind('>') {
        Some(i) => &value[i..],
        None => value,
    };
    params
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("tag"))
        .map(|(_, v)| v.trim())
}

/// The URI of a name-addr or addr-spec value (`"Bob" <sip:b@h>;x`, `sip:b@h;x`).
pub(super) fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The method of a request line (`METHOD uri SIP/2.0`), if the first line is one.
pub(super) fn request_method(head: &str) -> Option<&str> {
    let line = head.split("\r\n").next()?;
    let mut parts = line.split(' ');
    let (method, _uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    let token = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    (token && version == "SIP/2.0" && parts.next().is_none()).then_some(method)
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "PUBLISH sip:201@pbx SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
        v: SIP/2.0/UDP b;branch=z9hG4bK2\r\nf: <sip:pbx@pbx>;tag=abc\r\nTo: \"201\" <sip:201@pbx>\r\n\
        i: call-1\r\nCSeq: 7 PUBLISH\r\nl: 12\r\n\r\n";

    #[test]
    fn compact_and_long_headers_are_found_for_framing_and_echo() {
        assert_eq!(head_end(HEAD.as_bytes()), Some(HEAD.len()));
        assert_eq!(content_length(HEAD), Some(12));
        let echo = Echo::of(HEAD).unwrap();
        assert_eq!(echo.vias.len(), 2);
        assert_eq!(tag(&echo.from), Some("abc"));
        assert_eq!(echo.to_tag(), None);
        assert_eq!(echo.call_id, "call-1");
        assert_eq!(echo.cseq, "7 PUBLISH");
        assert_eq!(uri_of(&echo.to), "sip:201@pbx");
        assert_eq!(uri_of("sip:x@y;tag=1"), "sip:x@y");
        assert_eq!(request_method(HEAD), Some("PUBLISH"));
        assert_eq!(request_method("SIP/2.0 200 OK\r\n"), None);
        assert_eq!(request_method("garbage\r\n"), None);
        assert_eq!(Echo::of("X sip:a SIP/2.0\r\nFrom: a\r\n\r\n"), None);
    }
}
