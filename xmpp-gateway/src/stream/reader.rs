//! Bytes to stream items: the stream header, each first-level element as a
//! `minidom::Element`, and the closing `</stream:stream>` (RFC 6120 §4).
//!
//! rxml refuses DTDs, processing instructions, comments and custom entities itself
//! (RFC 6120 §11.1). On top of it we enforce, while the bytes arrive and before any
//! tree is built for them: a byte budget per first-level element, a nesting depth and
//! an element count. The read buffer is small and fixed, and `next` is cancel-safe:
//! every bit of progress lives in `self`, so it can sit in a `select!`.

use minidom::Element;
use rxml::error::EndOrError;
use rxml::{Event, Parse, Parser};
use std::future::poll_fn;

use tokio::io::AsyncRead;

use super::StreamHeader;
use super::bytes::poll_read_appending;
use super::error::{ReadError, StreamCondition};
use crate::ns::STREAM;

/// Hard limits of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Most bytes one first-level element (or the stream header) may take.
    pub max_stanza_bytes: usize,
    /// Deepest nesting inside a first-level element (the element itself is depth 1).
    pub max_depth: usize,
    /// Most elements in one first-level element, itself included. Bounds the memory a
    /// stanza of tiny empty elements costs, since a tree node is far larger than `<a/>`.
    pub max_elements: usize,
    /// Bytes asked from the transport per read; the buffer is freed between reads.
    pub read_chunk: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: 256 * 1024,
            max_depth: 32,
            max_elements: 8192,
            read_chunk: 1024,
        }
    }
}

/// One item read from a stream.
#[derive(Debug)]
pub enum Item {
    /// The opening `<stream:stream>` tag.
    Header(StreamHeader),
    /// A complete first-level element (stanza or nonza).
    Element(Element),
    /// The peer closed its stream with `</stream:stream>`.
    Close,
}

/// Incremental reader of one XML stream.
pub struct XmlReader {
    parser: Parser,
    limits: ReadLimits,
    /// Bytes read and not yet fed to the parser are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// Whether the stream header has been read since the last reset.
    header_seen: bool,
    /// Whether the bytes before the header have been seen to start like XML.
    prolog_ok: bool,
    /// The first-level element being built and its open descendants.
    stack: Vec<Element>,
    /// Bytes spent on the current first-level element (or header).
    spent: usize,
    /// Elements in the current first-level element.
    elements: usize,
    /// Bytes received since the connection opened (whitespace keepalives included).
    received: u64,
    /// The parser has asked for more bytes than it was given. A session polls its
    /// reader again after every stanza it writes; without new bytes there is nothing
    /// for the parser to do, so it is not asked again.
    starved: bool,
}

impl XmlReader {
    /// A reader for a new stream.
    pub fn new(limits: ReadLimits) -> Self {
        Self {
            parser: new_parser(),
            limits,
            buf: Vec::new(),
            pos: 0,
            header_seen: false,
            prolog_ok: false,
            stack: Vec::new(),
            spent: 0,
            elements: 0,
            received: 0,
            starved: false,
        }
    }

    /// Start a new XML document on the same transport (after STARTTLS or SASL success,
    /// RFC 6120 §4.3.3). Bytes already buffered are kept for the new stream.
    pub fn reset(&mut self) {
        self.parser = new_parser();
        self.header_seen = false;
        self.prolog_ok = false;
        self.stack = Vec::new();
        self.spent = 0;
        self.elements = 0;
        self.starved = false;
    }

    /// Change the byte budget (larger once the peer is authenticated).
    pub fn set_max_stanza_bytes(&mut self, max: usize) {
        self.limits.max_stanza_bytes = max;
    }

