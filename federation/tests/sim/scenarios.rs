//! Honest federations: gossip, requests, convergence, partitions, crashes.

use std::time::Duration;

use lampfield_federation::sim::{Net, Topology};
use lampfield_federation::{FederationError, Inbound};
use tokio::sync::watch;

use crate::support::{WAIT, assert_flows, serve_state};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_organizations_gossip_and_answer_signed_requests() {
    let mut net = Net::start(3, Topology::Full).await.unwrap();
    net.wait_linked(WAIT).await.unwrap();
    assert_flows(&mut net, 0, &[], b"alice available").await;
    assert_flows(&mut net, 2, &[], b"carol busy").await;

    let (_state, rx) = watch::channel(b"alice available".to_vec());
    let _ups = serve_state(&mut net, 0, rx);
    let answer = net
        .handle(1)
        .unwrap()
        .request("org0.example", "probe", b"alice".to_vec())
        .await
        .unwrap();
    assert_eq!(answer.origin, "org0.example");
    // The answering organization saw who asked (and can filter detail for it).
    assert_eq!(answer.payload, b"alice available for org1.example (probe)");

    // Not served, or not connected: typed errors, nothing hangs.
    let refused = net
        .handle(1)
        .unwrap()
        .request("org0.example", "roster", vec![])
        .await;
    assert!(matches!(
        refused,
        Err(FederationError::Refused(
            lampfield_federation::Refusal::Unsupported
        ))
    ));
    let nobody = net
        .handle(1)
        .unwrap()
        .request("zzz.example", "probe", vec![])
        .await;
    assert!(matches!(nobody, Err(FederationError::NotConnected(_))));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_organizations_converge_after_a_publish() {
    let mut net = Net::start(20, Topology::Sparse { degree: 2 })
        .await
        .unwrap();
    net.wait_linked(Duration::from_secs(20)).await.unwrap();
    assert_flows(&mut net, 7, &[], b"bob in a meeting").await;
    assert_flows(&mut net, 19, &[], b"bob back").await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_partition_heals_peer_up_lets_a_resync_fetch_the_current_state() {
    let mut net = Net::start(3, Topology::Full).await.unwrap();
    net.wait_linked(WAIT).await.unwrap();
    let (state, rx) = watch::channel(b"alice available".to_vec());
    let _ups = serve_state(&mut net, 0, rx);

    net.partition(&[0], &[1, 2]).await.unwrap();
    let down = net.next_event(1, WAIT, |e| match e {
        Inbound::PeerDown { domain, .. } => Some(domain),
        _ => None,
    });
    assert_eq!(down.await.as_deref(), Some("org0.example"));

    let deadline = tokio::time::Instant::now() + WAIT;
    while !net.handle(0).unwrap().peers().await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "org0 still connected after the partition"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Alice goes offline while org0 is cut off: the change notice reaches nobody.
    state.send_replace(b"alice offline".to_vec());
    let lost = net
        .handle(0)
        .unwrap()
        .publish("presence", b"alice offline".to_vec())
        .await;
    assert!(matches!(lost, Err(FederationError::NoPeers(_))), "{lost:?}");

    net.heal(&[0], &[1, 2]).await.unwrap();
    let up = net.next_event(1, WAIT, |e| match e {
        Inbound::PeerUp { domain, .. } => Some(domain),
        _ => None,
    });
    assert_eq!(up.await.as_deref(), Some("org0.example"));
    let resync = net
        .handle(1)
        .unwrap()
        .request("org0.example", "resync", b"alice".to_vec())
        .await
        .unwrap();
    assert_eq!(resync.payload, b"alice offline for org1.example (resync)");

    // Gossip flows across the healed link again.
    assert_flows(&mut net, 2, &[0], b"carol away").await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_organization_restarts_with_its_keys_and_is_believed_again() {
    let mut net = Net::start(3, Topology::Full).await.unwrap();
    net.wait_linked(WAIT).await.unwrap();
    assert_flows(&mut net, 0, &[], b"before the crash").await;

    net.crash(0).await.unwrap();
    let down = net.next_event(1, WAIT, |e| match e {
        Inbound::PeerDown { domain, .. } => Some(domain),
        _ => None,
    });
    assert_eq!(down.await.as_deref(), Some("org0.example"));

    net.restart(0).await.unwrap();
    let up = net.next_event(2, WAIT, |e| match e {
        Inbound::PeerUp { domain, .. } => Some(domain),
        _ => None,
    });
    assert_eq!(up.await.as_deref(), Some("org0.example"));
    net.wait_linked(WAIT).await.unwrap();
    // Its sequence numbers continue above the ones peers remember, so the restarted
    // organization's news is accepted, not taken for a replay.
    assert_flows(&mut net, 0, &[], b"after the restart").await;
    let (_state, rx) = watch::channel(b"alice back".to_vec());
    let _ups = serve_state(&mut net, 0, rx);
    let answer = net
        .handle(2)
        .unwrap()
        .request("org0.example", "resync", vec![])
        .await
        .unwrap();
    assert_eq!(answer.payload, b"alice back for org2.example (resync)");
    net.stop().await;
}
