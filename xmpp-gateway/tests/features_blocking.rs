//! XEP-0191 Blocking Command (1.3): the block list is the node's rules at blocked (the fake
//! authority keeps rules as the node does), pushes reach the sessions that asked for the list,
//! whoever changed it, and what a user sends to someone they block is refused (§3.5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use features_support::*;
use minidom::Element;

const NS: &str = "urn:xmpp:blocking";
const GET: &str = "<iq type='get' id='bl'><blocklist xmlns='urn:xmpp:blocking'/></iq>";

/// The JIDs of a blocklist result or a block/unblock push.
fn items(e: &Element) -> Vec<String> {
    e.children()
        .flat_map(|c| c.children())
        .filter_map(|i| i.attr("jid").map(str::to_owned))
        .collect()
}

/// The pushes among `els`: (element name, items).
fn pushes(els: &[Element]) -> Vec<(String, Vec<String>)> {
    of(els, "iq", Some("set"))
        .into_iter()
        .filter_map(|e| {
            let p = e.children().next()?;
            p.has_ns(NS).then(|| (p.name().to_owned(), items(e)))
        })
        .collect()
}

fn result_with_id<'a>(els: &'a [Element], id: &str) -> &'a Element {
    els.iter()
        .find(|e| e.attr("id") == Some(id))
        .unwrap_or_else(|| panic!("no answer {id} in {els:?}"))
}

#[tokio::test]
async fn blocking_from_a_client_is_a_rule_and_pushed_to_the_sessions_that_asked() {
    let (router, _backend, relay) = router_with_relay(&["alice", "bob", "carol"]);
    let mut phone = online(&router, "alice", "phone", 0).await;
    let mut desk = online(&router, "alice", "desk", 0).await;
    let mut quiet = online(&router, "alice", "quiet", 0).await;
    phone.send(GET).await;
    desk.send(GET).await;
    let got = phone.drain();
    assert_eq!(items(result_with_id(&got, "bl")), Vec::<String>::new());
    desk.drain();

    // A full JID is blocked as its bare JID: a rule is per person.
    phone
        .send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@example.org/pc'/></block></iq>")
        .await;
    assert_eq!(
        relay.rule(&bare("alice"), &bare("bob")).as_deref(),
        Some("blocked")
    );
    let got = phone.drain();
    assert_eq!(result_with_id(&got, "b1").attr("type"), Some("result"));
    let bob = vec!["bob@example.org".to_owned()];
    assert_eq!(pushes(&got), vec![("block".to_owned(), bob.clone())]);
    assert_eq!(
        pushes(&desk.drain()),
        vec![("block".to_owned(), bob.clone())]
    );
    assert!(
        pushes(&quiet.drain()).is_empty(),
        "never asked for the list"
    );

    quiet.send(GET).await;
    assert_eq!(items(result_with_id(&quiet.drain(), "bl")), bob);

    // Unblocking all removes the blocked rule, and the push names what was unblocked.
    desk.send("<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'/></iq>")
        .await;
    assert_eq!(relay.rule(&bare("alice"), &bare("bob")), None);
    assert_eq!(pushes(&phone.drain()), vec![("unblock".to_owned(), bob)]);
}

#[tokio::test]
async fn unblock_leaves_a_rule_at_another_level_and_block_replaces_it() {
    let (router, _backend, relay) = router_with_relay(&["alice", "bob", "carol"]);
    let mut c = online(&router, "alice", "phone", 0).await;
    relay.set_rule(&bare("alice"), &bare("carol"), Some("team"));
    c.send("<iq type='set' id='u'><unblock xmlns='urn:xmpp:blocking'><item jid='carol@example.org'/></unblock></iq>").await;
    assert_eq!(
        relay.rule(&bare("alice"), &bare("carol")).as_deref(),
        Some("team")
    );
    c.send("<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='carol@example.org'/></block></iq>").await;
    assert_eq!(
        relay.rule(&bare("alice"), &bare("carol")).as_deref(),
        Some("blocked")
    );
    let got = c.drain();
    assert_eq!(result_with_id(&got, "u").attr("type"), Some("result"));
    assert_eq!(result_with_id(&got, "b").attr("type"), Some("result"));
}

