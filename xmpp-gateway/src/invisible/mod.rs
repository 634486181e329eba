//! XEP-0186: Invisible Command (version 0.14.0), mapped to the node's "appear offline" setting.
//!
//! `<invisible/>` sets "appear offline" for the user: every viewer sees exactly what a logged-out
//! user shows (docs/ACCESS.md), messages still arrive (a sender cannot tell). `<visible/>` lifts
//! it. Unlike the XEP's per-session invisibility, the setting is the user's, for all their
//! clients, and stays after the session ends, as "appear offline" set anywhere else does (the
//! web panel, the API, the ad-hoc command); the client that asked sees its own presence come back
//! from the server as offline, so it is not misled about what others see.

use jid::FullJid;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::ports::backend::Backend;
use crate::router::Router;
use crate::stanza::error::Head;
use crate::stanza::iq_result;

use crate::ns::INVISIBLE as NS;

/// The namespace some clients (slixmpp among them) put on `<visible/>`, which the XEP puts in
/// [`NS`]; accepted too, since what it asks is unambiguous.
const VISIBLE_AS_SENT: &str = "urn:xmpp:visible:0";

fn asks_visible(payload: &minidom::Element) -> bool {
    payload.is("visible", NS) || payload.is("visible", VISIBLE_AS_SENT)
}

impl<B: Backend> Router<B> {
    /// Whether `iq` is an invisibility command.
    pub(crate) fn is_invisible_iq(&self, iq: &Iq) -> bool {
        match iq {
            Iq::Set { payload, .. } => payload.is("invisible", NS) || asks_visible(payload),
            Iq::Get { .. } | Iq::Result { .. } | Iq::Error { .. } => false,
        }
    }

    /// §3.1, §3.3: become invisible or visible; the answer comes once the node has it stored.
    pub(crate) async fn invisible_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let Iq::Set { id, payload, .. } = iq else {
            return;
        };
        let invisible = payload.is("invisible", NS);
        let user = from.to_bare();
        if self.authority().set_invisible(&user, invisible).await {
            let server = Some(self.domain().clone());
            self.send_to(from, iq_result(&id, from.clone().into(), server, None));
        } else {
            self.error(
                head,
                from,
                self.domain().clone(),
                DefinedCondition::InternalServerError,
            );
        }
    }
}
