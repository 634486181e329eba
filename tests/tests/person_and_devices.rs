//! One presence per person below team, one per device from team on (docs/ACCESS.md, "One presence
//! per person"), also for a user who is live without any client (a call on the desk phone): the
//! presence then comes from the node's resource for every viewer, and a client coming online shows
//! as a device only to the viewer at team.

use lampfield_domain::presence::{Call, LineId, LineState};
use lampfield_node::engine::SourceChange;
use lampfield_tests::client::{QUIET, from_is, person, status};
use lampfield_tests::{TestClient, befriend, start_node};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::FullJid;
use tokio_xmpp::parsers::presence::Type;

/// `client` sees `from` go unavailable.
async fn gone(client: &mut TestClient, what: &str, from: &FullJid) {
    client
        .expect_presence(what, |p| p.type_ == Type::Unavailable && from_is(p, from))
        .await;
}

#[tokio::test]
async fn a_call_without_a_client_then_the_client_comes_online() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "setup", 0).await;
    let mut bob = node.online("bob@localhost", "desk", 0).await;
    let mut carol = node.online("carol@localhost", "desk", 0).await;
    node.show_devices(&alice, &carol).await;
    befriend(&mut alice, &mut bob).await;
    befriend(&mut alice, &mut carol).await;
    let (ab, setup) = (alice.bare(), alice.jid.clone());
    let alice_person = person(&ab);
    alice.close().await;
    gone(&mut bob, "alice gone (business)", &alice_person).await;
    gone(&mut carol, "alice's setup client gone (team)", &setup).await;
    bob.forget_backlog();
    carol.forget_backlog();

    // A call on the desk phone: alice is live without a client.
    let line = LineId::new("201").unwrap();
    let call = SourceChange::Line(line.clone(), Some(LineState::OnCall(Call::default())));
    node.engine().update(&ab, call).await.unwrap();
    let p = bob
        .expect_presence("alice on the phone (business)", |p| {
            p.type_ == Type::None && from_is(p, &alice_person)
        })
        .await;
    assert_eq!(p.priority.0, 0, "the person has no priority");
    assert_eq!(status(&p), "On the phone");
    let p = carol
        .expect_presence("alice on the phone, from the node (team)", |p| {
            p.type_ == Type::None && from_is(p, &alice_person)
        })
        .await;
    assert_eq!(p.priority.0, -1, "never takes messages to the bare JID");

    // Her desk client comes online: carol sees the device take over; bob still sees the person.
    let desk = node.online("alice@localhost", "desk", 0).await;
    let dj = desk.jid.clone();
    gone(&mut carol, "the node's resource gone (team)", &alice_person).await;
    carol
        .expect_presence("alice's desk (team)", |p| {
            p.type_ == Type::None && from_is(p, &dj)
        })
        .await;
    bob.assert_none(
        "alice's person withdrawn while she is live",
        QUIET / 3,
        |s| matches!(s, Stanza::Presence(p) if p.type_ == Type::Unavailable),
    )
    .await;
    bob.assert_none(
        "alice's desk (business)",
        QUIET / 3,
        |s| matches!(s, Stanza::Presence(p) if from_is(p, &dj)),
    )
    .await;

    // The call ends and the client leaves: gone for both, each for what it held.
    node.engine()
        .update(&ab, SourceChange::Line(line, None))
        .await
        .unwrap();
    desk.close().await;
    gone(&mut bob, "alice gone (business)", &alice_person).await;
    gone(&mut carol, "alice's desk gone (team)", &dj).await;
    bob.close().await;
    carol.close().await;
    node.stop().await;
}
