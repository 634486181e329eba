//! vCards (XEP-0054): `userid_vcard`, the one vCard each user publishes about themselves, bounded
//! in bytes (its PHOTO, the XEP-0153 avatar, included); a write is acknowledged once it is on disk.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERID_VCARD};
use super::{Store, StoreError};

/// Most bytes of one user's vCard as the gateway serialized it, a base64 PHOTO included.
/// Clients scale avatars down before they publish them (Conversations keeps its JPEG under about
/// 9 KiB of base64); 128 KiB leaves a 96 KiB picture room, and stays well within the 256 KiB a
/// client stanza may have.
pub const MAX_VCARD_BYTES: usize = 128 * 1024;

/// One stored vCard: its XML as the gateway serialized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    xml: String,
}

impl Store {
    /// The vCard `user` stored, if any.
    pub fn vcard(&self, user: &BareJid) -> Result<Option<String>, StoreError> {
        self.vcards
            .get(schema::account_key(user))?
            .map(|value| records::decode::<Stored>(USERID_VCARD, &value).map(|s| s.xml))
            .transpose()
    }

    /// Store `xml` as `user`'s vCard, replacing the one before. `Ok(false)` when it is longer than
    /// [`MAX_VCARD_BYTES`] (nothing is stored); `Ok(true)` once it is on disk. Refused for a user
    /// without an account. One key per user, replaced whole: no read-modify-write, so no writer
    /// lock is needed; the last write wins.
    pub async fn put_vcard(&self, user: &BareJid, xml: &str) -> Result<bool, StoreError> {
        if xml.len() > MAX_VCARD_BYTES {
            return Ok(false);
        }
        let value = records::encode(
            USERID_VCARD,
            &Stored {
                xml: xml.to_owned(),
            },
        )?;
        let key = schema::account_key(user);
        self.insert_for_account(&self.vcards, user, &key, value)
            .await?;
        Ok(true)
    }

    /// Forget a removed account's vCard (not flushed: the caller flushes).
    pub(super) fn remove_vcard_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.vcards.remove(schema::account_key(user))?;
        Ok(())
    }
}
