//! Three organizations federated over libp2p: cross-organization subscriptions, live
//! presence both ways, messages, and unavailable when a client leaves.

use lampfield_node::federation::wire::decode_notices;
use lampfield_tests::befriend;
use lampfield_tests::client::{body, from_bare};
use lampfield_tests::federation::Orgs;
use tokio_xmpp::parsers::presence::{Show, Type as PresenceType};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_three_organizations_see_each_other_live() {
    let orgs = Orgs::start(3).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let mut carol = orgs.online(2, "carol", "phone").await;
    let (a, b, c) = (alice.bare(), bob.bare(), carol.bare());

    befriend(&mut alice, &mut bob).await;
    befriend(&mut bob, &mut carol).await;
    befriend(&mut carol, &mut alice).await;

    // Each got the others' current presence when the subscriptions were approved.
    for of in [&b, &c] {
        alice
            .expect_presence("initial presence", |p| {
                p.type_ == PresenceType::None && from_bare(&p.from, of)
            })
            .await;
    }
    bob.expect_presence("alice available", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    // The roster shows the remote users.
    let roster = alice.roster().await;
    assert!(roster.iter().any(|i| i.jid == b), "{roster:?}");
    assert!(roster.iter().any(|i| i.jid == c), "{roster:?}");

    // A change travels live to both other organizations.
    bob.presence(Some(Show::Dnd), None, 0).await;
    alice
        .expect_presence("bob busy", |p| {
            from_bare(&p.from, &b) && p.show == Some(Show::Dnd)
        })
        .await;
    carol
        .expect_presence("bob busy", |p| {
            from_bare(&p.from, &b) && p.show == Some(Show::Dnd)
        })
        .await;

    // The change was also announced to each watcher's organization by a signed notice.
    for i in [0, 2] {
        let mut got = false;
        for _ in 0..100 {
            got = orgs
                .node(i)
                .federation_notices_received()
                .iter()
                .any(|(origin, payload)| {
                    origin == "org1.test"
                        && decode_notices(payload)
                            .is_ok_and(|ns| ns.iter().any(|n| n.user == "bob"))
                });
            if got {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(got, "org{i} received no change notice about bob");
    }

    // Messages cross too.
    alice.chat(bob.jid.clone(), "hello from org0").await;
    let m = bob
        .expect_message("alice's message", |m| body(m) == "hello from org0")
        .await;
    assert!(from_bare(&m.from, &a));

    // Leaving is seen everywhere.
    carol.close().await;
    alice
        .expect_presence("carol unavailable", |p| {
            p.type_ == PresenceType::Unavailable && from_bare(&p.from, &c)
        })
        .await;
    bob.expect_presence("carol unavailable", |p| {
        p.type_ == PresenceType::Unavailable && from_bare(&p.from, &c)
    })
    .await;

    alice.close().await;
    bob.close().await;
    orgs.shutdown().await;
}
