//! Account administration over the store: what the admin socket, the offline CLI and
//! [`crate::RunningNode`] all run, so the paths cannot drift apart.

use jid::BareJid;

use super::protocol::{Request, Response, TokenInfo};
use crate::adapters::xmpp::{PasswordError, new_account};
use crate::engine::Engine;
use crate::store::StoredToken;
use crate::store::{Store, StoreError};
use crate::tokens::{self, LiveTokens, TokenScope};
use lampfield_domain::access::{Level, NodePolicy};
use lampfield_domain::users::{UserJidError, parse_user};

/// Why an administration request failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The JID cannot name an account of this node.
    #[error(transparent)]
    Jid(#[from] UserJidError),
    /// The password cannot be used.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token name is not acceptable, or taken.
    #[error("{0}")]
    Token(String),
    /// An access rule, its user or its viewer is not acceptable.
    #[error("{0}")]
    Rules(String),
    /// The key derivation task died.
    #[error("credential derivation failed: {0}")]
    Derivation(String),
}

/// Called with each removed account, so its live sessions end at once.
pub type OnRemoved = std::sync::Arc<dyn Fn(&BareJid) + Send + Sync>;

/// Applies admin requests to one node's store.
#[derive(Clone)]
pub struct Service {
    domain: String,
    store: Store,
    on_removed: Option<OnRemoved>,
    /// The running node's engine: rule changes go through it so watchers see them at once.
    engine: Option<Engine>,
    /// The node's access defaults and ceilings (from the configuration).
    policy: NodePolicy,
    /// The running node's profile runtime (profile and calendar requests).
    profile_runtime: Option<crate::profile_runtime::ProfileRuntime>,
    /// The running node's per-token state: a removed token's change streams end at once.
    live_tokens: Option<LiveTokens>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service for the accounts of `domain` in `store`.
    pub fn new(domain: String, store: Store) -> Self {
        Self {
            domain,
            store,
            on_removed: None,
            engine: None,
            policy: NodePolicy::default(),
            profile_runtime: None,
            live_tokens: None,
        }
    }

    /// Apply rule changes through a running node's engine.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.policy = engine.policy();
        self.engine = Some(engine);
        self
    }

    /// Explain levels under the configured defaults and ceilings.
    pub fn with_policy(mut self, policy: NodePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Serve profile and calendar requests through a running node's runtime.
    pub fn with_profile_runtime(
        mut self,
        profile_runtime: crate::profile_runtime::ProfileRuntime,
    ) -> Self {
        self.profile_runtime = Some(profile_runtime);
        self
    }

    /// End a removed token's change streams through the running node's API state.
    pub fn with_live_tokens(mut self, live_tokens: LiveTokens) -> Self {
        self.live_tokens = Some(live_tokens);
        self
    }

    pub(super) fn profile_runtime(&self) -> Option<&crate::profile_runtime::ProfileRuntime> {
        self.profile_runtime.as_ref()
    }

    pub(super) fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn domain(&self) -> &str {
        &self.domain
    }

    pub(super) fn policy(&self) -> NodePolicy {
        self.policy
    }

    /// Also call `hook` for every account removed (a running node ends its sessions).
    pub fn with_on_removed(mut self, hook: OnRemoved) -> Self {
        self.on_removed = Some(hook);
        self
    }

    /// Apply one request; failures become [`Response::Error`].
    pub async fn apply(&self, request: Request) -> Response {
        let result = match request {
            Request::AddUser { jid, password } => {
                self.add_user(&jid, password)
                    .await
                    .map(|user| Response::Added {
                        jid: user.to_string(),
                    })
            }
            Request::ListUsers => self.users().map(|users| Response::Users {
                users: users.into_iter().map(|u| u.to_string()).collect(),
            }),
            Request::RemoveUser { jid } => {
                self.remove_user(&jid)
                    .await
                    .map(|(user, existed)| Response::Removed {
                        jid: user.to_string(),
                        existed,
                    })
            }
            Request::AddToken {
                name,
                level,
                scope,
                rate,
            } => self
                .add_token(&name, level, &scope, rate)
                .await
                .map(|(token, stored)| Response::TokenAdded {
                    name,
                    level,
                    token,
                    scope: stored.scope,
                    rate: tokens::check_rate(stored.rate).unwrap_or(tokens::DEFAULT_RATE),
                }),
            Request::ListTokens => self.tokens().map(|tokens| Response::Tokens { tokens }),
            Request::RemoveToken { name } => self
                .remove_token(&name)
                .await
                .map(|existed| Response::TokenRemoved { name, existed }),
            Request::ListRules { jid } => self.rules(&jid).map(Response::Rules),
            Request::SetRule {
                jid,
                selector,
                level,
            } => self
                .set_rule(&jid, &selector, level)
                .await
                .map(|(user, selector)| Response::RuleSet {
                    jid: user.to_string(),
                    selector: selector.to_string(),
                    level,
                }),
            Request::Profiles { jid, request } => {
                self.profiles(&jid, request).await.map(Response::Profiles)
            }
            Request::ExplainRule { jid, viewer } => self
                .explain_rule(&jid, &viewer)
                .map(|(level, reason)| Response::Explained { level, reason }),
        };
        result.unwrap_or_else(|e| Response::Error {
            message: e.to_string(),
        })
    }

    /// Create an account with SCRAM credentials derived from `password`; durable on
    /// return. Returns the normalized JID.
    pub async fn add_user(&self, jid: &str, password: String) -> Result<BareJid, AdminError> {
        let user = parse_user(&self.domain, jid)?;
        // PBKDF2 takes milliseconds of CPU: keep it off the async threads.
        let account = tokio::task::spawn_blocking(move || new_account(&password))
            .await
            .map_err(|e| AdminError::Derivation(e.to_string()))??;
        self.store.create_account(&user, &account).await?;
        tracing::info!(%user, "account created");
        Ok(user)
    }

    /// Every account, in byte order.
    pub fn users(&self) -> Result<Vec<BareJid>, AdminError> {
        Ok(self.store.users()?)
    }

    /// Remove an account and its contacts; durable on return. Returns the normalized
    /// JID and whether there was an account.
    pub async fn remove_user(&self, jid: &str) -> Result<(BareJid, bool), AdminError> {
        let user = parse_user(&self.domain, jid)?;
        let existed = self.store.remove_account(&user).await?;
        if existed {
            tracing::info!(%user, "account removed");
            if let Some(hook) = &self.on_removed {
                hook(&user);
            }
        }
        Ok((user, existed))
    }
}

