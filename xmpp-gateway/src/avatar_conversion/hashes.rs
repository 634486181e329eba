//! Each user's avatar hash as the server last computed it from the stored vCard, so that
//! putting it into presence (XEP-0398 §4) costs no store read per presence. One entry per local
//! user who sent presence or changed their avatar since the start: bounded by the accounts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jid::BareJid;

/// The cache; `None` in an entry means "no avatar".
#[derive(Debug, Default)]
pub(crate) struct Hashes(Mutex<HashMap<BareJid, Option<Arc<str>>>>);

impl Hashes {
    /// The cached hash of `user`: `None` when not cached yet.
    pub(crate) fn get(&self, user: &BareJid) -> Option<Option<Arc<str>>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(user)
            .cloned()
    }

    /// Remember `user`'s hash (`None`: no avatar).
    pub(crate) fn set(&self, user: &BareJid, hash: Option<&str>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user.clone(), hash.map(Arc::from));
    }

    /// Forget `user` (removed account, or a vCard changed some other way).
    pub(crate) fn forget(&self, user: &BareJid) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(user);
    }
}
