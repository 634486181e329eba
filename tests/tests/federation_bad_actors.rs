//! Bad actors against real nodes: an impostor with the wrong key, a trusted organization
//! that claims users of another domain, sends malformed or gossiped notices, and floods.
//! Each is rejected, and honest presence between the real organizations still flows.

use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use lampfield_federation::{
    FederationConfig, FederationHandle, Keypair, Limits, Multiaddr, Stats, Timing, TrustList,
};
use lampfield_node::config::{Organization, decode_key};
use lampfield_node::federation::wire::{
    NOTICE_TYPE, Notice, XMPP_TYPE, encode_notices, encode_stanza,
};
use lampfield_tests::befriend;
use lampfield_tests::client::{QUIET, body, from_bare};
use lampfield_tests::federation::Orgs;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::presence::{Show, Type as PresenceType};

const EVIL: &str = "evil.test";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn public(k: &SigningKey) -> String {
    base64::engine::general_purpose::STANDARD.encode(k.verifying_key().as_bytes())
}

/// A federation service outside the harness, speaking as `domain` with `org_key`.
async fn rogue(orgs: &Orgs, domain: &str, org_key: SigningKey) -> FederationHandle {
    let mut trust = TrustList::default();
    for o in &orgs.orgs {
        let k = decode_key(&o.public_key).unwrap();
        trust.insert(&o.domain, VerifyingKey::from_bytes(&k).unwrap());
    }
    let config = FederationConfig {
        domain: domain.to_owned(),
        org_key,
        peer_key: Keypair::generate_ed25519(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse::<Multiaddr>().unwrap()],
        bootstrap: (0..orgs.orgs.len()).map(|i| orgs.address(i)).collect(),
        trust,
        allowed_peers: None,
        gossip_types: vec![NOTICE_TYPE.to_owned()],
        request_types: vec![XMPP_TYPE.to_owned(), NOTICE_TYPE.to_owned()],
        limits: Limits::default(),
        timing: Timing::fast(),
    };
    let (handle, mut inbound) = lampfield_federation::start(config).await.unwrap();
    // Drain events so the service never blocks on a full queue.
    tokio::spawn(async move { while inbound.recv().await.is_some() {} });
    handle
}

fn batch(xml: &[&str]) -> Vec<u8> {
    xml.iter()
        .flat_map(|x| encode_stanza(&x.parse::<Element>().unwrap()))
        .collect()
}

async fn eventually(orgs: &Orgs, i: usize, what: &str, f: impl Fn(&Stats) -> bool) {
    for _ in 0..200 {
        if f(&orgs.fed(i).stats().await.unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("org{i}: {what}: {:?}", orgs.fed(i).stats().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_bad_actors_are_rejected_and_honest_presence_flows() {
    let evil_key = key(66);
    let evil_org = Organization {
        domain: EVIL.into(),
        public_key: public(&evil_key),
        addresses: vec![],
    };
    let orgs = Orgs::start_with(2, &["alice", "bob"], vec![evil_org]).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let (a, b) = (alice.bare(), bob.bare());
    befriend(&mut alice, &mut bob).await;

    // 1. An impostor claims org1.test with a key that is not org1's: never linked, and
    //    nothing it sends is delivered.
    let impostor = rogue(&orgs, "org1.test", key(7)).await;
    eventually(&orgs, 0, "impostor's hello rejected", |s| {
        s.hellos_rejected >= 1
    })
    .await;
    let forged = batch(&[
        "<message xmlns='jabber:client' type='chat' from='bob@org1.test/x' \
         to='alice@org0.test'><body>impostor</body></message>",
    ]);
    assert!(
        impostor
            .request("org0.test", XMPP_TYPE, forged)
            .await
            .is_err()
    );
    impostor.shutdown().await.unwrap();

    // 2. A trusted organization speaks for users of another one: refused stanza by stanza;
    //    its own users' stanzas in the same batch still arrive.
    let evil = rogue(&orgs, EVIL, evil_key.clone()).await;
    for _ in 0..200 {
        if orgs
            .fed(0)
            .connected_domains()
            .await
            .unwrap()
            .iter()
            .any(|d| d == EVIL)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mixed = batch(&[
        "<message xmlns='jabber:client' type='chat' from='bob@org1.test/x' \
         to='alice@org0.test'><body>spoofed</body></message>",
        "<presence xmlns='jabber:client' from='bob@org1.test/x' to='alice@org0.test'>\
         <show>chat</show></presence>",
        "<message xmlns='jabber:client' type='chat' from='mallory@evil.test/x' \
         to='alice@org0.test'><body>from evil itself</body></message>",
    ]);
    evil.request("org0.test", XMPP_TYPE, mixed).await.unwrap();
    alice
        .expect_message("evil's own message", |m| body(m) == "from evil itself")
        .await;
    assert!(
        !alice.expect_message_now(|m| body(m) == "spoofed"),
        "spoofed message delivered"
    );
    // A malformed batch is refused.
    assert!(
        evil.request("org0.test", XMPP_TYPE, vec![0, 0, 0, 99, b'<'])
            .await
            .is_err()
    );

    // 3. Change notices are requests to one organization: a well-formed one from evil about
    //    its own user is acknowledged, a malformed one refused, and notice gossip reaches no
    //    node (none listens on that topic any more).
    let notice = Notice {
        user: "mallory".into(),
        available: true,
        epoch: 1,
        n: 1,
    };
    let payload = encode_notices(std::slice::from_ref(&notice));
    evil.request("org0.test", NOTICE_TYPE, payload.clone())
        .await
        .unwrap();
    assert!(
        orgs.node(0)
            .federation_notices_received()
            .contains(&(EVIL.to_owned(), payload.clone())),
        "the notice was not recorded"
    );
    assert!(
        evil.request("org0.test", NOTICE_TYPE, b"[{\"user\":1}]".to_vec())
            .await
            .is_err()
    );
    let _ = evil.publish(NOTICE_TYPE, payload).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(orgs.fed(0).stats().await.unwrap().gossip_accepted, 0);

    // 4. Flood: far more requests than the per-peer rate allows.
    let noise = batch(&[
        "<presence xmlns='jabber:client' from='mallory@evil.test/x' to='alice@org0.test'/>",
    ]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (evil, noise) = (evil.clone(), noise.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..150 {
                let _ = evil.request("org0.test", XMPP_TYPE, noise.clone()).await;
            }
        }));
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
    }
    eventually(&orgs, 0, "flood limited", |s| {
        s.rate_limited >= 1 || s.bans >= 1
    })
    .await;

    // Honest presence between org0 and org1 still flows, both ways.
    bob.presence(Some(Show::Dnd), None, 0).await;
    alice
        .expect_presence("bob busy", |p| {
            from_bare(&p.from, &b) && p.show == Some(Show::Dnd)
        })
        .await;
    alice.presence(Some(Show::Away), None, 0).await;
    bob.expect_presence("alice away", |p| {
        from_bare(&p.from, &a) && p.show == Some(Show::Away)
    })
    .await;
    assert!(
        !alice.expect_message_now(|m| body(m) == "impostor"),
        "the impostor's message was delivered"
    );
    let _ = PresenceType::None;

    evil.shutdown().await.unwrap();
    alice.close().await;
    bob.close().await;
    orgs.shutdown().await;
}
