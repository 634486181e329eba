//! The organization directory (docs/DIRECTORY.md): each account's entry, `userid_directory`, and
//! the shared roster it gives every account of a domain while it is on (as Prosody's `mod_groups`
//! and ejabberd's `mod_shared_roster` do).
//!
//! With the directory on, [`Store::roster`] and [`Store::contact`] show every other account of
//! the user's domain as a contact with a mutual subscription, named by the user's own handle or
//! else the display name, in the user's own groups plus the colleague's department (or the
//! default group). Nothing of that is written to the contacts tree, so turning the directory off
//! leaves each roster exactly as its user made it.
//!
//! The accounts with their entries are kept as one snapshot in memory, rebuilt after a change,
//! so a roster read never scans every account. A change (an account created or removed, an
//! entry edited, an extension mapped, the settings changed) runs inside
//! [`Store::directory_change`], which works like a roster change (see `contacts.rs`): the
//! directory version is marked under way with a fresh id, the records are written, the snapshot
//! and every cached roster are forgotten, and the version settles at another fresh id. A user's
//! roster version is the greater of their own and the directory's, so a version never names two
//! different rosters.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::contacts::RosterVersion;
use super::records::{self, Contact, Subscription};
use super::schema::{self, NAME_VALUE, USERID_DIRECTORY};
use super::{Store, StoreError};

/// Longest display name, department or e-mail address, in bytes.
pub const MAX_DIRECTORY_FIELD_BYTES: usize = 256;

/// What the directory says about one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The name colleagues see.
    pub name: Option<String>,
    /// The roster group colleagues see the account in.
    pub department: Option<String>,
    /// An e-mail address, for the panel and the API.
    pub email: Option<String>,
}

impl DirectoryEntry {
    /// Why the entry cannot be stored, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        for (what, value) in [
            ("name", &self.name),
            ("department", &self.department),
            ("e-mail", &self.email),
        ] {
            let Some(value) = value else { continue };
            if value.trim().is_empty() {
                return Err(format!("the {what} is empty"));
            }
            if value.len() > MAX_DIRECTORY_FIELD_BYTES {
                return Err(format!(
                    "the {what} is longer than {MAX_DIRECTORY_FIELD_BYTES} bytes"
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(format!("the {what} holds control characters"));
            }
        }
        Ok(())
    }
}

/// Whether the directory is on, and the group of accounts without a department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySettings {
    /// Every account of a domain sees every other.
    pub enabled: bool,
    /// Roster group of colleagues without a department.
    pub group: String,
}

impl Default for DirectorySettings {
    /// Off: a store opened without a node (the offline CLI, tests) shows stored rosters only.
    fn default() -> Self {
        Self {
            enabled: false,
            group: "Colleagues".to_owned(),
        }
    }
}

/// Every account of the node with its entry (an empty one when none was stored), by JID.
pub type DirectorySnapshot = BTreeMap<BareJid, DirectoryEntry>;

/// Key in `name_value` of the directory version (laid out as a roster version).
const VERSION_KEY: &[u8] = b"directory_version";
/// Key in `name_value` of the settings the rosters were last shown under.
const SETTINGS_KEY: &[u8] = b"directory_settings";

/// The directory's state in memory.
#[derive(Default)]
pub(super) struct Directory {
    settings: RwLock<DirectorySettings>,
    snapshot: Mutex<Option<Arc<DirectorySnapshot>>>,
    /// Incremented by every change, so a snapshot read before it is not kept.
    generation: AtomicU64,
    /// Whether the directory was ever on in this database, so its version counts in roster
    /// versions (on a node that never had it, an empty roster keeps the version "never").
    versioned: AtomicBool,
}

impl Directory {
    fn snapshot(&self) -> MutexGuard<'_, Option<Arc<DirectorySnapshot>>> {
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settings(&self) -> DirectorySettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn invalidate(&self) {
        let mut snapshot = self.snapshot();
        self.generation.fetch_add(1, Ordering::SeqCst);
        *snapshot = None;
    }
}

impl Store {
    /// The directory settings in force.
    pub fn directory_settings(&self) -> DirectorySettings {
        self.directory.settings()
    }

