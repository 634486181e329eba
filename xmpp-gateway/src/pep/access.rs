//! Who may see a node's items (docs/ACCESS.md, shared contract for stored items): the level the
//! node's class needs, narrowed by its XEP-0060 §4.5 access model. Below it, a viewer is answered
//! as if the node had never been published.

use crate::ports::authority::AccessLevel;
use crate::ports::pep::AccessModel;

/// Nodes that show from public: XEP-0084 avatars, XEP-0172 nickname, XEP-0384 OMEMO device lists
/// and bundles (both namespaces), XEP-0292 vCard4.
const PUBLIC_NODES: &[&str] = &[
    "urn:xmpp:avatar:data",
    "urn:xmpp:avatar:metadata",
    "http://jabber.org/protocol/nick",
    "urn:xmpp:vcard4",
];
/// Node name prefixes that show from public (OMEMO bundles carry the device id in the name).
const PUBLIC_PREFIXES: &[&str] = &["eu.siacs.conversations.axolotl.", "urn:xmpp:omemo:2:"];
/// Nodes that show from team: XEP-0107 mood, XEP-0108 activity, XEP-0118 tune.
const TEAM_NODES: &[&str] = &[
    "http://jabber.org/protocol/mood",
    "http://jabber.org/protocol/activity",
    "http://jabber.org/protocol/tune",
];

/// The lowest level that sees node `name` under an open model; anything not named shows at
/// personal (geolocation included).
pub(crate) fn class_level(name: &str) -> AccessLevel {
    if PUBLIC_NODES.contains(&name) || PUBLIC_PREFIXES.iter().any(|p| name.starts_with(p)) {
        AccessLevel::Public
    } else if TEAM_NODES.contains(&name) {
        AccessLevel::Team
    } else {
        AccessLevel::Personal
    }
}

/// Whether a viewer at `level` (`None`: a stranger) sees the items of node `name` with `model`.
/// The owner always does; a whitelist node is the owner's alone (no other JID is ever listed).
pub(crate) fn may_see(
    owner: bool,
    level: Option<AccessLevel>,
    name: &str,
    model: AccessModel,
) -> bool {
    if owner {
        return true;
    }
    if model == AccessModel::Whitelist {
        return false;
    }
    level.is_some_and(|l| l != AccessLevel::Blocked && l >= class_level(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = "eu.siacs.conversations.axolotl.devicelist";

    #[test]
    fn classes_need_their_level_and_strangers_and_blocked_see_nothing() {
        for (name, lowest) in [
            ("urn:xmpp:avatar:data", AccessLevel::Public),
            (DEVICES, AccessLevel::Public),
            (
                "eu.siacs.conversations.axolotl.bundles:123",
                AccessLevel::Public,
            ),
            ("urn:xmpp:omemo:2:bundles", AccessLevel::Public),
            ("http://jabber.org/protocol/tune", AccessLevel::Team),
            ("http://jabber.org/protocol/geoloc", AccessLevel::Personal),
            ("urn:example:anything", AccessLevel::Personal),
        ] {
            assert_eq!(class_level(name), lowest, "{name}");
            assert!(may_see(false, Some(lowest), name, AccessModel::Open));
            assert!(may_see(
                false,
                Some(AccessLevel::Personal),
                name,
                AccessModel::Presence
            ));
            assert!(!may_see(false, None, name, AccessModel::Open), "stranger");
            assert!(!may_see(
                false,
                Some(AccessLevel::Blocked),
                name,
                AccessModel::Open
            ));
        }
        assert!(!may_see(
            false,
            Some(AccessLevel::Public),
            "http://jabber.org/protocol/tune",
            AccessModel::Open
        ));
        assert!(!may_see(
            false,
            Some(AccessLevel::Team),
            "http://jabber.org/protocol/geoloc",
            AccessModel::Roster
        ));
    }

    #[test]
    fn whitelist_is_the_owner_alone() {
        let bookmarks = "urn:xmpp:bookmarks:1";
        assert!(may_see(
            true,
            Some(AccessLevel::Personal),
            bookmarks,
            AccessModel::Whitelist
        ));
        assert!(!may_see(
            false,
            Some(AccessLevel::Personal),
            bookmarks,
            AccessModel::Whitelist
        ));
        assert!(!may_see(
            false,
            Some(AccessLevel::Personal),
            DEVICES,
            AccessModel::Whitelist
        ));
    }
}
