//! XEP-0357: Push Notifications (version 0.4.1), the user's server side. A client asks its own
//! account (an iq set with `<enable/>` or `<disable/>`, §5 and §6) to wake it through an app
//! server; when a message the user would want to read arrives while that client is not connected
//! (no session of its resource, or one detached awaiting XEP-0198 resumption), the server
//! publishes a summary to the app server's node (§7), with the client's publish-options (its
//! secret) attached.
//!
//! Privacy: the app server is a third party outside the organization, and its notifications pass
//! through Google's or Apple's push services. docs/ACCESS.md says nothing more than the rule
//! allows may leave the node, and no rule names the app server; so the summary carries only
//! `message-count`, never who wrote or what, unless the node's `[push]` configuration allows it
//! (`include_sender`, `include_body`, both off by default). The woken client fetches the message
//! itself, over its own authenticated stream.
//!
//! Notifications are bounded: per registration at most one per [`COALESCE`] (the messages in
//! between are counted into one delayed notification), at most [`MAX_IN_FLIGHT`] unanswered at
//! once, and at most [`MAX_SLOTS`] registrations tracked in memory. An app server that answers
//! with an error is logged; one whose error is of type `cancel` or `auth` (the node is gone,
//! `item-not-found`; the secret no longer valid, `forbidden`/`not-authorized`) has that
//! registration disabled, as the spec lets an app server disable a registration remotely. An app
//! server that does not answer within [`ANSWER_TIMEOUT`] is logged.

mod handler;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jid::{BareJid, Jid};
use minidom::Element;
use rxml::xml_ncname;

use crate::ns::{CARBONS, JABBER_CLIENT};
use crate::ports::backend::PushRegistration;

/// The protocol's namespace.
pub(crate) const NS: &str = "urn:xmpp:push:0";
/// FORM_TYPE of the notification's summary (§7).
const SUMMARY: &str = "urn:xmpp:push:summary";
const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const DATA_FORMS: &str = "jabber:x:data";

/// Least time between two notifications for one registration.
pub(crate) const COALESCE: Duration = Duration::from_secs(5);
/// Most notifications sent and not yet answered, for the whole server.
pub(crate) const MAX_IN_FLIGHT: usize = 1024;
/// Most registrations whose last notification is remembered.
pub(crate) const MAX_SLOTS: usize = 8192;
/// How long an app server has to answer a notification.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of a message body put in a notification, when the node allows bodies at all.
const MAX_BODY_BYTES: usize = 256;
/// Longest node name accepted (§5 leaves it to the app server; real ones are under 100 bytes).
const MAX_NODE_BYTES: usize = 1024;

/// What the node lets a notification say beyond the count (`[push]` in the configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushPolicy {
    /// Put the sender's bare JID in `last-message-sender`.
    pub include_sender: bool,
    /// Put the start of the body in `last-message-body`.
    pub include_body: bool,
}

/// A client's request to its own account.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    /// §5: notify `service` at `node`, with `options` as publish-options.
    Enable {
        service: Jid,
        node: String,
        options: Option<Element>,
    },
    /// §6: stop notifying `service` (at `node` only, when given).
    Disable { service: Jid, node: Option<String> },
}

/// The request in an iq set's payload; `None` when it is not a push request at all, `Some(Err)`
/// when it is one but malformed (`bad-request`).
pub(crate) fn parse(payload: &Element) -> Option<Result<Request, ()>> {
    let enable = payload.is("enable", NS);
    if !enable && !payload.is("disable", NS) {
        return None;
    }
    let service = payload.attr("jid").and_then(|j| Jid::new(j).ok());
    let node = payload
        .attr("node")
        .filter(|n| !n.is_empty() && n.len() <= MAX_NODE_BYTES)
        .map(str::to_owned);
    Some(match (enable, service, node) {
        (true, Some(service), Some(node)) => {
            let options = payload
                .get_child("x", DATA_FORMS)
                .filter(|x| x.attr("type") == Some("submit"))
                .cloned();
            Ok(Request::Enable {
                service,
                node,
                options,
            })
        }
        (false, Some(service), node) if payload.attr("node").is_none() || node.is_some() => {
            Ok(Request::Disable { service, node })
        }
        _ => Err(()),
    })
}

