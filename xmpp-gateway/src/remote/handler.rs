//! Handling of stanzas a verified remote domain sent (RFC 6120 §10.4, RFC 6121 §8.5 for
//! messages, §3-§4 for presence), and of errors the s2s layer bounces back.

use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::MessageType;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Type;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::RemoteError;
use crate::archive;
use crate::carbons;
use crate::disco::Entity;
use crate::message::{self, Route};
use crate::ns::{JABBER_CLIENT as CLIENT_NS, JABBER_SERVER as SERVER_NS};
use crate::ports::backend::Backend;
use crate::presence;
use crate::router::{Router, request, server_answer};
use crate::stanza::iq_result;
use crate::stream::{error_reply, rewrite_ns};
use crate::subscription::Event;

impl<B: Backend> Router<B> {
    /// A stanza the remote domain `peer` sent over a stream that authenticated it.
    /// `Err` means the stream must close with that error and the stanza is dropped.
    pub async fn handle_remote(&self, peer: &str, stanza: Element) -> Result<(), RemoteError> {
        let (from, to) = super::addresses(&stanza, peer)?;
        if to.domain() != self.domain().domain() {
            return Err(RemoteError::HostUnknown);
        }
        let stanza = rewrite_ns(stanza, SERVER_NS, CLIENT_NS);
        match stanza.name() {
            "message" => self.remote_message(&from, &to, stanza).await,
            "presence" => self.remote_presence(from, to, stanza).await,
            "iq" => self.remote_iq(&from, &to, stanza).await,
            _ => {}
        }
        Ok(())
    }

    /// Answer a remote sender with a stanza error, over s2s.
    fn refuse_remote(&self, stanza: &Element, condition: DefinedCondition) {
        if let Some(reply) = error_reply(stanza, condition) {
            self.to_remote(reply);
        }
    }

    /// RFC 6121 §8.5 for a message from another domain: to a full JID `from` may not address
    /// (see [`Router::may_address`]) as to an unbound one.
    async fn remote_message(&self, from: &Jid, to: &Jid, mut stanza: Element) {
        // XEP-0359: an archive id in the local recipient's name is only ever this server's.
        archive::strip_forged(&mut stanza, &to.to_bare());
        // XEP-0280 §6 and §7, as for a local sender; a remote sender is never the recipient.
        let copy = carbons::prepare(&mut stanza);
        let kind = stanza
            .attr("type")
            .and_then(|t| t.parse::<MessageType>().ok())
            .unwrap_or(MessageType::Normal);
        if let Ok(full) = to.try_as_full() {
            let addressable = kind == MessageType::Error || self.may_address(&from.to_bare(), full);
            if addressable {
                if self.table().get(full).is_some() {
                    self.archive_received(&full.to_bare(), &mut stanza).await;
                    let (sender, user) = (from.to_bare(), full.to_bare());
                    let resource = Some(full.resource().as_str());
                    self.push_notify(&sender, &user, &stanza, false, resource)
                        .await;
                }
                match message::send_to_session(&self.table(), full, stanza, copy) {
                    Ok(()) => return,
                    Err(back) => stanza = back,
                }
            }
            match message::unbound_full(&kind) {
                Some(Route::Refuse) => {
                    return self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
                }
                Some(_) => return,
                None => {}
            }
        }
        let bare = to.to_bare();
        if bare.node().is_none() {
            return self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
        }
        let Some(sender) = sender_of(&stanza) else {
            return;
        };
        if self
            .to_account(&sender, &bare, &kind, &stanza, copy)
            .await
            .is_err()
        {
            self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
        }
    }

    /// RFC 6121 §3 and §4 for a presence from another domain.
    async fn remote_presence(&self, from: Jid, to: Jid, stanza: Element) {
        let type_ = match stanza.attr("type") {
            None => Type::None,
            Some("unavailable") => Type::Unavailable,
            Some("subscribe") => Type::Subscribe,
            Some("subscribed") => Type::Subscribed,
            Some("unsubscribe") => Type::Unsubscribe,
            Some("unsubscribed") => Type::Unsubscribed,
            Some("probe") => Type::Probe,
            Some("error") => Type::Error,
            Some(_) => return,
        };
        let (sender, user) = (from.to_bare(), to.to_bare());
        let event = match type_ {
            Type::Subscribe => Some(Event::OutSubscribe),
            Type::Subscribed => Some(Event::OutSubscribed),
            Type::Unsubscribe => Some(Event::OutUnsubscribe),
            Type::Unsubscribed => Some(Event::OutUnsubscribed),
            _ => None,
        };
        if let Some(event) = event {
            if user.node().is_some() && sender.node().is_some() {
                // The remote user's outbound stanza becomes our user's inbound event.
                self.route_subscription(event, &sender, &user).await;
            }
            return;
        }
        if matches!(type_, Type::None | Type::Unavailable)
            && self.drops_presence(&sender, &user).await
        {
            return;
        }
        match type_ {
            Type::Probe => self.remote_probe(&sender, &user).await,
            Type::None | Type::Unavailable | Type::Error => match to.try_as_full() {
                Ok(full) => {
                    self.send_to(full, stanza);
                }
                Err(bare) => {
                    if bare.node().is_some() && self.exists(bare).await {
                        self.send_to_available(&self.table(), bare, &stanza);
                    }
                }
            },
            _ => {}
        }
    }

