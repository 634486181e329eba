//! Store tests on temporary databases.

use jid::BareJid;

use super::*;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn scram(byte: u8) -> Scram {
    Scram {
        salt: vec![byte; 16],
        iterations: 4096,
        stored_key: vec![byte; 32],
        server_key: vec![byte.wrapping_add(1); 32],
    }
}

fn account(byte: u8) -> Account {
    Account {
        scram_sha1: scram(byte),
        scram_sha256: scram(byte.wrapping_add(2)),
    }
}

fn friend() -> Contact {
    Contact {
        name: Some("Bob".into()),
        groups: vec!["Work".into()],
        subscription: Subscription {
            to: true,
            from: true,
            ..Subscription::default()
        },
        in_roster: true,
    }
}

#[tokio::test]
async fn accounts_are_created_once_listed_and_removed() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(matches!(
        store.create_account(&alice, &account(2)).await,
        Err(StoreError::AccountExists(_))
    ));
    assert_eq!(store.account(&alice).unwrap(), Some(account(1)));
    store
        .create_account(&jid("bob@example.org"), &account(3))
        .await
        .unwrap();
    assert_eq!(
        store.users().unwrap(),
        vec![alice.clone(), jid("bob@example.org")]
    );
    store.replace_account(&alice, &account(4)).await.unwrap();
    assert_eq!(store.account(&alice).unwrap(), Some(account(4)));
    assert!(store.remove_account(&alice).await.unwrap());
    assert!(!store.remove_account(&alice).await.unwrap());
    assert!(!store.account_exists(&alice).unwrap());
    assert!(matches!(
        store.replace_account(&alice, &account(1)).await,
        Err(StoreError::NoAccount(_))
    ));
}

#[tokio::test]
async fn contacts_belong_to_one_account_and_go_with_it() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    let carol = jid("carol@example.org");
    let bob = jid("bob@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    store.create_account(&carol, &account(2)).await.unwrap();
    store.put_contact(&alice, &bob, &friend()).await.unwrap();
    store
        .put_contact(&alice, &carol, &Contact::default())
        .await
        .unwrap();
    store.put_contact(&carol, &bob, &friend()).await.unwrap();

    assert_eq!(store.contact(&alice, &bob).unwrap(), Some(friend()));
    let listed: Vec<_> = store
        .contacts(&alice)
        .unwrap()
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(listed, vec![bob.clone(), carol.clone()]);

    store.remove_contact(&alice, &carol).await.unwrap();
    store.remove_contact(&alice, &carol).await.unwrap();
    assert_eq!(store.contacts(&alice).unwrap().len(), 1);

    assert!(store.remove_account(&alice).await.unwrap());
    assert!(store.contacts(&alice).unwrap().is_empty());
    assert_eq!(
        store.contacts(&carol).unwrap().len(),
        1,
        "others keep theirs"
    );
}

#[tokio::test]
async fn contacts_of_a_missing_account_are_refused() {
    let store = Store::temporary().unwrap();
    let err = store
        .put_contact(
            &jid("ghost@example.org"),
            &jid("bob@example.org"),
            &friend(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoAccount(_)), "{err}");
    assert!(
        store
            .contacts(&jid("ghost@example.org"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let alice = jid("alice@example.org");
    let bob = jid("bob@example.org");
    {
        let store = Store::open(&path).await.unwrap();
        store.create_account(&alice, &account(7)).await.unwrap();
        store.put_contact(&alice, &bob, &friend()).await.unwrap();
    }
    let store = reopen(&path).await;
    assert_eq!(store.account(&alice).unwrap(), Some(account(7)));
    assert_eq!(store.contact(&alice, &bob).unwrap(), Some(friend()));
}

#[tokio::test]
async fn a_second_opener_is_told_the_database_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let _first = Store::open(&path).await.unwrap();
    let err = Store::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
}

#[test]
fn corrupt_records_are_reported_not_skipped() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    store
        .accounts
        .insert(alice.as_str(), b"\x01{broken".as_slice())
        .unwrap();
    store
        .accounts
        .insert("bob@example.org", b"\x07{}".as_slice())
        .unwrap();
    assert!(matches!(
        store.account(&alice),
        Err(StoreError::Decode { .. })
    ));
    store
        .contacts
        .insert(b"alice@example.org\xffnot a jid@@", b"\x01{}".as_slice())
        .unwrap();
    assert!(matches!(
        store.contacts(&alice),
        Err(StoreError::Decode { .. })
    ));
}

#[tokio::test]
async fn a_database_that_lost_its_records_is_reported_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).await.unwrap();
        store
            .create_account(&jid("alice@example.org"), &account(1))
            .await
            .unwrap();
    }
    assert!(dir.path().join("db.initialized").exists());
    // What sled leaves after dropping a damaged log: an empty database.
    std::fs::remove_dir_all(&path).unwrap();
    let err = Store::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert!(Store::open(&path).await.is_err(), "and stays refused");
}

