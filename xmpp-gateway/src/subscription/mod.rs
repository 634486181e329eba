//! RFC 6121 §3: Managing presence subscriptions, as a pure state machine, and the
//! subscription stanzas the server builds.
//!
//! [`step`] takes the state of one contact in one user's roster and one subscription
//! stanza, outbound (the user sent it) or inbound (the contact sent it to the user),
//! and returns the next state with the effects the server owes (RFC 6121 Appendix A).
//! The caller stores the next state durably before it performs any effect, so a crash
//! never acknowledges a change that was lost.
//!
//! Decisions where the RFC leaves room:
//! - An inbound `subscribe` from a contact that already has a subscription `from` the
//!   user is answered with `subscribed` on the user's behalf (§3.1.3, SHOULD).
//! - A pre-approval (§3.4) given for someone not in the roster stays hidden: it is
//!   stored but not pushed, as the roster shows only items the user added.

mod handler;
mod managed;

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::presence::{Presence, Type};

use crate::ports::backend::Subscription;
use crate::stanza;

/// A subscription stanza, seen from the user whose roster holds the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The user asks for the contact's presence (§3.1.2).
    OutSubscribe,
    /// The user approves the contact's request, or pre-approves it (§3.1.5, §3.4).
    OutSubscribed,
    /// The user stops receiving the contact's presence (§3.3.2).
    OutUnsubscribe,
    /// The user denies or cancels the contact's subscription (§3.2.2).
    OutUnsubscribed,
    /// The contact asks for the user's presence (§3.1.3).
    InSubscribe,
    /// The contact approved the user's request (§3.1.6).
    InSubscribed,
    /// The contact stops receiving the user's presence (§3.3.3).
    InUnsubscribe,
    /// The contact denied or cancelled the user's subscription (§3.2.3).
    InUnsubscribed,
}

/// What the server does after storing the next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Route the user's stanza to the contact, stamped with the user's bare JID.
    Route,
    /// Push the item to the user's interested resources (§2.1.6).
    Push,
    /// Deliver the contact's stanza to the user's available resources.
    Deliver,
    /// Answer the contact with `subscribed` on the user's behalf (§3.1.3, §3.4).
    AutoSubscribed,
    /// Send the contact the current presence of each of the user's available
    /// resources, as the contact may now see it (§3.1.5).
    SendPresence,
    /// Send the contact unavailable presence from each of the user's available
    /// resources, as the contact may no longer see it (§3.2.2, §3.3.3).
    SendUnavailable,
}

/// One contact's subscription state and whether the user sees it in the roster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct State {
    /// The subscription seen from the user.
    pub(crate) sub: Subscription,
    /// Whether the item is in the user's visible roster.
    pub(crate) in_roster: bool,
}

impl State {
    /// Nothing left worth storing: the contact can be removed.
    pub(crate) fn is_empty(&self) -> bool {
        !self.in_roster && self.sub == Subscription::default()
    }

    /// What a roster item shows (RFC 6121 §2.1.2): subscription, ask, approved.
    fn visible(&self) -> (bool, bool, bool, bool, bool) {
        let s = self.sub;
        (self.in_roster, s.to, s.from, s.pending_out, s.preapproved)
    }
}

/// The outcome of one [`step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The state to store before doing anything else.
    pub(crate) next: State,
    /// The effects, in order.
    pub(crate) effects: Vec<Effect>,
}

