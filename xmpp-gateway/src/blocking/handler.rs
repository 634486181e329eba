//! XEP-0191 (1.3) handling: the user's own sessions get, block and unblock through the node's
//! [`Blocklist`](crate::ports::blocklist::Blocklist); every session that asked for the list
//! gets a push whenever it changes, by a client or by a rule set elsewhere (§3.2, §3.3); and
//! what a user sends to someone they block is refused (§3.5).

use std::collections::BTreeSet;
use std::sync::Arc;

use jid::{BareJid, FullJid, Jid};
use xmpp_parsers::stanza_error::DefinedCondition;

use super::{Request, blocked_error, list_result, parse, push};
use crate::ports::backend::Backend;
use crate::ports::blocklist::BlockError;
use crate::router::{Dest, Router};
use crate::stanza::error::{Head, reply_with};
use crate::stanza::iq_result;

impl<B: Backend> Router<B> {
    /// A blocking request from one of the user's own sessions, to the user's bare JID.
    pub(crate) async fn blocking(
        &self,
        from: &FullJid,
        head: &Head,
        id: &str,
        get: bool,
        payload: minidom::Element,
    ) {
        let user = from.to_bare();
        let replier: Jid = user.clone().into();
        let Some(list) = self.authority().blocklist() else {
            return self.error(head, from, replier, DefinedCondition::ServiceUnavailable);
        };
        let request = match parse(get, payload) {
            Ok(r) => r,
            Err(condition) => return self.error(head, from, replier, condition),
        };
        let done = match &request {
            Request::Get => return self.blocklist_get(from, head, id),
            Request::Block(jids) => list.block(&user, jids).await,
            Request::Unblock(jids) => list.unblock(&user, jids.as_deref()).await,
        };
        match done {
            Ok(()) => {
                tracing::info!(%user, ?request, "block list changed");
                self.send_to(from, iq_result(id, from.clone().into(), None, None));
                self.sync_blocklist(&user);
            }
            Err(e) => {
                tracing::warn!(%user, error = %e, "block list change refused");
                let condition = match e {
                    BlockError::Full => DefinedCondition::ResourceConstraint,
                    BlockError::Failed(_) => DefinedCondition::InternalServerError,
                };
                self.error(head, from, replier, condition);
            }
        }
    }

    /// §3.1: the list, and from now on this session gets every change pushed. The list is
    /// read under the table lock, so no change slips between it and the first push.
    fn blocklist_get(&self, from: &FullJid, head: &Head, id: &str) {
        let user = from.to_bare();
        let Some(list) = self.authority().blocklist() else {
            return;
        };
        let mut table = self.table_mut();
        let Ok(items) = list.blocked(&user) else {
            drop(table);
            return self.error(
                head,
                from,
                user.into(),
                DefinedCondition::InternalServerError,
            );
        };
        let items: Arc<BTreeSet<BareJid>> = Arc::new(items.into_iter().collect());
        if let Some(s) = table.get_mut(from) {
            s.send(list_result(id, from, &items));
            s.blocklist = Some(items);
        }
    }

    /// Push what changed in `user`'s block list to every session that asked for it, since
    /// what it last heard (§3.2, §3.3). Called after a client's change and after every change
    /// the node publishes (a rule set through the API, the CLI or an ad-hoc command), so each
    /// change is pushed once whoever made it. The list is read under the table lock so two
    /// calls cannot push in the wrong order.
    pub(crate) fn sync_blocklist(&self, user: &BareJid) {
        let Some(list) = self.authority().blocklist() else {
            return;
        };
        let asked = self
            .table()
            .of(user)
            .is_some_and(|s| s.values().any(|s| s.blocklist.is_some()));
        if !asked {
            return;
        }
        let mut table = self.table_mut();
        let now: Arc<BTreeSet<BareJid>> = match list.blocked(user) {
            Ok(items) => Arc::new(items.into_iter().collect()),
            Err(e) => {
                tracing::warn!(%user, error = %e, "block list unreadable; no push");
                return;
            }
        };
        let Some(sessions) = table.of_mut(user) else {
            return;
        };
        for (resource, s) in sessions.iter_mut() {
            let Some(held) = s.blocklist.replace(Arc::clone(&now)) else {
                s.blocklist = None;
                continue;
            };
            let Ok(to) = user.with_resource_str(resource) else {
                continue;
            };
            let added: Vec<BareJid> = now.difference(&held).cloned().collect();
            let removed: Vec<BareJid> = held.difference(&now).cloned().collect();
            // An empty unblock would mean "everything": only non-empty pushes go out.
            if !added.is_empty() {
                s.send(push(self.push_id(), &to, true, added));
            }
            if !removed.is_empty() {
                s.send(push(self.push_id(), &to, false, removed));
            }
        }
    }

    /// §3.5: whether `from`'s user blocks `to` (an account, one of its resources, or another
    /// domain's entity; never the server or the user's own account), and if so, answer the
    /// message or iq request with `not-acceptable` and `<blocked/>`. Errors and iq results
    /// pass: they answer what the other side asked.
    pub(crate) fn refused_as_blocked(&self, from: &FullJid, head: &Head, dest: &Dest) -> bool {
        let Some(to) = dest.other_entity() else {
            return false;
        };
        let user = from.to_bare();
        if matches!(head.kind.as_deref(), Some("error" | "result")) || to.to_bare() == user {
            return false;
        }
        let Some(list) = self.authority().blocklist() else {
            return false;
        };
        if !list.blocks(&user, &to) {
            return false;
        }
        tracing::debug!(%from, %to, "stanza to a blocked entity refused");
        if let Some(reply) = reply_with(head, from, to, blocked_error()) {
            self.send_to(from, reply);
        }
        true
    }
}
