//! Which JIDs may name a local account.

use jid::BareJid;

/// Why a JID cannot name an account of this node.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserJidError {
    /// Not a JID at all.
    #[error("{input:?} is not a valid JID: {reason}")]
    Invalid {
        /// What was given.
        input: String,
        /// Why the JID parser refused it.
        reason: String,
    },
    /// A bare domain, or a full JID with a resource.
    #[error("{0:?} is not an account JID: write it as user@domain, without a /resource")]
    NotAnAccount(String),
    /// An account of another domain.
    #[error("{jid} is not of this node's domain: accounts here must end in @{domain}")]
    WrongDomain {
        /// The JID given.
        jid: String,
        /// The configured domain.
        domain: String,
    },
}

/// Parse `input` as an account of `domain` (`user@domain`, no resource).
pub fn parse_user(domain: &str, input: &str) -> Result<BareJid, UserJidError> {
    let jid = jid::Jid::new(input.trim()).map_err(|e| UserJidError::Invalid {
        input: input.to_owned(),
        reason: e.to_string(),
    })?;
    let bare = match jid.try_into_full() {
        Err(bare) if bare.node().is_some() => bare,
        _ => return Err(UserJidError::NotAnAccount(input.to_owned())),
    };
    let ours = jid::BareJid::new(domain).map(|d| d.domain().as_str() == bare.domain().as_str());
    if ours != Ok(true) {
        return Err(UserJidError::WrongDomain {
            jid: bare.to_string(),
            domain: domain.to_owned(),
        });
    }
    Ok(bare)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accounts_must_be_user_at_the_configured_domain() {
        assert_eq!(
            parse_user("example.org", "Alice@example.org")
                .unwrap()
                .as_str(),
            "alice@example.org"
        );
        assert!(matches!(
            parse_user("example.org", "alice@other.org"),
            Err(UserJidError::WrongDomain { .. })
        ));
        let msg = parse_user("example.org", "alice@other.org")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("@example.org"), "{msg}");
        for bad in ["example.org", "alice@example.org/phone"] {
            assert!(
                matches!(
                    parse_user("example.org", bad),
                    Err(UserJidError::NotAnAccount(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_user("example.org", "@@"),
            Err(UserJidError::Invalid { .. })
        ));
    }
}
