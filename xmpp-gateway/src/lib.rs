//! Lampfield's XMPP adapter.
//!
//! This crate speaks XMPP and nothing else: XML streams with hard limits, STARTTLS,
//! SASL, resource binding, and the RFC 6121 roster, subscription and presence
//! protocol, routed between the sessions it holds. Everything it needs from the
//! outside world (credentials, stored rosters, whether an account exists) it asks
//! through the [`Backend`] trait, which the node implements.
//!
//! Layout; each protocol feature is one folder holding its rules (pure, tested
//! without sockets) and its handling (`handler.rs`):
//! - [`ns`]: every XML namespace the streams speak, with the spec of each.
//! - [`ports`]: what the node implements and hands the router at construction: the
//!   [`Backend`], the [`PresenceAuthority`], the XEP-0050 ad-hoc command port
//!   ([`AdHocCommands`]), the XEP-0191 [`Blocklist`] (reached through the authority) and the [`RemoteSender`] to other domains.
//! - `stanza/`: RFC 6120 §8.1.1 addressing (with the stanza prepared once for a fan-out) and
//!   §8.3 error replies, shared by every feature.
//! - `session/`: the table of bound resources, their outgoing queues and the fan-out writer.
//! - `delivery`: what a feature hands back to be sent (a [`Router`] executes it), so features
//!   never send through each other.
//! - `roster/`: RFC 6121 §2, roster items and get/set/push, and a removed account taken out of
//!   every roster (with the §3 cancellations it owes other domains).
//! - `subscription/`: RFC 6121 §3, the subscription state machine and its stanzas.
//! - `presence/`: RFC 6121 §4, broadcasts, probes, directed presence, the presence the node
//!   publishes through the authority (once per person or per device, with the clients'
//!   extensions by disclosure), who may address a resource, and resynchronizing with another
//!   domain.
//! - `message/`: RFC 6121 §5 and §8.5, messages to local accounts.
//! - `carbons/`: XEP-0280 message carbons, enabled per session, copies of what a user's
//!   resource received or sent to the user's other resources.
//! - `disco/`: XEP-0030 service discovery, answered for the server and for accounts.
//! - `pep/`: XEP-0163 personal eventing over the XEP-0060 subset clients use (XEP-0223
//!   persistence, publish-options), by access level, with `+notify` filtering from caps.
//! - `ping/`: XEP-0199 ping, answered for the server and for accounts.
//! - `blocking/`: XEP-0191 blocking command, the user's block list kept as the node's access
//!   rules at blocked through the [`Blocklist`] port, with pushes and the §3.5 refusal.
//! - `vcard/`: XEP-0054 vcard-temp, the user's vCard shown by the access levels (XEP-0153 avatar
//!   hashes stay the clients' own, in their presence).
//! - `last_activity/`: XEP-0012 last activity, the server's uptime and, from team on, when an
//!   account's last client went offline.
//! - `adhoc/`: XEP-0050 ad-hoc commands, the wire format and the handler of the command port.
//! - `remote/`: RFC 6120 §10.4, stanzas from other domains.
//! - [`router`]: the [`Router`], dispatch by (stanza kind, address kind) per RFC 6120 §10 and
//!   RFC 6121 §8, the session table, and executing deliveries.
//! - [`stream`]: XML streams for c2s and s2s alike: bytes to elements and back, the transport
//!   before and after STARTTLS, one connection type and one accept loop.
//! - [`sasl`]: the SASL mechanisms (RFC 6120 §6).
//! - [`c2s`]: client streams: negotiation and one task per connection.
//! - [`s2s`]: server-to-server streams, dialback, routing to other domains.
//! - [`component`]: XEP-0114 external components (a MUC, an upload service) under domains of
//!   their own, which get what local users send there and directed presence, never a
//!   person's broadcast.
//! - [`tls`]: loading the server's certificate and key.
//!
//! Where the IM side departs from or chooses within RFC 6121:
//! - A `chat`/`normal` message no resource can take is kept offline through the [`Backend`]
//!   (XEP-0160) and delivered at the next available presence; `service-unavailable` only
//!   when the user's store is full.
//! - A sender the user hides from (the [`PresenceAuthority`] says so) is answered exactly as
//!   for an account that does not exist (§8.5.1): messages, iqs to the bare JID,
//!   subscription requests and directed presence.
//! - Stanzas for other domains leave through the [`RemoteSender`] to `s2s/`; without
//!   s2s configured they get `remote-server-not-found`.
//! - Probes sent on initial presence are answered only by contacts that are online
//!   (§4.3.2 allows silence for the others).
//! - A stanza to a full JID reaches that resource only from those who may address it (the
//!   user, a viewer shown that device, a target of its directed presence); from anyone else it
//!   is handled as if the resource were unbound (§8.5.3.2.1).
//! - Roster sets ignore `subscription` values other than `remove`, `ask` and
//!   `approved` (§2.1.2.5); roster versioning (XEP-0237) is not offered.
//! - XEP-0280 carbons copy nothing between two resources of the same user, nor a message kept
//!   offline when it is delivered later.

mod adhoc;
mod archive;
mod avatar_conversion;
mod blocking;
pub mod c2s;
mod carbons;
pub mod component;
mod delivery;
mod disco;
mod entity_time;
mod invisible;
mod last_activity;
mod message;
pub mod ns;
mod pep;
mod ping;
pub mod ports;
mod presence;
mod private;
mod push;
mod register;
mod remote;
mod roster;
pub mod router;
pub mod s2s;
pub mod sasl;
mod session;
mod stanza;
pub mod stream;
mod subscription;
pub mod tls;
mod vcard;
mod version;
pub mod websocket;

pub use c2s::{C2sConfig, serve_c2s, serve_c2s_direct_tls};
pub use component::{ComponentConfig, serve_components};
pub use ports::adhoc::{AdHocCommands, CommandFuture, CommandInfo, CommandReply};
pub use ports::archive::{
    ArchiveDefault, ArchiveMark, ArchivePage, ArchivePrefs, ArchiveQuery, Archived,
};
pub use ports::authority::{AccessLevel, Disclosure, PresenceAuthority, PresenceSnapshot, Shown};
pub use ports::backend::{
    Backend, BackendError, Contact, Kept, LastLogout, PasswordChange, PushRegistration,
    ScramCredentials, ScramHash, Subscription,
};
pub use ports::blocklist::{BlockError, BlockFuture, Blocklist};
pub use ports::{Ports, RemoteSender};
pub use push::PushPolicy;
pub use router::Router;
pub use s2s::{S2s, S2sConfig};
pub use sasl::{derive_credentials, new_credentials};
