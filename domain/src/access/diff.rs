//! Rule changes take effect at once: which watchers' levels a change of rules or policy moves.
//!
//! Rules are data; the engine keeps the old value, stores the new one, asks [`rule_changes`] (a
//! user edited their rules) or [`policy_changes`] (the admin edited the node's defaults or
//! ceilings) which of the owner's current watchers now sit at another level, and re-sends each of
//! them the view for their new level: reduced for those who lost detail, fuller for those who
//! gained it. Recomputing through [`level_for`] per watcher keeps the diff exact under every
//! precedence rule and tie-break, instead of guessing from which entries changed.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::level::Level;
use super::rules::{NodePolicy, Rules, level_for};

/// One watcher as the engine knows it: the bare JID and the owner's roster groups it is in.
#[derive(Debug, Clone, Copy)]
pub struct Watcher<'a> {
    /// The watcher's bare JID.
    pub jid: &'a BareJid,
    /// The roster groups of the owner's roster that contain the watcher.
    pub groups: &'a [String],
}

/// A watcher whose level moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    /// The watcher.
    pub viewer: BareJid,
    /// The level before the change.
    pub from: Level,
    /// The level after it.
    pub to: Level,
}

impl LevelChange {
    /// The watcher now sees less and must get the reduced presence immediately.
    pub fn lost_detail(&self) -> bool {
        self.to < self.from
    }
}

/// Watchers of `owner` whose level differs between the `old` and `new` rules, in watcher order.
pub fn rule_changes<'a>(
    owner: &BareJid,
    watchers: impl IntoIterator<Item = Watcher<'a>>,
    old: &Rules,
    new: &Rules,
    policy: &NodePolicy,
) -> Vec<LevelChange> {
    changes(owner, watchers, (old, policy), (new, policy))
}

/// Watchers of `owner` whose level differs between the `old` and `new` node policy.
pub fn policy_changes<'a>(
    owner: &BareJid,
    watchers: impl IntoIterator<Item = Watcher<'a>>,
    rules: &Rules,
    old: &NodePolicy,
    new: &NodePolicy,
) -> Vec<LevelChange> {
    changes(owner, watchers, (rules, old), (rules, new))
}

fn changes<'a>(
    owner: &BareJid,
    watchers: impl IntoIterator<Item = Watcher<'a>>,
    (old_rules, old_policy): (&Rules, &NodePolicy),
    (new_rules, new_policy): (&Rules, &NodePolicy),
) -> Vec<LevelChange> {
    watchers
        .into_iter()
        .filter_map(|w| {
            let from = level_for(owner, w.jid, w.groups, old_rules, old_policy);
            let to = level_for(owner, w.jid, w.groups, new_rules, new_policy);
            (from != to).then(|| LevelChange {
                viewer: w.jid.clone(),
                from,
                to,
            })
        })
        .collect()
}
