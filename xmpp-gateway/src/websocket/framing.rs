//! RFC 7395 §3.3: the framing of XMPP over WebSocket, translated to and from the byte stream
//! of RFC 6120 that the c2s layer reads and writes. Each WebSocket message carries one whole
//! element; `<open/>` and `<close/>` in `urn:ietf:params:xml:ns:xmpp-framing` stand for the
//! stream header and its end tag, and every element declares its own namespaces (§3.3.3).
//!
//! Pure code: the transport is the caller's.

use minidom::Element;

use crate::ns::JABBER_CLIENT;
use crate::stream::escape_attr;

/// The framing namespace (RFC 7395 §3.3.2).
pub const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";
/// The stream namespace, which `stream:`-prefixed elements must declare in a message.
const STREAMS: &str = "http://etherx.jabber.org/streams";
/// An `<open/>` or `<close/>` is small; a longer one is not what it claims to be.
const MAX_FRAMING_ELEMENT: usize = 1024;

/// Why a client's WebSocket message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// Not one XML element: a declaration, a processing instruction, an end tag, text.
    #[error("a WebSocket message must be one XML element (RFC 7395 §3.3.3)")]
    NotAnElement,
    /// The RFC 6120 stream header or end tag instead of `<open/>` and `<close/>`.
    #[error("use <open/> and <close/> of {FRAMING}, not the stream header (RFC 7395 §3.3.2)")]
    StreamTag,
    /// An `<open/>` or `<close/>` that does not parse.
    #[error("malformed <open/> or <close/>")]
    BadFraming,
}

/// What a client's message stands for in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The stream header for an `<open/>`.
    Open(String),
    /// `</stream:stream>` for a `<close/>`.
    Close,
    /// An element, passed on as sent: the stream reader checks it like any other.
    Element(String),
}

impl Inbound {
    /// The bytes to hand the stream reader.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Inbound::Open(header) => header.into_bytes(),
            Inbound::Close => b"</stream:stream>".to_vec(),
            Inbound::Element(el) => el.into_bytes(),
        }
    }
}

/// Translate one text message from the client.
pub fn inbound(message: &str) -> Result<Inbound, FramingError> {
    let trimmed = message.trim();
    let rest = trimmed
        .strip_prefix('<')
        .ok_or(FramingError::NotAnElement)?;
    if rest.starts_with(['?', '!', '/']) {
        return Err(FramingError::NotAnElement);
    }
    if rest.starts_with("stream:") {
        return Err(FramingError::StreamTag);
    }
    if !(rest.starts_with("open") || rest.starts_with("close")) {
        return Ok(Inbound::Element(trimmed.to_owned()));
    }
    if trimmed.len() > MAX_FRAMING_ELEMENT {
        return Err(FramingError::BadFraming);
    }
    let el: Element = trimmed.parse().map_err(|_| FramingError::BadFraming)?;
    if el.ns() != FRAMING {
        // Some other namespace's <open/>: an element like any other.
        return Ok(Inbound::Element(trimmed.to_owned()));
    }
    match el.name() {
        "open" => {
            let mut header = format!(
                "<?xml version='1.0'?><stream:stream xmlns='{JABBER_CLIENT}' \
                 xmlns:stream='{STREAMS}'"
            );
            let named = ["to", "from", "version", "id"].map(|n| (n, el.attr(n)));
            let lang = (
                "xml:lang",
                el.attr_ns("http://www.w3.org/XML/1998/namespace", "lang"),
            );
            for (name, value) in named.into_iter().chain([lang]) {
                if let Some(value) = value {
                    header.push_str(&format!(" {name}='{}'", escape_attr(value)));
                }
            }
            header.push('>');
            Ok(Inbound::Open(header))
        }
        "close" => Ok(Inbound::Close),
        _ => Err(FramingError::BadFraming),
    }
}

/// Splits the server's byte stream into WebSocket messages: the stream header becomes
/// `<open/>`, its end tag `<close/>`, each top-level element one message with its namespaces
/// declared; whitespace keep-alives and the XML declaration are dropped (RFC 7395 §3.3,
/// §3.4, §3.6). The bytes are the server's own writer's, so a small scanner that knows
/// tags, quoted attribute values, comments and processing instructions is enough.
#[derive(Debug, Default)]
pub struct Outbound {
    /// Bytes of the top-level element not yet complete, from its first byte.
    pending: Vec<u8>,
    /// Where scanning resumes in `pending`.
    scanned: usize,
    /// Open elements inside the current top-level one.
    depth: usize,
}

/// Longest element the splitter holds while waiting for its end. The server never writes
/// one this large (its stanza limits are far smaller), so more is a fault, not data.
pub const MAX_OUTBOUND_ELEMENT: usize = 1024 * 1024;

