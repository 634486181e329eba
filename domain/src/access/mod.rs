//! Access levels and rules: the view of a presence that a viewer may see (pure; docs/ACCESS.md).
//!
//! Two functions are the whole contract with the rest of the node: [`level_for`] says at which
//! [`Level`] a viewer sees an owner (the owner's [`Rules`] under the admin's [`NodePolicy`]), and
//! [`view_for`] turns what the node holds ([`Detail`]) into what that level may see ([`View`]).
//! Every outgoing path calls these and nothing else. [`rule_changes`] and [`policy_changes`] tell
//! the engine whom to re-send presence to when rules change.
//!
//! Layout: `level` (the five levels), `view` (the field filter), `rules` (precedence, tie-break,
//! ceiling), `selector` (naming one rule entry for the API, CLI and ad-hoc commands), `diff`
//! (level changes of current watchers).

mod diff;
mod level;
mod rules;
mod selector;
mod view;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod matrix_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod rules_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod view_tests;

pub use diff::{LevelChange, Watcher, policy_changes, rule_changes};
pub use level::{Level, UnknownLevel};
pub use rules::{
    Basis, Decision, MAX_ENTRIES, MAX_GROUP_BYTES, NodePolicy, RuleError, Rules, ViewerClass,
    decide, level_for,
};
pub use selector::{Selector, SelectorError};
pub use view::{Detail, Forwarding, Slot, View, view_for};
