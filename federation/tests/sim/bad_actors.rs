//! Misbehaving nodes are refused and penalized, and honest traffic keeps flowing.
//!
//! Nodes 0..=2 are honest; node 3 (`org3.example`) is a trusted organization turned
//! bad: it forges, replays and floods through `publish_raw`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use lampfield_federation::sim::{GOSSIP, Net, Org, Topology};
use lampfield_federation::{Keypair, Limits, SignedEnvelope};

use crate::support::{WAIT, assert_flows, eventually, stats};

const MALLORY: usize = 3;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn net_with_mallory(limits: Limits) -> Net {
    let net = Net::start_with(
        4,
        Topology::Full,
        lampfield_federation::Timing::fast(),
        limits,
    )
    .await
    .unwrap();
    net.wait_linked(WAIT).await.unwrap();
    net
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_signature_is_rejected_and_never_delivered() {
    let mut net = net_with_mallory(Limits::default()).await;
    // Mallory speaks for org0 with its own key, with a huge sequence number that would
    // shadow org0's real statements if it were believed.
    let forged = SignedEnvelope::seal(
        &Org::new(MALLORY).org_key,
        "org0.example",
        GOSSIP,
        u64::MAX / 2,
        now_ms(),
        b"alice gone".to_vec(),
    )
    .unwrap();
    net.handle(MALLORY)
        .unwrap()
        .publish_raw(GOSSIP, forged.to_bytes())
        .await
        .unwrap();
    for i in 0..3 {
        eventually(&net, i, "forged envelope rejected", |s| {
            s.gossip_rejected >= 1
        })
        .await;
    }
    // org0's real news still gets through (the forged sequence number was not adopted).
    assert_flows(&mut net, 0, &[MALLORY], b"alice available").await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_old_envelope_is_rejected() {
    let mut net = net_with_mallory(Limits::default()).await;
    assert_flows(&mut net, 0, &[], b"alice available").await;
    // An envelope org0 really signed ten seconds ago, captured and sent again.
    let old = SignedEnvelope::seal(
        &Org::new(0).org_key,
        "org0.example",
        GOSSIP,
        1,
        now_ms() - 10_000,
        b"alice offline".to_vec(),
    )
    .unwrap();
    net.handle(MALLORY)
        .unwrap()
        .publish_raw(GOSSIP, old.to_bytes())
        .await
        .unwrap();
    for i in 1..3 {
        eventually(&net, i, "replay rejected", |s| s.gossip_rejected >= 1).await;
    }
    assert_flows(&mut net, 0, &[MALLORY], b"alice in a meeting").await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_claiming_a_domain_it_does_not_own_is_banned() {
    let mut net = net_with_mallory(Limits::default()).await;
    // An impostor says it is org0 but holds another key.
    let mut config = net.config(0, "/ip4/127.0.0.1/tcp/0".parse().unwrap());
    config.org_key = SigningKey::from_bytes(&[0x66; 32]);
    config.peer_key = Keypair::generate_ed25519();
    config.bootstrap = vec![net.addrs[1].clone(), net.addrs[2].clone()];
    let impostor = net.add(config).await.unwrap();
    let impostor_id = net.handle(impostor).unwrap().peer_id();
    for i in 1..3 {
        eventually(&net, i, "impostor banned", |s| {
            s.hellos_rejected >= 1 && s.bans >= 1
        })
        .await;
        // The ban closes its connections (asynchronously).
        let deadline = tokio::time::Instant::now() + WAIT;
        while net
            .handle(i)
            .unwrap()
            .peers()
            .await
            .unwrap()
            .iter()
            .any(|p| p.peer == impostor_id)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "node {i} still connected to the impostor"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Its statements are refused too, wherever they arrive.
    let _ = net
        .handle(impostor)
        .unwrap()
        .publish(GOSSIP, b"alice gone".to_vec())
        .await;
    assert_flows(&mut net, 0, &[MALLORY, impostor], b"alice available").await;
    assert_eq!(stats(&net, 1).await.bans, 1, "no honest peer was banned");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_node_is_rate_limited_then_banned_and_others_are_not() {
    let limits = Limits {
        rate_per_peer: 100,
        burst_per_peer: 200,
        ..Limits::default()
    };
    let mut net = net_with_mallory(limits).await;
    let mallory = Org::new(MALLORY);
    let t = now_ms();
    for seq in 1..=1_500u64 {
        let env = SignedEnvelope::seal(
            &mallory.org_key,
            &mallory.domain,
            GOSSIP,
            seq,
            t,
            vec![b'x'; 64],
        )
        .unwrap();
        if net
            .handle(MALLORY)
            .unwrap()
            .publish_raw(GOSSIP, env.to_bytes())
            .await
            .is_err()
        {
            break; // every honest node has banned it
        }
    }
    for i in 0..3 {
        let s = eventually(&net, i, "flood limited and banned", |s| {
            s.rate_limited >= 1 && s.bans >= 1
        })
        .await;
        assert_eq!(s.bans, 1, "node {i} banned an honest forwarder: {s:?}");
        let deadline = tokio::time::Instant::now() + WAIT;
        while net
            .handle(i)
            .unwrap()
            .connected_domains()
            .await
            .unwrap()
            .contains(&mallory.domain)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "node {i} still talks to the flooder"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_flows(&mut net, 0, &[MALLORY], b"alice available").await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_allow_list_unlisted_peers_cannot_even_connect() {
    let mut net = Net::start(3, Topology::Full).await.unwrap();
    net.wait_linked(WAIT).await.unwrap();
    net.crash(2).await.unwrap();
    // org2 comes back accepting only org0's transport peer, and still dials everyone.
    let mut config = net.config(2, "/ip4/127.0.0.1/tcp/0".parse().unwrap());
    config.allowed_peers = Some(vec![Org::new(0).peer_id()]);
    let (strict, _events) = lampfield_federation::start(config).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while strict.connected_domains().await.unwrap() != ["org0.example"] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "org2 never linked with org0"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // org1 is refused at the connection level, both ways, before any hello.
    strict.dial(net.addrs[1].clone()).await.unwrap();
    net.handle(1)
        .unwrap()
        .dial(strict.listen_addrs().await.unwrap()[0].clone())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let peers = strict.peers().await.unwrap();
    assert!(
        peers.iter().all(|p| p.peer == Org::new(0).peer_id()),
        "{peers:?}"
    );
    let s = strict.stats().await.unwrap();
    assert_eq!((s.hellos_rejected, s.bans), (0, 0), "{s:?}");
    strict.shutdown().await.unwrap();
    net.stop().await;
}
