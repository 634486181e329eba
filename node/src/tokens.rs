//! Bearer tokens of the integration API (RFC 6750): the ones written in the configuration,
//! making new ones, checking them, and finding which one a request presented; what each may do
//! (`scope`: users, actions, rate), and what a running node holds per token (`live`: the request
//! budget and the open change streams). The configuration, the API and the admin service all use
//! this module, so it depends on none of them.
//!
//! Only the SHA-256 of a token is ever kept (in the database or the configuration file). A
//! presented token is hashed and compared with every known hash in constant time, without stopping
//! at the first match, so the time taken says nothing about which stored hash came close.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use lampfield_domain::access::Level;

mod live;
mod scope;

pub use live::LiveTokens;
pub use scope::{
    Action, BURST_PER_RATE, DEFAULT_RATE, MAX_RATE, MAX_SCOPE_ENTRIES, TokenScope, check_rate,
};

/// Longest token accepted in a request; ours are 67 bytes.
pub const MAX_TOKEN_BYTES: usize = 256;
/// Longest token name.
pub const MAX_NAME_BYTES: usize = 64;
/// Prefix of generated tokens, so they are recognisable in logs and secret scanners.
const PREFIX: &str = "lf_";

/// `[[http.tokens]]`: one integration's token, by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpToken {
    /// A name for logs and `lampfield token list`.
    pub name: String,
    /// SHA-256 of the token, 64 hex digits (`printf %s "$TOKEN" | sha256sum`).
    pub token_sha256: String,
    /// The most this token may read of anyone's presence. Default: `team`.
    #[serde(default = "team")]
    pub level: Level,
    /// Accounts (bare JIDs) this token may act for. With `domains`, absent or empty: every user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Domains whose every account this token may act for (the node's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// The actions it may take: `read`, `sources`, `rules`, `profiles`. Absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can: Option<Vec<Action>>,
    /// Requests per second, with bursts of twice that. Absent: [`DEFAULT_RATE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
}

fn team() -> Level {
    Level::Team
}

/// One token the node accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownToken {
    /// Its name.
    pub name: String,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// The most it may read.
    pub level: Level,
    /// For whom and what it acts.
    pub scope: TokenScope,
    /// Requests per second.
    pub rate: u32,
}

/// SHA-256 of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh random token (`lf_` and 64 hex digits: 256 bits) and its hash.
pub fn generate() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = format!("{PREFIX}{}", hex(&bytes));
    let digest = hash(&token);
    (token, digest)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits back to 32 bytes.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Token names: 1 to 64 of `A-Z a-z 0-9 . _ -`, so they print safely in logs and lists.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "token name {:?} must be 1 to {MAX_NAME_BYTES} letters, digits, '.', '_' or '-'",
            name.chars().take(MAX_NAME_BYTES + 1).collect::<String>()
        ))
    }
}

/// The configured tokens of the node serving `domain`, checked: valid names, no name twice, 64 hex
/// digits each, scopes and rates as [`TokenScope::new`] and [`check_rate`] take them.
pub fn from_config(tokens: &[HttpToken], domain: &str) -> Result<Vec<KnownToken>, String> {
    let mut known: Vec<KnownToken> = Vec::with_capacity(tokens.len());
    for t in tokens {
        check_name(&t.name)?;
        if known.iter().any(|k| k.name == t.name) {
            return Err(format!("token name {:?} appears twice", t.name));
        }
        let sha256 = parse_sha256(&t.token_sha256)
            .ok_or_else(|| format!("token {:?}: token_sha256 must be 64 hex digits", t.name))?;
        let scope = TokenScope::new(&t.users, &t.domains, t.can.as_deref(), domain)
            .map_err(|e| format!("token {:?}: {e}", t.name))?;
        let rate = check_rate(t.rate).map_err(|e| format!("token {:?}: {e}", t.name))?;
        known.push(KnownToken {
            name: t.name.clone(),
            sha256,
            level: t.level,
            scope,
            rate,
        });
    }
    Ok(known)
}

/// The known token whose hash is `presented`'s, comparing every candidate in constant time.
pub fn find<'a>(
    presented: &str,
    known: impl IntoIterator<Item = &'a KnownToken>,
) -> Option<&'a KnownToken> {
    let digest = hash(presented);
    let mut found = None;
    for k in known {
        let equal: bool = k.sha256.ct_eq(&digest).into();
        if equal && found.is_none() {
            found = Some(k);
        }
    }
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(name: &str, sha: &str) -> HttpToken {
        HttpToken {
            name: name.into(),
            token_sha256: sha.into(),
            level: Level::Team,
            users: Vec::new(),
            domains: Vec::new(),
            can: None,
            rate: None,
        }
    }

    #[test]
    fn generated_tokens_are_distinct_and_found_by_their_hash() {
        let (a, ha) = generate();
        let (b, hb) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("lf_") && a.len() == 67);
        let known = [
            KnownToken {
                name: "a".into(),
                sha256: ha,
                level: Level::Team,
                scope: TokenScope::default(),
                rate: DEFAULT_RATE,
            },
            KnownToken {
                name: "b".into(),
                sha256: hb,
                level: Level::Public,
                scope: TokenScope::default(),
                rate: DEFAULT_RATE,
            },
        ];
        assert_eq!(find(&b, &known).unwrap().name, "b");
        assert_eq!(find(&a, &known).unwrap().level, Level::Team);
        assert!(find("lf_guess", &known).is_none());
        assert!(find("", &known).is_none());
    }

    #[test]
    fn hashes_print_and_parse_as_hex() {
        let h = hash("secret");
        let text = hex(&h);
        assert_eq!(
            text,
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert_eq!(parse_sha256(&text.to_uppercase()), Some(h));
        assert_eq!(parse_sha256("abc"), None);
        assert_eq!(parse_sha256(&"zz".repeat(32)), None);
        assert_eq!(parse_sha256(&"é".repeat(32)), None);
    }

    #[test]
    fn names_and_config_entries_are_checked() {
        assert!(check_name("pbx-1.main_site").is_ok());
        for bad in ["", "a b", "ä", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let sha = "ab".repeat(32);
        let d = "example.org";
        let plain = from_config(&[config("pbx", &sha)], d).unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(
            plain[0].scope,
            TokenScope::default(),
            "no scope: every user and action"
        );
        assert_eq!(plain[0].rate, DEFAULT_RATE);
        let twice = from_config(&[config("pbx", &sha), config("pbx", &sha)], d);
        assert!(twice.unwrap_err().contains("twice"));
        assert!(
            from_config(&[config("pbx", "00")], d)
                .unwrap_err()
                .contains("64 hex")
        );
        let mut scoped = config("pbx", &sha);
        scoped.users = vec!["Alice@example.org".into()];
        scoped.can = Some(vec![Action::Read]);
        scoped.rate = Some(5);
        let known = from_config(&[scoped.clone()], d).unwrap();
        assert_eq!(known[0].scope.users(), ["alice@example.org"]);
        assert!(!known[0].scope.allows(Action::Source));
        assert_eq!(known[0].rate, 5);
        scoped.users = vec!["alice@other.org".into()];
        assert!(
            from_config(&[scoped.clone()], d)
                .unwrap_err()
                .contains("pbx")
        );
        scoped.users = Vec::new();
        scoped.rate = Some(0);
        assert!(from_config(&[scoped], d).unwrap_err().contains("rate"));
    }
}