    /// Show rosters under `settings` from now on (the node calls this at start). When they differ
    /// from the settings last used, the directory version moves on, so no client keeps a roster
    /// shown under the old ones.
    pub async fn set_directory(&self, settings: DirectorySettings) -> Result<(), StoreError> {
        let value = records::encode(NAME_VALUE, &settings)?;
        let before = self.meta.get(SETTINGS_KEY)?;
        if before.is_none() && !settings.enabled {
            // Never on: nothing was ever shown that the version must move away from.
            *self
                .directory
                .settings
                .write()
                .unwrap_or_else(|p| p.into_inner()) = settings;
            return Ok(());
        }
        self.directory.versioned.store(true, Ordering::SeqCst);
        if before.as_deref() == Some(value.as_slice()) {
            *self
                .directory
                .settings
                .write()
                .unwrap_or_else(|p| p.into_inner()) = settings;
            return Ok(());
        }
        self.directory_change(|| {
            *self
                .directory
                .settings
                .write()
                .unwrap_or_else(|p| p.into_inner()) = settings;
            self.meta.insert(SETTINGS_KEY, value)?;
            Ok(())
        })?;
        self.flush().await
    }

    /// The directory version: see the module docs.
    pub(super) fn directory_version(&self) -> Result<RosterVersion, StoreError> {
        if !self.directory.versioned.load(Ordering::SeqCst) {
            return Ok(RosterVersion::Never);
        }
        Ok(RosterVersion::decode(self.meta.get(VERSION_KEY)?))
    }

    /// Run `write`, a change of what the directory shows, between marking the directory version
    /// under way and settling it; forget the snapshot and every cached roster in between.
    pub(super) fn directory_change<T>(
        &self,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mark = RosterVersion::encode(self.db.generate_id()?, true);
        self.meta.insert(VERSION_KEY, &mark)?;
        let done = write();
        self.directory.invalidate();
        self.rosters.invalidate_all();
        let settled = RosterVersion::encode(self.db.generate_id()?, false);
        self.meta.insert(VERSION_KEY, &settled)?;
        done
    }