#[tokio::test]
async fn a_rule_set_elsewhere_is_pushed_when_the_node_publishes() {
    let (router, _backend, relay) = router_with_relay(&["alice", "bob", "carol"]);
    let mut c = online(&router, "alice", "phone", 0).await;
    c.send(GET).await;
    c.drain();
    // As `lampfield rule set alice contact:carol blocked` does: store, then publish.
    relay.set_rule(&bare("alice"), &bare("carol"), Some("blocked"));
    relay.set_rule(
        &bare("alice"),
        &jid::BareJid::new("spam.example").unwrap(),
        Some("blocked"),
    );
    router.publish(&bare("alice")).await;
    assert_eq!(
        pushes(&c.drain()),
        vec![(
            "block".to_owned(),
            vec!["carol@example.org".to_owned(), "spam.example".to_owned()]
        )]
    );
    relay.set_rule(&bare("alice"), &bare("carol"), None);
    router.publish(&bare("alice")).await;
    assert_eq!(
        pushes(&c.drain()),
        vec![("unblock".to_owned(), vec!["carol@example.org".to_owned()])]
    );
    // Nothing changed: nothing pushed.
    router.publish(&bare("alice")).await;
    assert!(pushes(&c.drain()).is_empty());
}

#[tokio::test]
async fn what_a_user_sends_to_someone_they_block_is_refused_and_the_blocked_one_is_not_heard() {
    let (router, _backend, relay) = router_with_relay(&["alice", "bob", "carol"]);
    let mut alice = online(&router, "alice", "phone", 0).await;
    let mut bob = online(&router, "bob", "pc", 0).await;
    let mut carol = online(&router, "carol", "pc", 0).await;
    alice
        .send("<iq type='set' id='b'><block xmlns='urn:xmpp:blocking'><item jid='bob@example.org'/><item jid='spam.example'/></block></iq>")
        .await;
    alice.drain();

    for to in ["bob@example.org", "bob@example.org/pc", "eve@spam.example"] {
        alice
            .send(&format!(
                "<message type='chat' to='{to}' id='m'><body>hi</body></message>"
            ))
            .await;
        alice
            .send(&format!(
                "<iq type='get' to='{to}' id='q'><ping xmlns='urn:xmpp:ping'/></iq>"
            ))
            .await;
        let got = alice.drain();
        assert_eq!(got.len(), 2, "{to}: {got:?}");
        for e in &got {
            assert_eq!(e.attr("type"), Some("error"), "{to}");
            assert_eq!(error_condition(e).as_deref(), Some("not-acceptable"));
            let error = e.get_child("error", "jabber:client").unwrap();
            assert!(error.has_child("blocked", "urn:xmpp:blocking:errors"));
        }
    }
    assert!(
        bob.drain().is_empty(),
        "nothing reaches the blocked contact"
    );

    // Someone not blocked is reached, the server too.
    alice
        .send("<message type='chat' to='carol@example.org' id='m'><body>hi</body></message>")
        .await;
    alice
        .send("<iq type='get' to='example.org' id='s'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    assert_eq!(of(&carol.drain(), "message", Some("chat")).len(), 1);
    assert_eq!(
        result_with_id(&alice.drain(), "s").attr("type"),
        Some("result")
    );

    // The blocked contact gets what a missing account gives.
    bob.send("<message type='chat' to='alice@example.org' id='m'><body>hi</body></message>")
        .await;
    let got = bob.drain();
    assert_eq!(
        error_condition(result_with_id(&got, "m")).as_deref(),
        Some("service-unavailable")
    );
    assert!(alice.drain().is_empty());
    assert!(relay.rule(&bare("alice"), &bare("bob")).is_some());
}

#[tokio::test]
async fn only_the_user_manages_their_list_and_malformed_requests_are_refused() {
    let (router, _backend, _relay) = router_with_relay(&["alice", "bob"]);
    let mut bob = online(&router, "bob", "pc", 0).await;
    bob.send(
        "<iq type='get' to='alice@example.org' id='x'><blocklist xmlns='urn:xmpp:blocking'/></iq>",
    )
    .await;
    bob.send("<iq type='set' id='e'><block xmlns='urn:xmpp:blocking'/></iq>")
        .await;
    bob.send(
        "<iq type='set' id='j'><block xmlns='urn:xmpp:blocking'><item jid='a@@b'/></block></iq>",
    )
    .await;
    let got = bob.drain();
    assert_eq!(
        error_condition(result_with_id(&got, "x")).as_deref(),
        Some("service-unavailable")
    );
    for id in ["e", "j"] {
        assert_eq!(
            error_condition(result_with_id(&got, id)).as_deref(),
            Some("bad-request")
        );
    }
}
