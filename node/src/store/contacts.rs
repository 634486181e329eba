//! Contacts (roster items and remembered subscription states): `usercontact_contact`.

use jid::BareJid;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::records::{self, Contact};
use super::schema::{self, USERCONTACT_CONTACT};
use super::{Store, StoreError};

impl Store {
    /// Every stored contact of `user`, in byte order of the contact's JID.
    pub fn contacts(&self, user: &BareJid) -> Result<Vec<(BareJid, Contact)>, StoreError> {
        let prefix = schema::contacts_prefix(user);
        self.contacts
            .scan_prefix(&prefix)
            .map(|entry| {
                let (key, value) = entry?;
                let jid = schema::contact_of(prefix.len(), &key)?;
                Ok((jid, records::decode(USERCONTACT_CONTACT, &value)?))
            })
            .collect()
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
    pub async fn put_contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
        record: &Contact,
    ) -> Result<(), StoreError> {
        let account = schema::account_key(user);
        let key = schema::contact_key(user, contact);
        let value = records::encode(USERCONTACT_CONTACT, record)?;
        let written = (&self.accounts, &self.contacts).transaction(|(accounts, contacts)| {
            if accounts.get(&account)?.is_none() {
                return Err(ConflictableTransactionError::Abort(StoreError::NoAccount(
                    user.to_string(),
                )));
            }
            contacts.insert(key.as_slice(), value.as_slice())?;
            Ok(())
        });
        written.map_err(StoreError::from)?;
        self.flush().await
    }

    /// Remove a contact of `user`; durable on return. Removing an absent contact is
    /// not an error.
    pub async fn remove_contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<(), StoreError> {
        self.contacts.remove(schema::contact_key(user, contact))?;
        self.flush().await
    }
}