/// The server wrote something the splitter cannot frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("server output cannot be framed for WebSocket")]
pub struct OutboundError;

/// One scanned tag.
#[derive(Debug, Clone, Copy)]
struct Tag {
    begin: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A comment or processing instruction.
    Skip,
    Start {
        self_closing: bool,
    },
    End,
}

/// What the scanner found from some position.
enum Scan {
    Tag(Tag),
    /// A tag begins here but its end has not arrived.
    Partial(usize),
    /// No tag begins in what is there.
    Nothing,
}

impl Outbound {
    /// Feed bytes the server wrote; returns the messages they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, OutboundError> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let tag = match scan(&self.pending, self.scanned) {
                Scan::Tag(tag) => tag,
                Scan::Partial(begin) => {
                    if self.depth == 0 {
                        // Whitespace before the element is not part of it.
                        self.take(begin);
                    }
                    break;
                }
                Scan::Nothing => {
                    if self.depth == 0 {
                        self.take(self.pending.len());
                    }
                    break;
                }
            };
            self.scanned = tag.end;
            if self.depth > 0 {
                match tag.kind {
                    Kind::Skip => {}
                    Kind::Start { self_closing } => self.depth += usize::from(!self_closing),
                    Kind::End => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            out.push(element_message(&self.take(tag.end))?);
                        }
                    }
                }
                continue;
            }
            // At the top level: drop what precedes the tag, then look at it alone.
            self.take(tag.begin);
            let end = tag.end - tag.begin;
            match tag.kind {
                Kind::Skip => {
                    self.take(end);
                }
                Kind::End => {
                    // Only the stream's own end tag closes at the top.
                    self.take(end);
                    out.push(format!("<close xmlns='{FRAMING}'/>"));
                }
                Kind::Start { .. } if tag_name(&self.pending) == b"stream:stream" => {
                    out.push(open_message(&self.take(end))?);
                }
                Kind::Start { self_closing: true } => {
                    out.push(element_message(&self.take(end))?);
                }
                Kind::Start {
                    self_closing: false,
                } => self.depth = 1,
            }
        }
        if self.pending.len() > MAX_OUTBOUND_ELEMENT {
            return Err(OutboundError);
        }
        Ok(out)
    }

    /// Remove and return the first `n` pending bytes; scanning continues after them.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let rest = self.pending.split_off(n);
        self.scanned = self.scanned.saturating_sub(n);
        std::mem::replace(&mut self.pending, rest)
    }
}

/// The next tag in `buf` from `from`.
fn scan(buf: &[u8], from: usize) -> Scan {
    let Some(begin) = buf
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
        .map(|i| from + i)
    else {
        return Scan::Nothing;
    };
    let rest = &buf[begin..];
    let closed = |marker: &[u8], kind| match find(rest, marker) {
        Some(e) => Scan::Tag(Tag {
            begin,
            end: begin + e + marker.len(),
            kind,
        }),
        None => Scan::Partial(begin),
    };
    if rest.starts_with(b"<!--") {
        return closed(b"-->", Kind::Skip);
    }
    if rest.starts_with(b"<?") {
        return closed(b"?>", Kind::Skip);
    }
    let mut quote = None;
    for (j, &b) in rest.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                let kind = if rest[1] == b'/' {
                    Kind::End
                } else {
                    Kind::Start {
                        self_closing: rest[j - 1] == b'/',
                    }
                };
                return Scan::Tag(Tag {
                    begin,
                    end: begin + j + 1,
                    kind,
                });
            }
            None => {}
        }
    }
    Scan::Partial(begin)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The name of the tag that starts `tag` (after `<`).
fn tag_name(tag: &[u8]) -> &[u8] {
    let rest = tag.get(1..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The attributes of the start tag at the beginning of `tag`, with their quoted values as
/// written (already escaped).
fn attributes(tag: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut attrs = Vec::new();
    let mut i = 1 + tag_name(tag).len();
    loop {
        while tag.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(name_len) = tag
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| b == b'='))
        else {
            return attrs;
        };
        let name = &tag[i..i + name_len];
        if name.iter().any(|&b| b == b'>' || b == b'/') {
            return attrs;
        }
        let q = i + name_len + 1;
        let Some(&quote) = tag.get(q).filter(|&&b| b == b'"' || b == b'\'') else {
            return attrs;
        };
        let Some(len) = tag
            .get(q + 1..)
            .and_then(|rest| rest.iter().position(|&b| b == quote))
        else {
            return attrs;
        };
        attrs.push((name.trim_ascii(), &tag[q + 1..q + 1 + len]));
        i = q + 2 + len;
    }
}

