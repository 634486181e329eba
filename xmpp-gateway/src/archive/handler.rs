//! Archiving as messages pass, and the owner's queries and preferences; see the parent module.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::{Malformed, Request};
use crate::ports::backend::{Backend, Kept};
use crate::router::{Router, request};
use crate::stanza::error::Head;
use crate::stanza::iq_result;

impl<B: Backend> Router<B> {
    /// Archive `message` in `user`'s archive as exchanged with `peer`, if it is worth it and
    /// `user`'s preferences want it; its archive id. A failure is logged: the message still
    /// goes out, it is only missing from the archive.
    async fn archive_for(&self, user: &BareJid, peer: &Jid, message: &Element) -> Option<String> {
        if !super::worth_archiving(message) {
            return None;
        }
        let backend = self.backend();
        let prefs = match backend.archive_prefs(user).await {
            Ok(prefs) => prefs,
            Err(e) => {
                tracing::warn!(%user, error = %e, "archive preferences unreadable; not archived");
                return None;
            }
        };
        let in_roster = match prefs.default {
            super::ArchiveDefault::Roster => matches!(
                backend.contact(user, &peer.to_bare()).await,
                Ok(Some(c)) if c.in_roster
            ),
            _ => false,
        };
        if !super::wanted(&prefs, peer, in_roster) {
            return None;
        }
        match backend.archive(user, peer, message).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(%user, error = %e, "message not archived");
                None
            }
        }
    }

    /// The local sender `from` sent `message` to `to`: archive it in the sender's archive.
    pub(crate) async fn archive_sent(&self, from: &FullJid, to: &Jid, message: &Element) {
        self.archive_for(&from.to_bare(), to, message).await;
    }

    /// `message` is about to reach the local account `to`, whose server decided it is
    /// delivered or kept: archive it in `to`'s archive and give it its archive id. Done once:
    /// a message that already carries an id in `to`'s name (stamped on an earlier step of its
    /// way, since forged ones were removed where it came in) is left as it is.
    pub(crate) async fn archive_received(&self, to: &BareJid, message: &mut Element) {
        if super::stamped_for(message, to) {
            return;
        }
        let Some(peer) = message.attr("from").and_then(|f| Jid::new(f).ok()) else {
            return;
        };
        if let Some(id) = self.archive_for(to, &peer, message).await {
            super::stamp(message, to, &id);
        }
    }

    /// Whether `iq` is a request in the archive's namespace.
    pub(crate) fn is_archive_iq(&self, iq: &Iq) -> bool {
        match iq {
            Iq::Get { payload, .. } | Iq::Set { payload, .. } => payload.ns() == super::NS,
            Iq::Result { .. } | Iq::Error { .. } => false,
        }
    }

    /// A request of the user `from` about their own archive.
    pub(crate) async fn archive_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let user = from.to_bare();
        let replier: Jid = user.clone().into();
        let refuse = |condition| self.error(head, from, replier.clone(), condition);
        let Some((id, payload, get)) = request(iq) else {
            return;
        };
        let asked = match super::request(&payload, get) {
            Some(Ok(asked)) => asked,
            Some(Err(Malformed::Unsupported)) => {
                return refuse(DefinedCondition::FeatureNotImplemented);
            }
            Some(Err(Malformed::Bad)) | None => return refuse(DefinedCondition::BadRequest),
        };
        let answer = |payload: Option<Element>| {
            self.send_to(
                from,
                iq_result(&id, from.clone().into(), Some(replier.clone()), payload),
            );
        };
        let backend = self.backend();
        match asked {
            Request::Fields => answer(Some(super::fields())),
            Request::Metadata => match backend.archive_ends(&user).await {
                Ok(ends) => answer(Some(super::metadata(ends))),
                Err(e) => {
                    tracing::warn!(%user, error = %e, "archive unreadable");
                    refuse(DefinedCondition::InternalServerError)
                }
            },
            Request::GetPrefs => match backend.archive_prefs(&user).await {
                Ok(prefs) => answer(Some(super::prefs_element(&prefs))),
                Err(e) => {
                    tracing::warn!(%user, error = %e, "archive preferences unreadable");
                    refuse(DefinedCondition::InternalServerError)
                }
            },
            Request::SetPrefs(prefs) => match backend.put_archive_prefs(&user, &prefs).await {
                Ok(Kept::Stored) => answer(Some(super::prefs_element(&prefs))),
                Ok(Kept::Full) => refuse(DefinedCondition::ResourceConstraint),
                Err(e) => {
                    tracing::warn!(%user, error = %e, "archive preferences not stored");
                    refuse(DefinedCondition::InternalServerError)
                }
            },
            Request::Query { queryid, query } => {
                let page = match backend.archive_page(&user, &query).await {
                    Ok(Some(page)) => page,
                    // An id to page from that is not in this archive.
                    Ok(None) => return refuse(DefinedCondition::ItemNotFound),
                    Err(e) => {
                        tracing::warn!(%user, error = %e, "archive unreadable");
                        return refuse(DefinedCondition::InternalServerError);
                    }
                };
                let first = page.items.first().map(|i| i.id.clone());
                let last = page.items.last().map(|i| i.id.clone());
                let fin = super::fin(&page, first.as_deref(), last.as_deref());
                let to: Jid = from.clone().into();
                // Results first, then the iq result: one session's queue keeps their order.
                for item in page.items {
                    let result = super::result_message(&to, &user, queryid.as_deref(), item);
                    self.send_to(from, result);
                }
                answer(Some(fin));
            }
        }
    }
}
