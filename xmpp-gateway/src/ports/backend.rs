//! The port through which the gateway asks the node for what it does not own.
//!
//! The gateway never touches storage. Every write that the protocol acknowledges
//! (a roster push, a subscription state change) goes through a `Backend` method
//! whose future resolves only once the write is durable.

use std::future::Future;

use jid::{BareJid, Jid};
use minidom::Element;

use super::archive::{ArchiveMark, ArchivePage, ArchivePrefs, ArchiveQuery};
use super::pep::{Node, NodeRefused};

/// Which hash a set of SCRAM credentials was derived with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SCRAM-SHA-1 (RFC 5802).
    Sha1,
    /// SCRAM-SHA-256 (RFC 7677).
    Sha256,
}

/// What the server keeps of a password for one SCRAM hash (RFC 5802 §3).
///
/// StoredKey and ServerKey are enough to verify a client proof and to prove the
/// server's identity, yet neither lets anyone log in as the user.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// Random salt, at least 16 bytes.
    pub salt: Vec<u8>,
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// H(ClientKey).
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are not secrets that allow login, but they allow offline guessing.
        f.debug_struct("ScramCredentials")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// RFC 6121 subscription state of one contact in one user's roster, seen from the user.
///
/// `to`: the user receives the contact's presence. `from`: the contact receives the
/// user's presence. `pending_out`: the user asked for the contact's presence and waits.
/// `pending_in`: the contact asked for the user's presence and waits.
/// `preapproved`: the user approved in advance (RFC 6121 §3.4).
/// Invariants kept by the state machine: `to` excludes `pending_out`, `from` excludes
/// `pending_in` and `preapproved`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The user receives the contact's presence.
    pub to: bool,
    /// The contact receives the user's presence.
    pub from: bool,
    /// The user's subscribe request to the contact is pending.
    pub pending_out: bool,
    /// The contact's subscribe request to the user is pending.
    pub pending_in: bool,
    /// The user pre-approved a subscription request from the contact.
    pub preapproved: bool,
}

/// One contact of one user, as stored.
///
/// A contact with `in_roster == false` is not shown in roster results or pushes; it
/// exists only to remember a pending inbound request or a pre-approval for someone the
/// user has not added (RFC 6121 §3.1.3, §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's bare JID.
    pub jid: BareJid,
    /// The handle the user gave the contact.
    pub name: Option<String>,
    /// Roster groups, in the order the client sent them.
    pub groups: Vec<String>,
    /// Subscription state seen from the user.
    pub subscription: Subscription,
    /// Whether the item is visible in the user's roster.
    pub in_roster: bool,
}

/// A failure of the node behind the port; the gateway answers the peer with an
/// internal-server-error and keeps the stream.
#[derive(Debug, thiserror::Error)]
#[error("backend failure: {0}")]
pub struct BackendError(pub String);

/// What became of a message kept for a user who has no resource to take it (XEP-0160).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Stored durably; delivered at the user's next available presence.
    Stored,
    /// The user's offline store is full (or the node keeps no messages): not stored.
    Full,
}

/// When a user's last client went offline (XEP-0012 §3), as the node keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogout {
    /// When it happened.
    pub at: std::time::SystemTime,
    /// The status of the unavailable presence the client sent, if it sent one with a status.
    pub status: Option<String>,
}

/// One XEP-0357 registration: where to wake one of a user's clients.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRegistration {
    /// The app server (XEP-0357 §5 `jid`).
    pub service: Jid,
    /// Its node for this client (§5 `node`).
    pub node: String,
    /// The resource of the client that enabled it: while that session is connected, it needs
    /// no waking.
    pub resource: Option<String>,
    /// The client's publish-options data form (§5), sent with every notification.
    pub options: Option<Element>,
}

/// What became of a user's request to change their own password (XEP-0077 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    /// Stored durably: the next login takes the new password.
    Changed,
    /// The node's policy refuses this password; the text says why.
    Refused(String),
}

