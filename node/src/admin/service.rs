//! Account administration over the store: what the admin socket, the offline CLI and
//! [`crate::RunningNode`] all run, so the paths cannot drift apart.

use jid::BareJid;

use super::protocol::{Request, Response};
use crate::adapters::xmpp::{PasswordError, new_account};
use crate::store::{Store, StoreError};
use crate::users::{UserJidError, parse_user};

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
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("domain", &self.domain).finish_non_exhaustive()
    }
}

impl Service {
    /// A service for the accounts of `domain` in `store`.
    pub fn new(domain: String, store: Store) -> Self {
        Self { domain, store, on_removed: None }
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
}
