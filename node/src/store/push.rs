//! Push registrations (XEP-0357): `userid_push`, per user the app servers their clients asked to
//! be woken through, oldest first. Bounded per user in count ([`MAX_PUSH_REGISTRATIONS`], the
//! oldest make room for a new one) and in bytes per registration ([`MAX_PUSH_REGISTRATION_BYTES`],
//! a larger one is refused), so one user's record stays under 16 × 4 KiB. One record per user,
//! changed under the user's writer lock and acknowledged once it is on disk.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERID_PUSH};
use super::{Store, StoreError};

/// Most registrations one user keeps: a phone, a tablet and a few reinstalls that never said
/// `disable`. Clients re-enable at every login, so dropping the oldest loses nothing in use.
pub const MAX_PUSH_REGISTRATIONS: usize = 16;
/// Most bytes of one registration (service, node, resource and the publish-options form).
/// App servers' secrets are a few hundred bytes.
pub const MAX_PUSH_REGISTRATION_BYTES: usize = 4096;

/// One registration as stored: XEP-0357 §5 `enable`, with the resource that sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The app server's JID.
    pub service: String,
    /// The node on the app server.
    pub node: String,
    /// The resource of the client that enabled it, if known.
    pub resource: Option<String>,
    /// The publish-options data form, as XML, if the client gave one.
    pub options: Option<String>,
}

impl PushRecord {
    fn bytes(&self) -> usize {
        self.service.len()
            + self.node.len()
            + self.resource.as_ref().map_or(0, String::len)
            + self.options.as_ref().map_or(0, String::len)
    }
}

/// Every registration of one user, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    registrations: Vec<PushRecord>,
}

impl Store {
    /// The registrations of `user`, oldest first.
    pub fn push_registrations(&self, user: &BareJid) -> Result<Vec<PushRecord>, StoreError> {
        Ok(self.push_stored(user)?.registrations)
    }

    fn push_stored(&self, user: &BareJid) -> Result<Stored, StoreError> {
        self.push
            .get(schema::account_key(user))?
            .map(|value| records::decode::<Stored>(USERID_PUSH, &value))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Add `record` for `user`, replacing one for the same service and node (XEP-0357 §5: a
    /// second `enable` updates it); the oldest go beyond [`MAX_PUSH_REGISTRATIONS`]. `Ok(false)`
    /// when the registration is larger than [`MAX_PUSH_REGISTRATION_BYTES`] (nothing changes);
    /// `Ok(true)` once it is on disk. Refused for a user without an account.
    pub async fn enable_push(
        &self,
        user: &BareJid,
        record: PushRecord,
    ) -> Result<bool, StoreError> {
        if record.bytes() > MAX_PUSH_REGISTRATION_BYTES {
            return Ok(false);
        }
        let _writer = self.push_writers.lock(user).await;
        let mut stored = self.push_stored(user)?;
        stored
            .registrations
            .retain(|r| !(r.service == record.service && r.node == record.node));
        stored.registrations.push(record);
        let excess = stored
            .registrations
            .len()
            .saturating_sub(MAX_PUSH_REGISTRATIONS);
        stored.registrations.drain(..excess);
        let value = records::encode(USERID_PUSH, &stored)?;
        self.insert_for_account(&self.push, user, &schema::account_key(user), value)
            .await?;
        Ok(true)
    }

    /// Remove `user`'s registrations with `service`, only the one for `node` when given
    /// (XEP-0357 §6); durable when it returns. How many went.
    pub async fn disable_push(
        &self,
        user: &BareJid,
        service: &str,
        node: Option<&str>,
    ) -> Result<usize, StoreError> {
        let _writer = self.push_writers.lock(user).await;
        let mut stored = self.push_stored(user)?;
        let before = stored.registrations.len();
        stored
            .registrations
            .retain(|r| !(r.service == service && node.is_none_or(|n| r.node == n)));
        let removed = before - stored.registrations.len();
        if removed == 0 {
            return Ok(0);
        }
        let key = schema::account_key(user);
        if stored.registrations.is_empty() {
            self.push.remove(key)?;
            self.flush().await?;
        } else {
            let value = records::encode(USERID_PUSH, &stored)?;
            self.insert_for_account(&self.push, user, &key, value)
                .await?;
        }
        Ok(removed)
    }

    /// Forget a removed account's registrations (not flushed: the caller flushes).
    pub(super) fn remove_push_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.push.remove(schema::account_key(user))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::records::{Account, Scram};

    fn record(node: &str) -> PushRecord {
        PushRecord {
            service: "push.example".into(),
            node: node.into(),
            resource: Some("phone".into()),
            options: None,
        }
    }

    async fn store_with(user: &BareJid) -> Store {
        let store = Store::temporary().unwrap();
        let scram = Scram {
            salt: vec![1],
            iterations: 1,
            stored_key: vec![1],
            server_key: vec![1],
        };
        let account = Account {
            scram_sha1: scram.clone(),
            scram_sha256: scram,
        };
        store.create_account(user, &account).await.unwrap();
        store
    }

    #[tokio::test]
    async fn bounded_replaced_disabled_and_removed_with_the_account() {
        let user = BareJid::new("u@d").unwrap();
        let store = store_with(&user).await;
        for i in 0..(MAX_PUSH_REGISTRATIONS + 3) {
            assert!(
                store
                    .enable_push(&user, record(&i.to_string()))
                    .await
                    .unwrap()
            );
        }
        let kept = store.push_registrations(&user).unwrap();
        assert_eq!(kept.len(), MAX_PUSH_REGISTRATIONS);
        assert_eq!(kept[0].node, "3", "the oldest made room");
        // The same service and node again replaces, and moves to the end.
        assert!(store.enable_push(&user, record("3")).await.unwrap());
        let kept = store.push_registrations(&user).unwrap();
        assert_eq!(kept.len(), MAX_PUSH_REGISTRATIONS);
        assert_eq!(kept.last().unwrap().node, "3");
        let mut big = record("big");
        big.options = Some("x".repeat(MAX_PUSH_REGISTRATION_BYTES));
        assert!(!store.enable_push(&user, big).await.unwrap());
        assert_eq!(
            store
                .disable_push(&user, "push.example", Some("3"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .disable_push(&user, "push.example", None)
                .await
                .unwrap(),
            15
        );
        assert!(store.push_registrations(&user).unwrap().is_empty());
        assert!(store.enable_push(&user, record("a")).await.unwrap());
        store.remove_account(&user).await.unwrap();
        assert!(store.push_registrations(&user).unwrap().is_empty());
        assert!(store.enable_push(&user, record("a")).await.is_err());
    }
}
