//! Small files the node keeps in its data folder (certificate, key, secrets),
//! written so that a crash leaves either the old file or the complete new one.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// File name of the secret from which the fake SCRAM salts of unknown accounts are
/// derived, so that they stay the same across restarts.
pub const UNKNOWN_USER_SECRET_FILE: &str = "unknown-user.secret";
/// Length of generated secrets, in bytes.
const SECRET_LEN: usize = 32;

/// Write to a temporary file with `mode`, sync it, and rename it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The secret in `path`, created (mode 0600) with random bytes if missing. A file
/// shorter than 16 bytes is an error rather than silently replaced.
pub fn load_or_create_secret(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(secret) if secret.len() >= 16 => Ok(secret),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: shorter than 16 bytes", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; SECRET_LEN];
            rand::fill(&mut secret[..]);
            write_atomically(path, &secret, 0o600)?;
            Ok(secret)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_secret_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(UNKNOWN_USER_SECRET_FILE);
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(first.len(), SECRET_LEN);
        assert_eq!(load_or_create_secret(&path).unwrap(), first);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, b"short").unwrap();
        assert!(load_or_create_secret(&path).is_err());
    }
}
