//! Partitions and crashes between organizations: while the link is down nothing reaches
//! the other side; once it is back, every watcher ends up with the current presence and
//! no stale "available" remains.

use std::time::Duration;

use lampfield_tests::befriend;
use lampfield_tests::client::from_bare;
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::{Show, Type as PresenceType};

async fn wait_unlinked(orgs: &Orgs, i: usize, j: usize) {
    for _ in 0..100 {
        let d = orgs.fed(i).connected_domains().await.unwrap_or_default();
        if !d.iter().any(|d| d == orgs.domain(j)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("org{i} still linked to org{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_partition_then_heal_leaves_no_stale_available() {
    let orgs = Orgs::start(3).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let mut carol = orgs.online(2, "carol", "phone").await;
    let (a, b) = (alice.bare(), bob.bare());
    befriend(&mut alice, &mut bob).await;
    befriend(&mut alice, &mut carol).await;
    bob.expect_presence("alice available", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    // org0 | org1 (org2 stays linked to both).
    orgs.partition(&[0], &[1]).await;
    wait_unlinked(&orgs, 0, 1).await;
    wait_unlinked(&orgs, 1, 0).await;
    alice.close().await;
    // carol, on the other side of no partition, hears it at once; bob cannot.
    carol
        .expect_presence("alice unavailable", |p| {
            p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
        })
        .await;
    // bob changed meanwhile too.
    bob.presence(Some(Show::Away), None, 0).await;

    orgs.heal(&[0], &[1]).await;
    // bob's stale view of alice is cleared.
    bob.expect_presence("alice unavailable after heal", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
    })
    .await;
    // And alice, back online, sees bob's current presence (away), not the old one.
    let mut alice = orgs.online(0, "alice", "desk2").await;
    alice
        .expect_presence("bob away", |p| {
            from_bare(&p.from, &b) && p.show == Some(Show::Away)
        })
        .await;
    bob.expect_presence("alice back", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    alice.close().await;
    bob.close().await;
    carol.close().await;
    orgs.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_crash_and_restart_converge() {
    let mut orgs = Orgs::start(2).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let (a, b) = (alice.bare(), bob.bare());
    befriend(&mut alice, &mut bob).await;
    alice
        .expect_presence("bob available", |p| {
            p.type_ == PresenceType::None && from_bare(&p.from, &b)
        })
        .await;

    // org1 crashes with bob online: alice's view of bob is stale until org1 is back.
    bob.kill();
    orgs.crash(1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    orgs.restart(1).await;
    alice
        .expect_presence("bob unavailable after org1 restarts", |p| {
            p.type_ == PresenceType::Unavailable && from_bare(&p.from, &b)
        })
        .await;

    // The subscription survived the crash: bob back online is seen, and sees alice.
    let mut bob = orgs.online(1, "bob", "laptop").await;
    alice
        .expect_presence("bob available again", |p| {
            p.type_ == PresenceType::None && from_bare(&p.from, &b)
        })
        .await;
    bob.expect_presence("alice's presence on login", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    // org0 restarts in order while alice is offline; bob learns she is gone.
    alice.close().await;
    bob.expect_presence("alice unavailable", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
    })
    .await;
    orgs.stop(0).await;
    orgs.restart(0).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    bob.expect_presence("alice available after restart", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;
    alice
        .expect_presence("bob's presence on login", |p| {
            p.type_ == PresenceType::None && from_bare(&p.from, &b)
        })
        .await;

    alice.close().await;
    bob.close().await;
    orgs.shutdown().await;
}
