//! Accounts: `userid_account`.

use jid::BareJid;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::records::{self, Account};
use super::schema::{self, USERID_ACCOUNT};
use super::{Store, StoreError};

impl Store {
    /// Create an account; fails with [`StoreError::AccountExists`] if it exists.
    pub async fn create_account(
        &self,
        user: &BareJid,
        account: &Account,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_ACCOUNT, account)?;
        let swapped = self.accounts.compare_and_swap(
            schema::account_key(user),
            None::<&[u8]>,
            Some(value),
        )?;
        if swapped.is_err() {
            return Err(StoreError::AccountExists(user.to_string()));
        }
        self.flush().await
    }

    /// Replace the credentials of an existing account (a password change).
    pub async fn replace_account(
        &self,
        user: &BareJid,
        account: &Account,
    ) -> Result<(), StoreError> {
        let key = schema::account_key(user);
        let value = records::encode(USERID_ACCOUNT, account)?;
        let replaced = self.accounts.transaction(|tx| {
            if tx.get(&key)?.is_none() {
                return Err(ConflictableTransactionError::Abort(StoreError::NoAccount(
                    user.to_string(),
                )));
            }
            tx.insert(key.as_slice(), value.as_slice())?;
            Ok(())
        });
        replaced.map_err(StoreError::from)?;
        self.flush().await
    }

    /// The account of `user`, if any.
    pub fn account(&self, user: &BareJid) -> Result<Option<Account>, StoreError> {
        self.accounts
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_ACCOUNT, &v))
            .transpose()
    }

    /// Whether `user` has an account.
    pub fn account_exists(&self, user: &BareJid) -> Result<bool, StoreError> {
        Ok(self.accounts.contains_key(schema::account_key(user))?)
    }

    /// Every account's JID, in byte order.
    pub fn users(&self) -> Result<Vec<BareJid>, StoreError> {
        self.accounts
            .iter()
            .keys()
            .map(|k| schema::user_of(&k?))
            .collect()
    }

    /// Remove an account and all its contacts. Returns whether the account existed.
    ///
    /// The account and the contacts seen by a first scan go in one transaction;
    /// contact writes check the account inside their own transaction, so none can
    /// land after it, and a second pass removes any that landed during the scan.
    pub async fn remove_account(&self, user: &BareJid) -> Result<bool, StoreError> {
        let key = schema::account_key(user);
        let contact_keys = self.contact_keys(user)?;
        let existed = (&self.accounts, &self.contacts).transaction(|(accounts, contacts)| {
            let existed = accounts.remove(key.as_slice())?.is_some();
            for k in contact_keys.iter().cloned() {
                contacts.remove(k)?;
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(existed)
        });
        let existed = existed.map_err(StoreError::from)?;
        let mut late = sled::Batch::default();
        for k in self.contact_keys(user)? {
            late.remove(k);
        }
        self.contacts.apply_batch(late)?;
        self.flush().await?;
        Ok(existed)
    }

    /// Keys of every contact of `user`.
    fn contact_keys(&self, user: &BareJid) -> Result<Vec<sled::IVec>, StoreError> {
        self.contacts
            .scan_prefix(schema::contacts_prefix(user))
            .keys()
            .map(|k| k.map_err(StoreError::from))
            .collect()
    }
}
