//! The admin socket's wire format: one JSON object per line each way.
//!
//! ```text
//! > {"op":"add_user","jid":"alice@example.org","password":"..."}
//! < {"status":"added","jid":"alice@example.org"}
//! > {"op":"list_users"}
//! < {"status":"users","users":["alice@example.org"]}
//! > {"op":"remove_user","jid":"alice@example.org"}
//! < {"status":"removed","jid":"alice@example.org","existed":true}
//! < {"status":"error","message":"..."}
//! ```

use serde::{Deserialize, Serialize};

/// Longest line either side may send, in bytes (newline excluded).
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// What the CLI asks of the node.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Create an account; the node derives and stores SCRAM credentials only.
    AddUser {
        /// `user@domain`.
        jid: String,
        /// The new account's password.
        password: String,
    },
    /// Every account's JID.
    ListUsers,
    /// Remove an account and its contacts.
    RemoveUser {
        /// `user@domain`.
        jid: String,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AddUser { jid, .. } => f
                .debug_struct("AddUser")
                .field("jid", jid)
                .finish_non_exhaustive(),
            Self::ListUsers => f.write_str("ListUsers"),
            Self::RemoveUser { jid } => f.debug_struct("RemoveUser").field("jid", jid).finish(),
        }
    }
}

/// The node's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Response {
    /// The account was created and is on disk.
    Added {
        /// Its normalized JID.
        jid: String,
    },
    /// Every account.
    Users {
        /// Their JIDs, sorted.
        users: Vec<String>,
    },
    /// The account is gone (or never was).
    Removed {
        /// Its normalized JID.
        jid: String,
        /// Whether there was an account to remove.
        existed: bool,
    },
    /// The request failed; nothing was changed.
    Error {
        /// Why, for the operator.
        message: String,
    },
}

/// Encode one message as a line, newline included.
pub fn to_line<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing these plain enums cannot fail; an empty object keeps the line valid.
    let mut line = serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_documented_shape() {
        let r: Request =
            serde_json::from_str(r#"{"op":"add_user","jid":"a@b","password":"pw"}"#).unwrap();
        assert_eq!(
            r,
            Request::AddUser {
                jid: "a@b".into(),
                password: "pw".into()
            }
        );
        assert!(!format!("{r:?}").contains("pw"), "Debug hides the password");
        let line = to_line(&Request::ListUsers);
        assert_eq!(line, b"{\"op\":\"list_users\"}\n");
        assert!(serde_json::from_str::<Request>(r#"{"op":"drop_db"}"#).is_err());
    }

    #[test]
    fn responses_round_trip() {
        let r = Response::Removed {
            jid: "a@b".into(),
            existed: true,
        };
        let line = to_line(&r);
        let back: Response = serde_json::from_slice(&line).unwrap();
        assert_eq!(back, r);
    }
}