    /// Bytes received since the connection opened: any traffic, whitespace keepalives
    /// included, proves the peer alive.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Bytes received but not parsed yet.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Read the next item, waiting for bytes as needed. Cancel-safe.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Result<Item, ReadError> {
        loop {
            if let Some(item) = self.parse_buffered()? {
                return Ok(item);
            }
            // Everything buffered went to the parser: drop what it keeps for the
            // next token, and our own buffer, while we wait.
            if self.stack.is_empty() {
                self.parser.release_temporaries();
            }
            self.buf = Vec::new();
            self.pos = 0;
            let chunk = self.limits.read_chunk;
            let n = poll_fn(|cx| poll_read_appending(io, cx, chunk, &mut self.buf)).await?;
            if n == 0 {
                return Err(ReadError::Eof);
            }
            self.received += n as u64;
            self.starved = false;
        }
    }

    /// Parse buffered bytes until an item is complete or the buffer is empty.
    pub fn parse_buffered(&mut self) -> Result<Option<Item>, ReadError> {
        if self.starved && self.pos == self.buf.len() {
            return Ok(None);
        }
        if !self.prolog_ok {
            self.check_prolog()?;
        }
        loop {
            let mut rest = &self.buf[self.pos..];
            let before = rest.len();
            let result = self.parser.parse(&mut rest, false);
            let consumed = before - rest.len();
            self.pos += consumed;
            self.spent = self.spent.saturating_add(consumed);
            let event = match result {
                Ok(Some(ev)) => ev,
                // A document ended by its root closing never yields `None` while
                // `at_eof` is false; treat it like more-data for safety.
                Ok(None) | Err(EndOrError::NeedMoreData) => {
                    self.check_budget()?;
                    self.starved = self.pos == self.buf.len();
                    return Ok(None);
                }
                // Before the root element the only `<!` construct is a DTD; rxml
                // reports it as a malformed comment start.
                Err(EndOrError::Error(rxml::Error::InvalidSyntax(why))) if !self.header_seen => {
                    return Err(ReadError::stream(StreamCondition::RestrictedXml, why));
                }
                Err(EndOrError::Error(e)) => return Err(e.into()),
            };
            self.check_budget()?;
            if let Some(item) = self.event(event)? {
                return Ok(Some(item));
            }
        }
    }

    /// A document must start with `<` after optional whitespace and byte order mark.
    /// rxml would buffer other bytes waiting for one, so an HTTP request or TLS
    /// ClientHello sent to the plain port is refused here, at once.
    fn check_prolog(&mut self) -> Result<(), ReadError> {
        let mut bytes = &self.buf[self.pos..];
        if self.spent == 0 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        match bytes
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            Some(b'<') => {
                self.prolog_ok = true;
                Ok(())
            }
            Some(_) => Err(ReadError::stream(
                StreamCondition::NotWellFormed,
                "not an XML stream",
            )),
            None => Ok(()),
        }
    }

    fn check_budget(&self) -> Result<(), ReadError> {
        if self.spent > self.limits.max_stanza_bytes {
            return Err(ReadError::stream(
                StreamCondition::PolicyViolation,
                format!("element larger than {} bytes", self.limits.max_stanza_bytes),
            ));
        }
        Ok(())
    }

    fn event(&mut self, event: Event) -> Result<Option<Item>, ReadError> {
        match event {
            Event::XmlDeclaration(..) => Ok(None),
            Event::StartElement(_, (ns, name), attrs) => {
                if !self.header_seen {
                    self.header_seen = true;
                    self.spent = 0;
                    if ns.as_str() != STREAM || name.as_str() != "stream" {
                        return Err(ReadError::stream(
                            StreamCondition::InvalidNamespace,
                            format!("root element {{{ns}}}{name}"),
                        ));
                    }
                    return Ok(Some(Item::Header(StreamHeader::from_attrs(&attrs))));
                }
                if self.stack.len() >= self.limits.max_depth {
                    return Err(ReadError::stream(
                        StreamCondition::PolicyViolation,
                        format!("nesting deeper than {}", self.limits.max_depth),
                    ));
                }
                self.elements += 1;
                if self.elements > self.limits.max_elements {
                    return Err(ReadError::stream(
                        StreamCondition::PolicyViolation,
                        format!(
                            "more than {} elements in one stanza",
                            self.limits.max_elements
                        ),
                    ));
                }
                let mut el = Element::builder(name.as_str(), ns.as_str()).build();
                *el.attrs_mut() = attrs;
                self.stack.push(el);
                Ok(None)
            }
            Event::EndElement(_) => match self.stack.pop() {
                None => Ok(Some(Item::Close)),
                Some(el) => match self.stack.last_mut() {
                    Some(parent) => {
                        parent.append_child(el);
                        Ok(None)
                    }
                    None => {
                        self.spent = 0;
                        self.elements = 0;
                        Ok(Some(Item::Element(el)))
                    }
                },
            },
            Event::Text(_, text) => {
                match self.stack.last_mut() {
                    Some(top) => top.append_text(text),
                    // Between first-level elements only whitespace is allowed
                    // (RFC 6120 §11.7); it costs nothing, so it resets the budget.
                    None if text
                        .bytes()
                        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
                    {
                        self.spent = 0;
                    }
                    None => {
                        return Err(ReadError::stream(
                            StreamCondition::BadFormat,
                            "text between stanzas",
                        ));
                    }
                }
                Ok(None)
            }
        }
    }
}

/// A parser that emits text as soon as it arrives: with rxml's text buffering,
/// whitespace keepalives would pile up unseen until a token limit.
fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser.set_text_buffering(false);
    parser
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "reader_tests.rs"]
mod tests;
