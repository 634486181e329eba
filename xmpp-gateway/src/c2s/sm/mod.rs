//! XEP-0198 Stream Management 1.6.3 (`urn:xmpp:sm:3`) on client streams: the counts of
//! stanzas handled each way, the bounded queue of what the client has not acknowledged, the
//! nonzas, and resumption of a session whose connection dropped ([`resume`]).
//!
//! Counting starts when `<enabled/>` is sent. Every stanza written to the client is kept, as
//! written, until the client acknowledges it with `<a h/>`; the queue is bounded in stanzas
//! and bytes, and a client that lets it overflow gets a stream error rather than our memory.
//! Counts are 32-bit and wrap (XEP-0198 §4).

pub(crate) mod resume;
pub(crate) mod undelivered;

use std::collections::VecDeque;

use minidom::Element;

use crate::ns::{SM, XMPP_STANZAS};
use crate::session::Outgoing;
use crate::stream::escape_attr;

/// Stream management of one session: nothing until the client enables it.
#[derive(Debug, Default)]
pub(crate) struct Managed {
    /// Counts and queue, once `<enabled/>` went out.
    pub(crate) sm: Option<Sm>,
    /// The registration, when the session may be resumed.
    pub(crate) ticket: Option<resume::Ticket>,
}

/// Bounds of the queue of stanzas sent and not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Most stanzas kept.
    pub(crate) stanzas: usize,
    /// Most bytes kept, as written.
    pub(crate) bytes: usize,
}

/// The queue outgrew its [`Bounds`]: the client does not acknowledge what it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {stanzas} stanzas or {bytes} bytes unacknowledged")]
pub(crate) struct Overflow {
    stanzas: usize,
    bytes: usize,
}

/// The client acknowledged stanzas we never sent (XEP-0198 §4, `handled-count-too-high`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("acknowledged {h}, but only {sent} were sent")]
pub(crate) struct TooHigh {
    h: u32,
    sent: u32,
}

/// The stream management state of one session.
#[derive(Debug)]
pub(crate) struct Sm {
    /// Stanzas from the client handled since `<enabled/>` (its `h`).
    handled: u32,
    /// Stanzas written to the client since `<enabled/>`.
    sent: u32,
    /// What was written and is not acknowledged yet, oldest first.
    unacked: VecDeque<Box<str>>,
    unacked_bytes: usize,
    /// We asked with `<r/>` and no `<a/>` came yet.
    requested: bool,
    bounds: Bounds,
}

impl Sm {
    /// Counting from zero both ways.
    pub(crate) fn new(bounds: Bounds) -> Self {
        Self {
            handled: 0,
            sent: 0,
            unacked: VecDeque::new(),
            unacked_bytes: 0,
            requested: false,
            bounds,
        }
    }

    /// One more stanza from the client was handled.
    pub(crate) fn handled(&mut self) {
        self.handled = self.handled.wrapping_add(1);
    }

    /// The client's `h`: what we answer `<r/>` and `<resume/>` with.
    pub(crate) fn handled_count(&self) -> u32 {
        self.handled
    }

    /// A stanza was written (or, detached, queued) for the client; it is kept until
    /// acknowledged. `Err` when that makes the queue outgrow its bounds.
    pub(crate) fn sent(&mut self, xml: Box<str>) -> Result<(), Overflow> {
        self.sent = self.sent.wrapping_add(1);
        self.unacked_bytes += xml.len();
        self.unacked.push_back(xml);
        if self.unacked.len() > self.bounds.stanzas || self.unacked_bytes > self.bounds.bytes {
            return Err(Overflow {
                stanzas: self.bounds.stanzas,
                bytes: self.bounds.bytes,
            });
        }
        Ok(())
    }

