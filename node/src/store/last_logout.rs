//! Last logouts (XEP-0012): `userid_lastlogout`, when each user's last client went offline and
//! the status it said goodbye with. Written once per logout, never per stanza.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERID_LASTLOGOUT};
use super::{Store, StoreError};

/// One user's last logout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    /// Seconds since the Unix epoch.
    at_s: u64,
    /// The status of the last unavailable presence (the gateway bounds it).
    status: Option<String>,
}

impl Store {
    /// When `user`'s last client went offline, and its last status, if ever.
    pub fn last_logout(
        &self,
        user: &BareJid,
    ) -> Result<Option<(SystemTime, Option<String>)>, StoreError> {
        let Some(value) = self.last_logouts.get(schema::account_key(user))? else {
            return Ok(None);
        };
        let stored: Stored = records::decode(USERID_LASTLOGOUT, &value)?;
        Ok(Some((
            UNIX_EPOCH + Duration::from_secs(stored.at_s),
            stored.status,
        )))
    }

    /// Keep `user`'s last logout, replacing the one before; on disk when it returns. Refused for a
    /// user without an account.
    pub async fn put_last_logout(
        &self,
        user: &BareJid,
        at: SystemTime,
        status: Option<&str>,
    ) -> Result<(), StoreError> {
        let stored = Stored {
            at_s: at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
            status: status.map(str::to_owned),
        };
        let value = records::encode(USERID_LASTLOGOUT, &stored)?;
        let key = schema::account_key(user);
        self.insert_for_account(&self.last_logouts, user, &key, value)
            .await
    }

    /// Forget a removed account's last logout (not flushed: the caller flushes).
    pub(super) fn remove_last_logout_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.last_logouts.remove(schema::account_key(user))?;
        Ok(())
    }
}
