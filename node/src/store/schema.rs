//! Tree names and key layouts. Trees are named `key_value`; values are versioned
//! records (see `records`).
//!
//! Keys are the UTF-8 bytes of bare JIDs as the `jid` crate normalizes them. A
//! contact key joins the user and the contact with `0xFF`, a byte that never occurs
//! in UTF-8, so one prefix scan yields exactly one user's contacts.

use jid::BareJid;

use super::StoreError;

/// Account of each local user: bare JID -> `records::Account`.
pub(super) const USERID_ACCOUNT: &str = "userid_account";
/// Contacts of each local user: `user 0xFF contact` -> `records::Contact`.
pub(super) const USERCONTACT_CONTACT: &str = "usercontact_contact";
/// Roster version of each local user (XEP-0237): bare JID -> a u64 big-endian from sled's
/// `generate_id`, then one byte, 1 while a change of the roster is under way, else 0.
pub(super) const USERID_ROSTERVER: &str = "userid_rosterver";

/// Durable presence state of each local user: bare JID -> `lampfield_domain::record::UserRecord`.
pub(super) const USERID_PRESENCE: &str = "userid_presence";
/// Access rules of each local user: bare JID -> `access::Rules`.
pub(super) const USERID_RULES: &str = "userid_rules";

/// Profiles, trigger settings and profile state of each local user: bare JID ->
/// `profiles::ProfileRecord`.
pub(super) const USERID_PROFILES: &str = "userid_profiles";
/// Appointments and calendar sharing of each local user: bare JID -> `calendar::CalendarRecord`.
pub(super) const USERID_CALENDAR: &str = "userid_calendar";

/// Integration API tokens: name -> `tokens::StoredToken` (the token's SHA-256, never the token).
pub(super) const NAME_TOKEN: &str = "name_token";
/// PBX extensions: extension -> the bare JID of the user it belongs to.
pub(super) const EXTENSION_USER: &str = "extension_user";

/// Messages kept for users who were offline (XEP-0160): `user 0xFF seq` -> `offline::Kept`,
/// `seq` a u64 big-endian that grows with each message, so one prefix scan yields one user's
/// messages in the order they came.
pub(super) const USERSEQ_MESSAGE: &str = "userseq_message";

/// Private XML storage (XEP-0049): `user 0xFF ns 0xFF name` -> `private::Stored`.
pub(super) const USERKEY_PRIVATE: &str = "userkey_private";

/// The message archive (XEP-0313): `user 0xFF id` -> `archive::Entry`, `id` a u64 big-endian
/// from sled's `generate_id`, so one prefix scan yields one user's messages in archive order.
pub(super) const USERSEQ_ARCHIVE: &str = "userseq_archive";
/// Archiving preferences (XEP-0313 §5.2): bare JID -> `archive::ArchivePrefs`.
pub(super) const USERID_ARCHIVEPREFS: &str = "userid_archiveprefs";
/// The vCard of each local user (XEP-0054): bare JID -> `vcard::Stored`.
pub(super) const USERID_VCARD: &str = "userid_vcard";

/// When each local user's last client went offline (XEP-0012): bare JID -> `last_logout::Stored`.
pub(super) const USERID_LASTLOGOUT: &str = "userid_lastlogout";
/// Personal eventing nodes (XEP-0163): `user 0xFF node` -> `pep::PepNode`, its items inside.
pub(super) const USERNODE_PEP: &str = "usernode_pep";

/// Push registrations (XEP-0357): bare JID -> `push::Stored`.
pub(super) const USERID_PUSH: &str = "userid_push";
/// The organization directory (docs/DIRECTORY.md): bare JID -> `directory::DirectoryEntry`.
pub(super) const USERID_DIRECTORY: &str = "userid_directory";

/// Facts about the database itself: `name` -> value.
pub(super) const NAME_VALUE: &str = "name_value";
/// Key in [`NAME_VALUE`] of the schema version, one byte.
pub(super) const SCHEMA_KEY: &[u8] = b"schema";
/// The schema version this code writes and reads.
pub(super) const SCHEMA_VERSION: u8 = 1;

/// Separates the user from the contact in a contact key.
const SEP: u8 = 0xFF;

/// Prefix of every private element of `user`.
pub(super) fn private_prefix(user: &BareJid) -> Vec<u8> {
    let mut key = user.as_str().as_bytes().to_vec();
    key.push(SEP);
    key
}

