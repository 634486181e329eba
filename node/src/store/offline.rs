//! Offline messages (XEP-0160): `userseq_message`, the messages kept for a user who had no
//! resource to take them, oldest first, bounded per user in count and in bytes.
//!
//! One user's store changes under that user's stripe lock (held across the flush), so two
//! messages arriving at once get distinct sequence numbers and the bounds hold; a message is
//! acknowledged as kept only once it is on disk.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERSEQ_MESSAGE};
use super::{Store, StoreError};

/// How much one user's offline store may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflineLimits {
    /// Most messages.
    pub max_messages: usize,
    /// Most bytes, as stored (the message's XML and a few bytes of framing).
    pub max_bytes: usize,
}

/// One kept message: the stanza as the gateway serialized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Kept {
    xml: String,
}

impl Store {
    /// Keep `xml` for `user`, after the messages kept before. `Ok(false)` when that would take
    /// `user`'s store past `limits` (nothing is kept); `Ok(true)` once it is on disk. Refused
    /// for a user without an account.
    pub async fn keep_offline(
        &self,
        user: &BareJid,
        xml: &str,
        limits: OfflineLimits,
    ) -> Result<bool, StoreError> {
        let value = records::encode(
            USERSEQ_MESSAGE,
            &Kept {
                xml: xml.to_owned(),
            },
        )?;
        let _writer = self.offline_writers.lock(user).await;
        let (mut count, mut bytes, mut last) = (0, 0, None);
        for entry in self.offline.scan_prefix(schema::offline_prefix(user)) {
            let (key, stored) = entry?;
            count += 1;
            bytes += stored.len();
            last = Some(key);
        }
        if count >= limits.max_messages || bytes + value.len() > limits.max_bytes {
            return Ok(false);
        }
        let seq = match last {
            Some(key) => schema::seq_of(&key)?.saturating_add(1),
            None => 0,
        };
        let key = schema::offline_key(user, seq);
        self.insert_for_account(&self.offline, user, &key, value)
            .await?;
        Ok(true)
    }

    /// Remove and return every message kept for `user`, oldest first; the removal is on disk
    /// when this returns. A record that cannot be read is reported and nothing is removed.
    pub async fn take_offline(&self, user: &BareJid) -> Result<Vec<String>, StoreError> {
        let _writer = self.offline_writers.lock(user).await;
        let mut keys = Vec::new();
        let mut messages = Vec::new();
        for entry in self.offline.scan_prefix(schema::offline_prefix(user)) {
            let (key, stored) = entry?;
            let kept: Kept = records::decode(USERSEQ_MESSAGE, &stored)?;
            keys.push(key);
            messages.push(kept.xml);
        }
        if keys.is_empty() {
            return Ok(messages);
        }
        for key in keys {
            self.offline.remove(key)?;
        }
        self.flush().await?;
        Ok(messages)
    }

    /// Forget every message kept for a removed account, one key at a time (not flushed: the
    /// caller's removal flushes).
    pub(super) fn remove_offline_of(&self, user: &BareJid) -> Result<(), StoreError> {
        let keys: Vec<sled::IVec> = self
            .offline
            .scan_prefix(schema::offline_prefix(user))
            .keys()
            .collect::<Result<_, _>>()?;
        for key in keys {
            self.offline.remove(key)?;
        }
        Ok(())
    }
}
