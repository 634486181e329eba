//! Accounts: `userid_account`.

use jid::BareJid;

use super::records::{self, Account};
use super::schema::{self, USERID_ACCOUNT};
use super::{Store, StoreError};

/// How often a password change retries when another writer changed the account
/// between its read and its swap.
const REPLACE_ATTEMPTS: usize = 16;

impl Store {
    /// Create an account; fails with [`StoreError::AccountExists`] if it exists.
    ///
    /// Contacts left behind by a removal that a crash interrupted are cleared first,
    /// so a new account never inherits an old one's roster. No contact write can
    /// land in between: [`Store::put_contact`] refuses users without an account.
    pub async fn create_account(
        &self,
        user: &BareJid,
        account: &Account,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_ACCOUNT, account)?;
        if !self.account_exists(user)? {
            self.remove_contacts_of(user)?;
            self.remove_presence_of(user)?;
            self.remove_profiles_of(user)?;
            self.remove_offline_of(user)?;
            self.remove_private_of(user)?;
            self.remove_archive_of(user).await?;
            self.remove_vcard_of(user)?;
            self.remove_last_logout_of(user)?;
            self.remove_pep_of(user)?;
            self.remove_push_of(user)?;
        }
        // A new account is a new colleague of everyone in the directory.
        let swapped = self.directory_change(|| {
            self.remove_directory_entry_of(user)?;
            Ok(self.accounts.compare_and_swap(
                schema::account_key(user),
                None::<&[u8]>,
                Some(value),
            )?)
        })?;
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
        // Compare-and-swap against the current record, so a concurrent removal is
        // never undone; another writer winning the race is retried a bounded number
        // of times.
        for _ in 0..REPLACE_ATTEMPTS {
            let Some(current) = self.accounts.get(&key)? else {
                return Err(StoreError::NoAccount(user.to_string()));
            };
            let swapped =
                self.accounts
                    .compare_and_swap(&key, Some(current), Some(value.as_slice()))?;
            if swapped.is_ok() {
                return self.flush().await;
            }
        }
        Err(StoreError::Contended(user.to_string()))
    }

    /// Insert `value` under `key` in a tree of `user`'s own records and make it durable; refused
    /// for a user without an account. No sled transaction: as for contacts (see
    /// [`Store::put_contact`]), a removal that ran before this insert is seen by the check after
    /// it, which takes the record back; one that runs after it removes the record with the
    /// account.
    pub(super) async fn insert_for_account(
        &self,
        tree: &sled::Tree,
        user: &BareJid,
        key: &[u8],
        value: Vec<u8>,
    ) -> Result<(), StoreError> {
        tree.insert(key, value)?;
        if !self.account_exists(user)? {
            tree.remove(key)?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
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

    /// Remove an account and all its own data: contacts, presence sources and settings, rules,
    /// profiles, calendar, offline messages, private XML, the message archive, the vCard, the last
    /// logout, PEP nodes, the directory entry and the extensions mapped to it.
    /// Returns whether the account existed.
    /// Other accounts' contacts and rules naming it are the caller's (see
    /// [`Store::holders_of`]).
    ///
    /// The account goes first, then its contacts; see
    /// [`Store::put_contact`] for why no contact write can survive this. A crash in
    /// between leaves contacts of no account, which no session can read and which
    /// [`Store::create_account`] clears before the name is used again.
    pub async fn remove_account(&self, user: &BareJid) -> Result<bool, StoreError> {
        let existed = self.directory_change(|| {
            let existed = self.accounts.remove(schema::account_key(user))?.is_some();
            self.remove_directory_entry_of(user)?;
            Ok(existed)
        })?;
        self.remove_contacts_of(user)?;
        self.remove_presence_of(user)?;
        self.remove_profiles_of(user)?;
        self.remove_offline_of(user)?;
        self.remove_private_of(user)?;
        self.remove_archive_of(user).await?;
        self.remove_vcard_of(user)?;
        self.remove_last_logout_of(user)?;
        self.remove_pep_of(user)?;
        self.remove_push_of(user)?;
        self.remove_extensions_of(user)?;
        self.flush().await?;
        Ok(existed)
    }

    /// Remove every contact of `user`, one key at a time (not flushed). Not a
    /// `sled::Batch`: see the module docs for why nothing here takes sled's global
    /// write lock.
    fn remove_contacts_of(&self, user: &BareJid) -> Result<(), StoreError> {
        let keys = self.contact_keys(user)?;
        // The version stays under way until every contact is gone, then goes with them.
        self.roster_change(user, || {
            Ok(self.rosters.writing(user, || {
                keys.into_iter()
                    .try_for_each(|key| self.contacts.remove(key).map(drop))
            })?)
        })?;
        self.forget_roster_version(user)
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
