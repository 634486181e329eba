//! Lampfield's XMPP adapter.
//!
//! This crate speaks XMPP and nothing else: XML streams with hard limits, STARTTLS,
//! SASL, resource binding, and the RFC 6121 roster, subscription and presence
//! protocol, routed between the sessions it holds. Everything it needs from the
//! outside world (credentials, stored rosters, whether an account exists) it asks
//! through the [`Backend`] trait, which the node implements.
//!
//! Layout:
//! - [`backend`]: the port the node implements.
//! - [`authority`]: the node's say over what each viewer sees of a user's presence.
//! - `session`: the table of bound resources, their outgoing queues and the fan-out writer.
//! - `router`: the dispatch of stanzas by kind and address.
//! - `features/`: one module per protocol feature (roster, subscription, presence, ...).
//! - [`ns`]: every XML namespace the streams speak, with the spec of each.
//! - `stream/`: XML streams for c2s and s2s alike: bytes to elements and back, the
//!   transport before and after STARTTLS, one connection type and one accept loop.
//! - `sasl/`, `c2s/`: the SASL mechanisms; client negotiation and one task per connection.
//! - `s2s/`: server-to-server streams, dialback, routing to other domains.
//!
//! Where the IM side departs from or chooses within RFC 6121:
//! - No offline storage: a `chat`/`normal` message no resource can take is answered
//!   with `service-unavailable` (§8.5.2.2.1 allows it).
//! - Stanzas for other domains leave through `Router::to_remote` to `s2s/`; without
//!   s2s configured they get `remote-server-not-found`.
//! - Probes sent on initial presence are answered only by contacts that are online
//!   (§4.3.2 allows silence for the others).
//! - Roster sets ignore `subscription` values other than `remove`, `ask` and
//!   `approved` (§2.1.2.5); roster versioning (XEP-0237) is not offered.

pub mod authority;
pub mod backend;
pub mod c2s;
pub mod commands;
mod features;
pub mod ns;
pub mod router;
pub mod s2s;
pub mod sasl;
mod session;
pub mod stream;
pub mod tls;

pub use authority::{PresenceAuthority, PresenceSnapshot};
pub use backend::{Backend, BackendError, Contact, ScramCredentials, ScramHash, Subscription};
pub use c2s::{C2sConfig, serve_c2s};
pub use commands::{AdHocCommands, CommandFuture, CommandInfo, CommandReply};
pub use router::{Ports, Router};
pub use s2s::{S2s, S2sConfig};
pub use sasl::{derive_credentials, new_credentials};
