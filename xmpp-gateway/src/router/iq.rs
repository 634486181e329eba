//! RFC 6120 §8.2.3 and RFC 6121 §8.5: iq stanzas by destination.

use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::{Dest, Router};
use crate::disco::{self, Entity};
use crate::ping;
use crate::ports::backend::Backend;
use crate::stanza::error::Head;

impl<B: Backend> Router<B> {
    /// Parse, then dispatch by destination. Get/set nobody handles gets
    /// `service-unavailable` (RFC 6120 §8.4); results and errors for the server or an
    /// account are dropped.
    pub(super) async fn iq(&self, from: &FullJid, stanza: Element) {
        let head = Head::of(&stanza);
        // A request carries exactly one payload (RFC 6120 §8.2.3).
        let request = matches!(head.kind.as_deref(), Some("get" | "set"));
        let parsed = if request && stanza.children().count() != 1 {
            None
        } else {
            Iq::try_from(stanza).ok()
        };
        let Some(mut iq) = parsed else {
            return self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::BadRequest,
            );
        };
        *iq.from_mut() = Some(from.clone().into());
        match self.dest(from, iq.to()) {
            Dest::Session(to) => self.iq_to_session(from, &head, to, iq),
            Dest::Remote(to) => {
                if !self.to_remote(iq.into()) {
                    self.error(&head, from, to, DefinedCondition::RemoteServerNotFound);
                }
            }
            Dest::Server if self.is_command_iq(&iq) => self.command_iq(from, &head, iq).await,
            Dest::Server => self.iq_to_server(from, &head, iq),
            Dest::Account(to) => self.iq_to_account(from, &head, to, iq).await,
        }
    }

    /// RFC 6121 §8.5.3.1 and §8.5.3.2.1: to a bound resource, or an error.
    fn iq_to_session(&self, from: &FullJid, head: &Head, to: FullJid, iq: Iq) {
        let is_request = matches!(iq, Iq::Get { .. } | Iq::Set { .. });
        if !self.send_to(&to, iq.into()) && is_request {
            self.error(head, from, to.into(), DefinedCondition::ServiceUnavailable);
        }
    }

    /// RFC 6120 §10.3.3: requests the server answers for itself.
    fn iq_to_server(&self, from: &FullJid, head: &Head, iq: Iq) {
        let server = self.domain().clone();
        let (id, payload, get) = match iq {
            Iq::Get { id, payload, .. } => (id, payload, true),
            Iq::Set { id, payload, .. } => (id, payload, false),
            Iq::Result { .. } | Iq::Error { .. } => return,
        };
        let answer = if !get {
            None
        } else if ping::is_ping(&payload) {
            Some(ping::pong(&id, from, server.clone()))
        } else {
            disco::answer(Entity::Server, &id, from, server.clone(), payload)
        };
        match answer {
            Some(a) => {
                self.send_to(from, a);
            }
            None => self.error(head, from, server, DefinedCondition::ServiceUnavailable),
        }
    }

    /// RFC 6121 §8.5.2.1.3 and §8.5.2.2.3: the server answers for an account's bare
    /// JID; the roster only for the account's own sessions (§2.1.5 `forbidden`).
    async fn iq_to_account(&self, from: &FullJid, head: &Head, to: jid::BareJid, iq: Iq) {
        let own = to == from.to_bare();
        let (id, payload, get) = match iq {
            Iq::Get { id, payload, .. } => (id, payload, true),
            Iq::Set { id, payload, .. } => (id, payload, false),
            Iq::Result { .. } | Iq::Error { .. } => return,
        };
        let replier: Jid = to.clone().into();
        if !own && !self.exists(&to).await {
            return self.error(head, from, replier, DefinedCondition::ServiceUnavailable);
        }
        if payload.is("query", ns::ROSTER) {
            if !own {
                return self.error(head, from, replier, DefinedCondition::Forbidden);
            }
            return self.roster(from, head, &id, get, payload).await;
        }
        let answer = if !get {
            None
        } else if ping::is_ping(&payload) {
            Some(ping::pong(&id, from, replier.clone()))
        } else {
            disco::answer(Entity::Account, &id, from, replier.clone(), payload)
        };
        match answer {
            Some(a) => {
                self.send_to(from, a);
            }
            None => self.error(head, from, replier, DefinedCondition::ServiceUnavailable),
        }
    }
}
