//! XEP-0049: Private XML Storage (version 1.2). A user's clients keep one element per qualified
//! name on the server, for that user alone (client settings, legacy bookmarks). Asked of the
//! user's own bare JID (or with no `to`); what another user asks of someone else's bare JID is
//! answered like any namespace the server does not answer for an account (docs/ACCESS.md).

use jid::FullJid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::ports::backend::{Backend, Kept};
use crate::router::Router;
use crate::stanza::error::Head;
use crate::stanza::iq_result;

use crate::ns::PRIVATE as NS;

/// Namespaces that may not be stored (§3: `jabber:` namespaces are the protocol's own).
fn reserved(ns: &str) -> bool {
    ns == NS || ns == "jabber:client" || ns == "jabber:server"
}

/// The one child of a query, if it has exactly one that may be stored.
fn the_child(query: &Element) -> Option<&Element> {
    let mut children = query.children();
    let child = children.next()?;
    (children.next().is_none() && !reserved(&child.ns())).then_some(child)
}

impl<B: Backend> Router<B> {
    /// Whether `iq` is a private storage request.
    pub(crate) fn is_private_iq(&self, iq: &Iq) -> bool {
        crate::stanza::is_query(iq, NS)
    }

    /// §3.1 and §3.2 for the user's own storage.
    pub(crate) async fn private_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let user = from.to_bare();
        let replier: jid::Jid = user.clone().into();
        let refuse = |condition| self.error(head, from, replier.clone(), condition);
        let (id, payload, get) = match iq {
            Iq::Get { id, payload, .. } => (id, payload, true),
            Iq::Set { id, payload, .. } => (id, payload, false),
            Iq::Result { .. } | Iq::Error { .. } => return,
        };
        let Some(child) = the_child(&payload) else {
            // §3.3: no child, several, or a reserved namespace.
            return refuse(DefinedCondition::NotAcceptable);
        };
        if get {
            let stored = match self
                .backend()
                .private_xml(&user, child.name(), &child.ns())
                .await
            {
                Ok(stored) => stored,
                Err(e) => {
                    tracing::warn!(%user, error = %e, "private XML unreadable");
                    return refuse(DefinedCondition::InternalServerError);
                }
            };
            // §3.2: nothing stored yet answers with the empty element as asked.
            let answer = stored.unwrap_or_else(|| child.clone());
            let query = Element::builder("query", NS).append(answer).build();
            let result = iq_result(&id, from.clone().into(), Some(replier), Some(query));
            self.send_to(from, result);
            return;
        }
        match self.backend().put_private_xml(&user, child).await {
            Ok(Kept::Stored) => {
                self.send_to(
                    from,
                    iq_result(&id, from.clone().into(), Some(replier), None),
                );
            }
            Ok(Kept::Full) => refuse(DefinedCondition::ResourceConstraint),
            Err(e) => {
                tracing::warn!(%user, error = %e, "private XML not stored");
                refuse(DefinedCondition::InternalServerError)
            }
        }
    }
}
