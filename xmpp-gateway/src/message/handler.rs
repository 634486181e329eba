//! RFC 6121 §8.5 handling: messages from local sessions to full and bare JIDs; see the
//! parent module for the delivery rules and the no-offline-storage choice.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::message::{self, Route};
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
        match self.dest(from, m.to.as_ref()) {
            Dest::Server => self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::ServiceUnavailable,
            ),
            Dest::Remote(to) => {
                if !self.to_remote(m.into()) {
                    self.error(&head, from, to, DefinedCondition::RemoteServerNotFound);
                }
            }
            Dest::Account(bare) => {
                self.message_to_bare(from, &head, &bare, &kind, m.into())
                    .await
            }
            Dest::Session(full) => {
                let el: Element = m.into();
                // A resource the sender may not address is treated as unbound (§8.5.3.2.1); an
                // error answers what the resource sent, and whether it arrives tells nothing.
                let addressable =
                    kind == MessageType::Error || self.may_address(&from.to_bare(), &full);
                if addressable {
                    let table = self.table();
                    if let Some(s) = table.get(&full) {
                        s.send(el);
                        return;
                    }
                }
                match message::unbound_full(&kind) {
                    Some(Route::Refuse) => self.error(
                        &head,
                        from,
                        full.into(),
                        DefinedCondition::ServiceUnavailable,
                    ),
                    Some(_) => {}
                    None => {
                        self.message_to_bare(from, &head, &full.to_bare(), &kind, el)
                            .await
                    }
                }
            }
        }
    }

    /// §8.5.2: pick resources by type and priority, or refuse.
    async fn message_to_bare(
        &self,
        from: &FullJid,
        head: &Head,
        to: &BareJid,
        kind: &MessageType,
        el: Element,
    ) {
        if !self.exists(to).await {
            return self.error(
                head,
                from,
                to.clone().into(),
                DefinedCondition::ServiceUnavailable,
            );
        }
        let refused = message::send_to_bare(&self.table(), to, kind, &el).is_err();
        if refused {
            self.error(
                head,
                from,
                to.clone().into(),
                DefinedCondition::ServiceUnavailable,
            );
        }
    }
}