/// Key of `user`'s private element `(name, ns)`. A namespace or name holds no `0xFF` (UTF-8).
pub(super) fn private_key(user: &BareJid, name: &str, ns: &str) -> Vec<u8> {
    let mut key = private_prefix(user);
    key.extend_from_slice(ns.as_bytes());
    key.push(SEP);
    key.extend_from_slice(name.as_bytes());
    key
}

/// Prefix of every PEP node of `user`.
pub(super) fn pep_prefix(user: &BareJid) -> Vec<u8> {
    private_prefix(user)
}

/// Key of `user`'s PEP node `name`. A node name holds no `0xFF` (UTF-8).
pub(super) fn pep_key(user: &BareJid, name: &str) -> Vec<u8> {
    let mut key = pep_prefix(user);
    key.extend_from_slice(name.as_bytes());
    key
}

/// Key of a user's account.
pub(super) fn account_key(user: &BareJid) -> Vec<u8> {
    user.as_str().as_bytes().to_vec()
}

/// Prefix of every contact key of `user`.
pub(super) fn contacts_prefix(user: &BareJid) -> Vec<u8> {
    let mut key = Vec::with_capacity(user.as_str().len() + 1);
    key.extend_from_slice(user.as_str().as_bytes());
    key.push(SEP);
    key
}

/// Key of one contact of `user`.
pub(super) fn contact_key(user: &BareJid, contact: &BareJid) -> Vec<u8> {
    let mut key = contacts_prefix(user);
    key.extend_from_slice(contact.as_str().as_bytes());
    key
}

/// Prefix of every offline message key of `user` (laid out as a contact key's).
pub(super) fn offline_prefix(user: &BareJid) -> Vec<u8> {
    contacts_prefix(user)
}

/// Key of `user`'s offline message number `seq`.
pub(super) fn offline_key(user: &BareJid, seq: u64) -> Vec<u8> {
    let mut key = offline_prefix(user);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Prefix of every archived message key of `user` (laid out as an offline message key's).
pub(super) fn archive_prefix(user: &BareJid) -> Vec<u8> {
    contacts_prefix(user)
}

/// Key of `user`'s archived message `id`.
pub(super) fn archive_key(user: &BareJid, id: u64) -> Vec<u8> {
    offline_key(user, id)
}

/// The sequence number of an offline message key (or the id of an archive key).
pub(super) fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    key.len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Decode {
            tree: USERSEQ_MESSAGE,
            reason: "key too short for a sequence number".to_owned(),
        })
}

/// The account key back to a JID.
pub(super) fn user_of(key: &[u8]) -> Result<BareJid, StoreError> {
    jid_of(USERID_ACCOUNT, key)
}

/// The contact's JID from a contact key of a known prefix.
pub(super) fn contact_of(prefix_len: usize, key: &[u8]) -> Result<BareJid, StoreError> {
    jid_of(
        USERCONTACT_CONTACT,
        key.get(prefix_len..).unwrap_or_default(),
    )
}

pub(super) fn jid_of(tree: &'static str, bytes: &[u8]) -> Result<BareJid, StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|e| StoreError::Decode {
        tree,
        reason: format!("key is not UTF-8: {e}"),
    })?;
    BareJid::new(text).map_err(|e| StoreError::Decode {
        tree,
        reason: format!("key {text:?} is not a bare JID: {e}"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn contact_keys_round_trip_and_share_the_user_prefix() {
        let user = BareJid::new("alice@example.org").unwrap();
        let bob = BareJid::new("bob@example.org").unwrap();
        let key = contact_key(&user, &bob);
        let prefix = contacts_prefix(&user);
        assert!(key.starts_with(&prefix));
        assert_eq!(contact_of(prefix.len(), &key).unwrap(), bob);
        // "alice@example.org" must not see "alice@example.org.evil"'s contacts.
        let other = BareJid::new("alice@example.org.evil").unwrap();
        assert!(!contact_key(&other, &bob).starts_with(&prefix));
    }

    #[test]
    fn offline_keys_sort_by_sequence_under_the_user_prefix() {
        let user = BareJid::new("alice@example.org").unwrap();
        let (a, b) = (offline_key(&user, 255), offline_key(&user, 256));
        assert!(a < b && a.starts_with(&offline_prefix(&user)));
        assert_eq!(seq_of(&b).unwrap(), 256);
        assert!(seq_of(b"short").is_err());
    }
}
