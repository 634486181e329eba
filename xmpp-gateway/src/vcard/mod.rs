//! XEP-0054: vcard-temp (version 1.2), with XEP-0153: vCard-Based Avatars (version 1.1). A user
//! stores one vCard (a self-published business card, its PHOTO the avatar) at their own bare JID
//! and reads it back; others read it at the user's bare JID through the access levels
//! (docs/ACCESS.md): from public on they get the stored vCard, below that (strangers) exactly what a
//! user with no vCard gives, the empty `<vCard/>` (§3.1 allows it in place of an error), so they
//! cannot tell "not allowed" from "not there". Blocked viewers and accounts that do not exist get
//! `service-unavailable` before this module is asked.
//!
//! XEP-0153: the server does not put the `vcard-temp:x:update` hash into presence itself (as
//! neither Prosody nor ejabberd do); the user's clients compute it from the PHOTO they publish and
//! send it in their presence, which passes on as a person-level extension
//! (presence/extensions.rs).

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::ports::authority::AccessLevel;
use crate::ports::backend::{Backend, Kept};
use crate::router::Router;
use crate::stanza::error::{self, Head};
use crate::stanza::iq_result;

/// The namespace, for disco#info (§2).
pub(crate) const NS: &str = "vcard-temp";

/// The lowest level that sees a stored vCard (docs/ACCESS.md: a self-published business card,
/// whose avatar hash goes out in presence from public on).
const SHOWN_FROM: AccessLevel = AccessLevel::Public;

/// Whether `payload` is a vCard request.
pub(crate) fn is_vcard(payload: &Element) -> bool {
    payload.is("vCard", NS)
}

/// What a user with no vCard gives (§3.1): an empty `<vCard/>`.
fn empty() -> Element {
    Element::bare("vCard", NS)
}

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
        match self.backend().vcard(owner).await {
            Ok(stored) => Ok(stored.unwrap_or_else(empty)),
            Err(e) => {
                tracing::warn!(%owner, error = %e, "vCard unreadable");
                Err(DefinedCondition::InternalServerError)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_vcard_is_a_vcard_and_nothing_more() {
        let e = empty();
        assert!(is_vcard(&e));
        assert_eq!(String::from(&e), "<vCard xmlns='vcard-temp'/>");
        let other: Element = "<vCard xmlns='urn:other'/>".parse().unwrap();
        assert!(!is_vcard(&other));
    }

    #[test]
    fn strangers_and_blocked_are_below_what_shows_it() {
        assert!(None < Some(SHOWN_FROM));
        assert!(Some(AccessLevel::Blocked) < Some(SHOWN_FROM));
        assert!(Some(AccessLevel::Public) >= Some(SHOWN_FROM));
    }
}
