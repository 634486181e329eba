//! XEP-0054: vcard-temp (version 1.2), with XEP-0153: vCard-Based Avatars (version 1.1). A user
//! stores one vCard (a self-published business card, its PHOTO the avatar) at their own bare JID
//! and reads it back; others read it at the user's bare JID through the access levels
//! (docs/ACCESS.md): from public on they get the stored vCard, below that (strangers) exactly what a
//! user with no vCard gives, the empty `<vCard/>` (§3.1 allows it in place of an error), so they
//! cannot tell "not allowed" from "not there". Blocked viewers and accounts that do not exist get
//! `service-unavailable` before this module is asked.
//!
//! XEP-0153: the user's clients send the `vcard-temp:x:update` hash in their presence, which
//! passes on as a person-level extension (presence/extensions.rs); where a client does not, the
//! server puts it in (XEP-0398, avatar_conversion/).

mod handler;

use minidom::Element;

use crate::ports::authority::AccessLevel;

/// The namespace, for disco#info (§2).
pub(crate) const NS: &str = "vcard-temp";

/// The lowest level that sees a stored vCard (docs/ACCESS.md: a self-published business card,
/// whose avatar hash goes out in presence from public on).
pub(crate) const SHOWN_FROM: AccessLevel = AccessLevel::Public;

/// Whether `payload` is a vCard request.
pub(crate) fn is_vcard(payload: &Element) -> bool {
    payload.is("vCard", NS)
}

/// What a user with no vCard gives (§3.1): an empty `<vCard/>`.
pub(crate) fn empty() -> Element {
    Element::bare("vCard", NS)
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
