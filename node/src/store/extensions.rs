//! Which user a PBX extension belongs to, for line reports by extension: `extension_user`.

use jid::BareJid;

use super::schema::{self, EXTENSION_USER};
use super::{Store, StoreError};

impl Store {
    /// The user extension `ext` belongs to, if mapped.
    pub fn extension_user(&self, ext: &str) -> Result<Option<BareJid>, StoreError> {
        self.extensions
            .get(ext.as_bytes())?
            .map(|v| schema::jid_of(EXTENSION_USER, &v))
            .transpose()
    }

    /// Map `ext` to `user` (replacing an earlier mapping); durable on return.
    pub async fn put_extension(&self, ext: &str, user: &BareJid) -> Result<(), StoreError> {
        // The extension is part of what the directory shows of `user`.
        self.directory_change(|| {
            Ok(self
                .extensions
                .insert(ext.as_bytes(), schema::account_key(user))?)
        })?;
        self.flush().await
    }

    /// Remove the mapping of `ext`; durable on return. Returns whether it existed.
    pub async fn remove_extension(&self, ext: &str) -> Result<bool, StoreError> {
        let existed =
            self.directory_change(|| Ok(self.extensions.remove(ext.as_bytes())?.is_some()))?;
        self.flush().await?;
        Ok(existed)
    }

    /// Forget every extension mapped to a removed account (not flushed: the caller's removal
    /// flushes), so a new account of that name does not get the old one's phone lines.
    pub(super) fn remove_extensions_of(&self, user: &BareJid) -> Result<(), StoreError> {
        for ext in self.extensions_of(user)? {
            self.extensions.remove(ext.as_bytes())?;
        }
        Ok(())
    }

    /// Every extension mapped to `user`, in byte order.
    pub fn extensions_of(&self, user: &BareJid) -> Result<Vec<String>, StoreError> {
        let key = schema::account_key(user);
        let mut found = Vec::new();
        for entry in self.extensions.iter() {
            let (ext, owner) = entry?;
            if owner.as_ref() == key.as_slice() {
                found.push(String::from_utf8_lossy(&ext).into_owned());
            }
        }
        Ok(found)
    }
}
