//! Contacts (roster items and remembered subscription states): `usercontact_contact`.

use std::sync::Arc;

use jid::BareJid;

use super::records::{self, Contact};
use super::roster_cache::Roster;
use super::schema::{self, USERCONTACT_CONTACT};
use super::{Store, StoreError};

impl Store {
    /// Every stored contact of `user`, in byte order of the contact's JID.
    pub fn contacts(&self, user: &BareJid) -> Result<Vec<(BareJid, Contact)>, StoreError> {
        Ok(self.roster(user)?.as_ref().clone())
    }

    /// [`Store::contacts`], shared: large rosters come from memory (`roster_cache.rs`).
    pub fn roster(&self, user: &BareJid) -> Result<Roster, StoreError> {
        if let Some(roster) = self.rosters.get(user) {
            return Ok(roster);
        }
        let started = self.rosters.reading();
        let prefix = schema::contacts_prefix(user);
        let read: Vec<(BareJid, Contact)> = self
            .contacts
            .scan_prefix(&prefix)
            .map(|entry| {
                let (key, value) = entry?;
                let jid = schema::contact_of(prefix.len(), &key)?;
                Ok((jid, records::decode(USERCONTACT_CONTACT, &value)?))
            })
            .collect::<Result<_, StoreError>>()?;
        let roster = Arc::new(read);
        self.rosters.fill(user, &roster, started);
        Ok(roster)
    }

    /// One stored contact of `user`.
    pub fn contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<Option<Contact>, StoreError> {
        self.contacts
            .get(schema::contact_key(user, contact))?
            .map(|v| records::decode(USERCONTACT_CONTACT, &v))
            .transpose()
    }

    /// Insert or replace a contact of an existing account; durable on return.
    /// Fails with [`StoreError::NoAccount`] if `user` has no account (it may have
    /// been removed while a session was still open).
    ///
    /// No sled transaction: the account is checked before and again after the
    /// insert. [`Store::remove_account`] removes the account before it scans the
    /// contacts, so a write that still sees the account afterwards was inserted
    /// before that scan and is removed by it, and a write that no longer sees the
    /// account takes itself back.
    pub async fn put_contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
        record: &Contact,
    ) -> Result<(), StoreError> {
        let no_account = || StoreError::NoAccount(user.to_string());
        if !self.account_exists(user)? {
            return Err(no_account());
        }
        let key = schema::contact_key(user, contact);
        let value = records::encode(USERCONTACT_CONTACT, record)?;
        self.rosters
            .writing(user, || self.contacts.insert(key.as_slice(), value))?;
        if !self.account_exists(user)? {
            self.rosters
                .writing(user, || self.contacts.remove(key.as_slice()))?;
            self.flush().await?;
            return Err(no_account());
        }
        self.flush().await
    }

    /// Every account whose stored contacts name `contact` (roster items, pending requests and
    /// pre-approvals alike), in byte order.
    pub fn holders_of(&self, contact: &BareJid) -> Result<Vec<BareJid>, StoreError> {
        let mut holders = Vec::new();
        for user in self.users()? {
            if self
                .contacts
                .contains_key(schema::contact_key(&user, contact))?
            {
                holders.push(user);
            }
        }
        Ok(holders)
    }

    /// Remove a contact of `user`; durable on return. Removing an absent contact is
    /// not an error.
    pub async fn remove_contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<(), StoreError> {
        let key = schema::contact_key(user, contact);
        self.rosters.writing(user, || self.contacts.remove(key))?;
        self.flush().await
    }
}
