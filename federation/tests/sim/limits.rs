//! Sizes are bounded everywhere: locally, in gossip and in requests.

use std::time::Duration;

use lampfield_federation::sim::{GOSSIP, Net, Topology};
use lampfield_federation::{FederationError, Inbound, Limits, Timing};

use crate::support::{WAIT, assert_flows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_payloads_are_refused_locally_and_remotely() {
    let mut net = Net::start_with(3, Topology::Full, Timing::fast(), Limits::default())
        .await
        .unwrap();
    net.wait_linked(WAIT).await.unwrap();
    let big = vec![b'x'; Limits::default().max_envelope_bytes + 1];
    let local = net.handle(0).unwrap().publish(GOSSIP, big.clone()).await;
    assert!(
        matches!(local, Err(FederationError::TooLarge(_))),
        "{local:?}"
    );
    let asked = net
        .handle(0)
        .unwrap()
        .request("org1.example", "probe", big.clone())
        .await;
    assert!(
        matches!(asked, Err(FederationError::TooLarge(_))),
        "{asked:?}"
    );

    // A node configured with a larger limit sends big messages: the honest nodes'
    // codecs refuse them before buffering, and nothing reaches their nodes.
    let mut config = net.config(2, "/ip4/127.0.0.1/tcp/0".parse().unwrap());
    config.limits.max_envelope_bytes = 256 * 1024;
    net.crash(2).await.unwrap();
    let (bad, _events) = lampfield_federation::start(config).await.unwrap();
    for addr in [net.addrs[0].clone(), net.addrs[1].clone()] {
        bad.dial(addr).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while bad.connected_domains().await.unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "big node never linked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let huge = vec![b'y'; 100 * 1024];
    let request = bad.request("org0.example", "probe", huge.clone()).await;
    assert!(
        request.is_err(),
        "an oversized request was answered: {request:?}"
    );
    let _ = bad.publish(GOSSIP, huge).await;
    for i in 0..2 {
        let got = net.next_event(i, Duration::from_millis(500), |e| match e {
            Inbound::Gossip { envelope, .. } if envelope.origin == "org2.example" => {
                Some(envelope.payload.len())
            }
            _ => None,
        });
        assert_eq!(got.await, None, "node {i} took an oversized message");
    }
    bad.shutdown().await.unwrap();
    net.restart(2).await.unwrap();
    net.wait_linked(WAIT).await.unwrap();
    assert_flows(&mut net, 0, &[], b"still fine").await;
    net.stop().await;
}