/// Many sessions reading and writing contacts at once, with account removals in
/// between, on a two-worker runtime: every operation must finish. (sled 0.34's
/// transactions switch all later reads onto a writer-fair lock, which deadlocked
/// exactly this load; the store therefore uses no transactions.) A blocked runtime
/// cannot fire its own timers, so a watchdog thread decides.
#[test]
fn concurrent_contact_reads_and_writes_never_block_the_runtime() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let contacts = rt.block_on(concurrent_load(&path));
        let _ = done_tx.send(contacts);
    });
    let contacts = done_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the store finished every operation within 60 s");
    assert_eq!(contacts, 400);
}

async fn concurrent_load(path: &std::path::Path) -> usize {
    let store = Store::open(path).await.unwrap();
    let owner = jid("owner@example.org");
    store.create_account(&owner, &account(1)).await.unwrap();
    for i in 0..50 {
        let gone = jid(&format!("gone{i}@example.org"));
        store.create_account(&gone, &account(2)).await.unwrap();
        store.put_contact(&gone, &owner, &friend()).await.unwrap();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..400 {
        let store = store.clone();
        let owner = owner.clone();
        tasks.spawn(async move {
            let watcher = jid(&format!("w{i}@example.org"));
            store
                .put_contact(&owner, &watcher, &friend())
                .await
                .unwrap();
            assert!(store.contact(&owner, &watcher).unwrap().is_some());
            store.contacts(&owner).unwrap();
            if i % 8 == 0 {
                let gone = jid(&format!("gone{}@example.org", i / 8));
                store.remove_account(&gone).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    store.contacts(&owner).unwrap().len()
}

/// A roster large enough to be kept in memory reads exactly like the stored one after every
/// kind of write.
#[tokio::test]
async fn large_rosters_read_from_memory_follow_every_write() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    let n = roster_cache::MIN_CACHED + 6;
    for i in 0..n {
        let c = jid(&format!("c{i:03}@example.org"));
        store.put_contact(&alice, &c, &friend()).await.unwrap();
    }
    assert_eq!(store.roster(&alice).unwrap().len(), n);
    assert!(store.rosters.get(&alice).is_some(), "kept in memory");

    let first = jid("c000@example.org");
    let mut changed = friend();
    changed.name = Some("Renamed".into());
    store.put_contact(&alice, &first, &changed).await.unwrap();
    assert_eq!(store.roster(&alice).unwrap()[0].1, changed);
    store.remove_contact(&alice, &first).await.unwrap();
    assert_eq!(store.roster(&alice).unwrap().len(), n - 1);
    assert_eq!(store.contacts(&alice).unwrap().len(), n - 1);

    assert!(store.remove_account(&alice).await.unwrap());
    assert!(store.roster(&alice).unwrap().is_empty());
}

const ROOMY: OfflineLimits = OfflineLimits {
    max_messages: 1000,
    max_bytes: 1 << 20,
};

fn message(i: usize) -> String {
    format!("<message xmlns='jabber:client' to='alice@example.org'><body>{i}</body></message>")
}

#[tokio::test]
async fn offline_messages_are_bounded_in_count_and_in_bytes() {
    let store = Store::temporary().unwrap();
    let (alice, bob) = (jid("alice@example.org"), jid("bob@example.org"));
    store.create_account(&alice, &account(1)).await.unwrap();
    store.create_account(&bob, &account(2)).await.unwrap();
    let three = OfflineLimits {
        max_messages: 3,
        max_bytes: 1 << 20,
    };
    for i in 0..3 {
        assert!(
            store
                .keep_offline(&alice, &message(i), three)
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .keep_offline(&alice, &message(3), three)
            .await
            .unwrap()
    );
    assert!(
        store.keep_offline(&bob, &message(0), three).await.unwrap(),
        "each user has a store of their own"
    );

    // Bytes: two messages fit in 250 bytes as stored, a third does not; neither does one
    // message larger than the whole store.
    let small = OfflineLimits {
        max_messages: 1000,
        max_bytes: 250,
    };
    store.take_offline(&bob).await.unwrap();
    assert!(store.keep_offline(&bob, &message(0), small).await.unwrap());
    assert!(store.keep_offline(&bob, &message(1), small).await.unwrap());
    assert!(!store.keep_offline(&bob, &message(2), small).await.unwrap());
    store.take_offline(&bob).await.unwrap();
    let huge = "x".repeat(300);
    assert!(!store.keep_offline(&bob, &huge, small).await.unwrap());
    assert!(store.take_offline(&bob).await.unwrap().is_empty());
}

/// Open the database at `path` again once the store dropped just before has let go of it: sled
/// releases its file lock from a background thread, a moment after the last handle is dropped.
async fn reopen(path: &std::path::Path) -> Store {
    for _ in 0..100 {
        match Store::open(path).await {
            Err(StoreError::Locked { .. }) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            other => return other.unwrap(),
        }
    }
    panic!("{} still locked after 5 s", path.display());
}

#[tokio::test]
async fn offline_messages_survive_reopening_and_come_back_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let alice = jid("alice@example.org");
    // More than 256, so that order does not rest on a single byte of the sequence number.
    let n = 300;
    {
        let store = Store::open(&path).await.unwrap();
        store.create_account(&alice, &account(1)).await.unwrap();
        for i in 0..n {
            assert!(
                store
                    .keep_offline(&alice, &message(i), ROOMY)
                    .await
                    .unwrap()
            );
        }
    }
    let store = reopen(&path).await;
    let taken = store.take_offline(&alice).await.unwrap();
    assert_eq!(taken, (0..n).map(message).collect::<Vec<_>>());
    assert!(store.take_offline(&alice).await.unwrap().is_empty());
    drop(store);
    // The removal was on disk too.
    let store = reopen(&path).await;
    assert!(store.take_offline(&alice).await.unwrap().is_empty());
    store
        .keep_offline(&alice, &message(7), ROOMY)
        .await
        .unwrap();
    assert_eq!(store.take_offline(&alice).await.unwrap(), [message(7)]);
}

#[tokio::test]
async fn offline_messages_go_with_the_account() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    let err = store
        .keep_offline(&alice, &message(0), ROOMY)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoAccount(_)), "{err}");
    store.create_account(&alice, &account(1)).await.unwrap();
    store
        .keep_offline(&alice, &message(1), ROOMY)
        .await
        .unwrap();
    assert!(store.remove_account(&alice).await.unwrap());
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(
        store.take_offline(&alice).await.unwrap().is_empty(),
        "a new account of the same name finds nothing of the old one's"
    );
    // Leftovers of a removal cut short by a crash are cleared when the name is used again.
    assert!(store.remove_account(&alice).await.unwrap());
    store
        .offline
        .insert(
            schema::offline_key(&alice, 9),
            b"\x01{\"xml\":\"<old/>\"}".as_slice(),
        )
        .unwrap();
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(store.take_offline(&alice).await.unwrap().is_empty());
}

#[tokio::test]
async fn private_xml_is_bounded_replaced_in_place_and_goes_with_the_account() {
    use super::{MAX_PRIVATE_BYTES, MAX_PRIVATE_ELEMENTS};
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    let put = |name: String, xml: String| {
        let (store, alice) = (store.clone(), alice.clone());
        async move { store.put_private_xml(&alice, &name, "urn:x", &xml).await }
    };
    for i in 0..MAX_PRIVATE_ELEMENTS {
        assert!(put(format!("e{i}"), format!("<e{i}/>")).await.unwrap());
    }
    // One more name is refused; replacing a stored one is not.
    assert!(!put("more".into(), "<more/>".into()).await.unwrap());
    assert!(put("e0".into(), "<e0>again</e0>".into()).await.unwrap());
    assert_eq!(
        store.private_xml(&alice, "e0", "urn:x").unwrap().as_deref(),
        Some("<e0>again</e0>")
    );
    // Too many bytes are refused, whatever the count.
    let big = "x".repeat(MAX_PRIVATE_BYTES);
    assert!(!put("e1".into(), big).await.unwrap());
    assert!(
        store
            .private_xml(&alice, "e1", "urn:other")
            .unwrap()
            .is_none()
    );

    assert!(store.remove_account(&alice).await.unwrap());
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(store.private_xml(&alice, "e0", "urn:x").unwrap().is_none());
}

/// XEP-0237: every change of a roster gives a version never seen before, also when the
/// contents return to an earlier state and when the account is removed and created again.
#[tokio::test]
async fn roster_versions_never_repeat() {
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    let bob = jid("bob@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    let version = |store: &Store| store.versioned_roster(&alice).unwrap().1;
    assert_eq!(version(&store), RosterVersion::Never);
    let mut seen = vec![];
    for _ in 0..2 {
        store.put_contact(&alice, &bob, &friend()).await.unwrap();
        seen.push(version(&store));
        store.remove_contact(&alice, &bob).await.unwrap();
        seen.push(version(&store));
    }
    store.put_contact(&alice, &bob, &friend()).await.unwrap();
    seen.push(version(&store));
    assert!(store.remove_account(&alice).await.unwrap());
    assert_eq!(store.roster_version(&alice).unwrap(), RosterVersion::Never);
    store.create_account(&alice, &account(1)).await.unwrap();
    store.put_contact(&alice, &bob, &friend()).await.unwrap();
    seen.push(version(&store));
    assert!(
        seen.iter().all(|v| matches!(v, RosterVersion::Settled(_))),
        "{seen:?}"
    );
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "{seen:?}");
}

#[tokio::test]
async fn a_vcard_is_bounded_replaced_and_goes_with_the_account() {
    use super::MAX_VCARD_BYTES;
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    assert!(
        store.put_vcard(&alice, "<vCard/>").await.is_err(),
        "no account"
    );
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(store.put_vcard(&alice, "<vCard>1</vCard>").await.unwrap());
    assert!(store.put_vcard(&alice, "<vCard>2</vCard>").await.unwrap());
    assert_eq!(
        store.vcard(&alice).unwrap().as_deref(),
        Some("<vCard>2</vCard>")
    );
    let big = format!("<vCard>{}</vCard>", "x".repeat(MAX_VCARD_BYTES));
    assert!(!store.put_vcard(&alice, &big).await.unwrap());
    assert_eq!(
        store.vcard(&alice).unwrap().as_deref(),
        Some("<vCard>2</vCard>")
    );

    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    store
        .put_last_logout(&alice, at, Some("home"))
        .await
        .unwrap();
    assert_eq!(
        store.last_logout(&alice).unwrap(),
        Some((at, Some("home".to_owned())))
    );

    assert!(store.remove_account(&alice).await.unwrap());
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(store.vcard(&alice).unwrap().is_none());
    assert!(store.last_logout(&alice).unwrap().is_none());
}

/// XEP-0163 nodes: bounded in nodes, items, item size and bytes; deleted alone or with the
/// account.
#[tokio::test]
async fn pep_nodes_are_bounded_and_go_with_the_account() {
    use super::{MAX_PEP_ITEM_BYTES, MAX_PEP_ITEMS, MAX_PEP_NODES, PepItem, PepLimit, PepNode};
    let store = Store::temporary().unwrap();
    let alice = jid("alice@example.org");
    store.create_account(&alice, &account(1)).await.unwrap();
    let node = |xml: String| PepNode {
        access_model: "presence".into(),
        persist_items: true,
        max_items: 1,
        send_last: "on_sub_and_presence".into(),
        items: vec![PepItem {
            id: "current".into(),
            xml,
        }],
    };
    for i in 0..MAX_PEP_NODES {
        assert_eq!(
            store
                .put_pep_node(&alice, &format!("urn:n{i}"), &node(format!("<p{i}/>")))
                .await
                .unwrap(),
            Ok(())
        );
    }
    assert_eq!(
        store
            .put_pep_node(&alice, "urn:more", &node("<m/>".into()))
            .await
            .unwrap(),
        Err(PepLimit::TooManyNodes)
    );
    assert_eq!(
        store
            .put_pep_node(&alice, "urn:n0", &node("<again/>".into()))
            .await
            .unwrap(),
        Ok(())
    );
    let stored = store.pep_node(&alice, "urn:n0").unwrap().unwrap();
    assert_eq!(stored.items[0].xml, "<again/>");
    assert_eq!(store.pep_nodes(&alice).unwrap().len(), MAX_PEP_NODES);

    let big = node("x".repeat(MAX_PEP_ITEM_BYTES + 1));
    assert_eq!(
        store.put_pep_node(&alice, "urn:n1", &big).await.unwrap(),
        Err(PepLimit::ItemTooLarge)
    );
    let mut many = node(String::new());
    many.items = vec![many.items[0].clone(); MAX_PEP_ITEMS + 1];
    assert_eq!(
        store.put_pep_node(&alice, "urn:n1", &many).await.unwrap(),
        Err(PepLimit::TooManyItems)
    );
    let mut heavy = node(String::new());
    heavy.items = vec![
        PepItem {
            id: "x".into(),
            xml: "y".repeat(MAX_PEP_ITEM_BYTES),
        };
        40
    ];
    assert_eq!(
        store.put_pep_node(&alice, "urn:n1", &heavy).await.unwrap(),
        Err(PepLimit::TooManyBytes)
    );
    assert_eq!(
        store.pep_node(&alice, "urn:n1").unwrap().unwrap().items[0].xml,
        "<p1/>",
        "a refused write changes nothing"
    );

    assert!(store.remove_pep_node(&alice, "urn:n1").await.unwrap());
    assert!(store.pep_node(&alice, "urn:n1").unwrap().is_none());
    assert!(store.remove_account(&alice).await.unwrap());
    store.create_account(&alice, &account(1)).await.unwrap();
    assert!(store.pep_nodes(&alice).unwrap().is_empty());
    let bob = jid("bob@example.org");
    assert!(
        store
            .put_pep_node(&bob, "urn:n0", &node("<p/>".into()))
            .await
            .is_err(),
        "no account, no nodes"
    );
}
