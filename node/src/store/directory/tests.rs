//! The directory's shared roster on temporary databases.

use jid::BareJid;

use super::super::records::{Account, Scram};
use super::*;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn account() -> Account {
    let scram = Scram {
        salt: vec![1; 16],
        iterations: 4096,
        stored_key: vec![2; 32],
        server_key: vec![3; 32],
    };
    Account {
        scram_sha1: scram.clone(),
        scram_sha256: scram,
    }
}

fn on() -> DirectorySettings {
    DirectorySettings {
        enabled: true,
        group: "Colleagues".to_owned(),
    }
}

fn entry(name: &str, department: Option<&str>) -> DirectoryEntry {
    DirectoryEntry {
        name: Some(name.to_owned()),
        department: department.map(str::to_owned),
        email: None,
    }
}

/// A store with the directory on and alice, bob (Sales) and carol (no department) in it.
async fn office() -> (Store, BareJid, BareJid, BareJid) {
    let store = Store::temporary().unwrap();
    store.set_directory(on()).await.unwrap();
    let (alice, bob, carol) = (
        jid("alice@example.org"),
        jid("bob@example.org"),
        jid("carol@example.org"),
    );
    for user in [&alice, &bob, &carol] {
        store.create_account(user, &account()).await.unwrap();
    }
    store
        .put_directory_entry(&bob, &entry("Bob Builder", Some("Sales")))
        .await
        .unwrap();
    store
        .put_directory_entry(&carol, &entry("Carol", None))
        .await
        .unwrap();
    (store, alice, bob, carol)
}

fn settled(v: RosterVersion) -> u64 {
    match v {
        RosterVersion::Settled(id) => id,
        other => panic!("version {other:?} is not settled"),
    }
}

#[tokio::test]
async fn every_colleague_is_in_the_roster_subscribed_both_ways_in_their_department() {
    let (store, alice, bob, carol) = office().await;
    let roster = store.roster(&alice).unwrap();
    let jids: Vec<_> = roster.iter().map(|(j, _)| j.clone()).collect();
    assert_eq!(
        jids,
        vec![bob.clone(), carol.clone()],
        "everyone but herself"
    );
    let (_, b) = &roster[0];
    assert_eq!(b.name.as_deref(), Some("Bob Builder"));
    assert_eq!(b.groups, vec!["Sales".to_owned()]);
    assert!(b.subscription.to && b.subscription.from && b.in_roster);
    assert!(!b.subscription.pending_in && !b.subscription.pending_out);
    assert_eq!(roster[1].1.groups, vec!["Colleagues".to_owned()]);
    assert_eq!(store.contact(&alice, &bob).unwrap().as_ref(), Some(b));
    assert_eq!(store.holders_of(&bob).unwrap(), vec![alice, carol]);
    // Other domains are not colleagues.
    let eve = jid("eve@other.example");
    store.create_account(&eve, &account()).await.unwrap();
    assert!(store.roster(&eve).unwrap().is_empty());
    assert!(store.contact(&bob, &eve).unwrap().is_none());
}