/// RFC 6121 Appendix A.2 and A.3: apply one subscription stanza.
pub(crate) fn step(state: State, event: Event) -> Transition {
    let mut next = state;
    let s = &mut next.sub;
    let mut effects = Vec::new();
    match event {
        Event::OutSubscribe => {
            // A.2.1: always routed; the item joins the roster (§3.1.2).
            next.in_roster = true;
            if !s.to {
                s.pending_out = true;
            }
            effects.push(Effect::Route);
        }
        Event::OutSubscribed => {
            if s.pending_in {
                // A.2.3: approval of a pending request (§3.1.5).
                s.pending_in = false;
                s.from = true;
                s.preapproved = false;
                next.in_roster = true;
                effects.extend([Effect::Route, Effect::SendPresence]);
            } else if !s.from {
                // §3.4: pre-approval, not routed.
                s.preapproved = true;
            }
        }
        Event::OutUnsubscribe => {
            // A.2.2: always routed (§3.3.2).
            s.to = false;
            s.pending_out = false;
            effects.push(Effect::Route);
        }
        Event::OutUnsubscribed => {
            if s.from || s.pending_in {
                // A.2.4: cancel or deny (§3.2.2).
                let had_from = s.from;
                s.from = false;
                s.pending_in = false;
                effects.push(Effect::Route);
                if had_from {
                    effects.push(Effect::SendUnavailable);
                }
            }
            // §3.4: an unsubscribed also withdraws a pre-approval, without routing.
            s.preapproved = false;
        }
        Event::InSubscribe => {
            if s.from {
                // A.3.1 From, From + Pending Out, Both: auto-reply (§3.1.3).
                effects.push(Effect::AutoSubscribed);
            } else if s.preapproved {
                // §3.4: the pre-approval is used up.
                s.preapproved = false;
                s.from = true;
                effects.extend([Effect::AutoSubscribed, Effect::SendPresence]);
            } else if !s.pending_in {
                s.pending_in = true;
                effects.push(Effect::Deliver);
            }
        }
        Event::InSubscribed => {
            // A.3.3: only an answer to a pending request counts (§3.1.6).
            if s.pending_out {
                s.pending_out = false;
                s.to = true;
                effects.push(Effect::Deliver);
            }
        }
        Event::InUnsubscribe => {
            // A.3.2 (§3.3.3).
            if s.from || s.pending_in {
                let had_from = s.from;
                s.from = false;
                s.pending_in = false;
                effects.push(Effect::Deliver);
                if had_from {
                    effects.push(Effect::SendUnavailable);
                }
            }
        }
        Event::InUnsubscribed => {
            // A.3.4 (§3.2.3).
            if s.to || s.pending_out {
                s.to = false;
                s.pending_out = false;
                effects.push(Effect::Deliver);
            }
        }
    }
    if next.in_roster && state.visible() != next.visible() {
        // The push follows the routing of the user's stanza and precedes anything the
        // user's clients receive, so that they see the item first (§3.1.6).
        let at = match effects.first() {
            Some(Effect::Route) => 1,
            _ => 0,
        };
        effects.insert(at, Effect::Push);
    }
    Transition { next, effects }
}

/// The presence type of an event's stanza.
pub(crate) fn event_type(event: Event) -> Type {
    match event {
        Event::OutSubscribe | Event::InSubscribe => Type::Subscribe,
        Event::OutSubscribed | Event::InSubscribed => Type::Subscribed,
        Event::OutUnsubscribe | Event::InUnsubscribe => Type::Unsubscribe,
        Event::OutUnsubscribed | Event::InUnsubscribed => Type::Unsubscribed,
    }
}

/// The inbound event a routed outbound event becomes at the contact.
pub(crate) fn inbound(event: Event) -> Event {
    match event {
        Event::OutSubscribe => Event::InSubscribe,
        Event::OutSubscribed => Event::InSubscribed,
        Event::OutUnsubscribe => Event::InUnsubscribe,
        Event::OutUnsubscribed => Event::InUnsubscribed,
        inbound => inbound,
    }
}

/// A subscription stanza stamped with bare JIDs (§3.1.2: the server stamps the user's
/// bare JID).
pub(crate) fn subscription_stanza(event: Event, from: &BareJid, to: &BareJid) -> Element {
    let p = Presence::new(event_type(event))
        .with_from(from.clone())
        .with_to(to.clone());
    stanza::without_priority(p.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
