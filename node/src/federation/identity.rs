//! The organization's two keys, kept in the data folder: the organization key (ed25519,
//! what other organizations trust and what signs every federation envelope) and the
//! libp2p peer key (the transport identity, separate so it can change without touching
//! anyone's trust list). Both are created on first start, mode 0600, written to a
//! temporary file, synced and renamed, so a crash never leaves half a key.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use lampfield_federation::{Keypair, PeerId};

use crate::config::{Config, decode_key};
use crate::files::write_atomically;

/// Default file of the organization key in the data folder.
pub const ORG_KEY_FILE: &str = "federation-org.key";
/// Default file of the libp2p peer key in the data folder.
pub const PEER_KEY_FILE: &str = "federation-peer.key";

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold 32 bytes of base64 or hex.
    #[error("{0}: not an ed25519 secret key (32 bytes, base64 or hex)")]
    Malformed(PathBuf),
}

/// This organization's keys.
#[derive(Clone)]
pub struct Identity {
    /// Signs envelopes; its public half is what other organizations configure.
    pub org_key: SigningKey,
    /// The libp2p transport key.
    pub peer_key: Keypair,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("org_public_key", &self.public_key_base64())
            .field("peer_id", &self.peer_id())
            .finish()
    }
}

impl Identity {
    /// Load both keys named by `config` (or their defaults in the data folder), creating
    /// the missing ones.
    pub fn load_or_create(config: &Config) -> Result<Self, IdentityError> {
        let (org_path, peer_path) = paths(config);
        let org = load_or_create_secret(&org_path)?;
        let mut peer = load_or_create_secret(&peer_path)?;
        let peer_key = Keypair::ed25519_from_bytes(&mut peer)
            .map_err(|_| IdentityError::Malformed(peer_path.clone()))?;
        Ok(Self {
            org_key: SigningKey::from_bytes(&org),
            peer_key,
        })
    }

    /// The organization public key, base64 (what `public_key` holds in other configs).
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.org_key.verifying_key().as_bytes())
    }

    /// The transport identity (the `/p2p/...` part of this node's addresses).
    pub fn peer_id(&self) -> PeerId {
        self.peer_key.public().to_peer_id()
    }
}

/// The key files `config` names, or their defaults in the data folder.
pub fn paths(config: &Config) -> (PathBuf, PathBuf) {
    let f = &config.federation;
    (
        f.org_key_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join(ORG_KEY_FILE)),
        f.peer_key_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join(PEER_KEY_FILE)),
    )
}

/// The 32-byte secret in `path`, created if the file does not exist. A file that exists
/// but does not hold a key is an error, never replaced: replacing it would change the
/// organization's identity behind its admin's back.
fn load_or_create_secret(path: &Path) -> Result<[u8; 32], IdentityError> {
    let io = |source| IdentityError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => decode_key(&text).ok_or_else(|| IdentityError::Malformed(path.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::fill(&mut secret[..]);
            let text = base64::engine::general_purpose::STANDARD.encode(secret) + "\n";
            write_atomically(path, text.as_bytes(), 0o600).map_err(io)?;
            Ok(secret)
        }
        Err(e) => Err(io(e)),
    }
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn keys_are_created_once_private_and_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let first = Identity::load_or_create(&config).unwrap();
        let again = Identity::load_or_create(&config).unwrap();
        assert_eq!(first.public_key_base64(), again.public_key_base64());
        assert_eq!(first.peer_id(), again.peer_id());
        for name in [ORG_KEY_FILE, PEER_KEY_FILE] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let org = std::fs::read_to_string(dir.path().join(ORG_KEY_FILE)).unwrap();
        let peer = std::fs::read_to_string(dir.path().join(PEER_KEY_FILE)).unwrap();
        assert_ne!(
            org, peer,
            "the peer key is separate from the organization key"
        );
        std::fs::write(dir.path().join(ORG_KEY_FILE), "garbage").unwrap();
        assert!(matches!(
            Identity::load_or_create(&config),
            Err(IdentityError::Malformed(_))
        ));
    }
}