    /// `user`'s directory entry, if one was stored.
    pub fn directory_entry(&self, user: &BareJid) -> Result<Option<DirectoryEntry>, StoreError> {
        self.directory_entries
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_DIRECTORY, &v))
            .transpose()
    }

    /// Replace `user`'s directory entry; durable on return. Refused for a user without an
    /// account (see [`Store::insert_for_account`] for how a concurrent removal is handled).
    pub async fn put_directory_entry(
        &self,
        user: &BareJid,
        entry: &DirectoryEntry,
    ) -> Result<(), StoreError> {
        let key = schema::account_key(user);
        let value = records::encode(USERID_DIRECTORY, entry)?;
        self.directory_change(|| {
            self.directory_entries.insert(key.as_slice(), value)?;
            if !self.account_exists(user)? {
                self.directory_entries.remove(key.as_slice())?;
                return Err(StoreError::NoAccount(user.to_string()));
            }
            Ok(())
        })?;
        self.flush().await
    }

    /// Forget a removed account's entry (not flushed: the caller's removal flushes).
    pub(super) fn remove_directory_entry_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.directory_entries.remove(schema::account_key(user))?;
        Ok(())
    }

    /// Every account with its entry, from memory.
    pub fn directory(&self) -> Result<Arc<DirectorySnapshot>, StoreError> {
        if let Some(snapshot) = self.directory.snapshot().as_ref() {
            return Ok(Arc::clone(snapshot));
        }
        let started = self.directory.generation.load(Ordering::SeqCst);
        let mut read = DirectorySnapshot::new();
        for user in self.users()? {
            let entry = self.directory_entry(&user)?.unwrap_or_default();
            read.insert(user, entry);
        }
        let read = Arc::new(read);
        let mut snapshot = self.directory.snapshot();
        // As in the roster cache: a change since the read began forgets what is kept here.
        if self.directory.generation.load(Ordering::SeqCst) == started {
            *snapshot = Some(Arc::clone(&read));
        }
        Ok(read)
    }

    /// Whether the directory puts `contact` in `user`'s roster.
    pub fn is_colleague(&self, user: &BareJid, contact: &BareJid) -> Result<bool, StoreError> {
        if !self.directory.settings().enabled || !same_domain(user, contact) {
            return Ok(false);
        }
        Ok(self.directory()?.contains_key(contact))
    }

    /// Every colleague the directory gives `user`, with their entries (none while it is off).
    pub(super) fn colleagues_of(
        &self,
        user: &BareJid,
    ) -> Result<Vec<(BareJid, DirectoryEntry)>, StoreError> {
        if !self.directory.settings().enabled {
            return Ok(Vec::new());
        }
        Ok(self
            .directory()?
            .iter()
            .filter(|(jid, _)| *jid != user && same_domain(user, jid))
            .map(|(jid, entry)| (jid.clone(), entry.clone()))
            .collect())
    }

    /// `stored`, `user`'s own contacts in byte order, with the directory's colleagues merged in.
    pub(super) fn with_colleagues(
        &self,
        user: &BareJid,
        stored: Vec<(BareJid, Contact)>,
    ) -> Result<Vec<(BareJid, Contact)>, StoreError> {
        let colleagues = self.colleagues_of(user)?;
        if colleagues.is_empty() {
            return Ok(stored);
        }
        let group = self.directory.settings().group;
        let mut merged: BTreeMap<String, (BareJid, Contact)> = stored
            .into_iter()
            .map(|(jid, c)| (jid.as_str().to_owned(), (jid, c)))
            .collect();
        for (jid, entry) in colleagues {
            let key = jid.as_str().to_owned();
            let own = merged.remove(&key).map(|(_, c)| c);
            merged.insert(key, (jid, colleague(own, &entry, &group)));
        }
        Ok(merged.into_values().collect())
    }

    /// One contact of `user` as the roster shows it (see [`Store::with_colleagues`]).
    pub(super) fn with_colleague(
        &self,
        user: &BareJid,
        contact: &BareJid,
        own: Option<Contact>,
    ) -> Result<Option<Contact>, StoreError> {
        if !self.directory.settings().enabled || user == contact || !same_domain(user, contact) {
            return Ok(own);
        }
        let snapshot = self.directory()?;
        let Some(entry) = snapshot.get(contact) else {
            return Ok(own);
        };
        let group = self.directory.settings().group;
        Ok(Some(colleague(own, entry, &group)))
    }

    /// `record` as it may be stored for a colleague of `user`: the directory's subscription and
    /// group are not the user's own, so the stored flags stay as they were and the directory
    /// group is left out; a name equal to the display name is not kept either, so a later
    /// change of the display name shows.
    pub(super) fn own_part(
        &self,
        user: &BareJid,
        contact: &BareJid,
        record: &Contact,
    ) -> Result<Contact, StoreError> {
        if !self.is_colleague(user, contact)? {
            return Ok(record.clone());
        }
        let entry = self.directory()?.get(contact).cloned().unwrap_or_default();
        let group = self.directory.settings().group;
        let dept = entry.department.unwrap_or(group);
        let stored = self.stored_contact(user, contact)?;
        let mut own = record.clone();
        own.subscription = stored.as_ref().map(|c| c.subscription).unwrap_or_default();
        own.groups.retain(|g| *g != dept);
        if own.name.is_some() && own.name == entry.name {
            own.name = None;
        }
        Ok(own)
    }
}

/// A colleague as the roster shows it: the user's own item, if any, merged with the directory's.
fn colleague(own: Option<Contact>, entry: &DirectoryEntry, default_group: &str) -> Contact {
    let own = own.unwrap_or_default();
    let dept = entry
        .department
        .clone()
        .unwrap_or_else(|| default_group.to_owned());
    let mut groups = own.groups;
    if !groups.contains(&dept) {
        groups.push(dept);
    }
    Contact {
        name: own.name.or_else(|| entry.name.clone()),
        groups,
        subscription: Subscription {
            to: true,
            from: true,
            ..Subscription::default()
        },
        in_roster: true,
    }
}

fn same_domain(a: &BareJid, b: &BareJid) -> bool {
    a.domain() == b.domain()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
