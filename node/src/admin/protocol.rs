//! The admin socket's wire format: one JSON object per line each way.
//!
//! ```text
//! > {"op":"add_user","jid":"alice@example.org","password":"..."}
//! < {"status":"added","jid":"alice@example.org"}
//! > {"op":"list_users"}
//! < {"status":"users","users":["alice@example.org"]}
//! > {"op":"remove_user","jid":"alice@example.org"}
//! < {"status":"removed","jid":"alice@example.org","existed":true}
//! > {"op":"add_token","name":"pbx","level":"team"}
//! < {"status":"token_added","name":"pbx","level":"team","token":"lf_...","scope":{},"rate":20}
//! > {"op":"add_token","name":"pbx","level":"team","scope":{"users":["alice@example.org"],"actions":["sources"]},"rate":50}
//! < {"status":"token_added","name":"pbx","level":"team","token":"lf_...","scope":{...},"rate":50}
//! > {"op":"list_tokens"}
//! < {"status":"tokens","tokens":[{"name":"pbx","level":"team","scope":{},"rate":20}]}
//! > {"op":"remove_token","name":"pbx"}
//! < {"status":"token_removed","name":"pbx","existed":true}
//! > {"op":"set_rule","jid":"alice@example.org","selector":"contact:bob@example.org","level":"team"}
//! < {"status":"rule_set","jid":"alice@example.org","selector":"contact:bob@example.org","level":"team"}
//! > {"op":"list_rules","jid":"alice@example.org"}
//! < {"status":"rules","jid":"alice@example.org","entries":[...],"default_local":"business",...}
//! > {"op":"explain_rule","jid":"alice@example.org","viewer":"bob@example.org"}
//! < {"status":"explained","level":"team","reason":"the rule for contact:bob@example.org"}
//! < {"status":"error","message":"..."}
//! ```

use serde::{Deserialize, Serialize};

use crate::profile_runtime::ImportSummary;
use crate::tokens::TokenScope;
use lampfield_domain::access::Level;
use lampfield_domain::profiles::{ProfileSpec, Scope};

/// Longest request line the node accepts, in bytes (newline excluded).
pub const MAX_LINE_BYTES: usize = 8 * 1024;
/// Longest answer line the CLI accepts: a listing of 100,000 accounts fits.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

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
        /// Its directory entry and extension.
        #[serde(default)]
        details: DirectoryFields,
    },
    /// Change an account's directory entry or extension: fields left out stay as they are, an
    /// empty one is cleared.
    EditUser {
        /// `user@domain`.
        jid: String,
        /// What changes.
        details: DirectoryFields,
    },
    /// Every account with its directory entry and extensions.
    ListUsers,
    /// Remove an account and its contacts.
    RemoveUser {
        /// `user@domain`.
        jid: String,
    },
    /// Make an integration API token; the answer carries it, the node keeps only its hash.
    AddToken {
        /// The token's name.
        name: String,
        /// The most it may read.
        level: Level,
        /// For whom and what it acts; absent: every user, every action (and left out when so,
        /// so that a plain `token add` reads the same to a node that knows no scopes).
        #[serde(default, skip_serializing_if = "TokenScope::is_everything")]
        scope: TokenScope,
        /// Requests per second; absent: the default rate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate: Option<u32>,
    },
    /// Every stored token's name and level.
    ListTokens,
    /// Revoke a token.
    RemoveToken {
        /// The token's name.
        name: String,
    },
    /// A user's access rules.
    ListRules {
        /// `user@domain`.
        jid: String,
    },
    /// Set or remove one access rule entry.
    SetRule {
        /// `user@domain`.
        jid: String,
        /// `contact:<jid>`, `group:<name>`, `domain:<domain>`, `federated` or `default`.
        selector: String,
        /// The level; `None` removes the entry.
        level: Option<Level>,
    },
    /// A presence-profile or calendar operation for a user (needs a running node).
    Profiles {
        /// `user@domain`.
        jid: String,
        /// What to do.
        request: ProfileOp,
    },
    /// Which level a viewer gets, and why.
    ExplainRule {
        /// `user@domain`.
        jid: String,
        /// The viewer's bare JID.
        viewer: String,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AddUser { jid, .. } => f
                .debug_struct("AddUser")
                .field("jid", jid)
                .finish_non_exhaustive(),
            Self::EditUser { jid, details } => f
                .debug_struct("EditUser")
                .field("jid", jid)
                .field("details", details)
                .finish(),
            Self::ListUsers => f.write_str("ListUsers"),
            Self::RemoveUser { jid } => f.debug_struct("RemoveUser").field("jid", jid).finish(),
            Self::AddToken {
                name,
                level,
                scope,
                rate,
            } => f
                .debug_struct("AddToken")
                .field("name", name)
                .field("level", level)
                .field("scope", scope)
                .field("rate", rate)
                .finish(),
            Self::ListTokens => f.write_str("ListTokens"),
            Self::RemoveToken { name } => {
                f.debug_struct("RemoveToken").field("name", name).finish()
            }
            Self::ListRules { jid } => f.debug_struct("ListRules").field("jid", jid).finish(),
            Self::SetRule {
                jid,
                selector,
                level,
            } => f
                .debug_struct("SetRule")
                .field("jid", jid)
                .field("selector", selector)
                .field("level", level)
                .finish(),
            Self::Profiles { jid, request } => f
                .debug_struct("Profiles")
                .field("jid", jid)
                .field("request", request)
                .finish(),
            Self::ExplainRule { jid, viewer } => f
                .debug_struct("ExplainRule")
                .field("jid", jid)
                .field("viewer", viewer)
                .finish(),
        }
    }
}

