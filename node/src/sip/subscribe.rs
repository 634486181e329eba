//! RFC 6665 subscriptions to `Event: dialog` (RFC 4235 §3) and `Event: presence` (RFC 3856):
//! the busy lamp keys and contact lists watching an extension, and the NOTIFY requests that
//! carry its line state (dialog-info) or its owner's presence (PIDF) to them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jid::BareJid;
use lampfield_domain::presence::{LineId, LineState};

use super::dialog_info;
use super::pidf::{self, PresenceDoc};
use super::reply::token;
use super::transport::Sink;

/// The event package of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Package {
    /// RFC 4235 dialog-info: the line's calls.
    Dialog,
    /// RFC 3856 presence: the owner's PIDF document.
    Presence,
}

impl Package {
    /// The `Event` header value.
    fn name(self) -> &'static str {
        match self {
            Package::Dialog => "dialog",
            Package::Presence => "presence",
        }
    }
}

/// What a NOTIFY shows: the line for `dialog`, the presence document for `presence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shown {
    /// The line's state in the watcher's view (`None`: no such line in it).
    Line(Option<LineState>),
    /// The presence document of the watcher's view.
    Presence(PresenceDoc),
}

/// One watcher of one extension: the dialog the SUBSCRIBE made, and what it was last told.
#[derive(Debug)]
pub(super) struct Subscription {
    pub(super) ext: LineId,
    pub(super) owner: BareJid,
    pub(super) package: Package,
    pub(super) sink: Sink,
    /// The Request-URI of NOTIFYs: the subscriber's Contact.
    target: String,
    call_id: String,
    /// Our `From` (the SUBSCRIBE's `To` with our tag) and our `To` (its `From`).
    local: String,
    remote: String,
    /// `sip:EXT@domain`, the `entity` of the documents.
    entity: String,
    cseq: u32,
    version: u64,
    expires_at: Instant,
    /// What the last NOTIFY showed (`None` before the first).
    shown: Option<Shown>,
}

/// What a SUBSCRIBE's dialog is known by: its Call-ID and our tag.
pub(super) type Key = (String, String);

/// Every live subscription; at most `cap` of them.
#[derive(Debug)]
pub(super) struct Subscriptions {
    by_key: HashMap<Key, Subscription>,
    cap: usize,
}

/// The parts of a SUBSCRIBE a new subscription keeps.
pub(super) struct NewSubscription {
    pub(super) ext: LineId,
    pub(super) owner: BareJid,
    pub(super) package: Package,
    pub(super) sink: Sink,
    pub(super) target: String,
    pub(super) call_id: String,
    pub(super) to: String,
    pub(super) from: String,
    pub(super) entity: String,
}

impl Subscriptions {
    pub(super) fn new(cap: usize) -> Self {
        Subscriptions {
            by_key: HashMap::new(),
            cap,
        }
    }

    /// Start a subscription for `seconds`; its key (our tag is the key's second part), or
    /// `None` when the table is full.
    pub(super) fn insert(
        &mut self,
        new: NewSubscription,
        now: Instant,
        seconds: u32,
    ) -> Option<Key> {
        if self.by_key.len() >= self.cap {
            return None;
        }
        let tag = token();
        let key = (new.call_id.clone(), tag.clone());
        let sub = Subscription {
            ext: new.ext,
            owner: new.owner,
            package: new.package,
            sink: new.sink,
            target: new.target,
            call_id: new.call_id,
            local: format!("{};tag={tag}", new.to),
            remote: new.from,
            entity: new.entity,
            cseq: 0,
            version: 0,
            expires_at: now + Duration::from_secs(u64::from(seconds)),
            shown: None,
        };
        self.by_key.insert(key.clone(), sub);
        Some(key)
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Subscription> {
        self.by_key.get_mut(key)
    }

    pub(super) fn remove(&mut self, key: &Key) -> Option<Subscription> {
        self.by_key.remove(key)
    }

    /// Take out every subscription expired at `now`.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<Subscription> {
        let gone: Vec<Key> = self
            .by_key
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        gone.iter().filter_map(|k| self.by_key.remove(k)).collect()
    }

    /// The subscriptions watching `owner`'s extensions.
    pub(super) fn of_owner<'a>(
        &'a mut self,
        owner: &'a BareJid,
    ) -> impl Iterator<Item = &'a mut Subscription> + 'a {
        self.by_key.values_mut().filter(move |s| &s.owner == owner)
    }
}

/// How the NOTIFY describes the subscription (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SubState {
    /// Active until the subscription's expiry.
    Active,
    /// Ended by the subscriber (`Expires: 0`).
    Unsubscribed,
    /// Ended because it was not refreshed in time.
    Timeout,
}

/// What a NOTIFY shows of `shown`: of a line, a call ringing or up, or nothing (idle, out of
/// order, or no such line in the watcher's view all look the same on a BLF key).
fn normalized(shown: Shown) -> Shown {
    match shown {
        Shown::Line(state) => Shown::Line(state.filter(|s| s.in_use())),
        doc => doc,
    }
}

impl Subscription {
    /// Whether a NOTIFY of `shown` would show the watcher something new.
    pub(super) fn differs(&self, shown: &Shown) -> bool {
        self.shown.as_ref() != Some(&normalized(shown.clone()))
    }

    /// Extend the subscription to `seconds` from `now`.
    pub(super) fn refresh(&mut self, now: Instant, seconds: u32) {
        self.expires_at = now + Duration::from_secs(u64::from(seconds));
    }

    /// The next NOTIFY: full state showing `shown`, with the next CSeq (and, for dialog, the
    /// next document version).
    pub(super) fn notify(
        &mut self,
        shown: Shown,
        sub_state: SubState,
        local_addr: SocketAddr,
        now: Instant,
    ) -> Vec<u8> {
        self.cseq = self.cseq.saturating_add(1);
        let version = self.version;
        self.version = self.version.saturating_add(1);
        let shown = normalized(shown);
        let (content_type, body) = match &shown {
            Shown::Line(state) => (
                dialog_info::CONTENT_TYPE,
                dialog_info::render(&self.entity, version, *state),
            ),
            Shown::Presence(doc) => (pidf::CONTENT_TYPE, doc.render(&self.entity)),
        };
        self.shown = Some(shown);
        let subscription_state = match sub_state {
            SubState::Active => format!(
                "active;expires={}",
                self.expires_at.saturating_duration_since(now).as_secs()
            ),
            SubState::Unsubscribed => "terminated".to_owned(),
            SubState::Timeout => "terminated;reason=timeout".to_owned(),
        };
        let transport = self.sink.transport();
        format!(
            "NOTIFY {target} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {local_addr};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: {local}\r\n\
             To: {remote}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} NOTIFY\r\n\
             Contact: <sip:{local_addr};transport={lower}>\r\n\
             Event: {event}\r\n\
             Subscription-State: {subscription_state}\r\n\
             Content-Type: {content_type}\r\n\
             Content-Length: {length}\r\n\r\n{body}",
            target = self.target,
            branch = token(),
            local = self.local,
            remote = self.remote,
            call_id = self.call_id,
            cseq = self.cseq,
            lower = transport.to_ascii_lowercase(),
            event = self.package.name(),
            length = body.len(),
        )
        .into_bytes()
    }
}
