//! Durable storage in sled: the only module that names sled.
//!
//! One tree per record kind (see `schema`), versioned records (see `records`).
//! Every write that returns `Ok` has been flushed to disk (group commit), so
//! whatever the node acknowledges survives a crash of the process. sled calls are
//! synchronous but short; only the flush is awaited.
//!
//! No sled transactions, batches or checksums, ever: in sled 0.34 each of them takes
//! a process-wide write lock, and the first one moves every later read and iterator
//! step onto that writer-fair lock for the rest of the process. Under concurrent
//! reads, writes and flushes this deadlocked both runtime workers (see the store
//! test `concurrent_contact_reads_and_writes_never_block_the_runtime`). Multi-record
//! updates use single-key atomic operations in an order that keeps their invariants
//! instead (see `put_contact` and `remove_account`).
//!
//! sled allows one process per database: [`Store::open`] reports
//! [`StoreError::Locked`] when a running node holds it.

mod accounts;
mod archive;
mod calendar;
mod contacts;
mod directory;
mod error;
mod extensions;
mod flush;
mod last_logout;
mod offline;
mod pep;
mod presence;
mod private;
mod profiles;
mod push;
mod records;
mod roster_cache;
mod schema;
mod tokens;
mod vcard;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use archive::{
    ArchiveDefault, ArchiveFilter, ArchiveLimits, ArchiveMark, ArchivePage, ArchivePrefs,
    ArchivedMessage, MAX_ARCHIVE_PREF_JIDS, PageAt,
};
pub use contacts::RosterVersion;
pub use directory::{
    DirectoryEntry, DirectorySettings, DirectorySnapshot, MAX_DIRECTORY_FIELD_BYTES,
};
pub use error::StoreError;
pub use offline::OfflineLimits;
pub use pep::{
    MAX_PEP_BYTES, MAX_PEP_ITEM_BYTES, MAX_PEP_ITEMS, MAX_PEP_NODES, PepItem, PepLimit, PepNode,
};
pub use private::{MAX_PRIVATE_BYTES, MAX_PRIVATE_ELEMENTS};
pub use push::{MAX_PUSH_REGISTRATION_BYTES, MAX_PUSH_REGISTRATIONS, PushRecord};
pub use records::{Account, Contact, Scram, Subscription};
pub use tokens::StoredToken;
pub use vcard::MAX_VCARD_BYTES;

