//! Network faults between organizations: a slow link still carries presence (late, in order), and
//! after a dropped link comes back the watcher converges to the current presence, with nothing
//! stale left from what was lost while it was down.

use std::time::{Duration, Instant};

use lampfield_domain::access::{Level, Rules};
use lampfield_tests::befriend;
use lampfield_tests::client::{from_bare, status};
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::Show;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_survives_a_slow_link_and_a_dropped_one() {
    let orgs = Orgs::start_with_links(2).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "desk").await;
    let a = alice.bare();
    // Other organizations may read alice's own note, so the test can tell the states apart.
    let rules = Rules {
        federated: Some(Level::Business),
        ..Rules::default()
    };
    orgs.node(0).engine().set_rules(&a, rules).await.unwrap();
    befriend(&mut alice, &mut bob).await;

    // Slow: every chunk both ways waits 300 ms; the change still arrives, that much later.
    for i in 0..2 {
        orgs.link(i).delay(Duration::from_millis(300));
    }
    let sent = Instant::now();
    alice.presence(Some(Show::Dnd), Some("slow link"), 0).await;
    bob.expect_presence("alice over the slow link", |p| {
        from_bare(&p.from, &a) && status(p).ends_with("slow link")
    })
    .await;
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "arrived in {:?}, faster than the link allows",
        sent.elapsed()
    );

    // Dropped: open connections are cut and new ones refused; what alice does meanwhile is lost
    // on the way.
    for i in 0..2 {
        orgs.link(i).delay(Duration::ZERO);
        orgs.link(i).drop_all();
    }
    alice.presence(Some(Show::Away), Some("while cut"), 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    alice.presence(None, Some("latest"), 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    bob.forget_backlog();

    // Restored: the nodes redial, resynchronize, and bob ends with alice's current presence.
    for i in 0..2 {
        orgs.link(i).restore();
    }
    let now = bob
        .expect_presence("alice's current presence after the link is back", |p| {
            from_bare(&p.from, &a) && status(p) == "latest"
        })
        .await;
    assert_eq!(now.show, None, "available again");
    orgs.shutdown().await;
}
