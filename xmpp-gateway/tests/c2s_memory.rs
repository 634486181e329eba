//! Memory cost of idle bound sessions, measured as resident-set growth of the process
//! (server and client ends together, so an upper bound). Run with
//! `cargo test -p lampfield-xmpp --release --test c2s_memory -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod c2s_support;

use std::time::Duration;

use c2s_support::*;

/// Resident set size of this process, in bytes (Linux).
fn rss() -> isize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: isize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

async fn measure(tls: bool, n: usize) -> isize {
    let names: Vec<String> = (0..=n).map(|i| format!("u{i}")).collect();
    let users: Vec<(&str, &str)> = names.iter().map(|u| (u.as_str(), "pencil")).collect();
    let server = start_with(tls, Accounts::with_iterations(&users, 16), |_| {}).await;
    let cert = server.cert.clone();
    let mut clients = Vec::new();
    // Warm up caches and lazily built statics with one session.
    let mut sessions = 0;
    let mut before = 0;
    for (i, name) in names.iter().enumerate() {
        let mut c = Raw::login(server.addr, cert.as_ref(), name, "pencil", &format!("r{i}")).await;
        c.seen = String::new();
        clients.push(c);
        if i == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            before = rss();
        } else {
            sessions += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss();
    (after - before) / sessions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run by hand"]
async fn idle_session_heap_cost() {
    let plain = measure(false, 300).await;
    let tls = measure(true, 300).await;
    println!(
        "RSS per idle bound session (both ends of the connection): plain {plain} B, TLS {tls} B"
    );
}
