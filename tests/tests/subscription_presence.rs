//! RFC 6121 §3 and §4 with tokio-xmpp: two users subscribe to each other the way real
//! clients do and see each other's show and status changes.

use lampfield_tests::client::{from_is, person, status};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::parsers::presence::{Show, Type};
use tokio_xmpp::parsers::roster::{Ask, Subscription};

#[tokio::test]
async fn mutual_subscription_then_show_and_status_changes() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "desk", 0).await;
    let mut bob = node.online("bob@localhost", "laptop", 0).await;

    befriend(&mut alice, &mut bob).await;
    // Colleagues see each other at business: one presence per person, from the node's resource.
    let (aj, bj) = (person(&alice.bare()), person(&bob.bare()));
    alice
        .expect_presence("bob available after subscribing", |p| {
            p.type_ == Type::None && from_is(p, &bj)
        })
        .await;
    bob.expect_presence("alice available after subscribing", |p| {
        p.type_ == Type::None && from_is(p, &aj)
    })
    .await;

    for (who, client) in [("alice", &alice), ("bob", &bob)] {
        let items = client.roster().await;
        let other = if who == "alice" {
            bob.bare()
        } else {
            alice.bare()
        };
        let item = items
            .iter()
            .find(|i| i.jid == other)
            .unwrap_or_else(|| panic!("{who}'s roster: {items:?}"));
        assert_eq!(
            item.subscription,
            Subscription::Both,
            "{who}'s roster: {items:?}"
        );
        assert_eq!(item.ask, Ask::None, "{who}'s roster still asks: {items:?}");
    }

    // A client's presence is one source of the effective presence (docs/PRESENCE.md): what the
    // contact sees is the aggregated availability with the client's text as the note.
    for (sent, text, seen, line) in [
        (Show::Away, "in a meeting", Show::Away, "in a meeting"),
        (Show::Dnd, "do not disturb", Show::Dnd, "do not disturb"),
        (Show::Xa, "gone", Show::Away, "gone"),
    ] {
        bob.presence(Some(sent), Some(text), 0).await;
        alice
            .expect_presence(&format!("bob {seen:?} '{line}'"), |p| {
                from_is(p, &bj) && p.show == Some(seen.clone()) && status(p) == line
            })
            .await;
    }
    bob.presence(None, Some("back"), 0).await;
    alice
        .expect_presence("bob available with status", |p| {
            from_is(p, &bj) && p.show.is_none() && status(p) == "back"
        })
        .await;
    // Lampfield has no "eager to chat": chat is plain available.
    alice.presence(Some(Show::Chat), Some("free"), 0).await;
    bob.expect_presence("alice chat", |p| {
        from_is(p, &aj) && p.show.is_none() && status(p) == "free"
    })
    .await;

    bob.close().await;
    alice
        .expect_presence("bob unavailable after logout", |p| {
            p.type_ == Type::Unavailable && from_is(p, &bj)
        })
        .await;
    alice.close().await;
    node.stop().await;
}
