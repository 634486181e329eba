//! The gateway's [`Backend`] port over the store, and the mapping between the
//! gateway's types and stored records.

use jid::{BareJid, Jid};
use lampfield_xmpp::ports::pep;
use lampfield_xmpp::sasl;
use lampfield_xmpp::{
    ArchiveDefault, ArchiveMark, ArchivePage, ArchivePrefs, ArchiveQuery, Archived, Backend,
    BackendError, Contact, Kept, LastLogout, PasswordChange, PushRegistration, ScramCredentials,
    ScramHash, Subscription,
};
use minidom::Element;

use crate::config;
use crate::store::{self, ArchiveLimits, OfflineLimits, RosterVersion, Store, StoreError};

/// Answers the gateway from the store; every write is flushed before it resolves.
#[derive(Debug, Clone)]
pub struct StoreBackend {
    store: Store,
    offline: OfflineLimits,
}

impl StoreBackend {
    /// A backend over `store`, keeping offline messages within the built-in `[c2s]` limits.
    pub fn new(store: Store) -> Self {
        Self::with_offline_limits(store, &config::C2s::default())
    }

    /// A backend over `store`, keeping offline messages within the limits of `c2s`.
    pub fn with_offline_limits(store: Store, c2s: &config::C2s) -> Self {
        let offline = OfflineLimits {
            max_messages: c2s.offline_max_messages,
            max_bytes: c2s.offline_max_bytes,
        };
        Self { store, offline }
    }

    /// The store it answers from.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The XEP-0237 `ver` of a stored roster version: the id in decimal, `0` for a roster never
/// changed (it is empty), none while a change is under way.
fn wire_version(version: RosterVersion) -> Option<String> {
    match version {
        RosterVersion::Never => Some("0".to_owned()),
        RosterVersion::Settled(id) => Some(id.to_string()),
        RosterVersion::Unsettled => None,
    }
}

fn failed(e: StoreError) -> BackendError {
    BackendError(e.to_string())
}

impl Backend for StoreBackend {
    async fn account_exists(&self, user: &BareJid) -> Result<bool, BackendError> {
        self.store.account_exists(user).map_err(failed)
    }

    async fn credentials(
        &self,
        user: &BareJid,
        hash: ScramHash,
    ) -> Result<Option<ScramCredentials>, BackendError> {
        let account = self.store.account(user).map_err(failed)?;
        Ok(account.map(|a| {
            let scram = match hash {
                ScramHash::Sha1 => a.scram_sha1,
                ScramHash::Sha256 => a.scram_sha256,
            };
            ScramCredentials::from(scram)
        }))
    }

    async fn contacts(&self, user: &BareJid) -> Result<Vec<Contact>, BackendError> {
        let stored = self.store.roster(user).map_err(failed)?;
        Ok(stored
            .iter()
            .map(|(jid, c)| wire_contact(jid.clone(), c.clone()))
            .collect())
    }

    async fn roster_version(&self, user: &BareJid) -> Result<Option<String>, BackendError> {
        let version = self.store.roster_version(user).map_err(failed)?;
        Ok(wire_version(version))
    }

    async fn versioned_contacts(
        &self,
        user: &BareJid,
    ) -> Result<(Vec<Contact>, Option<String>), BackendError> {
        let (stored, version) = self.store.versioned_roster(user).map_err(failed)?;
        let contacts = stored
            .iter()
            .map(|(jid, c)| wire_contact(jid.clone(), c.clone()))
            .collect();
        Ok((contacts, wire_version(version)))
    }

    async fn contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<Option<Contact>, BackendError> {
        let stored = self.store.contact(user, contact).map_err(failed)?;
        Ok(stored.map(|c| wire_contact(contact.clone(), c)))
    }

    async fn is_managed(&self, user: &BareJid, contact: &BareJid) -> Result<bool, BackendError> {
        self.store.is_colleague(user, contact).map_err(failed)
    }

