//! XEP-0012 handling for accounts: the last logout kept and answered by the viewer's level.

use std::time::SystemTime;

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::{SHOWN_FROM, query};
use crate::ports::backend::{Backend, LastLogout};
use crate::router::Router;

impl<B: Backend> Router<B> {
    /// §3: `owner`'s last activity as `viewer` may learn it; `None` below team, where the query
    /// is answered as before the node kept it.
    pub(crate) async fn last_activity_for(
        &self,
        viewer: &BareJid,
        owner: &BareJid,
    ) -> Option<Result<Element, DefinedCondition>> {
        if self.viewer_level(owner, viewer).await < Some(SHOWN_FROM) {
            return None;
        }
        // Online is what the viewer is shown: a user in "appear offline" is offline to it.
        if self
            .authority()
            .snapshot(owner)
            .for_viewer(viewer)
            .is_some()
        {
            return Some(Ok(query(0, None)));
        }
        Some(match self.backend().last_logout(owner).await {
            Ok(Some(logout)) => {
                let seconds = SystemTime::now()
                    .duration_since(logout.at)
                    .unwrap_or_default()
                    .as_secs();
                Ok(query(seconds, logout.status.as_deref()))
            }
            // Never logged out since the node began keeping it: nothing to say.
            Ok(None) => Err(DefinedCondition::ItemNotFound),
            Err(e) => {
                tracing::warn!(%owner, error = %e, "last logout unreadable");
                Err(DefinedCondition::InternalServerError)
            }
        })
    }

    /// One of `user`'s sessions went unavailable or ended; if none is available any more, keep
    /// the time (and the status it said goodbye with).
    pub(crate) async fn note_offline(&self, user: &BareJid, status: Option<String>) {
        let still_online = self
            .table()
            .of(user)
            .is_some_and(|sessions| sessions.values().any(|s| s.available()));
        if still_online {
            return;
        }
        let logout = LastLogout {
            at: SystemTime::now(),
            status,
        };
        if let Err(e) = self.backend().put_last_logout(user, &logout).await {
            tracing::warn!(%user, error = %e, "last logout not kept");
        }
    }
}