/// `<open/>` for the server's stream header.
fn open_message(header: &[u8]) -> Result<String, OutboundError> {
    let mut open = format!("<open xmlns='{FRAMING}'");
    for (name, value) in attributes(header) {
        if matches!(name, b"id" | b"from" | b"to" | b"version" | b"xml:lang") {
            let name = std::str::from_utf8(name).map_err(|_| OutboundError)?;
            let value = std::str::from_utf8(value).map_err(|_| OutboundError)?;
            open.push_str(&format!(" {name}='{value}'"));
        }
    }
    open.push_str("/>");
    Ok(open)
}

/// One top-level element as a message: a `stream:` element declares the stream namespace,
/// any other that names no namespace gets `jabber:client` (RFC 7395 §3.3.3).
fn element_message(element: &[u8]) -> Result<String, OutboundError> {
    let name = tag_name(element);
    let at = 1 + name.len();
    let declare = if name.starts_with(b"stream:") {
        Some(format!(" xmlns:stream='{STREAMS}'"))
    } else if attributes(element).iter().any(|(n, _)| *n == b"xmlns") {
        None
    } else {
        Some(format!(" xmlns='{JABBER_CLIENT}'"))
    };
    let mut bytes = Vec::with_capacity(element.len() + 64);
    bytes.extend_from_slice(&element[..at]);
    if let Some(declare) = declare {
        bytes.extend_from_slice(declare.as_bytes());
    }
    bytes.extend_from_slice(&element[at..]);
    String::from_utf8(bytes).map_err(|_| OutboundError)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn open_and_close_become_the_stream_header_and_end() {
        let open = inbound(
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
        )
        .unwrap();
        let Inbound::Open(header) = open else {
            panic!("{open:?}")
        };
        assert!(header.starts_with("<?xml version='1.0'?><stream:stream xmlns='jabber:client'"));
        assert!(header.contains(" to='example.com'") && header.contains(" version='1.0'"));
        assert_eq!(
            inbound("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>").unwrap(),
            Inbound::Close
        );
        let el = "<message xmlns='jabber:client' to='a@b'><body>hi</body></message>";
        assert_eq!(inbound(el).unwrap(), Inbound::Element(el.to_owned()));
    }

    #[test]
    fn what_is_not_one_element_is_refused() {
        for bad in [
            "hello",
            "<?xml version='1.0'?>",
            "</message>",
            "<!-- x -->",
            "",
        ] {
            assert_eq!(inbound(bad), Err(FramingError::NotAnElement), "{bad}");
        }
        assert_eq!(
            inbound("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"),
            Err(FramingError::StreamTag)
        );
        assert_eq!(
            inbound("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"),
            Err(FramingError::BadFraming)
        );
        let long = format!(
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='{}'/>",
            "a".repeat(2000)
        );
        assert_eq!(inbound(&long), Err(FramingError::BadFraming));
    }

    #[test]
    fn the_servers_stream_splits_into_messages() {
        let mut out = Outbound::default();
        let stream = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' \
             version='1.0' xml:lang='en'><stream:features><mechanisms \
             xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>\
             </stream:features> <message to='a@example.com' id='x xmlns=&apos;q&apos;'>\
             <body>1 &lt; 2 &gt; 0</body></message><presence/></stream:stream>";
        let mut got = Vec::new();
        // Byte by byte: no split point may matter.
        for b in stream.as_bytes() {
            got.extend(out.push(&[*b]).unwrap());
        }
        assert_eq!(
            got,
            vec![
                "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='s1' from='example.com' \
                 version='1.0' xml:lang='en'/>"
                    .to_owned(),
                "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms \
                 xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
                 </mechanisms></stream:features>"
                    .to_owned(),
                "<message xmlns='jabber:client' to='a@example.com' id='x xmlns=&apos;q&apos;'>\
                 <body>1 &lt; 2 &gt; 0</body></message>"
                    .to_owned(),
                "<presence xmlns='jabber:client'/>".to_owned(),
                "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>".to_owned(),
            ]
        );
        assert!(out.pending.is_empty());
    }

    #[test]
    fn elements_with_their_own_namespace_keep_it_and_nesting_counts() {
        let mut out = Outbound::default();
        let got = out
            .push(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='b@x' name='a &gt; b'/></query></iq>")
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
        );
        assert!(got[1].starts_with("<iq xmlns='jabber:client' type='result'"));
        assert!(got[1].ends_with("</query></iq>"));
    }

    #[test]
    fn an_element_that_never_ends_is_bounded() {
        let mut out = Outbound::default();
        out.push(b"<message><body>").unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        let mut failed = false;
        for _ in 0..20 {
            if out.push(&chunk).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }
}