    async fn put_contact(&self, user: &BareJid, contact: Contact) -> Result<(), BackendError> {
        let (jid, record) = stored_contact(contact);
        self.store
            .put_contact(user, &jid, &record)
            .await
            .map_err(failed)
    }

    async fn remove_contact(&self, user: &BareJid, contact: &BareJid) -> Result<(), BackendError> {
        self.store
            .remove_contact(user, contact)
            .await
            .map_err(failed)
    }

    async fn keep_offline(&self, user: &BareJid, message: &Element) -> Result<Kept, BackendError> {
        let xml = String::from(message);
        let stored = self.store.keep_offline(user, &xml, self.offline).await;
        match stored.map_err(failed)? {
            true => Ok(Kept::Stored),
            false => Ok(Kept::Full),
        }
    }

    async fn take_offline(&self, user: &BareJid) -> Result<Vec<Element>, BackendError> {
        let taken = self.store.take_offline(user).await.map_err(failed)?;
        // What the gateway serialized parses again; should a record not, it is reported and
        // the others still go out.
        Ok(taken
            .iter()
            .filter_map(|xml| match xml.parse::<Element>() {
                Ok(el) => Some(el),
                Err(e) => {
                    tracing::warn!(%user, error = %e, "kept message unreadable; dropped");
                    None
                }
            })
            .collect())
    }

    async fn change_password(
        &self,
        user: &BareJid,
        password: &str,
    ) -> Result<PasswordChange, BackendError> {
        let password = password.to_owned();
        // PBKDF2 takes milliseconds of CPU: keep it off the async threads.
        let account = tokio::task::spawn_blocking(move || new_account(&password))
            .await
            .map_err(|e| BackendError(e.to_string()))?;
        match account {
            Ok(account) => {
                self.store
                    .replace_account(user, &account)
                    .await
                    .map_err(failed)?;
                Ok(PasswordChange::Changed)
            }
            Err(refused) => Ok(PasswordChange::Refused(refused.to_string())),
        }
    }

    async fn private_xml(
        &self,
        user: &BareJid,
        name: &str,
        ns: &str,
    ) -> Result<Option<Element>, BackendError> {
        let Some(xml) = self.store.private_xml(user, name, ns).map_err(failed)? else {
            return Ok(None);
        };
        xml.parse::<Element>()
            .map(Some)
            .map_err(|e| BackendError(format!("stored private XML of {user} unreadable: {e}")))
    }

    async fn put_private_xml(
        &self,
        user: &BareJid,
        element: &Element,
    ) -> Result<Kept, BackendError> {
        let xml = String::from(element);
        let stored = self
            .store
            .put_private_xml(user, element.name(), &element.ns(), &xml)
            .await
            .map_err(failed)?;
        Ok(if stored { Kept::Stored } else { Kept::Full })
    }

    async fn archive(
        &self,
        user: &BareJid,
        peer: &Jid,
        message: &Element,
    ) -> Result<Option<String>, BackendError> {
        let xml = String::from(message);
        let at = chrono::Utc::now().timestamp_millis();
        let id = self
            .store
            .archive(user, &peer.to_string(), at, &xml, ArchiveLimits::default())
            .await
            .map_err(failed)?;
        Ok(id.map(|id| id.to_string()))
    }

