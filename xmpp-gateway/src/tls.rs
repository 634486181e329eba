//! TLS server configuration for STARTTLS (RFC 6120 §5) from a PEM certificate chain
//! and private key: TLS 1.2 and 1.3 only, as RFC 7590 asks.
//!
//! The ring provider is always passed explicitly: more than one rustls provider is
//! compiled into the node, and rustls' implicit default panics in that case.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The PEM data could not be read or parsed.
    #[error("reading PEM {what}: {source}")]
    Pem {
        /// Which of the two inputs.
        what: &'static str,
        /// The parser's error.
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("no certificate in the PEM chain")]
    NoCertificate,
    /// rustls refused the chain or key (e.g. the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The error for PEM input `what` that could not be read.
fn pem(what: &'static str) -> impl FnOnce(rustls_pki_types::pem::Error) -> TlsError {
    move |source| TlsError::Pem { what, source }
}

/// Build the server configuration from PEM bytes: the certificate chain (leaf first)
/// and its private key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config_from_pem(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem("certificate chain"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(pem("private key"))?;
    server_config(chain, key)
}

/// Build the server configuration from PEM files.
pub fn load_server_config(cert_chain: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert_chain)
        .map_err(pem("certificate chain"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem("certificate chain"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(pem("private key"))?;
    server_config(chain, key)
}

/// Build the server configuration from DER values.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // No ALPN: STARTTLS clients do not send one, and a list we do not match would
    // make rustls refuse the handshake of those that do.
    config.alpn_protocols = Vec::new();
    // The one secret channel binding needs (RFC 9266) comes out of rustls this way.
    config.key_log = Arc::new(crate::stream::channel_binding::ExporterLog);
    Ok(Arc::new(config))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn builds_from_rcgen_pem_and_refuses_junk() {
        let ck = rcgen::generate_simple_self_signed(vec!["example.com".to_owned()]).unwrap();
        let cert = ck.cert.pem();
        let key = ck.signing_key.serialize_pem();
        assert!(server_config_from_pem(cert.as_bytes(), key.as_bytes()).is_ok());
        assert!(matches!(
            server_config_from_pem(b"", key.as_bytes()),
            Err(TlsError::NoCertificate)
        ));
        assert!(server_config_from_pem(cert.as_bytes(), b"junk").is_err());
        let other = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap();
        let other_key = other.signing_key.serialize_pem();
        assert!(server_config_from_pem(cert.as_bytes(), other_key.as_bytes()).is_err());
    }
}
