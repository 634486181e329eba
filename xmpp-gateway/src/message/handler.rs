//! RFC 6121 §8.5 handling: messages from local sessions to full and bare JIDs; see the
//! parent module for the delivery rules, offline storage and who is answered as if the
//! account did not exist.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::archive;
use crate::carbons;
use crate::message::{self, Refused, Route, Untaken};
use crate::ports::backend::Backend;
use crate::router::{Dest, Router};
use crate::stanza::error::Head;

impl<B: Backend> Router<B> {
    /// Parse, stamp the sender, route by destination.
    pub(crate) async fn message(&self, from: &FullJid, stanza: Element) {
        let head = Head::of(&stanza);
        let Ok(mut m) = Message::try_from(stanza) else {
            return self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::BadRequest,
            );
        };
        m.from = Some(from.clone().into());
        let kind = m.type_.clone();
        let to = m.to.clone();
        let dest = self.dest(from, to.as_ref());
        if self.refused_as_blocked(from, &head, &dest) {
            return;
        }
        let mut el: Element = m.into();
        // XEP-0359: an archive id in the local recipient's name is only ever this server's.
        if let Dest::Account(to) = &dest {
            archive::strip_forged(&mut el, to);
        } else if let Dest::Session(to) = &dest {
            archive::strip_forged(&mut el, &to.to_bare());
        }
        // XEP-0280 §6 and §7: decided on the message as sent, `<private/>` gone before it leaves.
        let copy = carbons::prepare(&mut el);
        let own = match &dest {
            Dest::Server => true,
            Dest::Account(to) => *to == from.to_bare(),
            Dest::Session(to) => to.to_bare() == from.to_bare(),
            Dest::Remote(_) => false,
        };
        // Between the user's own resources nothing is copied (see `carbons`).
        let copy = copy && !own;
        if copy {
            carbons::sent(&self.table(), from, &el);
        }
        // XEP-0313: the sender's own archive; a message to oneself is archived once, received.
        if let (false, Some(to)) = (own || dest == Dest::Server, &to) {
            self.archive_sent(from, to, &el).await;
        }
        match dest {
            Dest::Server => self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::ServiceUnavailable,
            ),
            Dest::Remote(to) => {
                if !self.to_remote(el) {
                    self.error(&head, from, to, DefinedCondition::RemoteServerNotFound);
                }
            }
            Dest::Account(bare) => {
                self.message_to_bare(from, &head, &bare, &kind, el, copy)
                    .await
            }
            Dest::Session(full) => {
                // A resource the sender may not address is treated as unbound (§8.5.3.2.1); an
                // error answers what the resource sent, and whether it arrives tells nothing.
                let addressable =
                    kind == MessageType::Error || self.may_address(&from.to_bare(), &full);
                let el = if addressable {
                    let mut el = el;
                    if self.table().get(&full).is_some() {
                        self.archive_received(&full.to_bare(), &mut el).await;
                        let (sender, user) = (from.to_bare(), full.to_bare());
                        let resource = Some(full.resource().as_str());
                        self.push_notify(&sender, &user, &el, false, resource).await;
                    }
                    match message::send_to_session(&self.table(), &full, el, copy) {
                        Ok(()) => return,
                        Err(el) => el,
                    }
                } else {
                    el
                };
                match message::unbound_full(&kind) {
                    Some(Route::Refuse) => self.error(
                        &head,
                        from,
                        full.into(),
                        DefinedCondition::ServiceUnavailable,
                    ),
                    Some(_) => {}
                    None => {
                        self.message_to_bare(from, &head, &full.to_bare(), &kind, el, copy)
                            .await
                    }
                }
            }
        }
    }

    /// §8.5.2: pick resources by type and priority, keep it offline, or refuse.
    async fn message_to_bare(
        &self,
        from: &FullJid,
        head: &Head,
        to: &BareJid,
        kind: &MessageType,
        el: Element,
        copy: bool,
    ) {
        if self
            .to_account(&from.to_bare(), to, kind, &el, copy)
            .await
            .is_err()
        {
            self.error(
                head,
                from,
                to.clone().into(),
                DefinedCondition::ServiceUnavailable,
            );
        }
    }

    /// A message from `sender` to the bare JID `to` of a local account, for local and remote
    /// senders alike: delivered, kept offline or dropped, or `Err` when the sender is owed
    /// `service-unavailable` from `to`. An account that does not exist and one whose owner
    /// hides from the sender take the same path, so their answers are the same bytes. With
    /// `copy`, what is delivered is also copied to the user's other resources (XEP-0280).
    pub(crate) async fn to_account(
        &self,
        sender: &BareJid,
        to: &BareJid,
        kind: &MessageType,
        el: &Element,
        copy: bool,
    ) -> Result<(), Refused> {
        if !self.exists(to).await || self.authority().hides_from(to, sender) {
            return message::to_nobody(kind);
        }
        let mut el = el.clone();
        self.archive_received(to, &mut el).await;
        let el = &el;
        let untaken = message::send_to_bare(&self.table(), to, kind, el, copy && sender != to);
        match untaken {
            Ok(()) => {
                self.push_notify(sender, to, el, false, None).await;
                Ok(())
            }
            Err(Untaken::Refuse) => Err(Refused),
            Err(Untaken::Keep) => {
                let kept = self.keep_offline(to, el).await;
                if kept.is_ok() && super::offline::worth_keeping(el) {
                    self.push_notify(sender, to, el, true, None).await;
                }
                kept
            }
        }
    }
}