    /// The client's `<a h/>` (or the `h` of its `<resume/>`): forget what it has. An `h`
    /// behind what it acknowledged before changes nothing.
    pub(crate) fn acked(&mut self, h: u32) -> Result<(), TooHigh> {
        self.requested = false;
        let queued = u32::try_from(self.unacked.len()).unwrap_or(u32::MAX);
        let base = self.sent.wrapping_sub(queued);
        let newly = h.wrapping_sub(base);
        if newly > queued {
            // Behind the base (wrapping) is an old ack; ahead of what was sent is a lie.
            return if base.wrapping_sub(h) < (1 << 31) {
                Ok(())
            } else {
                Err(TooHigh { h, sent: self.sent })
            };
        }
        for xml in self.unacked.drain(..newly as usize) {
            self.unacked_bytes -= xml.len();
        }
        if self.unacked.is_empty() {
            // Most of the time the queue is empty: keep no buffer then.
            self.unacked = VecDeque::new();
        }
        Ok(())
    }

    /// Whether to ask for an acknowledgement now: something is unacknowledged and no request
    /// is outstanding. Marks the request as made.
    pub(crate) fn should_request(&mut self) -> bool {
        if self.requested || self.unacked.is_empty() {
            return false;
        }
        self.requested = true;
        true
    }

    /// A new connection took over: the request made on the old one is void.
    pub(crate) fn reset_request(&mut self) {
        self.requested = false;
    }

    /// What the client has not acknowledged, oldest first.
    pub(crate) fn unacked(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.unacked.iter().map(|x| &**x)
    }

    /// The unacknowledged stanzas, for handling as undelivered.
    pub(crate) fn into_unacked(self) -> VecDeque<Box<str>> {
        self.unacked
    }
}

/// A stanza for the client as the bytes written (and kept); `None` for what is no stanza.
pub(crate) fn serialized(out: Outgoing) -> Option<Box<str>> {
    match out {
        Outgoing::Stanza(el) => Some(String::from(&*el).into()),
        Outgoing::Serialized(xml) => Some(xml),
        Outgoing::Flush | Outgoing::Close(_) => None,
    }
}

/// A stream management element from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Nonza {
    /// `<enable/>`, asking for resumption or not.
    Enable { resume: bool },
    /// `<r/>`: how many of yours did I get?
    Request,
    /// `<a h/>`.
    Ack(u32),
    /// `<resume previd h/>`.
    Resume { previd: String, h: u32 },
    /// Anything else in the namespace, or one of the above without a valid `h`.
    Invalid,
}

/// `None` when `el` is not in the stream management namespace.
pub(crate) fn nonza(el: &Element) -> Option<Nonza> {
    if el.ns() != SM {
        return None;
    }
    let h = || el.attr("h").and_then(|h| h.parse::<u32>().ok());
    Some(match el.name() {
        "enable" => Nonza::Enable {
            resume: matches!(el.attr("resume"), Some("true" | "1")),
        },
        "r" => Nonza::Request,
        "a" => h().map_or(Nonza::Invalid, Nonza::Ack),
        "resume" => match (el.attr("previd"), h()) {
            (Some(previd), Some(h)) => Nonza::Resume {
                previd: previd.to_owned(),
                h,
            },
            _ => Nonza::Invalid,
        },
        _ => Nonza::Invalid,
    })
}

/// `<enabled/>`, with the id to resume by and the window in seconds when resumable.
pub(crate) fn enabled(resume: Option<(&str, u64)>) -> String {
    match resume {
        Some((id, max)) => format!(
            "<enabled xmlns='{SM}' id='{}' resume='true' max='{max}'/>",
            escape_attr(id)
        ),
        None => format!("<enabled xmlns='{SM}'/>"),
    }
}

/// `<r/>`.
pub(crate) fn request() -> String {
    format!("<r xmlns='{SM}'/>")
}

/// `<a h/>`.
pub(crate) fn ack(h: u32) -> String {
    format!("<a xmlns='{SM}' h='{h}'/>")
}

/// `<resumed previd h/>`.
pub(crate) fn resumed(previd: &str, h: u32) -> String {
    format!(
        "<resumed xmlns='{SM}' previd='{}' h='{h}'/>",
        escape_attr(previd)
    )
}

