//! The STARTTLS certificate: the configured files, or a self-signed certificate for
//! the domain generated on first start and kept in the data folder.
//!
//! A generated certificate lets a node run with no setup; clients will ask their
//! user to accept it. Operators with a real domain configure `[tls]` instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::files::write_atomically;

/// File name of the generated certificate in the data folder.
pub const CERT_FILE: &str = "cert.pem";
/// File name of the generated private key in the data folder (mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// Why no certificate could be had.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing a PEM file failed.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rcgen could not make a certificate for the domain.
    #[error("cannot generate a certificate for {domain}: {reason}")]
    Generate {
        /// The domain.
        domain: String,
        /// rcgen's reason.
        reason: String,
    },
    /// The certificate and key could not be loaded into a TLS configuration.
    #[error("unusable certificate or key ({cert}, {key}): {reason}")]
    Load {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Where the certificate and key used for STARTTLS are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// The rustls server side for STARTTLS from the certificate and key files.
pub fn server_tls(files: &CertFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    lampfield_xmpp::tls::load_server_config(&files.cert, &files.key).map_err(|e| TlsError::Load {
        cert: files.cert.clone(),
        key: files.key.clone(),
        reason: e.to_string(),
    })
}

/// The configured files, or the generated pair in `data_dir` (created if missing).
pub fn cert_files(config: &Config) -> Result<CertFiles, TlsError> {
    if let (Some(cert), Some(key)) = (&config.tls.cert_file, &config.tls.key_file) {
        return Ok(CertFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    let files = CertFiles {
        cert: config.data_dir.join(CERT_FILE),
        key: config.data_dir.join(KEY_FILE),
    };
    if files.cert.exists() && files.key.exists() {
        if names_domain(&files.cert, &config.domain) {
            return Ok(files);
        }
        tracing::warn!(cert = %files.cert.display(), domain = %config.domain,
            "the generated certificate is for another domain; replacing it");
    }
    generate(&config.domain, &files)?;
    tracing::info!(cert = %files.cert.display(), domain = %config.domain,
        "generated a self-signed certificate");
    Ok(files)
}

/// Whether the first certificate in the PEM file carries `domain` as a dNSName
/// subjectAltName (DER: context tag [2], the length, the name's bytes). A file that
/// cannot be read counts as not naming it, so it is regenerated.
fn names_domain(cert: &Path, domain: &str) -> bool {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let Ok(der) = CertificateDer::from_pem_file(cert) else {
        return false;
    };
    let name = domain.as_bytes();
    let mut needle = vec![0x82];
    match u8::try_from(name.len()) {
        Ok(len) if len < 0x80 => needle.push(len),
        Ok(len) => needle.extend([0x81, len]),
        Err(_) => return false,
    }
    needle.extend_from_slice(name);
    der.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// A self-signed certificate with `domain` as its DNS subjectAltName and common name.
fn generate(domain: &str, files: &CertFiles) -> Result<(), TlsError> {
    let failed = |e: rcgen::Error| TlsError::Generate {
        domain: domain.to_owned(),
        reason: e.to_string(),
    };
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(vec![domain.to_owned()]).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, domain);
    let cert = params.self_signed(&key).map_err(failed)?;
    // Key first, certificate last: a certificate on disk means both are complete.
    let written = |path: &Path, bytes: &[u8], mode| {
        write_atomically(path, bytes, mode).map_err(|source| TlsError::File {
            path: path.to_owned(),
            source,
        })
    };
    written(&files.key, key.serialize_pem().as_bytes(), 0o600)?;
    written(&files.cert, cert.pem().as_bytes(), 0o644)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn a_certificate_is_generated_once_with_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            domain: "example.org".into(),
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let files = cert_files(&config).unwrap();
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let first = std::fs::read(&files.cert).unwrap();
        server_tls(&files).unwrap();

        let again = cert_files(&config).unwrap();
        assert_eq!(again, files);
        assert_eq!(
            std::fs::read(&again.cert).unwrap(),
            first,
            "reused, not regenerated"
        );

        // The subjectAltName holds a dNSName (context tag [2], DER 0x82) for the domain.
        let der = CertificateDer::from_pem_file(&files.cert).unwrap();
        let san = [&[0x82u8, 11][..], b"example.org"].concat();
        let found = der.windows(san.len()).any(|w| w == san.as_slice());
        assert!(found);
        assert!(names_domain(&files.cert, "example.org"));
        assert!(!names_domain(&files.cert, "example.com"));

        // A new domain gets a new certificate.
        let moved = Config {
            domain: "chat.example.com".into(),
            ..config
        };
        cert_files(&moved).unwrap();
        assert!(names_domain(&files.cert, "chat.example.com"));
        assert_ne!(std::fs::read(&files.cert).unwrap(), first);
    }

    #[test]
    fn configured_files_are_used_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            tls: crate::config::Tls {
                cert_file: Some(dir.path().join("none.pem")),
                key_file: Some(dir.path().join("none.key")),
            },
            ..Config::default()
        };
        let files = cert_files(&config).unwrap();
        assert_eq!(files.cert, dir.path().join("none.pem"));
        assert!(server_tls(&files).is_err());
        assert!(!dir.path().join(CERT_FILE).exists());
    }
}
