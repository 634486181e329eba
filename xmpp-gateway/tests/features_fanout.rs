//! Presence fan-out at scale: one user with 1,000 online subscribers among 10,000
//! bound sessions. The budget is p99 under 20 ms per broadcast on the 2-core build
//! machine; measure it in release: `cargo test -p lampfield-xmpp --release --test
//! features_fanout -- --nocapture`. Debug builds only check that it works.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use std::time::{Duration, Instant};

use features_support::*;
use lampfield_xmpp::router::Outgoing;
use lampfield_xmpp::{Backend, Contact, Subscription};

const SESSIONS: usize = 10_000;
const SUBSCRIBERS: usize = 1_000;
const ROUNDS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_to_1000_subscribers_among_10000_sessions() {
    let names: Vec<String> = (0..SESSIONS).map(|i| format!("u{i}")).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("star");
    let (router, backend) = router(&all);
    let star = bare("star");
    for name in &names[..SUBSCRIBERS] {
        let fan = bare(name);
        let sub = |to, from| Subscription {
            to,
            from,
            ..Default::default()
        };
        let c = |jid, s| Contact {
            jid,
            name: None,
            groups: vec![],
            subscription: s,
            in_roster: true,
        };
        backend
            .put_contact(&star, c(fan.clone(), sub(false, true)))
            .await
            .unwrap();
        backend
            .put_contact(&fan, c(star.clone(), sub(true, false)))
            .await
            .unwrap();
    }
    let mut clients = Vec::with_capacity(SESSIONS);
    for name in &names {
        let c = Client::login(&router, name, Some("r")).await;
        c.send("<presence/>").await;
        clients.push(c);
    }
    let mut s = online(&router, "star", "r", 0).await;
    for c in &mut clients {
        c.drain();
    }

    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let started = Instant::now();
        s.send(&format!(
            "<presence><status>round {round}</status></presence>"
        ))
        .await;
        times.push(started.elapsed());
        s.drain();
        let mut received = 0;
        for c in &mut clients {
            while let Ok(m) = c.rx.try_recv() {
                assert!(!matches!(m, Outgoing::Close(_)), "no session is closed");
                received += 1;
            }
        }
        assert_eq!(received, SUBSCRIBERS, "round {round}");
    }
    times.sort();
    let p50 = times[ROUNDS / 2];
    let p99 = times[ROUNDS * 99 / 100];
    println!("fan-out to {SUBSCRIBERS} of {SESSIONS} sessions: p50 {p50:?}, p99 {p99:?}");
    if !cfg!(debug_assertions) {
        assert!(p99 < Duration::from_millis(20), "p99 {p99:?}");
    }
}
