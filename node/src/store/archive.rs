//! The message archive (XEP-0313): `userseq_archive`, each account's own one-to-one messages,
//! oldest first, and `userid_archiveprefs`, what each account asked to be archived.
//!
//! Every archived message is numbered by sled's `generate_id`, which never repeats across
//! restarts, so an archive id is stable and never names two messages, not even across a removed
//! and re-created account. Bounded per user in count and bytes: past either bound the oldest
//! messages go first, so an archive keeps the newest.
//!
//! An archive write is not flushed on its own: it becomes durable with the next group commit
//! (any acknowledged write of any user) or sled's periodic flush (every 500 ms), so archiving
//! never holds up delivery. Preferences are flushed before the client is answered.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERID_ARCHIVEPREFS, USERSEQ_ARCHIVE};
use super::{Store, StoreError};

/// How much one user's archive may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most messages.
    pub max_messages: usize,
    /// Most bytes, as stored.
    pub max_bytes: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_messages: 10_000,
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Most JIDs one user's preferences name, both lists together.
pub const MAX_ARCHIVE_PREF_JIDS: usize = 256;

/// One archived message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// When it was archived, milliseconds since the Unix epoch.
    at_ms: i64,
    /// The other party, as the message named it (a full or bare JID).
    peer: String,
    /// The message's XML as the gateway serialized it.
    xml: String,
}

/// What a query filters on, read without copying the message (serde skips the rest).
#[derive(Deserialize)]
struct Meta {
    at_ms: i64,
    peer: String,
}

/// One archived message, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedMessage {
    /// Its archive id.
    pub id: u64,
    /// When it was archived, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Its XML.
    pub xml: String,
}

/// An archived message's id and the time it was archived (ms since the epoch).
pub type ArchiveMark = (u64, i64);

/// Which messages a query asks for (XEP-0313 "Filtering results").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveFilter {
    /// With a full JID, messages with exactly that JID; with a bare JID, with any of its
    /// resources.
    pub with: Option<String>,
    /// Archived at or after this time (ms since the epoch).
    pub start_ms: Option<i64>,
    /// Archived at or before this time (ms since the epoch).
    pub end_ms: Option<i64>,
}

impl ArchiveFilter {
    fn matches(&self, meta: &Meta) -> bool {
        let with = match &self.with {
            None => true,
            Some(w) if w.contains('/') => meta.peer == *w,
            Some(w) => meta.peer.split('/').next() == Some(w.as_str()),
        };
        with && self.start_ms.is_none_or(|s| meta.at_ms >= s)
            && self.end_ms.is_none_or(|e| meta.at_ms <= e)
    }
}

/// Where in the matching messages a page lies (XEP-0059).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageAt {
    /// Only messages after this id.
    pub after: Option<u64>,
    /// `Some(None)`: the last page; `Some(Some(id))`: the page just before this id.
    pub before: Option<Option<u64>>,
    /// Most messages on the page.
    pub max: usize,
}

/// One page of a query's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePage {
    /// The messages, oldest first.
    pub items: Vec<ArchivedMessage>,
    /// Whether the page reaches the end of the result in the direction of paging.
    pub complete: bool,
    /// How many messages match the filter.
    pub count: usize,
    /// The position of the first item among them.
    pub first_index: usize,
}

/// Whether a user's messages are archived by default (XEP-0313 "Archiving preferences").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArchiveDefault {
    /// Every message.
    #[default]
    Always,
    /// None, but for the `always` list.
    Never,
    /// Messages with contacts in the user's roster.
    Roster,
}

/// A user's archiving preferences: JIDs are bare JIDs as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivePrefs {
    /// The default.
    pub default: ArchiveDefault,
    /// Always archived with these.
    pub always: Vec<String>,
    /// Never archived with these.
    pub never: Vec<String>,
}

/// Count and bytes of one user's archive, known since this process first touched it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Size {
    count: usize,
    bytes: usize,
}

/// Sizes of the archives touched since the node started (one entry per account at most).
#[derive(Debug, Default)]
pub(super) struct Sizes(Mutex<HashMap<BareJid, Size>>);

impl Sizes {
    fn get(&self, user: &BareJid) -> Option<Size> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(user).copied()
    }

    fn set(&self, user: &BareJid, size: Size) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(user.clone(), size);
    }

    fn forget(&self, user: &BareJid) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(user);
    }
}

