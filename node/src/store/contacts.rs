//! Contacts (roster items and remembered subscription states): `usercontact_contact`, and
//! each user's roster version (XEP-0237): `userid_rosterver`.
//!
//! The version works as a sequence lock, since the store uses no batches (see the module docs
//! of `store`): a change first marks the version as under way with a fresh id, writes the
//! contacts, then stores another fresh id as settled. A reader reads the version, the
//! contacts and the version again, and gets a version only if both reads saw the same settled
//! id, so a version handed out always names exactly the contents read with it. Ids come from
//! sled's `generate_id`, which never repeats, across restarts and across users, so a version
//! never names two different rosters, not even of an account removed and created again. sled
//! keeps one log for every tree, so a crash keeps a prefix of the writes: it can leave the
//! mark "under way", never new contents under an old settled version.

use std::sync::Arc;

use sled::IVec;

use jid::BareJid;

use super::records::{self, Contact};
use super::roster_cache::Roster;
use super::schema::{self, USERCONTACT_CONTACT};
use super::{Store, StoreError};

/// A user's roster version as the store reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RosterVersion {
    /// No change of the roster was ever stored: the roster is empty.
    Never,
    /// The id of the last change, settled.
    Settled(u64),
    /// A change is under way (or was cut off by a crash): this version names no contents.
    Unsettled,
}

impl RosterVersion {
    pub(super) fn decode(value: Option<IVec>) -> Self {
        let Some(value) = value else {
            return Self::Never;
        };
        match <[u8; 9]>::try_from(value.as_ref()) {
            Ok(bytes) if bytes[8] == 0 => {
                let mut id = [0u8; 8];
                id.copy_from_slice(&bytes[..8]);
                Self::Settled(u64::from_be_bytes(id))
            }
            _ => Self::Unsettled,
        }
    }

    pub(super) fn encode(id: u64, under_way: bool) -> [u8; 9] {
        let mut bytes = [0u8; 9];
        bytes[..8].copy_from_slice(&id.to_be_bytes());
        bytes[8] = u8::from(under_way);
        bytes
    }

    /// The version of a roster made of the user's own contacts at `own` and the directory at
    /// `directory`: ids only grow, so the greater one moves on with every change of either.
    fn merged(own: Self, directory: Self) -> Self {
        match (own, directory) {
            (Self::Unsettled, _) | (_, Self::Unsettled) => Self::Unsettled,
            (Self::Never, other) | (other, Self::Never) => other,
            (Self::Settled(a), Self::Settled(b)) => Self::Settled(a.max(b)),
        }
    }
}

impl Store {
    /// `user`'s roster version, the directory's part included (see `directory.rs`); see the
    /// module docs for what it promises.
    pub fn roster_version(&self, user: &BareJid) -> Result<RosterVersion, StoreError> {
        let own = RosterVersion::decode(self.roster_versions.get(schema::account_key(user))?);
        Ok(RosterVersion::merged(own, self.directory_version()?))
    }

    /// `user`'s contacts with the roster version they are at; the version is
    /// [`RosterVersion::Unsettled`] when a change ran during the read.
    pub fn versioned_roster(&self, user: &BareJid) -> Result<(Roster, RosterVersion), StoreError> {
        let before = self.roster_version(user)?;
        let roster = self.roster(user)?;
        let after = self.roster_version(user)?;
        let version = if before == after {
            after
        } else {
            RosterVersion::Unsettled
        };
        Ok((roster, version))
    }

    /// Run `write`, a change of `user`'s contacts, between marking the roster version under
    /// way and settling it at a fresh id.
    pub(super) fn roster_change<T>(
        &self,
        user: &BareJid,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = schema::account_key(user);
        let mark = RosterVersion::encode(self.db.generate_id()?, true);
        self.roster_versions.insert(key.as_slice(), &mark)?;
        let done = write()?;
        let settled = RosterVersion::encode(self.db.generate_id()?, false);
        self.roster_versions.insert(key.as_slice(), &settled)?;
        Ok(done)
    }

    /// Drop `user`'s roster version once every contact is gone: an empty roster has
    /// [`RosterVersion::Never`] again.
    pub(super) fn forget_roster_version(&self, user: &BareJid) -> Result<(), StoreError> {
        self.roster_versions.remove(schema::account_key(user))?;
        Ok(())
    }

    /// Every contact of `user` (the directory's colleagues included), in byte order of the
    /// contact's JID.
    pub fn contacts(&self, user: &BareJid) -> Result<Vec<(BareJid, Contact)>, StoreError> {
        Ok(self.roster(user)?.as_ref().clone())
    }

    /// [`Store::contacts`], shared: large rosters come from memory (`roster_cache.rs`). With the
    /// directory on, the roster holds every colleague too (see `directory.rs`).
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
        let roster = Arc::new(self.with_colleagues(user, read)?);
        self.rosters.fill(user, &roster, started);
        Ok(roster)
    }

    /// One contact of `user`, as the roster shows it (a colleague from the directory included).
    pub fn contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<Option<Contact>, StoreError> {
        let own = self.stored_contact(user, contact)?;
        self.with_colleague(user, contact, own)
    }

    /// One contact of `user` as stored, without the directory's part.
    pub(super) fn stored_contact(
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
    ///
    /// For a colleague from the directory only the user's own part is stored (see
    /// `Store::own_part`): its subscription is the directory's, not the user's.
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
        let own = self.own_part(user, contact, record)?;
        let value = records::encode(USERCONTACT_CONTACT, &own)?;
        let kept = self.roster_change(user, || {
            self.rosters
                .writing(user, || self.contacts.insert(key.as_slice(), value))?;
            if self.account_exists(user)? {
                return Ok(true);
            }
            self.rosters
                .writing(user, || self.contacts.remove(key.as_slice()))?;
            Ok(false)
        })?;
        self.flush().await?;
        if !kept {
            return Err(no_account());
        }
        Ok(())
    }

    /// Every account whose stored contacts name `contact` (roster items, pending requests and
    /// pre-approvals alike), or whose roster the directory puts it in, in byte order. The
    /// directory's part holds for an account already removed, so its removal reaches everyone
    /// who saw it.
    pub fn holders_of(&self, contact: &BareJid) -> Result<Vec<BareJid>, StoreError> {
        let directory = self.directory_settings().enabled;
        let mut holders = Vec::new();
        for user in self.users()? {
            let colleague = directory && user != *contact && user.domain() == contact.domain();
            if colleague
                || self
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
        self.roster_change(user, || {
            Ok(self.rosters.writing(user, || self.contacts.remove(key))?)
        })?;
        self.flush().await
    }
}
