//! Why a storage operation failed.

use std::path::PathBuf;

/// A storage failure a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database: sled allows one process per database.
    #[error("the database {path} is in use by another process (is a node running?)")]
    Locked {
        /// The database folder.
        path: PathBuf,
    },
    /// The database files are damaged. Nothing was changed or removed.
    #[error(
        "the database is corrupt ({detail}); the node has written nothing to it. Move the \
         data folder's `db` and `db.initialized` aside and restore them from a backup"
    )]
    Corrupt {
        /// What sled reported.
        detail: String,
    },
    /// A stored value could not be decoded (unknown version or damaged record).
    #[error("unreadable record in tree `{tree}`: {reason}")]
    Decode {
        /// The tree the record is in.
        tree: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The account to create exists already.
    #[error("account {0} already exists")]
    AccountExists(String),
    /// The account a write refers to does not exist.
    #[error("no account {0}")]
    NoAccount(String),
    /// Other writers kept changing the account; nothing was changed.
    #[error("account {0} is being changed concurrently; try again")]
    Contended(String),
    /// Any other database or file system failure.
    #[error("database error: {0}")]
    Db(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => Self::Corrupt {
                detail: format!("corrupt data at {at:?}"),
            },
            other => Self::Db(other.to_string()),
        }
    }
}