impl Store {
    /// Archive `xml`, exchanged by `user` with `peer`, at `at_ms`; its archive id, or `None`
    /// when it alone is larger than `limits` allow. Older messages are dropped to stay within
    /// `limits`. Refused for a user without an account. Not flushed (see the module docs).
    pub async fn archive(
        &self,
        user: &BareJid,
        peer: &str,
        at_ms: i64,
        xml: &str,
        limits: ArchiveLimits,
    ) -> Result<Option<u64>, StoreError> {
        let value = records::encode(
            USERSEQ_ARCHIVE,
            &Entry {
                at_ms,
                peer: peer.to_owned(),
                xml: xml.to_owned(),
            },
        )?;
        if value.len() > limits.max_bytes || limits.max_messages == 0 {
            return Ok(None);
        }
        let _writer = self.archive_writers.lock(user).await;
        let mut size = match self.archive_sizes.get(user) {
            Some(size) => size,
            None => self.measure_archive(user)?,
        };
        let id = self.db.generate_id()?;
        let key = schema::archive_key(user, id);
        self.archive.insert(&key, value.as_slice())?;
        // As for contacts: a removal that ran before this insert is seen here; one that runs
        // after it waits for this writer and removes the message with the account.
        if !self.account_exists(user)? {
            self.archive.remove(&key)?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        size.count += 1;
        size.bytes += value.len();
        while size.count > limits.max_messages || size.bytes > limits.max_bytes {
            let Some(oldest) = self
                .archive
                .scan_prefix(schema::archive_prefix(user))
                .next()
            else {
                break;
            };
            let (k, v) = oldest?;
            self.archive.remove(k)?;
            size.count = size.count.saturating_sub(1);
            size.bytes = size.bytes.saturating_sub(v.len());
        }
        self.archive_sizes.set(user, size);
        Ok(Some(id))
    }

    /// Count and bytes of `user`'s archive, read from disk.
    fn measure_archive(&self, user: &BareJid) -> Result<Size, StoreError> {
        let mut size = Size::default();
        for entry in self.archive.scan_prefix(schema::archive_prefix(user)) {
            let (_, v) = entry?;
            size.count += 1;
            size.bytes += v.len();
        }
        Ok(size)
    }

    /// One page of `user`'s archived messages that match `filter`; `None` when `at` names an
    /// id that is not in this user's archive (XEP-0313 `item-not-found`).
    pub fn archive_page(
        &self,
        user: &BareJid,
        filter: &ArchiveFilter,
        at: PageAt,
    ) -> Result<Option<ArchivePage>, StoreError> {
        for id in [at.after, at.before.flatten()].into_iter().flatten() {
            if !self.archive.contains_key(schema::archive_key(user, id))? {
                return Ok(None);
            }
        }
        let mut ids = Vec::new();
        for entry in self.archive.scan_prefix(schema::archive_prefix(user)) {
            let (k, v) = entry?;
            let meta: Meta = records::decode(USERSEQ_ARCHIVE, &v)?;
            if filter.matches(&meta) {
                ids.push(schema::seq_of(&k)?);
            }
        }
        let lo = at.after.map_or(0, |a| ids.partition_point(|&id| id <= a));
        let hi = match at.before {
            Some(Some(b)) => ids.partition_point(|&id| id < b),
            _ => ids.len(),
        }
        .max(lo);
        let (start, end, complete) = if at.before.is_some() {
            let start = hi.saturating_sub(at.max).max(lo);
            (start, hi, start == lo)
        } else {
            let end = lo.saturating_add(at.max).min(hi);
            (lo, end, end == hi)
        };
        let mut items = Vec::with_capacity(end - start);
        for &id in ids.get(start..end).unwrap_or_default() {
            if let Some(v) = self.archive.get(schema::archive_key(user, id))? {
                let entry: Entry = records::decode(USERSEQ_ARCHIVE, &v)?;
                items.push(ArchivedMessage {
                    id,
                    at_ms: entry.at_ms,
                    xml: entry.xml,
                });
            }
        }
        Ok(Some(ArchivePage {
            items,
            complete,
            count: ids.len(),
            first_index: start,
        }))
    }

    /// The oldest and newest message of `user`'s archive (XEP-0313 metadata), without their XML.
    pub fn archive_ends(
        &self,
        user: &BareJid,
    ) -> Result<Option<(ArchiveMark, ArchiveMark)>, StoreError> {
        let mut all = self.archive.scan_prefix(schema::archive_prefix(user));
        let read = |entry: Result<(sled::IVec, sled::IVec), sled::Error>| {
            let (k, v) = entry?;
            let meta: Meta = records::decode(USERSEQ_ARCHIVE, &v)?;
            Ok::<_, StoreError>((schema::seq_of(&k)?, meta.at_ms))
        };
        let Some(first) = all.next() else {
            return Ok(None);
        };
        let first = read(first)?;
        let last = match all.next_back() {
            Some(last) => read(last)?,
            None => first,
        };
        Ok(Some((first, last)))
    }

    /// `user`'s archiving preferences; the default ones when never set.
    pub fn archive_prefs(&self, user: &BareJid) -> Result<ArchivePrefs, StoreError> {
        match self.archive_prefs.get(schema::account_key(user))? {
            Some(v) => records::decode(USERID_ARCHIVEPREFS, &v),
            None => Ok(ArchivePrefs::default()),
        }
    }

    /// Replace `user`'s archiving preferences. `Ok(false)` when they name more than
    /// [`MAX_ARCHIVE_PREF_JIDS`] JIDs (nothing is stored); `Ok(true)` once on disk.
    pub async fn put_archive_prefs(
        &self,
        user: &BareJid,
        prefs: &ArchivePrefs,
    ) -> Result<bool, StoreError> {
        if prefs.always.len() + prefs.never.len() > MAX_ARCHIVE_PREF_JIDS {
            return Ok(false);
        }
        let value = records::encode(USERID_ARCHIVEPREFS, prefs)?;
        let key = schema::account_key(user);
        self.archive_prefs.insert(&key, value)?;
        if !self.account_exists(user)? {
            self.archive_prefs.remove(&key)?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await?;
        Ok(true)
    }

    /// Forget a removed account's archive and preferences (not flushed: the caller flushes).
    pub(super) async fn remove_archive_of(&self, user: &BareJid) -> Result<(), StoreError> {
        let _writer = self.archive_writers.lock(user).await;
        let keys: Vec<sled::IVec> = self
            .archive
            .scan_prefix(schema::archive_prefix(user))
            .keys()
            .collect::<Result<_, _>>()?;
        for key in keys {
            self.archive.remove(key)?;
        }
        self.archive_sizes.forget(user);
        self.archive_prefs.remove(schema::account_key(user))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::{Account, Scram};

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    async fn store_with(user: &BareJid) -> Store {
        let store = Store::temporary().unwrap();
        let scram = Scram {
            salt: vec![1; 16],
            iterations: 4096,
            stored_key: vec![1; 32],
            server_key: vec![2; 32],
        };
        let account = Account {
            scram_sha1: scram.clone(),
            scram_sha256: scram,
        };
        store.create_account(user, &account).await.unwrap();
        store
    }

    /// Archive `n` messages, the i-th with `peers[i % len]` at time i; their ids.
    async fn fill(
        store: &Store,
        user: &BareJid,
        n: i64,
        peers: &[&str],
        l: ArchiveLimits,
    ) -> Vec<u64> {
        let mut ids = Vec::new();
        for i in 0..n {
            let peer = peers[usize::try_from(i).unwrap() % peers.len()];
            let xml = format!("<m n='{i}'/>");
            ids.push(
                store
                    .archive(user, peer, i, &xml, l)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        ids
    }

    fn texts(page: &ArchivePage) -> Vec<i64> {
        page.items.iter().map(|m| m.at_ms).collect()
    }

    fn at(after: Option<u64>, before: Option<Option<u64>>, max: usize) -> PageAt {
        PageAt { after, before, max }
    }

    #[tokio::test]
    async fn pages_forward_backward_and_by_filter() {
        let alice = jid("alice@example.org");
        let store = store_with(&alice).await;
        let ids = fill(
            &store,
            &alice,
            10,
            &["bob@example.org/phone", "carol@example.org"],
            ArchiveLimits::default(),
        )
        .await;
        let all = ArchiveFilter::default();
        let first = store
            .archive_page(&alice, &all, at(None, None, 4))
            .unwrap()
            .unwrap();
        assert_eq!(
            (texts(&first), first.complete, first.count),
            (vec![0, 1, 2, 3], false, 10)
        );
        let next = store
            .archive_page(&alice, &all, at(Some(ids[3]), None, 4))
            .unwrap()
            .unwrap();
        assert_eq!((texts(&next), next.first_index), (vec![4, 5, 6, 7], 4));
        let end = store
            .archive_page(&alice, &all, at(Some(ids[7]), None, 4))
            .unwrap()
            .unwrap();
        assert_eq!((texts(&end), end.complete), (vec![8, 9], true));
        let last = store
            .archive_page(&alice, &all, at(None, Some(None), 3))
            .unwrap()
            .unwrap();
        assert_eq!((texts(&last), last.complete), (vec![7, 8, 9], false));
        let back = store
            .archive_page(&alice, &all, at(None, Some(Some(ids[2])), 3))
            .unwrap()
            .unwrap();
        assert_eq!((texts(&back), back.complete), (vec![0, 1], true));
        let bob = ArchiveFilter {
            with: Some("bob@example.org".into()),
            ..ArchiveFilter::default()
        };
        let page = store
            .archive_page(&alice, &bob, at(None, None, 50))
            .unwrap()
            .unwrap();
        assert_eq!(texts(&page), vec![0, 2, 4, 6, 8]);
        let full = ArchiveFilter {
            with: Some("bob@example.org/laptop".into()),
            ..ArchiveFilter::default()
        };
        assert_eq!(
            store
                .archive_page(&alice, &full, at(None, None, 50))
                .unwrap()
                .unwrap()
                .count,
            0
        );
        let window = ArchiveFilter {
            start_ms: Some(3),
            end_ms: Some(5),
            ..ArchiveFilter::default()
        };
        assert_eq!(
            texts(
                &store
                    .archive_page(&alice, &window, at(None, None, 50))
                    .unwrap()
                    .unwrap()
            ),
            vec![3, 4, 5]
        );
        // An id that is not in this archive, or not an id at all.
        assert!(
            store
                .archive_page(&alice, &all, at(Some(ids[9] + 1000), None, 4))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.archive_ends(&alice).unwrap(),
            Some(((ids[0], 0), (ids[9], 9)))
        );
    }

    #[tokio::test]
    async fn bounds_drop_the_oldest_and_the_archive_goes_with_the_account() {
        let alice = jid("alice@example.org");
        let store = store_with(&alice).await;
        let few = ArchiveLimits {
            max_messages: 3,
            max_bytes: 1 << 20,
        };
        fill(&store, &alice, 5, &["bob@example.org"], few).await;
        let all = ArchiveFilter::default();
        let page = store
            .archive_page(&alice, &all, at(None, None, 50))
            .unwrap()
            .unwrap();
        assert_eq!(texts(&page), vec![2, 3, 4]);
        // In bytes: each record is well over 40 bytes, so about two fit in 100.
        let small = ArchiveLimits {
            max_messages: 100,
            max_bytes: 100,
        };
        fill(&store, &alice, 2, &["bob@example.org"], small).await;
        let page = store
            .archive_page(&alice, &all, at(None, None, 50))
            .unwrap()
            .unwrap();
        assert!(page.count <= 2 && page.count >= 1, "{}", page.count);
        assert_eq!(page.items.last().unwrap().at_ms, 1);
        // A message larger than the whole archive is not kept.
        assert_eq!(
            store
                .archive(&alice, "b@x", 0, &"x".repeat(200), small)
                .await
                .unwrap(),
            None
        );

        store
            .put_archive_prefs(
                &alice,
                &ArchivePrefs {
                    default: ArchiveDefault::Never,
                    ..ArchivePrefs::default()
                },
            )
            .await
            .unwrap();
        assert!(store.remove_account(&alice).await.unwrap());
        assert!(
            store
                .archive
                .scan_prefix(schema::archive_prefix(&alice))
                .next()
                .is_none()
        );
        assert_eq!(
            store.archive_prefs(&alice).unwrap(),
            ArchivePrefs::default()
        );
        assert!(matches!(
            store.archive(&alice, "b@x", 0, "<m/>", few).await,
            Err(StoreError::NoAccount(_))
        ));
    }

    #[tokio::test]
    async fn preferences_are_bounded() {
        let alice = jid("alice@example.org");
        let store = store_with(&alice).await;
        let many = ArchivePrefs {
            default: ArchiveDefault::Roster,
            always: (0..=MAX_ARCHIVE_PREF_JIDS)
                .map(|i| format!("u{i}@x"))
                .collect(),
            never: Vec::new(),
        };
        assert!(!store.put_archive_prefs(&alice, &many).await.unwrap());
        let some = ArchivePrefs {
            always: vec!["bob@x".into()],
            ..many
        };
        assert!(store.put_archive_prefs(&alice, &some).await.unwrap());
        assert_eq!(store.archive_prefs(&alice).unwrap(), some);
    }
}