/// Whether a message to the user is one they would want to be woken for: `chat` or `normal`
/// with a body, or one kept offline for them (`kept`); never a bare chat state, a headline, an
/// error or group chat, nor a carbon of what reached another of their clients.
pub(crate) fn wanted(message: &Element, kept: bool) -> bool {
    if !message.is("message", JABBER_CLIENT) {
        return false;
    }
    if !matches!(message.attr("type"), None | Some("chat" | "normal")) {
        return false;
    }
    if message.has_child("received", CARBONS) || message.has_child("sent", CARBONS) {
        return false;
    }
    kept || message.has_child("body", JABBER_CLIENT)
}

/// The newest message among what a client did not acknowledge before its connection dropped
/// that it would want to be woken for: it may never have reached the phone, so a push goes out
/// as the session detaches. Only what is written as a message is parsed.
pub(crate) fn last_wanted<'a>(
    unacked: impl DoubleEndedIterator<Item = &'a str>,
) -> Option<Element> {
    unacked
        .rev()
        .filter(|xml| xml.starts_with("<message"))
        .filter_map(|xml| xml.parse::<Element>().ok())
        .find(|message| wanted(message, false))
}

/// Whether the client of a registration made by `resource` is away, given the user's sessions
/// as (resource, detached awaiting resumption). A registration of unknown resource wakes when
/// no session is connected.
pub(crate) fn asleep(resource: Option<&str>, sessions: &[(&str, bool)]) -> bool {
    match resource {
        Some(r) => sessions
            .iter()
            .find(|(name, _)| *name == r)
            .is_none_or(|(_, detached)| *detached),
        None => sessions.iter().all(|(_, detached)| *detached),
    }
}

/// What a notification says of the last message, as the policy allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Last {
    sender: Option<BareJid>,
    body: Option<String>,
}

impl Last {
    /// Of `message` from `sender`, keeping only what `policy` lets leave the node.
    pub(crate) fn of(policy: PushPolicy, sender: &BareJid, message: &Element) -> Self {
        let body = policy
            .include_body
            .then(|| message.get_child("body", JABBER_CLIENT))
            .flatten()
            .map(|b| truncated(&b.text(), MAX_BODY_BYTES));
        Self {
            sender: policy.include_sender.then(|| sender.clone()),
            body,
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncated(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", DATA_FORMS)
        .attr(xml_ncname!("var").to_owned(), var)
        .append(
            Element::builder("value", DATA_FORMS)
                .append(value.to_owned())
                .build(),
        )
        .build()
}

/// The §7 summary form.
pub(crate) fn summary(count: u32, last: &Last) -> Element {
    let mut form = Element::builder("x", DATA_FORMS)
        .attr(xml_ncname!("type").to_owned(), "submit")
        .append(field("FORM_TYPE", SUMMARY))
        .append(field("message-count", &count.to_string()))
        .build();
    if let Some(sender) = &last.sender {
        form.append_child(field("last-message-sender", sender.as_str()));
    }
    if let Some(body) = &last.body {
        form.append_child(field("last-message-body", body));
    }
    form
}

/// The §7 publish iq from `user` to the registration's app server.
pub(crate) fn notification(
    user: &BareJid,
    registration: &PushRegistration,
    id: &str,
    count: u32,
    last: &Last,
) -> Element {
    let notification = Element::builder("notification", NS)
        .append(summary(count, last))
        .build();
    let publish = Element::builder("publish", PUBSUB)
        .attr(xml_ncname!("node").to_owned(), registration.node.as_str())
        .append(
            Element::builder("item", PUBSUB)
                .append(notification)
                .build(),
        )
        .build();
    let mut pubsub = Element::builder("pubsub", PUBSUB).append(publish).build();
    if let Some(options) = &registration.options {
        pubsub.append_child(
            Element::builder("publish-options", PUBSUB)
                .append(options.clone())
                .build(),
        );
    }
    Element::builder("iq", JABBER_CLIENT)
        .attr(xml_ncname!("type").to_owned(), "set")
        .attr(xml_ncname!("id").to_owned(), id)
        .attr(xml_ncname!("from").to_owned(), user.as_str())
        .attr(
            xml_ncname!("to").to_owned(),
            registration.service.to_string(),
        )
        .append(pubsub)
        .build()
}

/// One registration, as the rate limit knows it.
pub(crate) type Key = (BareJid, String, String);

/// The key of `user`'s registration.
pub(crate) fn key(user: &BareJid, registration: &PushRegistration) -> Key {
    (
        user.clone(),
        registration.service.to_string(),
        registration.node.clone(),
    )
}

/// The rate limit of one registration.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    last_sent: Option<Instant>,
    pending: u32,
    scheduled: bool,
    last: Last,
}

/// What to do with a wanted message for one registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Notify now, counting this many messages.
    Now(u32),
    /// Notify after this long; the messages until then are counted in.
    Later(Duration),
    /// A notification is already due; this message is counted in it.
    Counted,
}

impl Slot {
    /// One more wanted message at `now`.
    pub(crate) fn note(&mut self, now: Instant, last: Last) -> Step {
        self.pending = self.pending.saturating_add(1);
        self.last = last;
        match self.last_sent.map(|t| now.saturating_duration_since(t)) {
            Some(since) if since < COALESCE => {
                if self.scheduled {
                    Step::Counted
                } else {
                    self.scheduled = true;
                    Step::Later(COALESCE - since)
                }
            }
            _ => Step::Now(self.take(now)),
        }
    }

