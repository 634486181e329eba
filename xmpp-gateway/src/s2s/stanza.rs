//! The content namespaces under the names `router::resync` imports them by; their home is
//! [`crate::ns`], and the stanza helpers that were here are in `crate::stream`.

pub(crate) use crate::ns::JABBER_CLIENT as CLIENT_NS;