/// Cheap `Clone` handle over the open database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    accounts: sled::Tree,
    contacts: sled::Tree,
    /// Roster version of each user (see `contacts.rs`).
    roster_versions: sled::Tree,
    /// Large rosters, decoded (see `roster_cache.rs`).
    rosters: Arc<roster_cache::RosterCache>,
    presence: sled::Tree,
    rules: sled::Tree,
    tokens: sled::Tree,
    extensions: sled::Tree,
    profiles: sled::Tree,
    calendar: sled::Tree,
    /// Messages kept for offline users (see `offline.rs`).
    offline: sled::Tree,
    /// Serializes changes to one user's offline messages.
    offline_writers: Arc<lampfield_stripes::Stripes>,
    /// Private XML storage (see `private.rs`).
    private: sled::Tree,
    /// Serializes changes to one user's private storage.
    private_writers: Arc<lampfield_stripes::Stripes>,
    /// The message archive (see `archive.rs`).
    archive: sled::Tree,
    /// Serializes changes to one user's archive.
    archive_writers: Arc<lampfield_stripes::Stripes>,
    /// Size of each archive touched since start.
    archive_sizes: Arc<archive::Sizes>,
    /// Archiving preferences.
    archive_prefs: sled::Tree,
    /// vCards (see `vcard.rs`).
    vcards: sled::Tree,
    /// Last logouts (see `last_logout.rs`).
    last_logouts: sled::Tree,
    /// Personal eventing nodes (see `pep.rs`).
    pep: sled::Tree,
    /// Serializes changes to one user's nodes.
    pep_writers: Arc<lampfield_stripes::Stripes>,
    /// Push registrations (see `push.rs`).
    push: sled::Tree,
    /// Serializes changes to one user's push registrations.
    push_writers: Arc<lampfield_stripes::Stripes>,
    /// Directory entries (see `directory.rs`).
    directory_entries: sled::Tree,
    /// The directory's settings and snapshot.
    directory: Arc<directory::Directory>,
    /// Facts about the database (`name_value`): the schema, the directory version.
    meta: sled::Tree,
    flushes: Arc<flush::FlushGate>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Open (or create) the database in folder `path`.
    ///
    /// A corrupt database is reported as [`StoreError::Corrupt`] and left untouched;
    /// one held by another process as [`StoreError::Locked`].
    ///
    /// sled recovers from a damaged log by dropping what follows the damage, which
    /// can leave an empty database without an error. A marker file next to the
    /// database (`<path>.initialized`) remembers that it was created; a database
    /// that lost its schema record while the marker exists is reported as corrupt
    /// instead of being silently used (and filled) as a new one.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .open()
            .map_err(|e| open_error(path, e))?;
        let store = Self::with_db(db)?;
        store.check_schema(&marker_path(path)).await?;
        Ok(store)
    }

    /// A database that lives in memory and a temporary file, removed on drop; for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::with_db(sled::Config::new().temporary(true).open()?)
    }

    /// Check the schema record against the marker file; write both for a new database.
    async fn check_schema(&self, marker: &Path) -> Result<(), StoreError> {
        let meta = self.db.open_tree(schema::NAME_VALUE)?;
        match meta.get(schema::SCHEMA_KEY)? {
            Some(v) if v.as_ref() == [schema::SCHEMA_VERSION] => {}
            Some(v) => {
                return Err(StoreError::Decode {
                    tree: schema::NAME_VALUE,
                    reason: format!(
                        "schema version {v:?}, this node reads {}",
                        schema::SCHEMA_VERSION
                    ),
                });
            }
            None if marker.exists() => {
                return Err(StoreError::Corrupt {
                    detail: format!(
                        "the database has lost its records although {} shows it was created before",
                        marker.display()
                    ),
                });
            }
            None => {
                meta.insert(schema::SCHEMA_KEY, &[schema::SCHEMA_VERSION])?;
                self.flush().await?;
            }
        }
        if !marker.exists() {
            write_marker(marker)
                .map_err(|e| StoreError::Db(format!("{}: {e}", marker.display())))?;
        }
        Ok(())
    }

    fn with_db(db: sled::Db) -> Result<Self, StoreError> {
        let accounts = db.open_tree(schema::USERID_ACCOUNT)?;
        let contacts = db.open_tree(schema::USERCONTACT_CONTACT)?;
        let roster_versions = db.open_tree(schema::USERID_ROSTERVER)?;
        let presence = db.open_tree(schema::USERID_PRESENCE)?;
        let rules = db.open_tree(schema::USERID_RULES)?;
        let tokens = db.open_tree(schema::NAME_TOKEN)?;
        let extensions = db.open_tree(schema::EXTENSION_USER)?;
        let profiles = db.open_tree(schema::USERID_PROFILES)?;
        let calendar = db.open_tree(schema::USERID_CALENDAR)?;
        let offline = db.open_tree(schema::USERSEQ_MESSAGE)?;
        let private = db.open_tree(schema::USERKEY_PRIVATE)?;
        let archive = db.open_tree(schema::USERSEQ_ARCHIVE)?;
        let archive_prefs = db.open_tree(schema::USERID_ARCHIVEPREFS)?;
        let vcards = db.open_tree(schema::USERID_VCARD)?;
        let last_logouts = db.open_tree(schema::USERID_LASTLOGOUT)?;
        let pep = db.open_tree(schema::USERNODE_PEP)?;
        let push = db.open_tree(schema::USERID_PUSH)?;
        let directory_entries = db.open_tree(schema::USERID_DIRECTORY)?;
        let meta = db.open_tree(schema::NAME_VALUE)?;
        Ok(Self {
            db,
            accounts,
            contacts,
            roster_versions,
            rosters: Arc::default(),
            presence,
            rules,
            tokens,
            extensions,
            profiles,
            calendar,
            offline,
            offline_writers: Arc::default(),
            private,
            private_writers: Arc::default(),
            archive,
            archive_writers: Arc::default(),
            archive_sizes: Arc::default(),
            archive_prefs,
            vcards,
            last_logouts,
            pep,
            pep_writers: Arc::default(),
            push,
            push_writers: Arc::default(),
            directory_entries,
            directory: Arc::default(),
            meta,
            flushes: Arc::default(),
        })
    }

    /// Make every write that completed before this call durable (group commit: see
    /// `flush.rs`).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.flushes.flush(&self.db).await
    }
}

/// Remove every key of `tree` under `prefix`, one at a time (not flushed).
fn remove_under(tree: &sled::Tree, prefix: &[u8]) -> Result<(), StoreError> {
    let keys: Vec<sled::IVec> = tree.scan_prefix(prefix).keys().collect::<Result<_, _>>()?;
    for key in keys {
        tree.remove(key)?;
    }
    Ok(())
}

/// `<db path>.initialized`, beside the database folder.
fn marker_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".initialized");
    PathBuf::from(name)
}

/// Create the marker file and make it durable.
fn write_marker(path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    file.sync_all()
}

/// Name the two failures an operator must tell apart at start.
fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                path: PathBuf::from(path),
            }
        }
        other => other.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
