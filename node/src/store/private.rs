//! Private XML storage (XEP-0049): `userkey_private`, one XML element per user and qualified name
//! that only that user reads and writes (client settings, legacy bookmarks). Bounded per user in
//! count and bytes; a write is acknowledged once it is on disk.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERKEY_PRIVATE};
use super::{Store, StoreError};

/// Most elements one user keeps.
pub const MAX_PRIVATE_ELEMENTS: usize = 64;
/// Most bytes one user keeps, as stored.
pub const MAX_PRIVATE_BYTES: usize = 256 * 1024;

/// One stored element: its XML as the gateway serialized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    xml: String,
}

impl Store {
    /// The element `user` stored under `(name, ns)`, if any.
    pub fn private_xml(
        &self,
        user: &BareJid,
        name: &str,
        ns: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = schema::private_key(user, name, ns);
        match self.private.get(key)? {
            Some(value) => Ok(Some(
                records::decode::<Stored>(USERKEY_PRIVATE, &value)?.xml,
            )),
            None => Ok(None),
        }
    }

    /// Store `xml` for `user` under `(name, ns)`, replacing what was there. `Ok(false)` when that
    /// would take `user` past [`MAX_PRIVATE_ELEMENTS`] or [`MAX_PRIVATE_BYTES`] (nothing is
    /// stored); `Ok(true)` once it is on disk. Refused for a user without an account.
    pub async fn put_private_xml(
        &self,
        user: &BareJid,
        name: &str,
        ns: &str,
        xml: &str,
    ) -> Result<bool, StoreError> {
        let value = records::encode(
            USERKEY_PRIVATE,
            &Stored {
                xml: xml.to_owned(),
            },
        )?;
        let key = schema::private_key(user, name, ns);
        let _writer = self.private_writers.lock(user).await;
        let (mut count, mut bytes) = (0, 0);
        for entry in self.private.scan_prefix(schema::private_prefix(user)) {
            let (k, stored) = entry?;
            if k.as_ref() != key.as_slice() {
                count += 1;
                bytes += stored.len();
            }
        }
        if count + 1 > MAX_PRIVATE_ELEMENTS || bytes + value.len() > MAX_PRIVATE_BYTES {
            return Ok(false);
        }
        self.insert_for_account(&self.private, user, &key, value)
            .await?;
        Ok(true)
    }

    /// Forget every element a removed account stored (not flushed: the caller flushes).
    pub(super) fn remove_private_of(&self, user: &BareJid) -> Result<(), StoreError> {
        super::remove_under(&self.private, &schema::private_prefix(user))
    }
}
