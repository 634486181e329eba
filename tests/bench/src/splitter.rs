//! Incremental splitter of an XMPP stream (RFC 6120 §4) into its stream header and top-level elements.
//!
//! The benchmark client never builds a DOM: it only needs to know where each top-level element (a
//! stanza or a nonza) starts and ends, and then looks for a few byte patterns inside it. The splitter
//! tracks tag depth over a growing buffer, so an element cut across several TCP/TLS reads is only
//! reported once it is complete. It understands start, end and empty-element tags (with `>` inside
//! quoted attribute values), the XML declaration, comments and CDATA sections; anything else
//! (DTDs, processing instructions other than the declaration) is an error, as RFC 6120 §11.1 forbids it.

use std::ops::Range;

/// Deepest element nesting accepted inside a stanza.
const MAX_DEPTH: u32 = 64;

/// What the splitter found next in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The `<stream:stream ...>` opening tag (byte range of the tag).
    StreamOpen(Range<usize>),
    /// A complete top-level element (byte range, from `<` to the final `>`).
    Element(Range<usize>),
    /// The closing `</stream:stream>`.
    StreamClose,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SplitError {
    #[error("markup that XMPP forbids (DTD or processing instruction)")]
    Forbidden,
    #[error("the stream header is an empty-element tag")]
    EmptyStreamHeader,
    #[error("element nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("end tag without a matching start tag")]
    Unbalanced,
    #[error("element larger than {0} bytes")]
    TooLarge(usize),
}

/// Scanner state. Positions are offsets into the caller's buffer; after the caller drops a prefix of
/// the buffer it must call [`Splitter::rebase`].
#[derive(Debug, Default)]
pub struct Splitter {
    /// Next byte to examine.
    pos: usize,
    /// 0 before the stream header, 1 between top-level elements, >1 inside one.
    depth: u32,
    /// Start of the top-level element in progress.
    elem_start: Option<usize>,
    /// Largest element accepted (0 = no limit).
    max_element: usize,
}

impl Splitter {
    pub fn new(max_element: usize) -> Self {
        Self {
            max_element,
            ..Self::default()
        }
    }

    /// Forget the stream context, as after STARTTLS or SASL success (RFC 6120 §5.4.3.3, §6.4.6):
    /// the next thing expected is a new stream header.
    pub fn reset(&mut self) {
        self.depth = 0;
        self.elem_start = None;
    }

    /// Bytes before this offset are no longer needed.
    pub fn consumed(&self) -> usize {
        self.elem_start.unwrap_or(self.pos)
    }

    /// The caller removed `n` bytes from the front of its buffer.
    pub fn rebase(&mut self, n: usize) {
        self.pos -= n;
        if let Some(s) = self.elem_start.as_mut() {
            *s -= n;
        }
    }

    /// Scans `buf` from the last position. `Ok(None)` means more bytes are needed.
    pub fn next(&mut self, buf: &[u8]) -> Result<Option<Event>, SplitError> {
        loop {
            if let Some(start) = self.elem_start
                && self.max_element > 0
                && buf.len() - start > self.max_element
            {
                return Err(SplitError::TooLarge(self.max_element));
            }
            let Some(off) = memchr(b'<', &buf[self.pos..]) else {
                // Text (whitespace keepalives, character data): skip it all.
                self.pos = buf.len();
                return Ok(None);
            };
            let lt = self.pos + off;
            self.pos = lt;
            let rest = &buf[lt..];
            if rest.len() < 2 {
                return Ok(None);
            }
            match rest[1] {
                b'?' => {
                    let Some(end) = find(rest, b"?>") else {
                        return Ok(None);
                    };
                    if !rest.starts_with(b"<?xml") || self.depth > 0 {
                        return Err(SplitError::Forbidden);
                    }
                    self.pos = lt + end + 2;
                }
                b'!' => {
                    if rest.len() < 9 {
                        return Ok(None);
                    }
                    let close: &[u8] = if rest.starts_with(b"<!--") {
                        b"-->"
                    } else if rest.starts_with(b"<![CDATA[") {
                        b"]]>"
                    } else {
                        return Err(SplitError::Forbidden);
                    };
                    let Some(end) = find(rest, close) else {
                        return Ok(None);
                    };
                    self.pos = lt + end + close.len();
                }
                b'/' => {
                    let Some(end) = memchr(b'>', rest) else {
                        return Ok(None);
                    };
                    self.pos = lt + end + 1;
                    match self.depth {
                        0 => return Err(SplitError::Unbalanced),
                        1 => {
                            self.depth = 0;
                            return Ok(Some(Event::StreamClose));
                        }
                        2 => {
                            self.depth = 1;
                            let start = self.elem_start.take().unwrap_or(lt);
                            return Ok(Some(Event::Element(start..self.pos)));
                        }
                        _ => self.depth -= 1,
                    }
                }
                _ => {
                    let Some(end) = tag_end(rest) else {
                        return Ok(None);
                    };
                    let empty = end > 0 && rest[end - 1] == b'/';
                    self.pos = lt + end + 1;
                    match self.depth {
                        0 => {
                            if empty {
                                return Err(SplitError::EmptyStreamHeader);
                            }
                            self.depth = 1;
                            return Ok(Some(Event::StreamOpen(lt..self.pos)));
                        }
                        1 if empty => return Ok(Some(Event::Element(lt..self.pos))),
                        1 => {
                            self.elem_start = Some(lt);
                            self.depth = 2;
                        }
                        d if empty => debug_assert!(d > 1),
                        d if d >= MAX_DEPTH => return Err(SplitError::TooDeep),
                        _ => self.depth += 1,
                    }
                }
            }
        }
    }
}

