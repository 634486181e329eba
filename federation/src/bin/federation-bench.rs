//! Propagation benchmark: how long a published change takes to reach every node of a
//! simulated federation, and what it costs on the wire.
//!
//! ```text
//! cargo run --release -p lampfield-federation --features sim --bin federation-bench -- \
//!     --nodes 10,20,50 --changes 200 --payload 200
//! ```
//!
//! For each size, N organizations start on loopback TCP in one process (sparse
//! topology: each node dials its 3 predecessors and one earlier node), production gossip
//! timing except a short initial heartbeat. Changes are published one at a time from
//! rotating nodes; the next starts when every node has the previous one. Latency is
//! measured from just before `publish` to the node's event delivery (signature and
//! freshness checks included). Bytes are every TCP byte written by all nodes while
//! changes flow, minus the idle traffic of an equally long quiet period; copies per
//! change divide that by the bytes one copy costs between two nodes.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use lampfield_federation::sim::{Net, Topology};
use lampfield_federation::{Inbound, Limits, Timing};
use tokio::sync::mpsc;
use tokio::time::Instant;

struct Args {
    nodes: Vec<usize>,
    changes: usize,
    payload: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        nodes: vec![10, 20, 50],
        changes: 200,
        payload: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--nodes" => {
                args.nodes = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .context("--nodes: comma list")?;
            }
            "--changes" => args.changes = value.parse().context("--changes")?,
            "--payload" => args.payload = value.parse().context("--payload")?,
            other => bail!("unknown flag {other} (use --nodes, --changes, --payload)"),
        }
    }
    Ok(args)
}

fn timing() -> Timing {
    Timing {
        heartbeat_initial_delay: Duration::from_millis(100),
        redial_interval: Duration::from_millis(500),
        ..Timing::default()
    }
}

/// Deliveries: (node, origin index, seq, arrival).
type Delivery = (usize, String, u64, Instant);

async fn start_net(n: usize) -> anyhow::Result<(Net, mpsc::Receiver<Delivery>)> {
    let topology = if n <= 4 {
        Topology::Full
    } else {
        Topology::Sparse { degree: 3 }
    };
    let mut net = Net::start_with(n, topology, timing(), Limits::default())
        .await
        .context("start")?;
    net.wait_linked(Duration::from_secs(60))
        .await
        .context("link")?;
    let (tx, rx) = mpsc::channel(65_536);
    for (i, node) in net.nodes.iter_mut().enumerate() {
        let Some(mut events) = node.as_mut().and_then(|n| n.events.take()) else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let Inbound::Gossip { envelope, .. } = event {
                    let _ = tx
                        .send((i, envelope.origin, envelope.seq, Instant::now()))
                        .await;
                }
            }
        });
    }
    // Let meshes settle past the first heartbeats.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok((net, rx))
}

async fn bytes_written(net: &Net) -> anyhow::Result<u64> {
    let mut total = 0;
    for i in 0..net.nodes.len() {
        total += net.handle(i)?.stats().await?.bytes_written;
    }
    Ok(total)
}

struct Run {
    per_delivery: Vec<Duration>,
    to_all: Vec<Duration>,
    bytes_per_change: f64,
    lost: usize,
}

async fn run(n: usize, changes: usize, payload: usize) -> anyhow::Result<Run> {
    let (net, mut deliveries) = start_net(n).await?;
    let idle_from = bytes_written(&net).await?;
    let started = Instant::now();
    let mut per_delivery = Vec::with_capacity(changes * n);
    let mut to_all = Vec::with_capacity(changes);
    let mut lost = 0;
    let body = vec![b'p'; payload];
    for k in 0..changes {
        let from = k % n;
        let origin = net.domain(from).to_owned();
        let t0 = Instant::now();
        let seq = net
            .publish(from, body.clone(), Duration::from_secs(5))
            .await?;
        let mut seen: HashMap<usize, Duration> = HashMap::new();
        let deadline = t0 + Duration::from_secs(5);
        while seen.len() < n - 1 {
            match tokio::time::timeout_at(deadline, deliveries.recv()).await {
                Ok(Some((node, o, s, at))) if o == origin && s == seq => {
                    seen.insert(node, at - t0);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        lost += n - 1 - seen.len();
        if let Some(max) = seen.values().max() {
            to_all.push(*max);
        }
        per_delivery.extend(seen.into_values());
    }
    let busy = started.elapsed();
    let busy_bytes = bytes_written(&net).await? - idle_from;
    // The same time with no changes: heartbeats, IHAVE gossip, pings.
    let quiet_from = bytes_written(&net).await?;
    tokio::time::sleep(busy).await;
    let idle_bytes = bytes_written(&net).await? - quiet_from;
    net.stop().await;
    let bytes_per_change = (busy_bytes.saturating_sub(idle_bytes)) as f64 / changes as f64;
    Ok(Run {
        per_delivery,
        to_all,
        bytes_per_change,
        lost,
    })
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    // One copy between two nodes, to turn bytes into copies.
    let calibration = run(2, args.changes, args.payload)
        .await
        .context("calibration")?;
    let per_copy = calibration.bytes_per_change;
    println!(
        "one copy of a {}-byte payload costs {per_copy:.0} bytes on the wire (2 nodes)",
        args.payload
    );
    println!(
        "| nodes | changes | delivery p50 | delivery p99 | all nodes p50 | all nodes p99 | lost | bytes/change | copies/change |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &n in &args.nodes {
        let mut r = run(n, args.changes, args.payload)
            .await
            .with_context(|| format!("{n} nodes"))?;
        r.per_delivery.sort();
        r.to_all.sort();
        println!(
            "| {n} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} | {:.1} |",
            args.changes,
            pct(&r.per_delivery, 0.5),
            pct(&r.per_delivery, 0.99),
            pct(&r.to_all, 0.5),
            pct(&r.to_all, 0.99),
            r.lost,
            r.bytes_per_change,
            r.bytes_per_change / per_copy,
        );
    }
    Ok(())
}