    async fn archive_page(
        &self,
        user: &BareJid,
        query: &ArchiveQuery,
    ) -> Result<Option<ArchivePage>, BackendError> {
        // An id this node never gave is not in the archive: `None`, as for a removed one.
        let id = |text: &str| text.parse::<u64>().ok();
        let after = match query.after.as_deref().map(id) {
            Some(None) => return Ok(None),
            other => other.flatten(),
        };
        let before = match &query.before {
            Some(Some(text)) => match id(text) {
                Some(id) => Some(Some(id)),
                None => return Ok(None),
            },
            Some(None) => Some(None),
            None => None,
        };
        let filter = store::ArchiveFilter {
            with: query.with.as_ref().map(ToString::to_string),
            start_ms: query.start.map(|t| t.timestamp_millis()),
            end_ms: query.end.map(|t| t.timestamp_millis()),
        };
        let at = store::PageAt {
            after,
            before,
            max: query.max,
        };
        let Some(page) = self.store.archive_page(user, &filter, at).map_err(failed)? else {
            return Ok(None);
        };
        let items = page
            .items
            .into_iter()
            .filter_map(|m| match m.xml.parse::<Element>() {
                Ok(message) => Some(Archived {
                    id: m.id.to_string(),
                    at: stamp(m.at_ms),
                    message,
                }),
                Err(e) => {
                    tracing::warn!(%user, error = %e, "archived message unreadable; left out");
                    None
                }
            })
            .collect();
        Ok(Some(ArchivePage {
            items,
            complete: page.complete,
            count: page.count,
            first_index: page.first_index,
        }))
    }

    async fn archive_ends(
        &self,
        user: &BareJid,
    ) -> Result<Option<(ArchiveMark, ArchiveMark)>, BackendError> {
        let ends = self.store.archive_ends(user).map_err(failed)?;
        let mark = |(id, at): (u64, i64)| ArchiveMark {
            id: id.to_string(),
            at: stamp(at),
        };
        Ok(ends.map(|(first, last)| (mark(first), mark(last))))
    }

    async fn archive_prefs(&self, user: &BareJid) -> Result<ArchivePrefs, BackendError> {
        let stored = self.store.archive_prefs(user).map_err(failed)?;
        // Stored JIDs were valid when stored; one that no longer parses is left out.
        let jids = |list: &[String]| list.iter().filter_map(|j| Jid::new(j).ok()).collect();
        Ok(ArchivePrefs {
            default: match stored.default {
                store::ArchiveDefault::Always => ArchiveDefault::Always,
                store::ArchiveDefault::Never => ArchiveDefault::Never,
                store::ArchiveDefault::Roster => ArchiveDefault::Roster,
            },
            always: jids(&stored.always),
            never: jids(&stored.never),
        })
    }

    async fn put_archive_prefs(
        &self,
        user: &BareJid,
        prefs: &ArchivePrefs,
    ) -> Result<Kept, BackendError> {
        let jids = |list: &[Jid]| list.iter().map(ToString::to_string).collect();
        let stored = store::ArchivePrefs {
            default: match prefs.default {
                ArchiveDefault::Always => store::ArchiveDefault::Always,
                ArchiveDefault::Never => store::ArchiveDefault::Never,
                ArchiveDefault::Roster => store::ArchiveDefault::Roster,
            },
            always: jids(&prefs.always),
            never: jids(&prefs.never),
        };
        let kept = self
            .store
            .put_archive_prefs(user, &stored)
            .await
            .map_err(failed)?;
        Ok(if kept { Kept::Stored } else { Kept::Full })
    }

    async fn vcard(&self, user: &BareJid) -> Result<Option<Element>, BackendError> {
        let Some(xml) = self.store.vcard(user).map_err(failed)? else {
            return Ok(None);
        };
        xml.parse::<Element>()
            .map(Some)
            .map_err(|e| BackendError(format!("stored vCard of {user} unreadable: {e}")))
    }

    async fn vcard_shown(&self, user: &BareJid) -> Result<Option<Element>, BackendError> {
        let stored = self.vcard(user).await?;
        if !self.store.directory_settings().enabled {
            return Ok(stored);
        }
        let entry = self.store.directory_entry(user).map_err(failed)?;
        let extensions = self.store.extensions_of(user).map_err(failed)?;
        Ok(directory_card(
            stored,
            entry.unwrap_or_default(),
            &extensions,
        ))
    }

    async fn put_vcard(&self, user: &BareJid, vcard: &Element) -> Result<Kept, BackendError> {
        let stored = self
            .store
            .put_vcard(user, &String::from(vcard))
            .await
            .map_err(failed)?;
        Ok(if stored { Kept::Stored } else { Kept::Full })
    }

