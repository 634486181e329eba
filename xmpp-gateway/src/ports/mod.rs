//! What the gateway needs from the node, all given to [`crate::Router::new`] at once: a
//! router never runs half-wired.

pub mod adhoc;
pub mod archive;
pub mod authority;
pub mod backend;
pub mod blocklist;
pub mod pep;
mod remote;

use std::sync::Arc;

use adhoc::AdHocCommands;
use authority::PresenceAuthority;
pub use remote::RemoteSender;

/// The node's side of the router.
pub struct Ports<B> {
    /// Accounts, credentials and stored rosters.
    pub backend: Arc<B>,
    /// The node's say over what each viewer sees of a user's presence.
    pub authority: Arc<dyn PresenceAuthority>,
    /// The node's XEP-0050 ad-hoc commands; a node with none offers none.
    pub commands: Option<Arc<dyn AdHocCommands>>,
    /// Where stanzas for other domains go ([`RemoteSender::none`] when nothing routes them).
    pub remote: RemoteSender,
}
