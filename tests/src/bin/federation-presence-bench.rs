//! federation-presence-bench: how long a presence change takes to reach watchers in every other
//! organization, over real nodes federated with libp2p on loopback.
//!
//!   cargo run --release -p lampfield-tests --bin federation-presence-bench -- --nodes 10,20,50
//!
//! For each size N: N organizations, all trusting each other; alice at org0 and one watcher (bob)
//! at each of the other N-1 organizations, subscribed both ways through federation. Alice's client
//! then changes presence K times; each watcher's client stamps the arrival. Reports latency p50/p99
//! over all (change, watcher) pairs, p99 of "every watcher has it", and federation messages per
//! change (stanza batches received plus change notices accepted, over all nodes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lampfield_domain::access::{Level, Rules};
use lampfield_tests::befriend;
use lampfield_tests::client::from_bare;
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::Show;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn messages(orgs: &Orgs, n: usize) -> u64 {
    let mut total = 0;
    for i in 0..n {
        let s = orgs.fed(i).stats().await.expect("stats");
        total += s.requests_in + s.gossip_accepted;
    }
    total
}

async fn run(n: usize, changes: u32, interval: Duration) {
    let setup = Instant::now();
    let orgs = Orgs::start(n).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let a = alice.bare();
    // Other organizations see business here (a user's own note), so the change's marker travels.
    let rules = Rules {
        federated: Some(Level::Business),
        ..Rules::default()
    };
    orgs.node(0)
        .engine()
        .set_rules(&a, rules)
        .await
        .expect("rules");
    let mut watchers = Vec::new();
    for i in 1..n {
        let mut w = orgs.online(i, "bob", "desk").await;
        befriend(&mut w, &mut alice).await;
        watchers.push(w);
    }
    eprintln!(
        "[{n} nodes] set up in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.forget_backlog();

    let arrivals: Arc<Mutex<Vec<(u32, Instant)>>> = Arc::default();
    let mut tasks = Vec::new();
    for mut w in watchers {
        w.forget_backlog();
        let (arrivals, a) = (arrivals.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            for seq in 0..changes {
                let marker = format!("bench {seq}");
                w.expect_presence("the change", |p| {
                    from_bare(&p.from, &a) && p.statuses.values().any(|s| s.ends_with(&marker))
                })
                .await;
                arrivals.lock().unwrap().push((seq, Instant::now()));
            }
            w
        }));
    }
    let before = messages(&orgs, n).await;
    let mut sent = Vec::new();
    for seq in 0..changes {
        let show = if seq % 2 == 0 { Show::Away } else { Show::Dnd };
        sent.push(Instant::now());
        alice
            .presence(Some(show), Some(&format!("bench {seq}")), 0)
            .await;
        tokio::time::sleep(interval).await;
    }
    for t in tasks {
        let w = t.await.expect("watcher");
        w.close().await;
    }
    let after = messages(&orgs, n).await;
    let arrivals = arrivals.lock().unwrap().clone();
    let mut each: Vec<Duration> = arrivals
        .iter()
        .map(|(seq, at)| at.duration_since(sent[*seq as usize]))
        .collect();
    each.sort();
    let mut all: Vec<Duration> = (0..changes)
        .map(|seq| {
            arrivals
                .iter()
                .filter(|(s, _)| *s == seq)
                .map(|(_, at)| at.duration_since(sent[seq as usize]))
                .max()
                .unwrap_or_default()
        })
        .collect();
    all.sort();
    println!(
        "| {n} | {} | {}/{} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} |",
        changes,
        arrivals.len(),
        changes as usize * (n - 1),
        ms(percentile(&each, 0.5)),
        ms(percentile(&each, 0.99)),
        ms(percentile(&all, 0.99)),
        (after - before) as f64 / f64::from(changes),
    );
    alice.close().await;
    orgs.shutdown().await;
}

#[tokio::main]
async fn main() {
    let mut nodes = vec![10, 20, 50];
    let mut changes = 20;
    let mut interval = Duration::from_millis(250);
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--nodes", Some(v)) => {
                nodes = v.split(',').map(|n| n.parse().expect("number")).collect()
            }
            ("--changes", Some(v)) => changes = v.parse().expect("number"),
            ("--interval-ms", Some(v)) => {
                interval = Duration::from_millis(v.parse().expect("number"))
            }
            _ => panic!("usage: --nodes 10,20,50 --changes 20 --interval-ms 250"),
        }
    }
    println!(
        "| nodes | changes | delivered | p50 per watcher | p99 per watcher | p99 all watchers | federation messages per change |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in nodes {
        run(n, changes, interval).await;
    }
}