    async fn push_registrations(
        &self,
        user: &BareJid,
    ) -> Result<Vec<PushRegistration>, BackendError> {
        let kept = self.store.push_registrations(user).map_err(failed)?;
        // A record that no longer parses is skipped (and logged), not fatal to the others.
        Ok(kept
            .into_iter()
            .filter_map(|r| {
                let service = Jid::new(&r.service).ok()?;
                let options = match r.options.as_deref().map(str::parse::<Element>) {
                    None => None,
                    Some(Ok(form)) => Some(form),
                    Some(Err(e)) => {
                        tracing::warn!(%user, error = %e, "stored push options unreadable");
                        return None;
                    }
                };
                Some(PushRegistration {
                    service,
                    node: r.node,
                    resource: r.resource,
                    options,
                })
            })
            .collect())
    }

    async fn enable_push(
        &self,
        user: &BareJid,
        registration: &PushRegistration,
    ) -> Result<Kept, BackendError> {
        let record = store::PushRecord {
            service: registration.service.to_string(),
            node: registration.node.clone(),
            resource: registration.resource.clone(),
            options: registration.options.as_ref().map(String::from),
        };
        let kept = self.store.enable_push(user, record).await.map_err(failed)?;
        Ok(if kept { Kept::Stored } else { Kept::Full })
    }

