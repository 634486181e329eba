//! Per-user presence state that outlives sessions: `userid_presence` (the durable sources and the
//! user's presence settings) and `userid_rules` (access rules).
//!
//! Connected clients are not stored: they end with the process, and a restarted node starts with
//! none. Everything else an integration or the user set (manual setting, lines, queues, external
//! claims, calendar, profile) is acknowledged only after it is flushed here.

use jid::BareJid;

use super::records;
use super::schema::{self, USERID_PRESENCE, USERID_RULES};
use super::{Store, StoreError};
use lampfield_domain::access::Rules;
use lampfield_domain::record::UserRecord;

impl Store {
    /// The stored presence record of `user`; `None` if nothing was ever stored.
    pub fn presence_record(&self, user: &BareJid) -> Result<Option<UserRecord>, StoreError> {
        self.presence
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_PRESENCE, &v))
            .transpose()
    }

    /// Store `user`'s presence record (connected clients are dropped first); durable on return.
    pub async fn put_presence_record(
        &self,
        user: &BareJid,
        record: &UserRecord,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_PRESENCE, &record.durable())?;
        self.presence.insert(schema::account_key(user), value)?;
        self.flush().await
    }

    /// The access rules of `user`; no record means no rules.
    pub fn rules(&self, user: &BareJid) -> Result<Rules, StoreError> {
        Ok(self
            .rules
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_RULES, &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Replace `user`'s access rules; durable on return.
    pub async fn put_rules(&self, user: &BareJid, rules: &Rules) -> Result<(), StoreError> {
        let value = records::encode(USERID_RULES, rules)?;
        self.rules.insert(schema::account_key(user), value)?;
        self.flush().await
    }

    /// Forget presence state and rules of a removed account (not flushed: the caller's removal
    /// flushes).
    pub(super) fn remove_presence_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.presence.remove(schema::account_key(user))?;
        self.rules.remove(schema::account_key(user))?;
        Ok(())
    }
}