/// Offset of the `>` that ends the tag starting at `tag[0] == b'<'`, skipping quoted values.
fn tag_end(tag: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in tag.iter().enumerate().skip(1) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

pub fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// First offset of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='x>y' version='1.0'>\
        <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
        </stream:features> \n<presence from='a@b/c'><status>x &lt; y<![CDATA[</presence>]]></status>\
        <!-- c --></presence><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>";

    fn events(buf: &[u8], sp: &mut Splitter) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(ev) = sp.next(buf).unwrap() {
            out.push(ev);
        }
        out
    }

    fn texts(input: &[u8], evs: &[Event]) -> Vec<String> {
        evs.iter()
            .map(|e| match e {
                Event::StreamOpen(r) => {
                    format!("open:{}", String::from_utf8_lossy(&input[r.clone()]))
                }
                Event::Element(r) => String::from_utf8_lossy(&input[r.clone()]).into_owned(),
                Event::StreamClose => "close".into(),
            })
            .collect()
    }

    #[test]
    fn whole_buffer() {
        let mut sp = Splitter::new(0);
        let t = texts(STREAM, &events(STREAM, &mut sp));
        assert_eq!(t.len(), 5, "{t:?}");
        assert!(t[0].starts_with("open:<stream:stream") && t[0].ends_with("version='1.0'>"));
        assert!(t[1].starts_with("<stream:features>") && t[1].ends_with("</stream:features>"));
        assert!(t[2].starts_with("<presence") && t[2].ends_with("<!-- c --></presence>"));
        assert_eq!(t[3], "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        assert_eq!(t[4], "close");
    }

    /// Feeding the stream one byte at a time gives the same events as feeding it whole.
    #[test]
    fn byte_by_byte_matches_whole() {
        let mut sp = Splitter::new(0);
        let whole = texts(STREAM, &events(STREAM, &mut sp));
        let mut sp = Splitter::new(0);
        let mut got = Vec::new();
        for n in 1..=STREAM.len() {
            got.extend(events(&STREAM[..n], &mut sp));
        }
        assert_eq!(texts(STREAM, &got), whole);
    }

    /// Dropping consumed bytes and rebasing keeps ranges right, also mid-element.
    #[test]
    fn compaction_mid_element() {
        let mut sp = Splitter::new(0);
        let mut buf: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        for chunk in STREAM.chunks(7) {
            buf.extend_from_slice(chunk);
            while let Some(ev) = sp.next(&buf).unwrap() {
                out.extend(texts(&buf, &[ev]));
            }
            let c = sp.consumed();
            buf.drain(..c);
            sp.rebase(c);
        }
        let mut sp = Splitter::new(0);
        assert_eq!(out, texts(STREAM, &events(STREAM, &mut sp)));
    }

    #[test]
    fn reset_expects_new_header() {
        let input = b"<stream:stream><success xmlns='s'/><stream:stream id='2'><x/>";
        let mut sp = Splitter::new(0);
        assert!(matches!(sp.next(input), Ok(Some(Event::StreamOpen(_)))));
        assert!(matches!(sp.next(input), Ok(Some(Event::Element(_)))));
        sp.reset();
        assert!(matches!(sp.next(input), Ok(Some(Event::StreamOpen(_)))));
        assert!(matches!(sp.next(input), Ok(Some(Event::Element(_)))));
        assert_eq!(sp.next(input), Ok(None));
    }

    #[test]
    fn hostile_input() {
        let mut sp = Splitter::new(0);
        assert_eq!(
            sp.next(b"<!DOCTYPE x [<!ENTITY a 'b'>]>"),
            Err(SplitError::Forbidden)
        );
        let mut sp = Splitter::new(0);
        assert_eq!(
            sp.next(b"<stream:stream/>"),
            Err(SplitError::EmptyStreamHeader)
        );
        let big = b"<s><message><body>aaaaaaaaaaaaaaaaaaaa";
        let mut sp = Splitter::new(16);
        assert!(matches!(sp.next(big), Ok(Some(Event::StreamOpen(_)))));
        assert_eq!(sp.next(big), Err(SplitError::TooLarge(16)));
        let deep: Vec<u8> = b"<s>"
            .iter()
            .chain(b"<a>".repeat(100).iter())
            .copied()
            .collect();
        let mut sp = Splitter::new(0);
        assert!(matches!(sp.next(&deep), Ok(Some(Event::StreamOpen(_)))));
        assert_eq!(sp.next(&deep), Err(SplitError::TooDeep));
    }

    #[test]
    fn find_patterns() {
        assert_eq!(find(b"abcabc", b"ca"), Some(2));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(tag_end(b"<a b='>' c=\"'>\"/>x"), Some(16));
    }
}
