//! One module per protocol feature. Pure logic (state machines, target selection,
//! stanza building) lives here and is tested without sockets; the router glues it to
//! the session table and the backend.

pub(crate) mod adhoc;
pub(crate) mod disco;
pub(crate) mod errors;
pub(crate) mod message;
pub(crate) mod ping;
pub(crate) mod presence;
pub(crate) mod roster;
pub(crate) mod stanza;
pub(crate) mod subscription;
