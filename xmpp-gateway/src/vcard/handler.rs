//! XEP-0054 handling: the user's own vCard stored, anyone's read by the viewer's level.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::{SHOWN_FROM, empty};
use crate::ports::backend::{Backend, Kept};
use crate::router::Router;
use crate::stanza::error::{self, Head};
use crate::stanza::iq_result;

impl<B: Backend> Router<B> {
    /// §3.2: the user replaces their own vCard; the result goes once it is on disk.
    pub(crate) async fn set_own_vcard(
        &self,
        from: &FullJid,
        head: &Head,
        id: &str,
        vcard: Element,
    ) {
        let user = from.to_bare();
        let replier: jid::Jid = user.clone().into();
        let refuse = |error| {
            if let Some(reply) = error::reply_with(head, from, replier.clone(), error) {
                self.send_to(from, reply);
            }
        };
        match self.backend().put_vcard(&user, &vcard).await {
            Ok(Kept::Stored) => {
                self.send_to(
                    from,
                    iq_result(id, from.clone().into(), Some(replier), None),
                );
                // XEP-0398 §3.2: the photo goes to XEP-0084 too.
                self.vcard_stored(&user, &vcard).await;
            }
            Ok(Kept::Full) => {
                // Clients show the text: say what to do about it.
                let mut e = error::stanza_error(DefinedCondition::NotAcceptable);
                e.texts.insert(
                    String::new(),
                    "the vCard is larger than this server keeps for one user: use a smaller photo"
                        .to_owned(),
                );
                refuse(e);
            }
            Err(e) => {
                tracing::warn!(%user, error = %e, "vCard not stored");
                refuse(error::stanza_error(DefinedCondition::InternalServerError));
            }
        }
    }

    /// §3.1 and §3.3: `owner`'s vCard as `viewer` may see it (the owner sees their own).
    pub(crate) async fn vcard_for(
        &self,
        viewer: &BareJid,
        owner: &BareJid,
    ) -> Result<Element, DefinedCondition> {
        if self.viewer_level(owner, viewer).await < Some(SHOWN_FROM) {
            return Ok(empty());
        }
        match self.backend().vcard_shown(owner).await {
            Ok(stored) => Ok(stored.unwrap_or_else(empty)),
            Err(e) => {
                tracing::warn!(%owner, error = %e, "vCard unreadable");
                Err(DefinedCondition::InternalServerError)
            }
        }
    }
}
