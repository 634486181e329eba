//! SASL for c2s (RFC 6120 §6): our own SCRAM-SHA-256 / SCRAM-SHA-1 server (with their
//! -PLUS variants on TLS 1.3) and PLAIN
//! verified against the stored SCRAM keys, plus the key derivation the node uses when
//! it creates accounts.
//!
//! Everything here is pure: the c2s layer does the I/O and the credential lookups.

mod credentials;
mod mechanism;
mod plain;
mod scram;

pub use credentials::{
    PasswordError, SALT_LEN, SHA1_ITERATIONS, SHA256_ITERATIONS, check_password,
    default_iterations, derive_credentials, new_credentials,
};
pub use mechanism::{Mechanism, fake_credentials};
pub use plain::{PlainRequest, verify_plain};
pub use scram::{AwaitingFinal, Binding, ClientFirst};

/// Why an authentication attempt failed; each maps to an RFC 6120 §6.5 condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The client aborted (`<abort/>`).
    #[error("aborted")]
    Aborted,
    /// Data that is not valid base64 or UTF-8.
    #[error("incorrect encoding")]
    IncorrectEncoding,
    /// The authorization identity is not the authenticated user.
    #[error("invalid authzid")]
    InvalidAuthzid,
    /// A mechanism we do not offer (on this stream).
    #[error("invalid mechanism")]
    InvalidMechanism,
    /// A message that does not follow the mechanism's grammar.
    #[error("malformed request")]
    MalformedRequest,
    /// The client asked for channel binding with a mechanism that has none.
    #[error("channel binding not supported")]
    ChannelBindingNotSupported,
    /// A -PLUS mechanism with a channel binding type other than `tls-exporter`.
    #[error("unsupported channel binding type")]
    UnsupportedBindingType,
    /// The client said it could bind but thinks we cannot, while we advertised -PLUS:
    /// someone removed the -PLUS mechanisms on the way (RFC 5802 §6).
    #[error("channel binding downgrade")]
    BindingDowngrade,
    /// Wrong credentials or unknown account (never told apart).
    #[error("not authorized")]
    NotAuthorized,
    /// The mechanism needs TLS first (PLAIN on a plain stream).
    #[error("encryption required")]
    EncryptionRequired,
    /// The account store failed; the client may retry.
    #[error("temporary auth failure")]
    TemporaryAuthFailure,
}

impl SaslError {
    /// The RFC 6120 §6.5 condition element name.
    pub fn condition(self) -> &'static str {
        match self {
            Self::Aborted => "aborted",
            Self::IncorrectEncoding => "incorrect-encoding",
            Self::InvalidAuthzid => "invalid-authzid",
            Self::InvalidMechanism => "invalid-mechanism",
            Self::MalformedRequest
            | Self::ChannelBindingNotSupported
            | Self::UnsupportedBindingType => "malformed-request",
            Self::NotAuthorized | Self::BindingDowngrade => "not-authorized",
            Self::EncryptionRequired => "encryption-required",
            Self::TemporaryAuthFailure => "temporary-auth-failure",
        }
    }

    /// Optional human-readable `<text/>` for the failure.
    pub fn text(self) -> Option<&'static str> {
        match self {
            Self::ChannelBindingNotSupported => Some("channel-binding-not-supported"),
            // The names of RFC 5802's server-error values.
            Self::UnsupportedBindingType => Some("unsupported-channel-binding-type"),
            Self::BindingDowngrade => Some("server-does-support-channel-binding"),
            _ => None,
        }
    }
}