    /// The delayed notification is due at `now`: how many messages it counts, if any.
    pub(crate) fn due(&mut self, now: Instant) -> Option<(u32, Last)> {
        self.scheduled = false;
        (self.pending > 0).then(|| (self.take(now), self.last.clone()))
    }

    fn take(&mut self, now: Instant) -> u32 {
        self.last_sent = Some(now);
        std::mem::take(&mut self.pending)
    }

    /// Whether forgetting it changes nothing: nothing due and the last notification is past
    /// the coalescing time.
    fn idle(&self, now: Instant) -> bool {
        !self.scheduled
            && self
                .last_sent
                .is_none_or(|t| now.saturating_duration_since(t) >= COALESCE)
    }
}

/// A notification sent and not yet answered.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    pub(crate) key: Key,
    pub(crate) service: Jid,
}

/// The server's push state: the policy, the rate limits and what awaits an answer.
#[derive(Debug, Default)]
pub(crate) struct Pushes {
    policy: std::sync::RwLock<PushPolicy>,
    slots: std::sync::Mutex<HashMap<Key, Slot>>,
    in_flight: std::sync::Mutex<HashMap<String, InFlight>>,
    ids: std::sync::atomic::AtomicU64,
}

impl Pushes {
    pub(crate) fn policy(&self) -> PushPolicy {
        *self.policy.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_policy(&self, policy: PushPolicy) {
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Note a wanted message for `key`; `None` when no more registrations can be tracked.
    pub(crate) fn note(&self, key: Key, now: Instant, last: Last) -> Option<Step> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_SLOTS && !slots.contains_key(&key) {
            slots.retain(|_, slot| !slot.idle(now));
            if slots.len() >= MAX_SLOTS {
                return None;
            }
        }
        Some(slots.entry(key).or_default().note(now, last))
    }

    /// The delayed notification of `key` is due.
    pub(crate) fn due(&self, key: &Key, now: Instant) -> Option<(u32, Last)> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.get_mut(key)?.due(now)
    }

    /// A fresh id for a notification to await its answer under; `None` when too many await one.
    pub(crate) fn send(&self, flight: InFlight) -> Option<String> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        let n = self.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("push-{n}-{:08x}", rand::random::<u32>());
        in_flight.insert(id.clone(), flight);
        Some(id)
    }

    /// The notification `id`, answered by `from` (or timed out, with `from` `None`).
    pub(crate) fn answered(&self, id: &str, from: Option<&Jid>) -> Option<InFlight> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let flight = in_flight.get(id)?;
        if let Some(from) = from {
            let matches = match flight.service.try_as_full() {
                Ok(full) => from == &Jid::from(full.clone()),
                Err(bare) => &from.to_bare() == bare,
            };
            if !matches {
                return None;
            }
        }
        in_flight.remove(id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