/// What the organization directory says of an account (docs/DIRECTORY.md), and its phone
/// extension; in a request, what to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFields {
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The department, the colleagues' roster group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The PBX extension (replaces the account's earlier ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One account in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListing {
    /// Its JID.
    pub jid: String,
    /// Its directory entry; `extension` lists every extension mapped to it, comma-separated.
    #[serde(flatten)]
    pub details: DirectoryFields,
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
        /// Sorted by JID.
        users: Vec<UserListing>,
    },
    /// The account's directory entry was changed.
    Edited {
        /// The account as it is now.
        user: UserListing,
    },
    /// The account is gone (or never was).
    Removed {
        /// Its normalized JID.
        jid: String,
        /// Whether there was an account to remove.
        existed: bool,
    },
    /// The token was made and its hash stored; `token` is shown this once.
    TokenAdded {
        /// Its name.
        name: String,
        /// Its level.
        level: Level,
        /// The token.
        token: String,
        /// For whom and what it acts, normalized.
        #[serde(default)]
        scope: TokenScope,
        /// Requests per second.
        #[serde(default)]
        rate: u32,
    },
    /// Every stored token.
    Tokens {
        /// Name, level, scope and rate of each, by name.
        tokens: Vec<TokenInfo>,
    },
    /// The token is revoked (or never was).
    TokenRemoved {
        /// Its name.
        name: String,
        /// Whether there was a token to remove.
        existed: bool,
    },
    /// A user's rules.
    Rules(RulesInfo),
    /// The rule entry is set (or removed, `level: None`) and stored.
    RuleSet {
        /// The user.
        jid: String,
        /// The entry, normalized.
        selector: String,
        /// Its level now.
        level: Option<Level>,
    },
    /// The level a viewer gets.
    Explained {
        /// The level.
        level: Level,
        /// Which rule decided it.
        reason: String,
    },
    /// The outcome of a profile or calendar operation.
    Profiles(ProfilesInfo),
    /// The request failed; nothing was changed.
    Error {
        /// Why, for the operator.
        message: String,
    },
}

/// One user's rules as `rule list` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesInfo {
    /// The user.
    pub jid: String,
    /// Each entry, in precedence order.
    pub entries: Vec<RuleEntry>,
    /// The node's default for its own domain.
    pub default_local: Level,
    /// The node's default for other organizations.
    pub default_federated: Level,
    /// The most any rule grants the own domain.
    pub ceiling_local: Level,
    /// The most any rule grants other organizations.
    pub ceiling_federated: Level,
}

/// One rule entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEntry {
    /// `contact:<jid>`, `group:<name>`, `domain:<domain>`, `federated` or `default`.
    pub selector: String,
    /// Its level.
    pub level: Level,
}

/// A stored token as `token list` shows it (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// For whom and what it acts.
    #[serde(default)]
    pub scope: TokenScope,
    /// Requests per second.
    #[serde(default)]
    pub rate: u32,
}

/// One profile operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProfileOp {
    /// Every profile the user can use.
    List,
    /// One profile with all its settings.
    Show {
        /// The profile.
        name: String,
    },
    /// Create a user profile.
    Create {
        /// The name, fixed from now on.
        name: String,
        /// Its settings.
        spec: ProfileSpec,
    },
    /// Switch to a profile by hand.
    Activate {
        /// The profile.
        name: String,
    },
    /// Switch to "no profile" by hand.
    Deactivate,
    /// Delete a user profile.
    Delete {
        /// The profile.
        name: String,
    },
    /// Replace the user's appointments with those of an `.ics` file the node reads.
    ImportCalendar {
        /// Absolute path of the file.
        path: String,
    },
}

/// One profile in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileLine {
    /// The name.
    pub name: String,
    /// System-wide or the user's own.
    pub scope: Scope,
    /// Offered and usable by triggers.
    pub enabled: bool,
    /// The active one.
    pub active: bool,
    /// Its settings.
    pub spec: ProfileSpec,
}

/// The answer to a [`ProfileOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilesInfo {
    /// The user.
    pub jid: String,
    /// The profiles (all for `list`, the one asked for `show`, empty otherwise).
    pub profiles: Vec<ProfileLine>,
    /// The active profile afterwards.
    pub active: Option<String>,
    /// The outcome of a calendar import.
    pub imported: Option<ImportSummary>,
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
                password: "pw".into(),
                details: DirectoryFields::default(),
            }
        );
        assert!(!format!("{r:?}").contains("pw"), "Debug hides the password");
        let line = to_line(&Request::ListUsers);
        assert_eq!(line, b"{\"op\":\"list_users\"}\n");
        assert!(serde_json::from_str::<Request>(r#"{"op":"drop_db"}"#).is_err());
    }

    #[test]
    fn token_requests_without_a_scope_mean_every_user_and_action() {
        let r: Request =
            serde_json::from_str(r#"{"op":"add_token","name":"pbx","level":"team"}"#).unwrap();
        assert_eq!(
            r,
            Request::AddToken {
                name: "pbx".into(),
                level: Level::Team,
                scope: TokenScope::default(),
                rate: None,
            }
        );
        let scoped = r#"{"op":"add_token","name":"pbx","level":"team","scope":{"users":["a@b"],"actions":["read"]},"rate":5}"#;
        let Request::AddToken { scope, rate, .. } = serde_json::from_str(scoped).unwrap() else {
            panic!("not add_token");
        };
        assert_eq!((scope.users(), rate), (&["a@b".to_owned()][..], Some(5)));
    }

    #[test]
    fn a_plain_token_request_is_written_as_before_scopes() {
        let r = Request::AddToken {
            name: "pbx".into(),
            level: Level::Team,
            scope: TokenScope::default(),
            rate: None,
        };
        assert_eq!(
            to_line(&r),
            b"{\"op\":\"add_token\",\"name\":\"pbx\",\"level\":\"team\"}\n"
        );
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
