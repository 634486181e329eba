//! Directory entries and extensions of accounts (docs/DIRECTORY.md), for `lampfield user
//! add|edit|list` and the API; a running node pushes each change to every online roster.

use jid::BareJid;

use super::protocol::{DirectoryFields, UserListing};
use super::service::{AdminError, Service};
use crate::store::DirectoryEntry;
use lampfield_domain::presence::LineId;
use lampfield_domain::users::parse_user;

impl Service {
    /// Apply `details` to `user`'s entry and extension: fields left out stay, an empty one is
    /// cleared. Everyone online sees the change in their roster.
    pub async fn edit_user(
        &self,
        jid: &str,
        details: &DirectoryFields,
    ) -> Result<UserListing, AdminError> {
        let user = parse_user(self.domain(), jid)?;
        let store = self.store();
        if !store.account_exists(&user)? {
            return Err(AdminError::Directory(format!("no account {user}")));
        }
        let mut entry = store.directory_entry(&user)?.unwrap_or_default();
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(value) = value {
                *field = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            }
        };
        set(&mut entry.name, &details.name);
        set(&mut entry.department, &details.department);
        set(&mut entry.email, &details.email);
        entry.check().map_err(AdminError::Directory)?;
        let extension = match details.extension.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(ext) => {
                Some(Some(LineId::new(ext).map_err(|e| {
                    AdminError::Directory(format!("extension: {e}"))
                })?))
            }
            None => None,
        };
        if let Some(owner) = extension
            .as_ref()
            .and_then(Option::as_ref)
            .map(|ext| store.extension_user(ext.as_str()))
            .transpose()?
            .flatten()
            .filter(|owner| *owner != user)
        {
            return Err(AdminError::Directory(format!(
                "the extension belongs to {owner}"
            )));
        }
        store.put_directory_entry(&user, &entry).await?;
        if let Some(extension) = extension {
            for old in store.extensions_of(&user)? {
                if extension.as_ref().map(LineId::as_str) != Some(old.as_str()) {
                    store.remove_extension(&old).await?;
                }
            }
            if let Some(ext) = extension {
                store.put_extension(ext.as_str(), &user).await?;
            }
        }
        tracing::info!(%user, "directory entry changed");
        self.push_colleague(&user).await?;
        self.listing(&user)
    }

    /// Every account with its entry and extensions, by JID.
    pub fn user_listings(&self) -> Result<Vec<UserListing>, AdminError> {
        self.store()
            .users()?
            .iter()
            .map(|user| self.listing(user))
            .collect()
    }

    /// `user`'s entry and extensions.
    pub fn user_listing(&self, user: &BareJid) -> Result<UserListing, AdminError> {
        self.listing(user)
    }

    fn listing(&self, user: &BareJid) -> Result<UserListing, AdminError> {
        let store = self.store();
        let DirectoryEntry {
            name,
            department,
            email,
        } = store.directory_entry(user)?.unwrap_or_default();
        let extensions = store.extensions_of(user)?;
        Ok(UserListing {
            jid: user.to_string(),
            details: DirectoryFields {
                name,
                department,
                extension: Some(extensions.join(",")).filter(|e| !e.is_empty()),
                email,
            },
        })
    }

    /// On a running node, show every online user `user` as their roster now has it (added,
    /// changed or gone).
    pub(super) async fn push_colleague(&self, user: &BareJid) -> Result<(), AdminError> {
        if let Some(sessions) = self.sessions() {
            let everyone = self.store().users()?;
            sessions.router().push_roster_item(&everyone, user).await;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn fields(name: &str, department: &str, extension: &str) -> DirectoryFields {
        DirectoryFields {
            name: Some(name.into()),
            department: Some(department.into()),
            extension: Some(extension.into()),
            email: None,
        }
    }

    /// Alice of Sales on extension 201.
    async fn add_alice(service: &Service) {
        service
            .add_user_with(
                "alice@example.org",
                "pw".into(),
                &fields("Alice", "Sales", "201"),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn entries_are_added_edited_cleared_and_listed() {
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        add_alice(&service).await;
        let listed = service.user_listings().unwrap();
        assert_eq!(listed[0].details, fields("Alice", "Sales", "201"));
        let edited = service
            .edit_user(
                "alice@example.org",
                &DirectoryFields {
                    department: Some(String::new()),
                    extension: Some("202".into()),
                    email: Some("alice@example.com".into()),
                    ..DirectoryFields::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(edited.details.name.as_deref(), Some("Alice"));
        assert_eq!(edited.details.department, None, "cleared");
        assert_eq!(edited.details.extension.as_deref(), Some("202"), "replaced");
        assert_eq!(edited.details.email.as_deref(), Some("alice@example.com"));
    }

    #[tokio::test]
    async fn bad_fields_leave_no_account_and_extensions_are_not_taken_away() {
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        let bad = fields("Bob\u{7}", "Sales", "");
        assert!(
            service
                .add_user_with("bob@example.org", "pw".into(), &bad)
                .await
                .is_err()
        );
        assert!(service.user_listings().unwrap().is_empty());
        add_alice(&service).await;
        service
            .add_user_with("bob@example.org", "pw".into(), &DirectoryFields::default())
            .await
            .unwrap();
        let taken = service
            .edit_user("bob@example.org", &fields("Bob", "Sales", "201"))
            .await;
        assert!(matches!(taken, Err(AdminError::Directory(m)) if m.contains("alice")));
    }
}
