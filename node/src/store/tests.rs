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
    let store = Store::open(&path).await.unwrap();
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
