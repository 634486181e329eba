//! XEP-0030: Service Discovery, for the server and for local accounts' bare JIDs.

use xmpp_parsers::ns;

/// disco#info namespace.
pub(crate) const NS_INFO: &str = ns::DISCO_INFO;
