//! RFC 6121 §4.4: presence goes to subscribers only. A third user with no subscription
//! (only a pending request, and probes) sees nothing of the others.

use lampfield_tests::client::{QUIET, from_bare};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::presence::{Presence, Show, Type};

#[tokio::test]
async fn unsubscribed_third_user_sees_nothing() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "a", 0).await;
    let mut bob = node.online("bob@localhost", "b", 0).await;
    let mut carol = node.online("carol@localhost", "c", 0).await;
    befriend(&mut alice, &mut bob).await;
    let (ab, bb) = (alice.bare(), bob.bare());

    carol.subscription(&ab, Type::Subscribe).await;
    let cb = carol.bare();
    alice
        .expect_presence("carol's request", |p| {
            p.type_ == Type::Subscribe && from_bare(&p.from, &cb)
        })
        .await;
    carol
        .send(Presence::new(Type::Probe).with_to(ab.clone()))
        .await;
    carol
        .send(Presence::new(Type::Probe).with_to(bb.clone()))
        .await;

    alice
        .presence(Some(Show::Away), Some("secret meeting"), 0)
        .await;
    bob.presence(Some(Show::Dnd), Some("secret call"), 0).await;
    bob.expect_presence("alice away", |p| {
        from_bare(&p.from, &ab) && p.show == Some(Show::Away)
    })
    .await;
    alice
        .expect_presence("bob dnd", |p| {
            from_bare(&p.from, &bb) && p.show == Some(Show::Dnd)
        })
        .await;
    alice.close().await;
    bob.expect_presence("alice unavailable", |p| {
        from_bare(&p.from, &ab) && p.type_ == Type::Unavailable
    })
    .await;

    // Anything available, any status, or any resource of alice or bob is a leak; a bare
    // `unavailable` answering the probe reveals nothing.
    carol
        .assert_none("presence of alice or bob", QUIET, |s| match s {
            Stanza::Presence(p) if from_bare(&p.from, &ab) || from_bare(&p.from, &bb) => {
                p.type_ == Type::None
                    || p.show.is_some()
                    || !p.statuses.is_empty()
                    || p.from.as_ref().is_some_and(|f| f.resource().is_some())
            }
            _ => false,
        })
        .await;
    bob.close().await;
    carol.close().await;
    node.stop().await;
}