#[tokio::test]
async fn the_users_own_handle_and_groups_stay_and_the_directorys_part_is_not_stored() {
    let (store, alice, bob, _) = office().await;
    let mut mine = store.contact(&alice, &bob).unwrap().unwrap();
    mine.name = Some("Bobby".to_owned());
    mine.groups.push("Friends".to_owned());
    store.put_contact(&alice, &bob, &mine).await.unwrap();
    let shown = store.contact(&alice, &bob).unwrap().unwrap();
    assert_eq!(shown.name.as_deref(), Some("Bobby"));
    assert_eq!(shown.groups, vec!["Friends".to_owned(), "Sales".to_owned()]);
    let stored = store.stored_contact(&alice, &bob).unwrap().unwrap();
    assert_eq!(
        stored.subscription,
        Subscription::default(),
        "no phantom subscription"
    );
    assert_eq!(stored.groups, vec!["Friends".to_owned()]);

    // Turned off, alice's roster is what she made: an item without a subscription.
    store
        .set_directory(DirectorySettings::default())
        .await
        .unwrap();
    let roster = store.roster(&alice).unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].1, stored);
    assert!(
        store
            .holders_of(&jid("carol@example.org"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn every_directory_change_moves_every_roster_version_on() {
    let (store, alice, bob, _) = office().await;
    let first = settled(store.roster_version(&alice).unwrap());
    store
        .put_directory_entry(&bob, &entry("Robert", Some("Sales")))
        .await
        .unwrap();
    let second = settled(store.roster_version(&alice).unwrap());
    assert!(second > first, "an edited entry");
    store.put_extension("201", &bob).await.unwrap();
    let third = settled(store.roster_version(&alice).unwrap());
    assert!(third > second, "a mapped extension");
    let dave = jid("dave@example.org");
    store.create_account(&dave, &account()).await.unwrap();
    let fourth = settled(store.roster_version(&alice).unwrap());
    assert!(fourth > third, "a new account");
    store.remove_account(&dave).await.unwrap();
    let fifth = settled(store.roster_version(&alice).unwrap());
    assert!(fifth > fourth, "a removed account");
    store
        .put_contact(&alice, &jid("x@remote.example"), &Contact::default())
        .await
        .unwrap();
    assert!(
        settled(store.roster_version(&alice).unwrap()) > fifth,
        "her own change"
    );
    let (_, v) = store.versioned_roster(&alice).unwrap();
    assert_eq!(v, store.roster_version(&alice).unwrap());
    // Settings that change what rosters show move the version on; the same ones do not.
    let before = store.roster_version(&alice).unwrap();
    store.set_directory(on()).await.unwrap();
    assert_eq!(store.roster_version(&alice).unwrap(), before);
    store
        .set_directory(DirectorySettings::default())
        .await
        .unwrap();
    assert_ne!(store.roster_version(&alice).unwrap(), before);
}

#[tokio::test]
async fn large_cached_rosters_follow_new_removed_and_edited_colleagues() {
    let store = Store::temporary().unwrap();
    store.set_directory(on()).await.unwrap();
    let alice = jid("alice@example.org");
    store.create_account(&alice, &account()).await.unwrap();
    for i in 0..super::super::roster_cache::MIN_CACHED + 1 {
        store
            .create_account(&jid(&format!("u{i}@example.org")), &account())
            .await
            .unwrap();
    }
    let n = store.roster(&alice).unwrap().len();
    assert!(store.rosters.get(&alice).is_some(), "kept in memory");
    let new = jid("zed@example.org");
    store.create_account(&new, &account()).await.unwrap();
    assert_eq!(store.roster(&alice).unwrap().len(), n + 1);
    store
        .put_directory_entry(&new, &entry("Zed", Some("Support")))
        .await
        .unwrap();
    let shown = store.roster(&alice).unwrap();
    let zed = &shown.iter().find(|(j, _)| *j == new).unwrap().1;
    assert_eq!(zed.groups, vec!["Support".to_owned()]);
    store.remove_account(&new).await.unwrap();
    assert_eq!(store.roster(&alice).unwrap().len(), n);
    assert!(store.contact(&alice, &new).unwrap().is_none());
}

#[tokio::test]
async fn entries_go_with_the_account_and_need_one() {
    let (store, _, bob, _) = office().await;
    assert!(store.directory().unwrap().contains_key(&bob));
    store.remove_account(&bob).await.unwrap();
    assert!(store.directory_entry(&bob).unwrap().is_none());
    assert!(!store.directory().unwrap().contains_key(&bob));
    assert!(matches!(
        store.put_directory_entry(&bob, &entry("Bob", None)).await,
        Err(StoreError::NoAccount(_))
    ));
    store.create_account(&bob, &account()).await.unwrap();
    assert_eq!(
        store.directory().unwrap().get(&bob),
        Some(&DirectoryEntry::default())
    );
}

#[test]
fn entries_are_checked() {
    assert!(entry("Alice", Some("Sales")).check().is_ok());
    assert!(entry(" ", None).check().is_err());
    assert!(entry("a\nb", None).check().is_err());
    assert!(
        entry(&"x".repeat(MAX_DIRECTORY_FIELD_BYTES + 1), None)
            .check()
            .is_err()
    );
}