impl Service {
    /// Make a token for the integration API, acting within `scope` (checked and normalized here)
    /// at `rate` requests a second; returns it (only its hash is stored) and what was stored.
    pub async fn add_token(
        &self,
        name: &str,
        level: Level,
        scope: &TokenScope,
        rate: Option<u32>,
    ) -> Result<(String, StoredToken), AdminError> {
        tokens::check_name(name).map_err(AdminError::Token)?;
        let scope = TokenScope::new(
            scope.users(),
            scope.domains(),
            scope.actions(),
            &self.domain,
        )
        .map_err(AdminError::Token)?;
        tokens::check_rate(rate).map_err(AdminError::Token)?;
        let (token, sha256) = tokens::generate();
        let stored = StoredToken {
            sha256,
            level,
            scope,
            rate,
        };
        if !self.store.add_token(name, &stored).await? {
            return Err(AdminError::Token(format!(
                "a token named {name:?} exists; remove it first"
            )));
        }
        tracing::info!(
            token = name,
            %level,
            users = %stored.scope.users_text(),
            actions = %stored.scope.actions_text(),
            "integration token added"
        );
        Ok((token, stored))
    }

    /// Every stored token's name, level, scope and rate.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, AdminError> {
        Ok(self
            .store
            .tokens()?
            .into_iter()
            .map(|(name, t)| TokenInfo {
                name,
                level: t.level,
                rate: tokens::check_rate(t.rate).unwrap_or(tokens::DEFAULT_RATE),
                scope: t.scope,
            })
            .collect())
    }

    /// Revoke a token at once: the API reads the store on every request, and a running node ends
    /// the token's open change streams. Returns whether it existed.
    pub async fn remove_token(&self, name: &str) -> Result<bool, AdminError> {
        let removed = self.store.remove_token(name).await?;
        if let Some(token) = &removed {
            if let Some(live) = &self.live_tokens {
                live.revoke(&token.sha256);
            }
            tracing::info!(token = name, "integration token removed");
        }
        Ok(removed.is_some())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_list_remove() {
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        let add = |jid: &str| Request::AddUser {
            jid: jid.into(),
            password: "pw".into(),
        };
        assert_eq!(
            service.apply(add("Alice@example.org")).await,
            Response::Added {
                jid: "alice@example.org".into()
            }
        );
        let again = service.apply(add("alice@example.org")).await;
        assert!(matches!(again, Response::Error { ref message } if message.contains("exists")));
        let wrong = service.apply(add("bob@elsewhere.org")).await;
        assert!(
            matches!(wrong, Response::Error { ref message } if message.contains("@example.org"))
        );
        let empty = service
            .apply(Request::AddUser {
                jid: "bob@example.org".into(),
                password: String::new(),
            })
            .await;
        assert!(matches!(empty, Response::Error { ref message } if message.contains("empty")));
        assert_eq!(
            service.apply(Request::ListUsers).await,
            Response::Users {
                users: vec!["alice@example.org".into()]
            }
        );
        assert_eq!(
            service
                .apply(Request::RemoveUser {
                    jid: "alice@example.org".into()
                })
                .await,
            Response::Removed {
                jid: "alice@example.org".into(),
                existed: true
            }
        );
        assert_eq!(
            service.apply(Request::ListUsers).await,
            Response::Users { users: vec![] }
        );
    }

    #[tokio::test]
    async fn tokens_add_list_remove() {
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        let add = |name: &str| Request::AddToken {
            name: name.into(),
            level: Level::Team,
            scope: TokenScope::default(),
            rate: None,
        };
        let Response::TokenAdded { token, .. } = service.apply(add("pbx")).await else {
            panic!("token not added");
        };
        assert!(token.starts_with("lf_"));
        let again = service.apply(add("pbx")).await;
        assert!(matches!(again, Response::Error { ref message } if message.contains("exists")));
        let bad = service.apply(add("no spaces")).await;
        assert!(matches!(bad, Response::Error { .. }));
        assert_eq!(
            service.apply(Request::ListTokens).await,
            Response::Tokens {
                tokens: vec![TokenInfo {
                    name: "pbx".into(),
                    level: Level::Team,
                    scope: TokenScope::default(),
                    rate: tokens::DEFAULT_RATE,
                }]
            }
        );
        let stored = service.store.tokens().unwrap();
        assert_eq!(
            stored[0].1.sha256,
            tokens::hash(&token),
            "only the hash is kept"
        );
        assert_eq!(
            service
                .apply(Request::RemoveToken { name: "pbx".into() })
                .await,
            Response::TokenRemoved {
                name: "pbx".into(),
                existed: true
            }
        );
        assert!(service.tokens().unwrap().is_empty());
    }

    #[tokio::test]
    async fn scoped_tokens_are_checked_and_removing_one_ends_its_streams() {
        let live = LiveTokens::default();
        let service = Service::new("example.org".into(), Store::temporary().unwrap())
            .with_live_tokens(live.clone());
        let users = vec!["Alice@example.org".to_owned()];
        let unchecked = |users: &[String], actions: Option<&[tokens::Action]>| {
            // Unchecked, as the admin socket decodes it.
            serde_json::from_value::<TokenScope>(serde_json::json!({
                "users": users,
                "actions": actions,
            }))
            .unwrap()
        };
        let add = |name: &str, scope: TokenScope, rate: Option<u32>| Request::AddToken {
            name: name.into(),
            level: Level::Team,
            scope,
            rate,
        };
        let read_only = unchecked(&users, Some(&[tokens::Action::Read]));
        let Response::TokenAdded {
            token, scope, rate, ..
        } = service.apply(add("pbx", read_only, Some(5))).await
        else {
            panic!("token not added");
        };
        assert_eq!(scope.users(), ["alice@example.org"], "normalized");
        assert_eq!(rate, 5);
        let listed = service.tokens().unwrap();
        assert_eq!((listed[0].scope.clone(), listed[0].rate), (scope, 5));

        for (bad, why) in [
            (
                add("x", unchecked(&["a@other.org".into()], None), None),
                "@example.org",
            ),
            (
                add("x", unchecked(&[], Some(&[])), None),
                "at least one action",
            ),
            (add("x", TokenScope::default(), Some(0)), "rate"),
        ] {
            let answer = service.apply(bad).await;
            assert!(
                matches!(&answer, Response::Error { message } if message.contains(why)),
                "{answer:?}"
            );
        }

        let stream = live.stream(&tokens::hash(&token));
        assert!(service.remove_token("pbx").await.unwrap());
        assert!(stream.is_cancelled(), "its open streams end at once");
    }
}
