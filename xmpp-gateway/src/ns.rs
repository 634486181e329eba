//! The XML namespaces the streams speak (RFC 6120, RFC 3921, XEP-0220, XEP-0352,
//! XEP-0199, XEP-0478, XEP-0203, XEP-0334, XEP-0280, XEP-0297, XEP-0191), each with the spec
//! that defines it.
//!
//! One place for all of them, so no two modules can disagree on a namespace and no
//! module imports another only for a string. Those xmpp-parsers defines are its own
//! constants; only the ones it lacks are spelled out here.

/// `jabber:client`: the content namespace of client streams (RFC 6120 §4.8.3).
pub use xmpp_parsers::ns::JABBER_CLIENT;

/// `jabber:server`: the content namespace of server streams (RFC 6120 §4.8.3).
pub const JABBER_SERVER: &str = "jabber:server";

/// `jabber:component:accept`: the content namespace of component streams (XEP-0114),
/// accepted on the component listener only; c2s refuses it with the right condition.
pub use xmpp_parsers::ns::COMPONENT_ACCEPT;

/// The streams namespace of the root element and its children (RFC 6120 §4.8.1).
pub use xmpp_parsers::ns::STREAM;

/// Stream error conditions (RFC 6120 §4.9.2).
pub use xmpp_parsers::ns::XMPP_STREAMS;

/// Stanza error conditions (RFC 6120 §8.3.3).
pub use xmpp_parsers::ns::XMPP_STANZAS;

/// STARTTLS (RFC 6120 §5.4).
pub use xmpp_parsers::ns::TLS;

/// SASL (RFC 6120 §6.4).
pub use xmpp_parsers::ns::SASL;
/// XEP-0440 SASL Channel-Binding Type Capability.
pub const SASL_CHANNEL_BINDING: &str = "urn:xmpp:sasl-cb:0";

/// Resource binding (RFC 6120 §7).
pub use xmpp_parsers::ns::BIND;

/// The legacy session establishment old clients still send (RFC 3921 §3).
pub const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";

/// The stream feature announcing roster versioning (XEP-0237 §2.1).
pub const ROSTER_VERSIONING: &str = "urn:xmpp:features:rosterver";

/// Server dialback elements, the `db:` prefix (XEP-0220 §2).
pub const DIALBACK: &str = "jabber:server:dialback";

/// The dialback stream feature (XEP-0220 §2.1).
pub const DIALBACK_FEATURE: &str = "urn:xmpp:features:dialback";

/// Client state indication (XEP-0352).
pub use xmpp_parsers::ns::CSI;

/// Stream management (XEP-0198).
pub use xmpp_parsers::ns::SM;

/// XMPP ping (XEP-0199).
pub use xmpp_parsers::ns::PING;

/// Stream limits advertisement (XEP-0478).
pub use xmpp_parsers::ns::STREAM_LIMITS;

/// Delayed delivery, the stamp on a message kept offline (XEP-0203).
pub use xmpp_parsers::ns::DELAY;

/// Message processing hints: `<store/>`, `<no-store/>` (XEP-0334).
pub const HINTS: &str = "urn:xmpp:hints";

/// XEP-0049 private XML storage.
pub use xmpp_parsers::ns::PRIVATE;

/// XEP-0077 in-band registration (here: a logged-in user's password change).
pub use xmpp_parsers::ns::REGISTER;

/// XEP-0186 invisible command.
pub const INVISIBLE: &str = "urn:xmpp:invisible:0";

/// Message carbons (XEP-0280).
pub use xmpp_parsers::ns::CARBONS;

/// Stanza forwarding, the wrapper of a carbon copy (XEP-0297).
pub use xmpp_parsers::ns::FORWARD;

/// XEP-0191 Blocking Command (1.3): the block list, block and unblock.
pub use xmpp_parsers::ns::BLOCKING;

/// XEP-0191 §3.5: the application condition of a stanza refused as sent to a blocked entity.
pub use xmpp_parsers::ns::BLOCKING_ERRORS;
