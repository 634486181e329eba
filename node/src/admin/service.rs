//! Account administration over the store: what the admin socket and the offline CLI
//! both run, so the two paths cannot drift apart.

use crate::adapters::xmpp::new_account;
use crate::store::{Store, StoreError};
use crate::users::parse_user;

use super::protocol::{Request, Response};

/// Applies admin requests to one node's store.
#[derive(Debug, Clone)]
pub struct Service {
    domain: String,
    store: Store,
}

impl Service {
    /// A service for the accounts of `domain` in `store`.
    pub fn new(domain: String, store: Store) -> Self {
        Self { domain, store }
    }

    /// Apply one request; failures become [`Response::Error`].
    pub async fn apply(&self, request: Request) -> Response {
        let result = match request {
            Request::AddUser { jid, password } => self.add_user(&jid, password).await,
            Request::ListUsers => self.list_users(),
            Request::RemoveUser { jid } => self.remove_user(&jid).await,
        };
        result.unwrap_or_else(|message| Response::Error { message })
    }

    async fn add_user(&self, jid: &str, password: String) -> Result<Response, String> {
        let user = parse_user(&self.domain, jid).map_err(|e| e.to_string())?;
        // PBKDF2 takes milliseconds of CPU: keep it off the async threads.
        let account = tokio::task::spawn_blocking(move || new_account(&password))
            .await
            .map_err(|e| format!("credential derivation failed: {e}"))?
            .map_err(|e| e.to_string())?;
        self.store
            .create_account(&user, &account)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(%user, "account created");
        Ok(Response::Added {
            jid: user.to_string(),
        })
    }

    fn list_users(&self) -> Result<Response, String> {
        let users = self.store.users().map_err(|e| e.to_string())?;
        Ok(Response::Users {
            users: users.into_iter().map(|u| u.to_string()).collect(),
        })
    }

    async fn remove_user(&self, jid: &str) -> Result<Response, String> {
        let user = parse_user(&self.domain, jid).map_err(|e| e.to_string())?;
        let existed = self
            .store
            .remove_account(&user)
            .await
            .map_err(|e: StoreError| e.to_string())?;
        if existed {
            tracing::info!(%user, "account removed");
        }
        Ok(Response::Removed {
            jid: user.to_string(),
            existed,
        })
    }
}

#[cfg(test)]
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