/// What the gateway needs from the node. All writes are durable when their future resolves.
pub trait Backend: Send + Sync + 'static {
    /// Whether a local account exists (`user` is a bare JID of the served domain).
    fn account_exists(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// SCRAM credentials of a local account for one hash; `None` for an unknown account.
    fn credentials(
        &self,
        user: &BareJid,
        hash: ScramHash,
    ) -> impl Future<Output = Result<Option<ScramCredentials>, BackendError>> + Send;

    /// Every stored contact of `user`, hidden ones included.
    fn contacts(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Vec<Contact>, BackendError>> + Send;

    /// XEP-0237: `user`'s roster version as it stands, to send with a push after a change.
    /// `None` when no version names the roster now (a change is under way, or the node keeps
    /// no versions); results and pushes then go without one, and the client's next roster get
    /// is answered in full. A version is opaque to clients and must never name two different
    /// rosters of the same JID, across restarts and across a removed and re-created account.
    /// The default keeps no versions.
    fn roster_version(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send {
        let _ = user;
        async { Ok(None) }
    }

    /// Whether `contact` is in `user`'s roster because the organization gives it (a shared
    /// roster, like Prosody's `mod_groups`): the user may not remove it, and its subscription
    /// needs no requests. The default manages no contact.
    fn is_managed(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send {
        let _ = (user, contact);
        async { Ok(false) }
    }

    /// [`Backend::contacts`] with the roster version (see [`Backend::roster_version`]) they
    /// are at, `None` when the read does not match one version. The default keeps no versions.
    fn versioned_contacts(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<(Vec<Contact>, Option<String>), BackendError>> + Send {
        async { Ok((self.contacts(user).await?, None)) }
    }

    /// One stored contact of `user`.
    fn contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> impl Future<Output = Result<Option<Contact>, BackendError>> + Send;

    /// Insert or replace a contact of `user`; durable when the future resolves.
    fn put_contact(
        &self,
        user: &BareJid,
        contact: Contact,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Remove a contact of `user` entirely; durable when the future resolves.
    fn remove_contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// XEP-0160: keep `message` (stamped by the router) for `user`, after those kept before;
    /// durable when the future resolves with [`Kept::Stored`]. The node bounds what it keeps
    /// per user. The default keeps nothing, so the sender is told `service-unavailable`.
    fn keep_offline(
        &self,
        user: &BareJid,
        message: &Element,
    ) -> impl Future<Output = Result<Kept, BackendError>> + Send {
        let _ = (user, message);
        async { Ok(Kept::Full) }
    }

    /// XEP-0049: the element `user` stored under `(name, ns)`, if any. The default has none.
    fn private_xml(
        &self,
        user: &BareJid,
        name: &str,
        ns: &str,
    ) -> impl Future<Output = Result<Option<Element>, BackendError>> + Send {
        let _ = (user, name, ns);
        async { Ok(None) }
    }

    /// XEP-0049: store `element` for `user` under its name and namespace, replacing what was
    /// there; durable when the future resolves with [`Kept::Stored`]. The node bounds what it
    /// keeps per user ([`Kept::Full`]). The default keeps nothing.
    fn put_private_xml(
        &self,
        user: &BareJid,
        element: &Element,
    ) -> impl Future<Output = Result<Kept, BackendError>> + Send {
        let _ = (user, element);
        async { Ok(Kept::Full) }
    }

    /// XEP-0054: the vCard `user` stored, if any. The default has none.
    fn vcard(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Option<Element>, BackendError>> + Send {
        let _ = user;
        async { Ok(None) }
    }

    /// XEP-0054: the vCard others are shown for `user`: the stored one, completed by what the
    /// node knows of the person (the organization directory's name, department, extension and
    /// e-mail where the user wrote none). The default is the stored one.
    fn vcard_shown(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Option<Element>, BackendError>> + Send {
        self.vcard(user)
    }

    /// XEP-0054: store `vcard` as `user`'s, replacing the one before; durable when the future
    /// resolves with [`Kept::Stored`]. [`Kept::Full`] when it is larger than the node keeps for
    /// one user (nothing is stored). The default keeps nothing.
    fn put_vcard(
        &self,
        user: &BareJid,
        vcard: &Element,
    ) -> impl Future<Output = Result<Kept, BackendError>> + Send {
        let _ = (user, vcard);
        async { Ok(Kept::Full) }
    }

    /// XEP-0012: when `user`'s last client went offline, if it ever did. The default knows
    /// of none.
    fn last_logout(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Option<LastLogout>, BackendError>> + Send {
        let _ = user;
        async { Ok(None) }
    }

    /// XEP-0012: remember that `user`'s last client went offline, replacing what was kept;
    /// durable when the future resolves. The default keeps nothing.
    fn put_last_logout(
        &self,
        user: &BareJid,
        logout: &LastLogout,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (user, logout);
        async { Ok(()) }
    }

    /// XEP-0077: replace `user`'s password with `password`, asked by the user from a logged-in
    /// session. The default refuses every change.
    fn change_password(
        &self,
        user: &BareJid,
        password: &str,
    ) -> impl Future<Output = Result<PasswordChange, BackendError>> + Send {
        let _ = (user, password);
        async {
            Ok(PasswordChange::Refused(
                "passwords are not changed here".into(),
            ))
        }
    }

    /// XEP-0357: `user`'s push registrations, oldest first. The default has none.
    fn push_registrations(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Vec<PushRegistration>, BackendError>> + Send {
        let _ = user;
        async { Ok(Vec::new()) }
    }

    /// XEP-0357 §5: add `registration` for `user`, replacing one for the same service and node;
    /// durable when the future resolves with [`Kept::Stored`]. The node bounds how many a user
    /// keeps (the oldest make room) and their size ([`Kept::Full`]). The default keeps nothing.
    fn enable_push(
        &self,
        user: &BareJid,
        registration: &PushRegistration,
    ) -> impl Future<Output = Result<Kept, BackendError>> + Send {
        let _ = (user, registration);
        async { Ok(Kept::Full) }
    }

    /// XEP-0357 §6: remove `user`'s registrations with `service` (only `node`'s when given);
    /// durable when the future resolves. The default has none to remove.
    fn disable_push(
        &self,
        user: &BareJid,
        service: &Jid,
        node: Option<&str>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (user, service, node);
        async { Ok(()) }
    }

    /// XEP-0163: `user`'s node `node`, if it exists. The default has none.
    fn pep_node(
        &self,
        user: &BareJid,
        node: &str,
    ) -> impl Future<Output = Result<Option<Node>, BackendError>> + Send {
        let _ = (user, node);
        async { Ok(None) }
    }

    /// XEP-0163: every node of `user` with its name. The default has none.
    fn pep_nodes(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Vec<(String, Node)>, BackendError>> + Send {
        let _ = user;
        async { Ok(Vec::new()) }
    }

    /// XEP-0163: keep `content` as `user`'s node `node`, replacing what was there; durable when
    /// the future resolves with `Ok(Ok(()))`. The node bounds what it keeps per user. The
    /// default keeps nothing.
    fn put_pep_node(
        &self,
        user: &BareJid,
        node: &str,
        content: &Node,
    ) -> impl Future<Output = Result<Result<(), NodeRefused>, BackendError>> + Send {
        let _ = (user, node, content);
        async { Ok(Err(NodeRefused::NotKept)) }
    }

    /// XEP-0163: delete `user`'s node `node`; whether it existed. Durable when it resolves.
    fn remove_pep_node(
        &self,
        user: &BareJid,
        node: &str,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send {
        let _ = (user, node);
        async { Ok(false) }
    }

    /// XEP-0160: remove and return every message kept for `user`, oldest first; the removal is
    /// durable when the future resolves. The default has none.
    fn take_offline(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Vec<Element>, BackendError>> + Send {
        let _ = user;
        async { Ok(Vec::new()) }
    }

    /// XEP-0313: archive `message`, which `user` exchanged with `peer`, stamped with the time
    /// now; its archive id, or `None` when nothing was archived. The node bounds each archive
    /// (the oldest messages go first). The write need not be durable when this resolves (see
    /// the node's store). The default archives nothing.
    fn archive(
        &self,
        user: &BareJid,
        peer: &Jid,
        message: &Element,
    ) -> impl Future<Output = Result<Option<String>, BackendError>> + Send {
        let _ = (user, peer, message);
        async { Ok(None) }
    }

    /// XEP-0313: one page of `user`'s archive; `None` when `query` pages from an archive
    /// id that is not in it. The default has an empty archive.
    fn archive_page(
        &self,
        user: &BareJid,
        query: &ArchiveQuery,
    ) -> impl Future<Output = Result<Option<ArchivePage>, BackendError>> + Send {
        let unknown = query.after.is_some() || matches!(query.before, Some(Some(_)));
        let _ = user;
        async move {
            Ok((!unknown).then(|| ArchivePage {
                complete: true,
                ..ArchivePage::default()
            }))
        }
    }

    /// XEP-0313 metadata: the oldest and newest message of `user`'s archive, `None` when empty.
    fn archive_ends(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<Option<(ArchiveMark, ArchiveMark)>, BackendError>> + Send {
        let _ = user;
        async { Ok(None) }
    }

    /// XEP-0313 preferences: `user`'s archiving preferences (the default ones when never set).
    fn archive_prefs(
        &self,
        user: &BareJid,
    ) -> impl Future<Output = Result<ArchivePrefs, BackendError>> + Send {
        let _ = user;
        async { Ok(ArchivePrefs::default()) }
    }

    /// XEP-0313 preferences: replace `user`'s preferences; durable when the future resolves with
    /// [`Kept::Stored`], [`Kept::Full`] when they name too many JIDs. The default keeps none.
    fn put_archive_prefs(
        &self,
        user: &BareJid,
        prefs: &ArchivePrefs,
    ) -> impl Future<Output = Result<Kept, BackendError>> + Send {
        let _ = (user, prefs);
        async { Ok(Kept::Full) }
    }
}
