//! Stream-level errors (RFC 6120 §4.9): the condition we close with, and how each
//! reader failure maps to one.

/// An RFC 6120 §4.9.3 stream error condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCondition {
    /// §4.9.3.1: the entity sent XML that cannot be processed (e.g. non-whitespace text
    /// between stanzas, a stanza without its required attributes).
    BadFormat,
    /// §4.9.3.3: a new stream took over this one (resource conflict).
    Conflict,
    /// §4.9.3.4: the peer has not generated traffic for too long.
    ConnectionTimeout,
    /// §4.9.3.6: the `to` of the stream header is not a domain we serve.
    HostUnknown,
    /// §4.9.3.7: a stanza between servers lacks the `to` or `from` it needs, or names
    /// a domain the stream does not serve.
    ImproperAddressing,
    /// §4.9.3.8: a server-side failure.
    InternalServerError,
    /// §4.9.3.9: the `from` of a stanza does not match the session.
    InvalidFrom,
    /// §4.9.3.10: wrong streams namespace or content namespace.
    InvalidNamespace,
    /// §4.9.3.12: stanzas before authentication, or too many failed attempts.
    NotAuthorized,
    /// §4.9.3.13: XML that is not well-formed.
    NotWellFormed,
    /// §4.9.3.14: a local policy (stanza size, TLS required) was violated.
    PolicyViolation,
    /// §4.9.3.17: the server is out of resources (connection limit).
    ResourceConstraint,
    /// §4.9.3.18: a restricted XML feature (DTD, PI, comment, entity).
    RestrictedXml,
    /// §4.9.3.20: the server is shutting down.
    SystemShutdown,
    /// §4.9.3.21: an unexpected condition.
    UndefinedCondition,
    /// §4.9.3.24: a first-level element we do not support.
    UnsupportedStanzaType,
    /// §4.9.3.25: a stream version we do not support.
    UnsupportedVersion,
    /// §4.9.3.16: the stream must be reset (e.g. credentials changed).
    Reset,
}

impl StreamCondition {
    /// The element name of the condition.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadFormat => "bad-format",
            Self::Conflict => "conflict",
            Self::ConnectionTimeout => "connection-timeout",
            Self::HostUnknown => "host-unknown",
            Self::ImproperAddressing => "improper-addressing",
            Self::InternalServerError => "internal-server-error",
            Self::InvalidFrom => "invalid-from",
            Self::InvalidNamespace => "invalid-namespace",
            Self::NotAuthorized => "not-authorized",
            Self::NotWellFormed => "not-well-formed",
            Self::PolicyViolation => "policy-violation",
            Self::ResourceConstraint => "resource-constraint",
            Self::RestrictedXml => "restricted-xml",
            Self::SystemShutdown => "system-shutdown",
            Self::UndefinedCondition => "undefined-condition",
            Self::UnsupportedStanzaType => "unsupported-stanza-type",
            Self::UnsupportedVersion => "unsupported-version",
            Self::Reset => "reset",
        }
    }

    /// The condition named `name`; unknown names become `undefined-condition`, so the
    /// router's `Outgoing::Close` can never produce an invalid stream error.
    pub fn from_name(name: &str) -> Self {
        const ALL: [StreamCondition; 18] = [
            StreamCondition::BadFormat,
            StreamCondition::Conflict,
            StreamCondition::ConnectionTimeout,
            StreamCondition::HostUnknown,
            StreamCondition::ImproperAddressing,
            StreamCondition::InternalServerError,
            StreamCondition::InvalidFrom,
            StreamCondition::InvalidNamespace,
            StreamCondition::NotAuthorized,
            StreamCondition::NotWellFormed,
            StreamCondition::PolicyViolation,
            StreamCondition::ResourceConstraint,
            StreamCondition::RestrictedXml,
            StreamCondition::SystemShutdown,
            StreamCondition::UndefinedCondition,
            StreamCondition::UnsupportedStanzaType,
            StreamCondition::UnsupportedVersion,
            StreamCondition::Reset,
        ];
        ALL.into_iter()
            .find(|c| c.name() == name)
            .unwrap_or(Self::UndefinedCondition)
    }
}

impl std::fmt::Display for StreamCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why reading from a stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer broke a rule; answer with this stream error and close.
    #[error("stream error {condition}: {reason}")]
    Stream {
        /// What to tell the peer.
        condition: StreamCondition,
        /// What to log.
        reason: String,
    },
    /// The connection closed without `</stream:stream>`.
    #[error("connection closed by peer")]
    Eof,
    /// The transport failed.
    #[error("transport error: {0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// A stream error with a reason for the log.
    pub fn stream(condition: StreamCondition, reason: impl Into<String>) -> Self {
        Self::Stream {
            condition,
            reason: reason.into(),
        }
    }
}

impl From<rxml::Error> for ReadError {
    fn from(e: rxml::Error) -> Self {
        let condition = match e {
            // DTDs, processing instructions, comments and entity declarations are
            // refused by rxml as restricted XML (RFC 6120 §11.1).
            rxml::Error::RestrictedXml(_) | rxml::Error::UndeclaredEntity => {
                StreamCondition::RestrictedXml
            }
            _ => StreamCondition::NotWellFormed,
        };
        Self::stream(condition, e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in [
            StreamCondition::Conflict,
            StreamCondition::PolicyViolation,
            StreamCondition::Reset,
        ] {
            assert_eq!(StreamCondition::from_name(c.name()), c);
        }
        assert_eq!(
            StreamCondition::from_name("nonsense"),
            StreamCondition::UndefinedCondition
        );
    }
}