    async fn disable_push(
        &self,
        user: &BareJid,
        service: &Jid,
        node: Option<&str>,
    ) -> Result<(), BackendError> {
        self.store
            .disable_push(user, service.as_str(), node)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn last_logout(&self, user: &BareJid) -> Result<Option<LastLogout>, BackendError> {
        let kept = self.store.last_logout(user).map_err(failed)?;
        Ok(kept.map(|(at, status)| LastLogout { at, status }))
    }

    async fn put_last_logout(
        &self,
        user: &BareJid,
        logout: &LastLogout,
    ) -> Result<(), BackendError> {
        self.store
            .put_last_logout(user, logout.at, logout.status.as_deref())
            .await
            .map_err(failed)
    }

    async fn pep_node(
        &self,
        user: &BareJid,
        node: &str,
    ) -> Result<Option<pep::Node>, BackendError> {
        match self.store.pep_node(user, node).map_err(failed)? {
            Some(stored) => Ok(Some(port_node(user, stored)?)),
            None => Ok(None),
        }
    }

    async fn pep_nodes(&self, user: &BareJid) -> Result<Vec<(String, pep::Node)>, BackendError> {
        self.store
            .pep_nodes(user)
            .map_err(failed)?
            .into_iter()
            .map(|(name, stored)| Ok((name, port_node(user, stored)?)))
            .collect()
    }

    async fn put_pep_node(
        &self,
        user: &BareJid,
        node: &str,
        content: &pep::Node,
    ) -> Result<Result<(), pep::NodeRefused>, BackendError> {
        let kept = self
            .store
            .put_pep_node(user, node, &stored_node(content))
            .await
            .map_err(failed)?;
        Ok(kept.map_err(|limit| match limit {
            store::PepLimit::ItemTooLarge => {
                pep::NodeRefused::ItemTooLarge(store::MAX_PEP_ITEM_BYTES)
            }
            store::PepLimit::TooManyItems => pep::NodeRefused::TooManyItems(store::MAX_PEP_ITEMS),
            store::PepLimit::TooManyNodes => pep::NodeRefused::TooManyNodes(store::MAX_PEP_NODES),
            store::PepLimit::TooManyBytes => pep::NodeRefused::StorageFull(store::MAX_PEP_BYTES),
        }))
    }

    async fn remove_pep_node(&self, user: &BareJid, node: &str) -> Result<bool, BackendError> {
        self.store.remove_pep_node(user, node).await.map_err(failed)
    }
}

/// The port's node as stored.
fn stored_node(node: &pep::Node) -> store::PepNode {
    store::PepNode {
        access_model: match node.config.access_model {
            pep::AccessModel::Open => "open",
            pep::AccessModel::Presence => "presence",
            pep::AccessModel::Roster => "roster",
            pep::AccessModel::Whitelist => "whitelist",
        }
        .to_owned(),
        persist_items: node.config.persist_items,
        max_items: node.config.max_items,
        send_last: match node.config.send_last {
            pep::SendLast::Never => "never",
            pep::SendLast::OnSub => "on_sub",
            pep::SendLast::OnSubAndPresence => "on_sub_and_presence",
        }
        .to_owned(),
        items: node
            .items
            .iter()
            .map(|item| store::PepItem {
                id: item.id.clone(),
                xml: item.payload.as_ref().map(String::from).unwrap_or_default(),
            })
            .collect(),
    }
}

/// A stored node back to the port's; an unknown access model reads as the narrowest.
fn port_node(user: &BareJid, node: store::PepNode) -> Result<pep::Node, BackendError> {
    let access_model = match node.access_model.as_str() {
        "open" => pep::AccessModel::Open,
        "presence" => pep::AccessModel::Presence,
        "roster" => pep::AccessModel::Roster,
        _ => pep::AccessModel::Whitelist,
    };
    let send_last = match node.send_last.as_str() {
        "on_sub" => pep::SendLast::OnSub,
        "on_sub_and_presence" => pep::SendLast::OnSubAndPresence,
        _ => pep::SendLast::Never,
    };
    let items = node
        .items
        .into_iter()
        .map(|item| {
            let payload = if item.xml.is_empty() {
                None
            } else {
                Some(item.xml.parse::<Element>().map_err(|e| {
                    BackendError(format!("stored PEP item of {user} unreadable: {e}"))
                })?)
            };
            Ok(pep::Item {
                id: item.id,
                payload,
            })
        })
        .collect::<Result<_, BackendError>>()?;
    Ok(pep::Node {
        config: pep::NodeConfig {
            access_model,
            persist_items: node.persist_items,
            max_items: node.max_items,
            send_last,
        },
        items,
    })
}

/// Milliseconds since the epoch as a time (the epoch itself should they be out of range).
fn stamp(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `stored` (or an empty vCard) completed with the directory's fields the user did not write
/// themself: FN, ORG/ORGUNIT, a work TEL per extension, EMAIL (XEP-0054). `None` when there is
/// neither a stored vCard nor anything in the directory.
fn directory_card(
    stored: Option<Element>,
    entry: store::DirectoryEntry,
    extensions: &[String],
) -> Option<Element> {
    const NS: &str = "vcard-temp";
    let text = |name: &str, value: &str| Element::builder(name, NS).append(value.to_owned());
    let mut additions = Vec::new();
    let has = |name: &str| stored.as_ref().is_some_and(|v| v.has_child(name, NS));
    if let Some(name) = entry.name.filter(|_| !has("FN")) {
        additions.push(text("FN", &name).build());
    }
    if let Some(department) = entry.department.filter(|_| !has("ORG")) {
        let org = Element::builder("ORG", NS)
            .append(text("ORGNAME", ""))
            .append(text("ORGUNIT", &department))
            .build();
        additions.push(org);
    }
    if !has("TEL") {
        for ext in extensions {
            let tel = Element::builder("TEL", NS)
                .append(Element::bare("WORK", NS))
                .append(Element::bare("VOICE", NS))
                .append(text("NUMBER", ext))
                .build();
            additions.push(tel);
        }
    }
    if let Some(email) = entry.email.filter(|_| !has("EMAIL")) {
        let email = Element::builder("EMAIL", NS)
            .append(Element::bare("INTERNET", NS))
            .append(text("USERID", &email))
            .build();
        additions.push(email);
    }
    if additions.is_empty() {
        return stored;
    }
    let mut card = stored.unwrap_or_else(|| Element::bare("vCard", NS));
    for addition in additions {
        card.append_child(addition);
    }
    Some(card)
}

/// Why a password cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Empty passwords are refused.
    #[error("the password is empty")]
    Empty,
    /// Longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// SASLprep (RFC 4013) refuses it, so clients could not agree on its keys.
    #[error("{0}")]
    Saslprep(#[from] sasl::PasswordError),
}

/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Check a password before anything is derived from it.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    sasl::check_password(password)?;
    Ok(())
}

/// Derive what the store keeps of a password: salted SCRAM-SHA-1 and SCRAM-SHA-256
/// credentials with fresh salts. CPU-bound (PBKDF2): run it off the async threads.
pub fn new_account(password: &str) -> Result<store::Account, PasswordError> {
    check_password(password)?;
    Ok(store::Account {
        scram_sha1: sasl::new_credentials(password, ScramHash::Sha1).into(),
        scram_sha256: sasl::new_credentials(password, ScramHash::Sha256).into(),
    })
}

impl From<ScramCredentials> for store::Scram {
    fn from(c: ScramCredentials) -> Self {
        Self {
            salt: c.salt,
            iterations: c.iterations,
            stored_key: c.stored_key,
            server_key: c.server_key,
        }
    }
}

impl From<store::Scram> for ScramCredentials {
    fn from(s: store::Scram) -> Self {
        Self {
            salt: s.salt,
            iterations: s.iterations,
            stored_key: s.stored_key,
            server_key: s.server_key,
        }
    }
}

fn wire_contact(jid: BareJid, c: store::Contact) -> Contact {
    let s = c.subscription;
    Contact {
        jid,
        name: c.name,
        groups: c.groups,
        subscription: Subscription {
            to: s.to,
            from: s.from,
            pending_out: s.pending_out,
            pending_in: s.pending_in,
            preapproved: s.preapproved,
        },
        in_roster: c.in_roster,
    }
}

fn stored_contact(c: Contact) -> (BareJid, store::Contact) {
    let s = c.subscription;
    let record = store::Contact {
        name: c.name,
        groups: c.groups,
        subscription: store::Subscription {
            to: s.to,
            from: s.from,
            pending_out: s.pending_out,
            pending_in: s.pending_in,
            preapproved: s.preapproved,
        },
        in_roster: c.in_roster,
    };
    (c.jid, record)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    /// A backend over a temporary store holding the account alice@example.org.
    async fn backend_with_alice(password: &str) -> (StoreBackend, BareJid) {
        let store = Store::temporary().unwrap();
        let alice = jid("alice@example.org");
        store
            .create_account(&alice, &new_account(password).unwrap())
            .await
            .unwrap();
        (StoreBackend::new(store), alice)
    }

    #[tokio::test]
    async fn contacts_round_trip_through_the_port() {
        let (backend, alice) = backend_with_alice("secret").await;
        assert!(backend.account_exists(&alice).await.unwrap());
        assert!(!backend.account_exists(&jid("x@example.org")).await.unwrap());

        let bob = Contact {
            jid: jid("bob@example.org"),
            name: Some("Bob".into()),
            groups: vec!["A".into(), "B".into()],
            subscription: Subscription {
                from: true,
                pending_out: true,
                preapproved: false,
                to: false,
                pending_in: false,
            },
            in_roster: true,
        };
        backend.put_contact(&alice, bob.clone()).await.unwrap();
        assert_eq!(
            backend.contact(&alice, &bob.jid).await.unwrap(),
            Some(bob.clone())
        );
        assert_eq!(backend.contacts(&alice).await.unwrap(), vec![bob.clone()]);
        backend.remove_contact(&alice, &bob.jid).await.unwrap();
        assert!(backend.contacts(&alice).await.unwrap().is_empty());
        // A removed account takes no new contacts: the gateway gets an error.
        assert!(
            backend
                .put_contact(&jid("gone@example.org"), bob)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn credentials_verify_the_password_for_both_hashes() {
        let (backend, alice) = backend_with_alice("pencil").await;
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            let c = backend.credentials(&alice, hash).await.unwrap().unwrap();
            let again = sasl::derive_credentials("pencil", hash, &c.salt, c.iterations);
            assert_eq!(again, c, "{hash:?}");
            let wrong = sasl::derive_credentials("pen", hash, &c.salt, c.iterations);
            assert_ne!(wrong, c);
        }
        assert!(
            backend
                .credentials(&jid("x@example.org"), ScramHash::Sha1)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn the_archive_round_trips_through_the_port() {
        let (backend, alice) = backend_with_alice("secret").await;
        let bob = Jid::new("bob@example.org/phone").unwrap();
        let m = |text: &str| -> Element {
            format!("<message xmlns='jabber:client' type='chat'><body>{text}</body></message>")
                .parse()
                .unwrap()
        };
        let first = backend.archive(&alice, &bob, &m("one")).await.unwrap();
        let second = backend.archive(&alice, &bob, &m("two")).await.unwrap();
        let (first, second) = (first.unwrap(), second.unwrap());
        let query = ArchiveQuery {
            with: Some(Jid::new("bob@example.org").unwrap()),
            after: Some(first.clone()),
            max: 10,
            ..ArchiveQuery::default()
        };
        let page = backend.archive_page(&alice, &query).await.unwrap().unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            (page.items[0].id.as_str(), page.items[0].message.clone()),
            (second.as_str(), m("two"))
        );
        assert!(page.complete && page.count == 2 && page.first_index == 1);
        // Ids this node never gave, and ids it gave: item-not-found is `None`.
        for bad in ["x", "18446744073709551615"] {
            let q = ArchiveQuery {
                before: Some(Some(bad.into())),
                ..query.clone()
            };
            assert_eq!(
                backend.archive_page(&alice, &q).await.unwrap(),
                None,
                "{bad}"
            );
        }
        let (start, end) = backend.archive_ends(&alice).await.unwrap().unwrap();
        assert_eq!((start.id, end.id), (first, second));

        assert_eq!(
            backend.archive_prefs(&alice).await.unwrap(),
            ArchivePrefs::default()
        );
        let prefs = ArchivePrefs {
            default: ArchiveDefault::Roster,
            always: vec![bob.clone()],
            never: vec![Jid::new("eve@example.org").unwrap()],
        };
        assert_eq!(
            backend.put_archive_prefs(&alice, &prefs).await.unwrap(),
            Kept::Stored
        );
        assert_eq!(backend.archive_prefs(&alice).await.unwrap(), prefs);
    }

    #[tokio::test]
    async fn offline_messages_round_trip_through_the_port_within_the_configured_limits() {
        let (backend, alice) = backend_with_alice("secret").await;
        let c2s = config::C2s {
            offline_max_messages: 2,
            ..config::C2s::default()
        };
        let backend = StoreBackend::with_offline_limits(backend.store().clone(), &c2s);
        let m = |i: u8| -> Element {
            format!(
                "<message xmlns='jabber:client' to='alice@example.org' type='chat'>\
                 <body>{i}</body><delay xmlns='urn:xmpp:delay' from='example.org' \
                 stamp='2026-01-01T00:00:00.000Z'/></message>"
            )
            .parse()
            .unwrap()
        };
        assert_eq!(
            backend.keep_offline(&alice, &m(1)).await.unwrap(),
            Kept::Stored
        );
        assert_eq!(
            backend.keep_offline(&alice, &m(2)).await.unwrap(),
            Kept::Stored
        );
        assert_eq!(
            backend.keep_offline(&alice, &m(3)).await.unwrap(),
            Kept::Full
        );
        assert_eq!(backend.take_offline(&alice).await.unwrap(), [m(1), m(2)]);
        assert!(backend.take_offline(&alice).await.unwrap().is_empty());
    }

    #[test]
    fn bad_passwords_are_refused() {
        assert!(matches!(new_account(""), Err(PasswordError::Empty)));
        assert!(matches!(
            new_account(&"x".repeat(2000)),
            Err(PasswordError::TooLong)
        ));
        assert!(
            new_account("a\u{0007}b").is_err(),
            "control characters fail SASLprep"
        );
    }
}
