//! One user's presence at one instant, as the outgoing paths ask for it viewer by viewer.
//!
//! A broadcast to a thousand subscribers needs at most five different views (one per level), so
//! the snapshot computes each level's view once and hands out clones.

use jid::BareJid;

use lampfield_domain::access::{self, Detail, Level, NodePolicy, Rules, View};
use lampfield_domain::presence::{Timestamp, UtcOffset};

/// The owner's presence and rules, frozen for one fan-out.
#[derive(Debug)]
pub struct Snapshot {
    owner: BareJid,
    detail: Detail,
    rules: Rules,
    policy: NodePolicy,
    now: Timestamp,
    offset: UtcOffset,
    views: [Option<View>; 5],
}

impl Snapshot {
    pub(super) fn new(
        owner: BareJid,
        detail: Detail,
        rules: Rules,
        policy: NodePolicy,
        now: Timestamp,
        offset: UtcOffset,
    ) -> Self {
        Snapshot {
            owner,
            detail,
            rules,
            policy,
            now,
            offset,
            views: Default::default(),
        }
    }

    /// The user whose presence this is.
    pub fn owner(&self) -> &BareJid {
        &self.owner
    }

    /// The level at which `viewer`, in `groups` of the owner's roster, sees the owner.
    pub fn level_of(&self, viewer: &BareJid, groups: &[String]) -> Level {
        access::level_for(&self.owner, viewer, groups, &self.rules, &self.policy)
    }

    /// The view at `level` (computed once per level).
    pub fn at(&mut self, level: Level) -> &View {
        let slot = &mut self.views[level as usize];
        slot.get_or_insert_with(|| access::view_for(level, &self.detail, self.now, self.offset))
    }

    /// The view `viewer` may see.
    pub fn for_viewer(&mut self, viewer: &BareJid, groups: &[String]) -> &View {
        let level = self.level_of(viewer, groups);
        self.at(level)
    }
}
