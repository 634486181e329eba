//! Integration API tokens made with `lampfield token add`: `name_token`.
//!
//! Only the SHA-256 of a token is stored; the token itself is shown once, when it is made. Tokens
//! from the configuration file (`[[http.tokens]]`) are not stored here: the HTTP module checks
//! both.

use serde::{Deserialize, Serialize};

use super::records;
use super::schema::NAME_TOKEN;
use super::{Store, StoreError};
use lampfield_domain::access::Level;

/// One stored token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// The most a holder of the token may read of anyone's presence.
    pub level: Level,
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

    /// Remove the token `name`; durable on return. Returns whether it existed.
    pub async fn remove_token(&self, name: &str) -> Result<bool, StoreError> {
        let existed = self.tokens.remove(name.as_bytes())?.is_some();
        self.flush().await?;
        Ok(existed)
    }
}
