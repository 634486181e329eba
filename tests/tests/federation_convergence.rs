//! Twenty organizations: one user watched from nineteen others; a change reaches every
//! watcher, and so does the next one.

use lampfield_tests::client::from_bare;
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::{Show, Type as PresenceType};

const N: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_twenty_organizations_converge_after_a_change() {
    let orgs = Orgs::start_with(N, &["alice"], Vec::new()).await;
    let alice = orgs.online(0, "alice", "desk").await;
    let a = alice.bare();
    let mut watchers = Vec::new();
    for i in 1..N {
        let w = orgs.online(i, "alice", "watch").await;
        // Subscribe one way: each watcher asks, alice's client approves.
        w.subscription(&a, PresenceType::Subscribe).await;
        watchers.push(w);
    }
    let mut alice = alice;
    for _ in 1..N {
        let p = alice
            .expect_presence("subscribe request", |p| p.type_ == PresenceType::Subscribe)
            .await;
        let from = p.from.expect("from").to_bare();
        alice.subscription(&from, PresenceType::Subscribed).await;
    }
    for w in &mut watchers {
        w.expect_presence("alice available", |p| {
            p.type_ == PresenceType::None && from_bare(&p.from, &a)
        })
        .await;
    }

    // How fast it converges is measured by `federation-presence-bench`; here it must arrive.
    for show in [Show::Dnd, Show::Away] {
        alice.presence(Some(show.clone()), None, 0).await;
        for w in &mut watchers {
            w.expect_presence("alice's change", |p| {
                from_bare(&p.from, &a) && p.show.as_ref() == Some(&show)
            })
            .await;
        }
    }

    alice.close().await;
    for w in &mut watchers {
        w.expect_presence("alice unavailable", |p| {
            p.type_ == PresenceType::Unavailable && from_bare(&p.from, &a)
        })
        .await;
    }
    for w in watchers {
        w.close().await;
    }
    orgs.shutdown().await;
}
