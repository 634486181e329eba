//! Integration API tokens made with `lampfield token add`: `name_token`.
//!
//! Only the SHA-256 of a token is stored; the token itself is shown once, when it is made. Tokens
//! from the configuration file (`[[http.tokens]]`) are not stored here: the HTTP module checks
//! both. The scope and the rate were added after the first tokens were stored: a record without
//! them reads as every user, every action and the default rate, which is what it meant.

use serde::{Deserialize, Serialize};

use super::records;
use super::schema::NAME_TOKEN;
use super::{Store, StoreError};
use crate::tokens::TokenScope;
use lampfield_domain::access::Level;

/// One stored token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// The most a holder of the token may read of anyone's presence.
    pub level: Level,
    /// For whom and what it acts; absent in older records: everyone, everything.
    #[serde(default)]
    pub scope: TokenScope,
    /// Requests per second; `None` (and absent in older records): the default rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
}

impl Store {
    /// Every stored token, by name.
    pub fn tokens(&self) -> Result<Vec<(String, StoredToken)>, StoreError> {
        self.tokens
            .iter()
            .map(|entry| {
                let (key, value) = entry?;
                let name = String::from_utf8(key.to_vec()).map_err(|e| StoreError::Decode {
                    tree: NAME_TOKEN,
                    reason: format!("key is not UTF-8: {e}"),
                })?;
                Ok((name, records::decode(NAME_TOKEN, &value)?))
            })
            .collect()
    }

    /// Store a new token under `name`; durable on return. Returns false, storing nothing, if a
    /// token of that name exists.
    pub async fn add_token(&self, name: &str, token: &StoredToken) -> Result<bool, StoreError> {
        let value = records::encode(NAME_TOKEN, token)?;
        let swapped = self
            .tokens
            .compare_and_swap(name.as_bytes(), None::<&[u8]>, Some(value))?;
        if swapped.is_err() {
            return Ok(false);
        }
        self.flush().await?;
        Ok(true)
    }

    /// Store `token` under `name`, replacing what was there; durable on return.
    pub async fn put_token(&self, name: &str, token: &StoredToken) -> Result<(), StoreError> {
        let value = records::encode(NAME_TOKEN, token)?;
        self.tokens.insert(name.as_bytes(), value)?;
        self.flush().await?;
        Ok(())
    }

    /// Remove the token `name`; durable on return. Returns what was stored, if anything.
    pub async fn remove_token(&self, name: &str) -> Result<Option<StoredToken>, StoreError> {
        let removed = self.tokens.remove(name.as_bytes())?;
        self.flush().await?;
        // Removed either way: a record that no longer decodes was still a token, though its hash
        // is lost (every request already failed on it, so it has no open streams to end).
        Ok(removed.map(|value| {
            records::decode(NAME_TOKEN, &value).unwrap_or_else(|e| {
                tracing::warn!(token = name, error = %e, "removed an unreadable token record");
                StoredToken {
                    sha256: [0; 32],
                    level: Level::Blocked,
                    scope: TokenScope::default(),
                    rate: None,
                }
            })
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tokens::Action;

    #[tokio::test]
    async fn tokens_stored_before_scopes_load_as_every_user_and_action() {
        let store = Store::temporary().unwrap();
        // The record a node without scopes wrote: version byte 1, then the JSON.
        let sha: Vec<String> = (0..32).map(|i| i.to_string()).collect();
        let old = format!(
            "\u{1}{{\"sha256\":[{}],\"level\":\"business\"}}",
            sha.join(",")
        );
        store.tokens.insert("legacy", old.as_bytes()).unwrap();
        let tokens = store.tokens().unwrap();
        let (name, token) = &tokens[0];
        assert_eq!(name, "legacy");
        assert_eq!(token.level, Level::Business);
        assert_eq!(token.sha256[31], 31);
        assert_eq!(token.scope, TokenScope::default());
        assert!(Action::ALL.into_iter().all(|a| token.scope.allows(a)));
        assert_eq!(token.rate, None);

        let scoped = StoredToken {
            sha256: [7; 32],
            level: Level::Team,
            scope: TokenScope::new(
                &["a@example.org".into()],
                &[],
                Some(&[Action::Read]),
                "example.org",
            )
            .unwrap(),
            rate: Some(5),
        };
        assert!(store.add_token("scoped", &scoped).await.unwrap());
        let back = store.tokens().unwrap();
        assert_eq!(back.iter().find(|(n, _)| n == "scoped").unwrap().1, scoped);
        assert_eq!(store.remove_token("scoped").await.unwrap(), Some(scoped));
        assert_eq!(store.remove_token("scoped").await.unwrap(), None);
    }
}
