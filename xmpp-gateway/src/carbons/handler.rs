//! XEP-0280 §4 and §5: a resource enables or disables carbons for itself with an iq set to
//! its own bare JID (or no `to`) or to the server; the answer is an empty result.

use jid::FullJid;
use xmpp_parsers::iq::Iq;

use super::Request;
use crate::ports::backend::Backend;
use crate::router::{Dest, Router};

impl<B: Backend> Router<B> {
    /// Answer `iq` if it is a carbons request `from` made of its own server; `false` leaves it
    /// to the other handlers.
    pub(crate) fn carbons_iq(&self, from: &FullJid, dest: &Dest, iq: &Iq) -> bool {
        let Iq::Set { id, payload, .. } = iq else {
            return false;
        };
        let Some(request) = super::request(payload) else {
            return false;
        };
        let replier = match dest {
            Dest::Server => self.domain().clone(),
            Dest::Account(own) if *own == from.to_bare() => own.clone().into(),
            _ => return false,
        };
        if let Some(session) = self.table_mut().get_mut(from) {
            session.carbons = request == Request::Enable;
        }
        tracing::debug!(%from, ?request, "carbons");
        let result = crate::stanza::iq_result(id, from.clone().into(), Some(replier), None);
        self.send_to(from, result);
        true
    }
}
