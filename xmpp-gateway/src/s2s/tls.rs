//! TLS for server streams (RFC 6120 §5, §13.7.2; TLS 1.2 and 1.3 only, as RFC 7590
//! asks): both sides present their certificate, and the handshake succeeds whatever the
//! peer's certificate says.
//!
//! Why accept any certificate in the handshake: XEP-0220 lets a server whose
//! certificate we cannot verify still prove its domain by dialback over the
//! encrypted stream, as deployed servers do by default. Whether the certificate is
//! valid for the peer's domain is decided after the handshake ([`TlsContext::valid_for`])
//! and only then grants SASL EXTERNAL.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::tls::TlsError;

/// Both TLS configurations of s2s and the verifier of peer certificates.
pub(crate) struct TlsContext {
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) client: Arc<ClientConfig>,
    verifier: Option<Arc<WebPkiServerVerifier>>,
}

impl TlsContext {
    /// Build from our identity (`cert_chain`, leaf first, and its `key`) and the
    /// authorities `ca` a peer's certificate is checked against.
    pub(crate) fn new(
        cert_chain: &[CertificateDer<'static>],
        key: &PrivateKeyDer<'static>,
        ca: &[CertificateDer<'static>],
    ) -> Result<Self, TlsError> {
        if cert_chain.is_empty() {
            return Err(TlsError::NoCertificate);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(AnyCert(Arc::clone(&provider))))
            .with_single_cert(cert_chain.to_vec(), key.clone_key())?;
        let client = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(Arc::clone(&provider))))
            .with_client_auth_cert(cert_chain.to_vec(), key.clone_key())?;
        let verifier = if ca.is_empty() {
            None
        } else {
            let mut roots = RootCertStore::empty();
            for authority in ca {
                roots.add(authority.clone())?;
            }
            let built = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
            Some(built)
        };
        Ok(Self {
            server: Arc::new(server),
            client: Arc::new(client),
            verifier,
        })
    }

    /// Whether `chain` (leaf first) is a certificate for `domain` issued by one of the
    /// configured authorities (DNS names in subjectAltName, RFC 6125).
    pub(crate) fn valid_for(&self, chain: &[CertificateDer<'_>], domain: &str) -> bool {
        let (Some(verifier), Some((leaf, rest))) = (&self.verifier, chain.split_first()) else {
            return false;
        };
        let Ok(name) = ServerName::try_from(domain.to_owned()) else {
            return false;
        };
        verifier
            .verify_server_cert(leaf, rest, &name, &[], UnixTime::now())
            .is_ok()
    }
}

/// The signature checks of [`AnyCert`], the same whether it verifies a server or a
/// client: every signature is checked with the provider's algorithms.
macro_rules! signature_checks {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    };
}

/// Accepts any certificate chain in the handshake but checks every signature made
/// with it, so the peer provably holds the key of the certificate it showed.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    signature_checks!();
}

impl ClientCertVerifier for AnyCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    signature_checks!();
}
