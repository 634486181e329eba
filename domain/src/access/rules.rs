//! Who gets which level: a user's rules under the node's default and ceiling (docs/ACCESS.md).
//!
//! Precedence, most specific first: contact > roster group > organization (domain) > all federated
//! organizations > the user's default > the node's default; the node's ceiling for the viewer's
//! class (same domain, other domains) then caps the result, whatever rule decided. The owner
//! always sees their own presence at personal.

use std::collections::BTreeMap;

use jid::{BareJid, DomainPart};
use serde::{Deserialize, Serialize};

use super::level::Level;

/// Most entries one user may keep in each kind of rule; the API and the ad-hoc commands refuse more,
/// so a stored rule set stays small enough to load per presence change.
pub const MAX_ENTRIES: usize = 1000;
/// Longest roster group name in a rule, in bytes.
pub const MAX_GROUP_BYTES: usize = 1024;

/// One user's rules. `Default` is "no rules": the node's default applies to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Per contact (bare JID).
    pub contacts: BTreeMap<BareJid, Level>,
    /// Per roster group of the owner's roster.
    pub groups: BTreeMap<String, Level>,
    /// Per organization: every JID of exactly this domain.
    pub domains: BTreeMap<DomainPart, Level>,
    /// Every JID of a domain other than the owner's (federated organizations).
    pub federated: Option<Level>,
    /// Everyone else; replaces the node's default for this user.
    pub default: Option<Level>,
}

/// Why a rule set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Too many entries of one kind.
    #[error("too many {kind} rules: {len}, at most {max}")]
    TooMany {
        /// Which kind: "contact", "group" or "domain".
        kind: &'static str,
        /// How many were given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A group name that is empty or longer than [`MAX_GROUP_BYTES`].
    #[error("roster group names in rules must be 1 to {MAX_GROUP_BYTES} bytes long")]
    GroupName,
}

impl Rules {
    /// Checks the bounds; the edges call it before storing.
    pub fn check(&self) -> Result<(), RuleError> {
        for (kind, len) in [
            ("contact", self.contacts.len()),
            ("group", self.groups.len()),
            ("domain", self.domains.len()),
        ] {
            if len > MAX_ENTRIES {
                return Err(RuleError::TooMany {
                    kind,
                    len,
                    max: MAX_ENTRIES,
                });
            }
        }
        if self
            .groups
            .keys()
            .any(|g| g.is_empty() || g.len() > MAX_GROUP_BYTES)
        {
            return Err(RuleError::GroupName);
        }
        Ok(())
    }
}

/// The node administrator's defaults and ceilings (config section `[access]`).
///
/// The ceilings are maxima no user rule can exceed ("nobody outside the company ever sees more
/// than business", ProCall's federation "maximum global level"). The defaults are what a viewer
/// gets when the user has no rule that matches; a user may lower or raise them within the ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodePolicy {
    /// Default for viewers of the node's own domain (default: business, Lync's "Colleagues").
    pub default_local: Level,
    /// Default for viewers of other domains (default: public).
    pub default_federated: Level,
    /// Ceiling for viewers of the node's own domain (default: personal, no cap).
    pub ceiling_local: Level,
    /// Ceiling for viewers of other domains (default: business: call detail, subjects and notes
    /// from integrations stay inside the organization, as ProCall keeps line detail in-house).
    pub ceiling_federated: Level,
}

impl Default for NodePolicy {
    fn default() -> Self {
        NodePolicy {
            default_local: Level::Business,
            default_federated: Level::Public,
            ceiling_local: Level::Personal,
            ceiling_federated: Level::Business,
        }
    }
}

/// Whether a viewer belongs to the owner's organization; the node's defaults and ceilings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerClass {
    /// Same domain as the owner (the node's own domain).
    Local,
    /// Any other domain.
    Federated,
}

/// Which rule decided a level, for `lampfield rule explain` and the tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "name")]
pub enum Basis {
    /// The viewer is the owner.
    Owner,
    /// The rule for this contact.
    Contact,
    /// The rule for this roster group (the one chosen by the tie-break).
    Group(String),
    /// The rule for the viewer's domain.
    Domain,
    /// The rule for all federated organizations.
    Federated,
    /// The user's default.
    UserDefault,
    /// The node's default for the viewer's class.
    NodeDefault,
}

/// A level with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The level that applies.
    pub level: Level,
    /// The rule that chose it before the ceiling.
    pub basis: Basis,
    /// The level that rule named, when the node's ceiling lowered it.
    pub capped_from: Option<Level>,
}

/// The level at which `viewer` sees `owner`'s presence. `viewer_groups` are the roster groups the
/// viewer is in on the owner's roster.
pub fn level_for(
    owner: &BareJid,
    viewer: &BareJid,
    viewer_groups: &[String],
    rules: &Rules,
    policy: &NodePolicy,
) -> Level {
    decide(owner, viewer, viewer_groups, rules, policy).level
}

/// [`level_for`] with the rule that decided it.
pub fn decide(
    owner: &BareJid,
    viewer: &BareJid,
    viewer_groups: &[String],
    rules: &Rules,
    policy: &NodePolicy,
) -> Decision {
    if viewer == owner {
        return Decision {
            level: Level::Personal,
            basis: Basis::Owner,
            capped_from: None,
        };
    }
    let class = if viewer.domain() == owner.domain() {
        ViewerClass::Local
    } else {
        ViewerClass::Federated
    };
    let (named, basis) = rules
        .contacts
        .get(viewer)
        .map(|l| (*l, Basis::Contact))
        .or_else(|| group_level(viewer_groups, rules))
        .or_else(|| {
            let d = rules.domains.get(viewer.domain().as_str());
            d.map(|l| (*l, Basis::Domain))
        })
        .or_else(|| match class {
            ViewerClass::Federated => rules.federated.map(|l| (l, Basis::Federated)),
            ViewerClass::Local => None,
        })
        .or_else(|| rules.default.map(|l| (l, Basis::UserDefault)))
        .unwrap_or_else(|| (policy.default_for(class), Basis::NodeDefault));
    let level = named.min(policy.ceiling_for(class));
    Decision {
        level,
        basis,
        capped_from: (level < named).then_some(named),
    }
}

/// The tie-break among the viewer's groups that have a rule: a blocked group vetoes, otherwise the
/// most permissive group wins (grants add up, as in ProCall, XPhone and innovaphone). Among equal
/// levels the first group name in sort order is reported.
fn group_level(viewer_groups: &[String], rules: &Rules) -> Option<(Level, Basis)> {
    let mut matched: Vec<(&String, Level)> = viewer_groups
        .iter()
        .filter_map(|g| rules.groups.get_key_value(g))
        .map(|(g, l)| (g, *l))
        .collect();
    matched.sort();
    let pick = if let Some(blocked) = matched.iter().find(|(_, l)| *l == Level::Blocked) {
        Some(*blocked)
    } else {
        matched.iter().rev().max_by_key(|(_, l)| *l).copied()
    };
    pick.map(|(g, l)| (l, Basis::Group(g.clone())))
}

impl NodePolicy {
    /// The node's default for a class.
    pub fn default_for(&self, class: ViewerClass) -> Level {
        match class {
            ViewerClass::Local => self.default_local,
            ViewerClass::Federated => self.default_federated,
        }
    }

    /// The node's ceiling for a class.
    pub fn ceiling_for(&self, class: ViewerClass) -> Level {
        match class {
            ViewerClass::Local => self.ceiling_local,
            ViewerClass::Federated => self.ceiling_federated,
        }
    }
}