    /// §4.3.2: a remote contact probes a local user; answered only if it may see it.
    async fn remote_probe(&self, prober: &BareJid, probed: &BareJid) {
        if probed.node().is_none() {
            return;
        }
        match self.backend().contact(probed, prober).await {
            Ok(entry) if presence::may_see(entry.as_ref()) => {
                let view = self.authority().snapshot(probed).for_viewer(prober);
                self.deliver_with(|table| {
                    self.published_state()
                        .to_new_subscriber(table, view, probed, prober)
                });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%probed, error = %e, "probe lookup failed"),
        }
    }

    /// §4.6: presence from a remote `sender` to `user` is directed presence, dropped unseen
    /// when `user` hides from the sender, as it is for an account that does not exist; unless
    /// `user` asked for the sender's presence (subscription `to`), which makes it the sender's
    /// broadcast.
    async fn drops_presence(&self, sender: &BareJid, user: &BareJid) -> bool {
        if user.node().is_none() {
            return false;
        }
        // Most presence from other domains is the broadcast of a contact the user asked for:
        // one contact read settles it before the user's rules are consulted.
        match self.backend().contact(user, sender).await {
            Ok(Some(c)) if c.subscription.to => false,
            Ok(_) => self.authority().hides_from(user, sender),
            Err(e) => {
                tracing::warn!(%user, error = %e, "contact lookup failed; presence dropped");
                true
            }
        }
    }

    /// RFC 6121 §8.5.2.1.3 for an iq from another domain to a local account's bare JID,
    /// answered by the server as for a local sender (the roster is never another domain's
    /// to read: `forbidden`). An account that does not exist, and one whose owner hides
    /// from the sender, get `service-unavailable` alike.
    async fn remote_iq_to_account(&self, to: &BareJid, stanza: Element) {
        // XEP-0060's namespace: avatars, OMEMO keys and the rest of PEP are read across domains.
        const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
        if !matches!(stanza.attr("type"), Some("get" | "set")) {
            // XEP-0357: an app server on another domain answering a notification.
            self.push_answer_remote(&stanza).await;
            return;
        }
        let (Some(sender), Some(requester)) = (
            sender_of(&stanza),
            stanza.attr("from").and_then(|f| Jid::new(f).ok()),
        ) else {
            return;
        };
        if !self.exists(to).await || self.authority().hides_from(to, &sender) {
            return self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
        }
        let parsed = if stanza.children().count() == 1 {
            Iq::try_from(stanza.clone()).ok().and_then(request)
        } else {
            None
        };
        let answer = match parsed {
            Some((_, payload, _)) if payload.is("query", ns::ROSTER) => {
                return self.refuse_remote(&stanza, DefinedCondition::Forbidden);
            }
            Some((id, payload, get)) if payload.is("pubsub", PUBSUB) => {
                match self.pep_for_remote(to, &sender, payload, get).await {
                    Some(Ok(item)) => {
                        Some(iq_result(&id, requester, Some(to.clone().into()), item))
                    }
                    Some(Err(condition)) => return self.refuse_remote(&stanza, condition),
                    None => None,
                }
            }
            Some((id, payload, get)) => match self.account_item(&sender, to, &payload, get).await {
                Some(Ok(item)) => Some(iq_result(&id, requester, Some(to.clone().into()), item)),
                Some(Err(condition)) => return self.refuse_remote(&stanza, condition),
                None => server_answer(
                    Entity::Account,
                    requester,
                    to.clone().into(),
                    (id, payload, get),
                    self.uptime(),
                ),
            },
            None => None,
        };
        match answer {
            Some(result) => {
                self.to_remote(result);
            }
            None => self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable),
        }
    }

    /// RFC 6120 §8.2.3 and §10.3.3 for an iq from another domain: pings to the server
    /// are answered, requests to a bound session `from` may address passed on, requests to an
    /// account's bare JID answered for it, other requests refused.
    async fn remote_iq(&self, from: &Jid, to: &Jid, stanza: Element) {
        let kind = stanza.attr("type").unwrap_or_default().to_owned();
        let request = matches!(kind.as_str(), "get" | "set");
        if to.node().is_none() {
            if kind == "get"
                && stanza.children().count() == 1
                && stanza.has_child("ping", "urn:xmpp:ping")
            {
                let result = Element::builder("iq", CLIENT_NS)
                    .attr(rxml::xml_ncname!("type").to_owned(), "result")
                    .attr(
                        rxml::xml_ncname!("id").to_owned(),
                        stanza.attr("id").unwrap_or_default(),
                    )
                    .attr(rxml::xml_ncname!("from").to_owned(), to.to_string())
                    .attr(
                        rxml::xml_ncname!("to").to_owned(),
                        stanza.attr("from").unwrap_or_default(),
                    )
                    .build();
                self.to_remote(result);
            } else if request {
                self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
            }
            return;
        }
        if let Err(bare) = to.try_as_full() {
            return self.remote_iq_to_account(bare, stanza).await;
        }
        let delivered = match to.try_as_full() {
            Ok(full) => {
                (!request || self.may_address(&from.to_bare(), full))
                    && self.send_to(full, stanza.clone())
            }
            Err(_) => false,
        };
        if !delivered && request {
            self.refuse_remote(&stanza, DefinedCondition::ServiceUnavailable);
        }
    }
}

/// The bare JID of a stanza's sender (`from` was checked against the peer before).
fn sender_of(stanza: &Element) -> Option<BareJid> {
    stanza
        .attr("from")
        .and_then(|f| Jid::new(f).ok())
        .map(|j| j.to_bare())
}
