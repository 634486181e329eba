//! Helpers shared by the scenarios.

use std::time::Duration;

use lampfield_federation::sim::Net;
use lampfield_federation::{Inbound, Stats};
use tokio::sync::{mpsc, watch};

/// Generous bound for anything that should take milliseconds.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Answer every request node `i` gets with `<state> for <asker>`, reading the node's
/// current state from `state`; returns the peer up/down events it saw.
pub(crate) fn serve_state(
    net: &mut Net,
    i: usize,
    state: watch::Receiver<Vec<u8>>,
) -> mpsc::Receiver<Inbound> {
    let mut events = net.nodes[i].as_mut().unwrap().events.take().unwrap();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                Inbound::Request {
                    from_domain,
                    payload_type,
                    payload: _,
                    reply,
                } => {
                    let mut answer = state.borrow().clone();
                    answer.extend_from_slice(
                        format!(" for {from_domain} ({payload_type})").as_bytes(),
                    );
                    reply.send(answer);
                }
                other => {
                    let _ = tx.try_send(other);
                }
            }
        }
    });
    rx
}

/// Counters of node `i`.
pub(crate) async fn stats(net: &Net, i: usize) -> Stats {
    net.handle(i).unwrap().stats().await.unwrap()
}

/// Poll `check` on node `i`'s counters until it holds or `WAIT` passes.
pub(crate) async fn eventually(
    net: &Net,
    i: usize,
    what: &str,
    check: impl Fn(&Stats) -> bool,
) -> Stats {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = stats(net, i).await;
        if check(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node {i}: {what} never happened: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Publish from `from` and assert that every node but `from` and `except` receives it.
pub(crate) async fn assert_flows(net: &mut Net, from: usize, except: &[usize], payload: &[u8]) {
    let seq = net.publish(from, payload.to_vec(), WAIT).await.unwrap();
    let origin = net.domain(from).to_owned();
    let mut skip = except.to_vec();
    skip.push(from);
    let got = net.gossip_reached(&origin, seq, &skip, WAIT).await;
    for (i, g) in got.iter().enumerate() {
        if !skip.contains(&i) {
            assert_eq!(
                g.as_deref(),
                Some(payload),
                "node {i} did not get {origin}'s seq {seq}"
            );
        }
    }
}
