//! Account administration over the store: what the admin socket, the offline CLI and
//! [`crate::RunningNode`] all run, so the paths cannot drift apart.

use jid::BareJid;

use super::protocol::{DirectoryFields, Request, Response, TokenInfo};
use crate::adapters::c2s::SessionControl;
use crate::adapters::xmpp::{PasswordError, new_account};
use crate::engine::Engine;
use crate::store::{DirectoryEntry, StoredToken};
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
    /// A directory entry or extension is not acceptable.
    #[error("{0}")]
    Directory(String),
    /// The key derivation task died.
    #[error("credential derivation failed: {0}")]
    Derivation(String),
}

/// Called with each removed account, once it is gone from the store, so that a running node
/// forgets what it holds of it in memory.
pub type OnRemoved = std::sync::Arc<dyn Fn(&BareJid) + Send + Sync>;

/// Applies admin requests to one node's store.
#[derive(Clone)]
pub struct Service {
    domain: String,
    store: Store,
    on_removed: Option<OnRemoved>,
    /// The running node's XMPP sessions: a removal ends them and tells everyone concerned.
    sessions: Option<SessionControl>,
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
            sessions: None,
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

    pub(super) fn sessions(&self) -> Option<&SessionControl> {
        self.sessions.as_ref()
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

    /// Also call `hook` for every account removed (a running node forgets it in memory).
    pub fn with_on_removed(mut self, hook: OnRemoved) -> Self {
        self.on_removed = Some(hook);
        self
    }

    /// Remove accounts through a running node's XMPP sessions, which end the removed user's
    /// sessions and tell its contacts (roster pushes, unavailable, cancellations).
    pub fn with_sessions(mut self, sessions: SessionControl) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Apply one request; failures become [`Response::Error`].
    pub async fn apply(&self, request: Request) -> Response {
        let result = match request {
            Request::AddUser {
                jid,
                password,
                details,
            } => self
                .add_user_with(&jid, password, &details)
                .await
                .map(|user| Response::Added {
                    jid: user.to_string(),
                }),
            Request::EditUser { jid, details } => self
                .edit_user(&jid, &details)
                .await
                .map(|user| Response::Edited { user }),
            Request::ListUsers => self.user_listings().map(|users| Response::Users { users }),
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

    /// [`Service::add_user`] with a directory entry and extension (checked before the account
    /// is made); everyone online sees the new colleague in their roster.
    pub async fn add_user_with(
        &self,
        jid: &str,
        password: String,
        details: &DirectoryFields,
    ) -> Result<BareJid, AdminError> {
        // Checked before the account exists, so a bad field leaves no account behind.
        let entry = DirectoryEntry {
            name: details.name.clone(),
            department: details.department.clone(),
            email: details.email.clone(),
        };
        entry.check().map_err(AdminError::Directory)?;
        if let Some(ext) = details
            .extension
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            lampfield_domain::presence::LineId::new(ext.trim())
                .map_err(|e| AdminError::Directory(format!("extension: {e}")))?;
        }
        let user = self.add_user(jid, password).await?;
        if *details == DirectoryFields::default() {
            self.push_colleague(&user).await?;
        } else {
            self.edit_user(user.as_str(), details).await?;
        }
        Ok(user)
    }

    /// Every account, in byte order.
    pub fn users(&self) -> Result<Vec<BareJid>, AdminError> {
        Ok(self.store.users()?)
    }

    /// Remove an account and every trace of it; durable on return. Returns the normalized
    /// JID and whether there was an account.
    ///
    /// Gone are the account with its own data (contacts, presence sources, rules, profiles,
    /// calendar, extensions, offline messages, private XML, message archive), its place in every other account's roster (items, pending
    /// requests, pre-approvals) and every rule naming it (`contact:<jid>`), so an account
    /// created later under the same name inherits nothing. A running node also ends its
    /// sessions, pushes the roster removals to the other users' clients, sends `unavailable`
    /// to whoever was shown its presence and `unsubscribe`/`unsubscribed` to its contacts at
    /// other domains. The cleanup runs even when the account is already gone, so running it
    /// again finishes a removal a crash interrupted.
    pub async fn remove_user(&self, jid: &str) -> Result<(BareJid, bool), AdminError> {
        let user = parse_user(&self.domain, jid)?;
        let store = &self.store;
        let removal = async {
            let existed = store.remove_account(&user).await?;
            if let Some(hook) = &self.on_removed {
                hook(&user);
            }
            // After the account is gone no contact naming it can be added by its sessions.
            Ok::<_, StoreError>((existed, store.holders_of(&user)?))
        };
        let existed = match &self.sessions {
            Some(sessions) => sessions.remove_account(&user, removal).await?,
            None => {
                let (existed, holders) = removal.await?;
                for holder in holders {
                    store.remove_contact(&holder, &user).await?;
                }
                existed
            }
        };
        self.forget_in_rules(&user).await?;
        self.forget_in_tokens(&user).await?;
        if existed {
            tracing::info!(%user, "account removed");
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

    /// Take `removed` out of every stored token's scope, so that an account re-created under the
    /// name is not acted for by tokens made for the person before. A token that acted for that
    /// account alone is removed: with the name taken out its scope would read "every user". A
    /// token that keeps other users is rewritten, and its open change streams end (they were
    /// opened under the old scope; the integration reconnects under the new one).
    async fn forget_in_tokens(&self, removed: &BareJid) -> Result<(), AdminError> {
        let name = removed.to_string();
        for (token_name, token) in self.store.tokens()? {
            let scope = &token.scope;
            if !scope.users().contains(&name) {
                continue;
            }
            let users: Vec<String> = scope
                .users()
                .iter()
                .filter(|u| **u != name)
                .cloned()
                .collect();
            if users.is_empty() && scope.domains().is_empty() {
                self.remove_token(&token_name).await?;
                continue;
            }
            let narrowed = TokenScope::new(&users, scope.domains(), scope.actions(), &self.domain)
                .map_err(AdminError::Token)?;
            let rewritten = StoredToken {
                scope: narrowed,
                ..token.clone()
            };
            self.store.put_token(&token_name, &rewritten).await?;
            if let Some(live) = &self.live_tokens {
                live.revoke(&token.sha256);
            }
            tracing::info!(token = token_name, user = %removed, "removed account taken out of a token's scope");
        }
        Ok(())
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
            details: Default::default(),
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
                details: Default::default(),
            })
            .await;
        assert!(matches!(empty, Response::Error { ref message } if message.contains("empty")));
        assert_eq!(
            service.apply(Request::ListUsers).await,
            Response::Users {
                users: vec![crate::admin::protocol::UserListing {
                    jid: "alice@example.org".into(),
                    details: Default::default(),
                }]
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
    async fn a_removed_account_leaves_no_token_acting_for_its_name() {
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        for user in ["alice@example.org", "bob@example.org"] {
            service.add_user(user, "pw".into()).await.unwrap();
        }
        let scope = |users: &[&str]| {
            let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
            TokenScope::new(&users, &[], None, "example.org").unwrap()
        };
        let add = |name: &'static str, scope: TokenScope| {
            let service = &service;
            async move {
                service
                    .add_token(name, Level::Team, &scope, None)
                    .await
                    .unwrap()
            }
        };
        add("alice-only", scope(&["alice@example.org"])).await;
        add("both", scope(&["alice@example.org", "bob@example.org"])).await;
        add("everyone", TokenScope::default()).await;

        service.remove_user("alice@example.org").await.unwrap();

        let tokens = service.tokens().unwrap();
        let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
        // Taking alice out of "alice-only" would leave a token for every user: it goes.
        assert_eq!(names, ["both", "everyone"]);
        let both = &tokens[0];
        assert_eq!(both.scope.users(), ["bob@example.org".to_owned()]);
        assert!(tokens[1].scope.every_user());
    }

    #[tokio::test]
    async fn a_removed_account_leaves_nothing_a_new_one_could_inherit() {
        use crate::store::{Contact, Subscription};
        let store = Store::temporary().unwrap();
        let service = Service::new("example.org".into(), store.clone());
        let jid = |s: &str| BareJid::new(s).unwrap();
        let (alice, bob, carol) = (
            jid("alice@example.org"),
            jid("bob@example.org"),
            jid("carol@example.org"),
        );
        for u in [&alice, &bob, &carol] {
            service.add_user(u.as_str(), "pw".into()).await.unwrap();
        }
        let both = Contact {
            name: Some("Alice".into()),
            groups: vec!["Friends".into()],
            subscription: Subscription {
                to: true,
                from: true,
                ..Subscription::default()
            },
            in_roster: true,
        };
        store.put_contact(&bob, &alice, &both).await.unwrap();
        store.put_contact(&alice, &bob, &both).await.unwrap();
        // carol only holds alice's pending request, outside her visible roster.
        let pending = Contact {
            subscription: Subscription {
                pending_in: true,
                ..Subscription::default()
            },
            ..Contact::default()
        };
        store.put_contact(&carol, &alice, &pending).await.unwrap();
        service
            .set_rule(bob.as_str(), "contact:alice@example.org", Some(Level::Team))
            .await
            .unwrap();
        service
            .set_rule(bob.as_str(), "group:Friends", Some(Level::Business))
            .await
            .unwrap();
        store.put_extension("201", &alice).await.unwrap();

        let (_, existed) = service.remove_user("alice@example.org").await.unwrap();
        assert!(existed);
        service
            .add_user("alice@example.org", "pw".into())
            .await
            .unwrap();
        assert!(store.holders_of(&alice).unwrap().is_empty());
        assert!(store.contacts(&alice).unwrap().is_empty());
        assert!(store.contacts(&bob).unwrap().is_empty());
        assert!(store.contacts(&carol).unwrap().is_empty());
        let rules = store.rules(&bob).unwrap();
        assert!(!rules.contacts.contains_key(&alice), "{rules:?}");
        assert_eq!(rules.groups.get("Friends"), Some(&Level::Business));
        assert_eq!(store.extension_user("201").unwrap(), None);
        // Removing again finds nothing and fails nothing.
        service.remove_user("alice@example.org").await.unwrap();
        let (_, again) = service.remove_user("alice@example.org").await.unwrap();
        assert!(!again);
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
