use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                      xmlns:stream='http://etherx.jabber.org/streams' to='example.com' \
                      version='1.0' xml:lang='de'>";

fn reader() -> XmlReader {
    XmlReader::new(ReadLimits {
        max_stanza_bytes: 4096,
        ..ReadLimits::default()
    })
}

async fn items(input: &str) -> (Vec<Item>, Option<ReadError>) {
    let mut r = reader();
    let mut io = input.as_bytes();
    let mut out = Vec::new();
    loop {
        match r.next(&mut io).await {
            Ok(item) => out.push(item),
            Err(ReadError::Eof) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn condition(e: Option<ReadError>) -> StreamCondition {
    match e {
        Some(ReadError::Stream { condition, .. }) => condition,
        other => panic!("expected a stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn header_stanzas_whitespace_and_close() {
    let input = format!(
        "{HEADER} <presence/>\n\n<message to='a@b'><body>hi &amp; bye</body></message> </stream:stream>"
    );
    let (items, err) = items(&input).await;
    assert!(err.is_none());
    let Item::Header(h) = &items[0] else { panic!() };
    assert_eq!(h.to.as_deref(), Some("example.com"));
    assert_eq!(h.version.as_deref(), Some("1.0"));
    assert_eq!(h.lang.as_deref(), Some("de"));
    let Item::Element(p) = &items[1] else {
        panic!()
    };
    assert!(p.is("presence", "jabber:client"));
    let Item::Element(m) = &items[2] else {
        panic!()
    };
    assert_eq!(m.attr("to"), Some("a@b"));
    assert_eq!(
        m.get_child("body", "jabber:client").unwrap().text(),
        "hi & bye"
    );
    assert!(matches!(items[3], Item::Close));
}

#[tokio::test]
async fn restricted_xml_is_refused() {
    for bad in [
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><stream:stream/>".to_owned(),
        format!("{HEADER}<!-- hi --><presence/>"),
        format!("{HEADER}<?pi x?><presence/>"),
        format!("{HEADER}<presence>&custom;</presence>"),
    ] {
        assert_eq!(
            condition(items(&bad).await.1),
            StreamCondition::RestrictedXml,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn garbage_is_not_well_formed() {
    let (_, err) = items("GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(condition(err), StreamCondition::NotWellFormed);
    let (_, err) = items(&format!("{HEADER}<presence></message>")).await;
    assert_eq!(condition(err), StreamCondition::NotWellFormed);
    let (_, err) = items(&format!("{HEADER}<x:presence/>")).await;
    assert_eq!(condition(err), StreamCondition::NotWellFormed);
}

#[tokio::test]
async fn wrong_root_and_text_between_stanzas() {
    let (_, err) = items("<stream xmlns='jabber:client'>").await;
    assert_eq!(condition(err), StreamCondition::InvalidNamespace);
    let (_, err) = items(&format!("{HEADER}<presence/>hello<presence/>")).await;
    assert_eq!(condition(err), StreamCondition::BadFormat);
}

/// A source of one repeated pattern that counts what it handed out; after `stop`
/// bytes it stays pending forever (so a timer can fire), otherwise it never ends.
struct Endless {
    prefix: Vec<u8>,
    pattern: &'static [u8],
    given: usize,
    stop: usize,
}

impl tokio::io::AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.given >= self.stop {
            return Poll::Pending;
        }
        while buf.remaining() > 0 && self.given < self.stop {
            let at = self.given;
            let byte = if at < self.prefix.len() {
                self.prefix[at]
            } else {
                self.pattern[(at - self.prefix.len()) % self.pattern.len()]
            };
            buf.put_slice(&[byte]);
            self.given += 1;
        }
        Poll::Ready(Ok(()))
    }
}

async fn endless(body: &str, pattern: &'static [u8]) -> (StreamCondition, usize) {
    let mut r = reader();
    let mut io = Endless {
        prefix: format!("{HEADER}{body}").into_bytes(),
        pattern,
        given: 0,
        stop: usize::MAX,
    };
    let first = r.next(&mut io).await.unwrap();
    assert!(matches!(first, Item::Header(_)));
    let err = r.next(&mut io).await.err();
    (condition(err), io.given)
}

#[tokio::test]
async fn oversized_stanza_stops_at_the_budget() {
    let (cond, given) = endless("<message><body>", b"aaaaaaaaaaaaaaaa").await;
    assert_eq!(cond, StreamCondition::PolicyViolation);
    assert!(given < HEADER.len() + 4096 + 2 * 1024, "read {given} bytes");
}

#[tokio::test]
async fn deep_nesting_stops_at_the_limit() {
    let (cond, given) = endless("", b"<a>").await;
    assert_eq!(cond, StreamCondition::PolicyViolation);
    assert!(given < HEADER.len() + 2 * 1024, "read {given} bytes");
}

#[tokio::test]
async fn many_tiny_elements_stop_at_the_count() {
    let mut r = XmlReader::new(ReadLimits {
        max_elements: 100,
        ..ReadLimits::default()
    });
    let input = format!("{HEADER}<iq>{}</iq>", "<a/>".repeat(200));
    let mut io = input.as_bytes();
    assert!(matches!(r.next(&mut io).await.unwrap(), Item::Header(_)));
    let err = r.next(&mut io).await.err();
    assert_eq!(condition(err), StreamCondition::PolicyViolation);
}

#[tokio::test]
async fn endless_whitespace_keepalive_is_fine() {
    let mut r = reader();
    let mut io = Endless {
        prefix: HEADER.as_bytes().to_vec(),
        pattern: b" ",
        given: 0,
        stop: 1 << 20,
    };
    assert!(matches!(r.next(&mut io).await.unwrap(), Item::Header(_)));
    let waited = tokio::time::timeout(std::time::Duration::from_millis(200), r.next(&mut io)).await;
    assert!(
        waited.is_err(),
        "whitespace must neither end the stream nor hit the budget"
    );
}

#[tokio::test]
async fn reset_starts_a_new_document_with_buffered_bytes() {
    let input = format!("{HEADER}<auth/>{HEADER}<iq/>");
    let mut io = input.as_bytes();
    let mut r = reader();
    assert!(matches!(r.next(&mut io).await.unwrap(), Item::Header(_)));
    assert!(matches!(r.next(&mut io).await.unwrap(), Item::Element(_)));
    assert!(r.buffered() > 0);
    r.reset();
    assert!(matches!(r.next(&mut io).await.unwrap(), Item::Header(_)));
    let Item::Element(iq) = r.next(&mut io).await.unwrap() else {
        panic!()
    };
    assert_eq!(iq.name(), "iq");
}