/// `<failed/>` with an RFC 6120 stanza error condition (XEP-0198 §3, §5).
pub(crate) fn failed(condition: &str) -> String {
    format!("<failed xmlns='{SM}'><{condition} xmlns='{XMPP_STANZAS}'/></failed>")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ROOMY: Bounds = Bounds {
        stanzas: 100,
        bytes: 10_000,
    };

    fn sent(sm: &mut Sm, n: u32) {
        for i in 0..n {
            sm.sent(format!("<m n='{i}'/>").into()).unwrap();
        }
    }

    #[test]
    fn acks_drop_what_the_client_has() {
        let mut sm = Sm::new(ROOMY);
        sent(&mut sm, 5);
        assert!(sm.should_request());
        assert!(!sm.should_request(), "one request at a time");
        sm.acked(2).unwrap();
        assert_eq!(sm.unacked().count(), 3);
        assert_eq!(sm.unacked().next(), Some("<m n='2'/>"));
        assert!(sm.should_request(), "the ack answered the request");
        // An old ack changes nothing; an ack of the same again neither.
        sm.acked(1).unwrap();
        sm.acked(2).unwrap();
        assert_eq!(sm.unacked().count(), 3);
        assert_eq!(sm.acked(6), Err(TooHigh { h: 6, sent: 5 }));
        sm.acked(5).unwrap();
        assert_eq!(sm.unacked().count(), 0);
        assert_eq!(sm.unacked_bytes, 0);
        assert!(!sm.should_request(), "nothing to ask about");
    }

    #[test]
    fn counts_wrap_at_32_bits() {
        let mut sm = Sm::new(ROOMY);
        sm.sent = u32::MAX - 1;
        sm.handled = u32::MAX;
        sm.handled();
        assert_eq!(sm.handled_count(), 0);
        sent(&mut sm, 4);
        // Sent 2^32-1, 0, 1, 2: the client has the first two.
        sm.acked(0).unwrap();
        assert_eq!(sm.unacked().count(), 2);
        sm.acked(2).unwrap();
        assert_eq!(sm.unacked().count(), 0);
    }

    #[test]
    fn the_queue_is_bounded_in_stanzas_and_bytes() {
        let mut sm = Sm::new(Bounds {
            stanzas: 3,
            bytes: 1000,
        });
        sent(&mut sm, 3);
        assert!(sm.sent("<x/>".into()).is_err());
        let mut sm = Sm::new(Bounds {
            stanzas: 100,
            bytes: 20,
        });
        sm.sent("0123456789".into()).unwrap();
        sm.sent("0123456789".into()).unwrap();
        assert!(sm.sent("0".into()).is_err());
        sm.acked(1).unwrap();
        assert_eq!(sm.unacked_bytes, 11);
    }

    #[test]
    fn nonzas() {
        let parse = |s: &str| nonza(&s.parse::<Element>().unwrap());
        assert_eq!(
            parse("<enable xmlns='urn:xmpp:sm:3' resume='true'/>"),
            Some(Nonza::Enable { resume: true })
        );
        assert_eq!(
            parse("<enable xmlns='urn:xmpp:sm:3'/>"),
            Some(Nonza::Enable { resume: false })
        );
        assert_eq!(parse("<r xmlns='urn:xmpp:sm:3'/>"), Some(Nonza::Request));
        assert_eq!(
            parse("<a xmlns='urn:xmpp:sm:3' h='7'/>"),
            Some(Nonza::Ack(7))
        );
        assert_eq!(
            parse("<a xmlns='urn:xmpp:sm:3' h='-1'/>"),
            Some(Nonza::Invalid)
        );
        assert_eq!(
            parse("<resume xmlns='urn:xmpp:sm:3' previd='x' h='3'/>"),
            Some(Nonza::Resume {
                previd: "x".into(),
                h: 3
            })
        );
        assert_eq!(
            parse("<resume xmlns='urn:xmpp:sm:3' h='3'/>"),
            Some(Nonza::Invalid)
        );
        assert_eq!(parse("<r xmlns='urn:xmpp:sm:2'/>"), None);
        assert!(enabled(Some(("a'b", 300))).contains("id='a&apos;b' resume='true' max='300'"));
    }
}
