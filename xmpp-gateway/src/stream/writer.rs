//! Our side of a stream as bytes: the header, first-level elements, stream errors
//! (RFC 6120 §4.9) and the closing tag. Serialisation is pure; `flush` does the I/O.

use minidom::Element;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::error::StreamCondition;
use crate::ns::{COMPONENT_ACCEPT, DIALBACK, JABBER_CLIENT, JABBER_SERVER, STREAM, XMPP_STREAMS};

/// The kind of stream we write, which our header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A client stream: content namespace `jabber:client` (RFC 6120 §4.8.3).
    Client,
    /// A server stream: content namespace `jabber:server`, and the dialback prefix
    /// declared so that peers know we speak it (XEP-0220 §2.1).
    Server,
    /// A component stream: content namespace `jabber:component:accept` and no `version`,
    /// as XEP-0114 §3 shows it (a component expects no stream features).
    Component,
}

/// Serialises our stream into a reusable buffer.
#[derive(Debug)]
pub struct StreamWriter {
    out: Vec<u8>,
    content: Content,
    header_sent: bool,
    closed: bool,
}

impl StreamWriter {
    /// A writer for a new connection carrying a `content` stream.
    pub fn new(content: Content) -> Self {
        Self {
            out: Vec::new(),
            content,
            header_sent: false,
            closed: false,
        }
    }

    /// Our opening tag for a (re)started stream (RFC 6120 §4.7). `to` echoes the peer's
    /// `from` when it sent one; `id` is ours when we are the receiving entity.
    pub fn header(&mut self, from: &str, to: Option<&str>, id: Option<&str>) {
        let to = to
            .map(|t| format!(" to='{}'", escape_attr(t)))
            .unwrap_or_default();
        let id = id
            .map(|i| format!(" id='{}'", escape_attr(i)))
            .unwrap_or_default();
        let (content_ns, declare, version) = match self.content {
            Content::Client => (JABBER_CLIENT, String::new(), " version='1.0'"),
            Content::Server => (
                JABBER_SERVER,
                format!(" xmlns:db='{DIALBACK}'"),
                " version='1.0'",
            ),
            Content::Component => (COMPONENT_ACCEPT, String::new(), ""),
        };
        let header = format!(
            "<?xml version='1.0'?><stream:stream xmlns='{content_ns}' xmlns:stream='{STREAM}'\
             {declare} from='{}'{to}{id}{version} xml:lang='en'>",
            escape_attr(from),
        );
        self.out.extend_from_slice(header.as_bytes());
        self.header_sent = true;
    }

    /// Whether our header went out on the current stream.
    pub fn header_sent(&self) -> bool {
        self.header_sent
    }

    /// Forget the header: the stream restarts (after STARTTLS or SASL success).
    pub fn reset(&mut self) {
        self.header_sent = false;
    }

    /// Append one first-level element.
    pub fn element(&mut self, el: &Element) {
        let mark = self.out.len();
        if el.write_to(&mut self.out).is_err() {
            // Only an element we built wrongly can fail; never send half of it.
            self.out.truncate(mark);
            tracing::error!(name = el.name(), "could not serialise an element");
        }
    }

    /// Append raw, already well-formed XML of our own.
    pub fn raw(&mut self, xml: &str) {
        self.out.extend_from_slice(xml.as_bytes());
    }

    /// Append a stream error and the closing tag. Our header must come first, even
    /// when the peer's was unacceptable (RFC 6120 §4.9.1.2); `from` names us then.
    pub fn stream_error(&mut self, condition: StreamCondition, text: Option<&str>, from: &str) {
        if !self.header_sent {
            self.header(from, None, Some(&new_stream_id()));
        }
        let text = text
            .map(|t| format!("<text xmlns='{XMPP_STREAMS}'>{}</text>", escape_attr(t)))
            .unwrap_or_default();
        let xml = format!(
            "<stream:error><{} xmlns='{XMPP_STREAMS}'/>{text}</stream:error>",
            condition.name()
        );
        self.out.extend_from_slice(xml.as_bytes());
        self.close();
    }

    /// Append our closing tag (once).
    pub fn close(&mut self) {
        if !self.closed {
            self.out.extend_from_slice(b"</stream:stream>");
            self.closed = true;
        }
    }

    /// Whether our closing tag is written.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// Write everything pending and flush the transport.
    pub async fn flush<W: AsyncWrite + Unpin>(&mut self, io: &mut W) -> std::io::Result<()> {
        if !self.out.is_empty() {
            io.write_all(&self.out).await?;
            // Most sessions are idle most of the time: between writes they hold no buffer.
            // A burst of stanzas is written in one flush, so this costs one allocation per
            // burst.
            self.out = Vec::new();
        }
        io.flush().await
    }
}

/// A fresh random stream id (RFC 6120 §4.7.3 asks for at least 128 bits of randomness).
pub(crate) fn new_stream_id() -> String {
    let mut raw = [0u8; 16];
    rand::fill(&mut raw[..]);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// Escape text for an attribute value or character data delimited by `'`.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn error_before_header_sends_header_first() {
        let mut w = StreamWriter::new(Content::Client);
        w.stream_error(StreamCondition::HostUnknown, None, "example.com");
        let s = String::from_utf8(w.pending().to_vec()).unwrap();
        assert!(s.starts_with("<?xml version='1.0'?><stream:stream "), "{s}");
        assert!(s.contains("from='example.com'"));
        assert!(s.ends_with(
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             </stream:error></stream:stream>"
        ));
        w.close();
        assert_eq!(s.matches("</stream:stream>").count(), 1);
        assert_eq!(w.pending().len(), s.len());
    }

    #[test]
    fn server_header_declares_dialback_and_omits_what_it_lacks() {
        let mut w = StreamWriter::new(Content::Server);
        w.header("a.example", Some("b.example"), None);
        let s = String::from_utf8(w.pending().to_vec()).unwrap();
        assert_eq!(
            s,
            "<?xml version='1.0'?><stream:stream xmlns='jabber:server' \
             xmlns:stream='http://etherx.jabber.org/streams' \
             xmlns:db='jabber:server:dialback' from='a.example' to='b.example' \
             version='1.0' xml:lang='en'>"
        );
    }

    #[test]
    fn header_escapes_and_error_text() {
        let mut w = StreamWriter::new(Content::Client);
        w.header("a'b", Some("u@x<"), Some("id1"));
        w.stream_error(StreamCondition::PolicyViolation, Some("too <big>"), "x");
        let s = String::from_utf8(w.pending().to_vec()).unwrap();
        assert!(s.contains("from='a&apos;b' to='u@x&lt;' id='id1'"), "{s}");
        assert!(
            s.contains("<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too &lt;big&gt;</text>")
        );
        assert_eq!(s.matches("<stream:stream ").count(), 1);
    }
}
