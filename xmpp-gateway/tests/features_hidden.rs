//! What a viewer the user hides from (access level blocked), a stranger and a sender to an
//! account that does not exist each get, from local sessions and from another domain: a hidden
//! viewer gets exactly what a missing account gives (byte for byte, apart from the addressee),
//! and nobody's answer depends on whether the user is online.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use std::sync::Arc;

use features_support::*;
use lampfield_xmpp::{Backend, Contact, Disclosure, Router, Subscription};
use minidom::Element;
use tokio::sync::mpsc;

const ALICE: &str = "alice@example.org";
const MISSING: &str = "nobody@example.org";
const REMOTE: &str = "remote.net";

/// Alice and her viewers; carol is a stranger to her.
struct World {
    router: Router<FakeBackend>,
    backend: Arc<FakeBackend>,
    relay: Arc<Relay>,
    /// What the router sends to other domains.
    out: mpsc::Receiver<Element>,
}

/// What a viewer may send to alice's bare JID (`TO`) without changing anything, one of each:
/// messages by type, iqs the server answers or refuses, a probe.
const ASKED: [&str; 9] = [
    "<message type='chat' to='TO' id='1'><body>hi</body></message>",
    "<message to='TO' id='2'><body>hi</body></message>",
    "<message type='headline' to='TO' id='3'><body>hi</body></message>",
    "<message type='groupchat' to='TO' id='4'><body>hi</body></message>",
    "<iq type='get' id='5' to='TO'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<iq type='get' id='6' to='TO'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    "<iq type='get' id='7' to='TO'><query xmlns='jabber:iq:roster'/></iq>",
    "<iq type='set' id='8' to='TO'><query xmlns='urn:unknown'/></iq>",
    "<presence type='probe' to='TO'/>",
];

/// Alice hides from nobody yet.
fn world() -> World {
    let (router, backend, relay, out) = router_with_remote(&["alice", "bob", "carol", "dave"]);
    World {
        router,
        backend,
        relay,
        out,
    }
}

/// Alice hides from bob (local) and from eve@remote.net.
fn hiding_world() -> World {
    let w = world();
    w.relay.hide(&bare("alice"), &bare("bob"));
    w.relay.hide(&bare("alice"), &bare("eve@remote.net"));
    w
}

impl World {
    /// A stanza from another domain, written without its namespace (`jabber:server` is added).
    async fn from_remote(&self, xml: &str) {
        let el: Element = xml
            .replacen(' ', " xmlns='jabber:server' ", 1)
            .parse()
            .unwrap();
        self.router.handle_remote(REMOTE, el).await.unwrap();
    }

    fn sent_out(&mut self) -> Vec<Element> {
        let mut got = Vec::new();
        while let Ok(e) = self.out.try_recv() {
            got.push(e);
        }
        got
    }
}

/// Put `contact` in `owner`'s roster with `subscription`, as stored.
async fn in_roster(w: &World, owner: &str, contact: &str, subscription: Subscription) {
    let item = Contact {
        jid: bare(contact),
        name: None,
        groups: Vec::new(),
        subscription,
        in_roster: true,
    };
    w.backend.put_contact(&bare(owner), item).await.unwrap();
}

/// Log alice in and send her initial presence; with everything she was sent until then.
async fn login_with_presence(w: &World) -> (Client, Vec<Element>) {
    let mut alice = Client::login(&w.router, "alice", Some("a")).await;
    alice.send("<presence/>").await;
    let got = alice.drain();
    (alice, got)
}

/// Serialized, with the addressee's JID and every `id` written the same for both addressees.
fn text(e: &Element) -> String {
    let mut s = String::from(e)
        .replace(ALICE, "ADDRESSEE")
        .replace(MISSING, "ADDRESSEE");
    let mut from = 0;
    while let Some(at) = s[from..].find(" id='").map(|i| i + from + 5) {
        let end = s[at..].find('\'').map_or(s.len(), |i| i + at);
        s.replace_range(at..end, "ID");
        from = at;
    }
    s
}

/// Send `xml` (with `TO` for the addressee) to alice and to a missing account; the two
/// answers, serialized as [`text`].
async fn both_answers(c: &mut Client, xml: &str) -> (Vec<String>, Vec<String>) {
    c.send(&xml.replace("TO", ALICE)).await;
    let to_alice = c.drain().iter().map(text).collect();
    c.send(&xml.replace("TO", MISSING)).await;
    let to_missing = c.drain().iter().map(text).collect();
    (to_alice, to_missing)
}

#[tokio::test]
async fn a_hidden_sender_gets_what_a_missing_account_gives_whatever_alices_state() {
    let w = hiding_world();
    let mut bob = online(&w.router, "bob", "b", 0).await;
    let changing = [
        "<presence to='TO'/>",
        "<presence type='subscribe' to='TO'/>",
    ];
    let stanzas = ASKED.iter().chain(&changing);
    // Offline, online, then online with bob a subscriber of hers.
    let mut alice: Option<Client> = None;
    for state in ["offline", "online", "subscribed"] {
        match state {
            "online" => alice = Some(online(&w.router, "alice", "a", 5).await),
            "subscribed" => {
                let a = alice.as_mut().unwrap();
                let both = Subscription {
                    from: true,
                    to: true,
                    ..Subscription::default()
                };
                in_roster(&w, "alice", "bob", both).await;
                a.drain();
            }
            _ => {}
        }
        for xml in stanzas.clone() {
            let (to_alice, to_missing) = both_answers(&mut bob, xml).await;
            assert_eq!(to_alice, to_missing, "{state}: {xml}");
        }
        assert!(
            w.backend.kept("alice").is_empty(),
            "{state}: nothing of bob's is kept for alice"
        );
        if let Some(a) = alice.as_mut() {
            assert!(a.drain().is_empty(), "{state}: alice sees nothing of bob");
        }
    }
    // The messages and iqs were answered at all (the comparison is not between silences).
    let (to_alice, _) = both_answers(
        &mut bob,
        "<message type='chat' to='TO' id='x'><body>hi</body></message>",
    )
    .await;
    assert_eq!(to_alice.len(), 1);
    assert!(to_alice[0].contains("service-unavailable"), "{to_alice:?}");
    // Bob's own roster shows the request to alice as it shows one to a missing account.
    assert_eq!(
        w.backend
            .stored("bob", "alice")
            .map(|c| c.subscription.pending_out),
        Some(true)
    );
    assert_eq!(
        w.backend
            .stored("alice", "bob")
            .map(|c| c.subscription.pending_in),
        Some(false)
    );
}

#[tokio::test]
async fn a_hidden_viewers_subscription_request_is_never_stored_nor_shown() {
    let w = hiding_world();
    let bob = online(&w.router, "bob", "b", 0).await;
    bob.send(&format!("<presence type='subscribe' to='{ALICE}'/>"))
        .await;
    assert_eq!(w.backend.stored("alice", "bob"), None);
    // When alice comes online, there is no pending request to show her.
    let (_alice, got) = login_with_presence(&w).await;
    assert!(
        of(&got, "presence", Some("subscribe")).is_empty(),
        "{got:?}"
    );
    // Cancelling still counts: it only ever takes away what bob sees.
    let mut carol = online(&w.router, "carol", "c", 0).await;
    let bob = {
        let mut bob = bob;
        befriend(&mut carol, &mut bob).await;
        bob
    };
    w.relay.hide(&bare("carol"), &bare("bob"));
    assert!(w.backend.stored("carol", "bob").unwrap().subscription.from);
    bob.send("<presence type='unsubscribe' to='carol@example.org'/>")
        .await;
    assert!(!w.backend.stored("carol", "bob").unwrap().subscription.from);
}

#[tokio::test]
async fn a_request_made_before_the_block_is_not_shown_after_it() {
    let w = world();
    let bob = online(&w.router, "bob", "b", 0).await;
    bob.send(&format!("<presence type='subscribe' to='{ALICE}'/>"))
        .await;
    assert!(
        w.backend.stored("alice", "bob").is_some(),
        "kept as pending"
    );
    // Alice blocks bob while offline; at her login the request is not shown to her.
    w.relay.hide(&bare("alice"), &bare("bob"));
    let (alice, got) = login_with_presence(&w).await;
    assert!(
        of(&got, "presence", Some("subscribe")).is_empty(),
        "{got:?}"
    );
    // Unblocked, it is there again at her next login: the block hid it, it did not answer it.
    alice.logout().await;
    w.relay
        .disclose(&bare("alice"), &bare("bob"), Some(Disclosure::Everything));
    let (_alice, got) = login_with_presence(&w).await;
    assert_eq!(of(&got, "presence", Some("subscribe")).len(), 1, "{got:?}");
}

#[tokio::test]
async fn strangers_get_the_same_answers_whether_alice_is_online_or_not() {
    let w = world();
    let mut carol = online(&w.router, "carol", "c", 0).await;
    let mut answers = Vec::new();
    let mut alice = None;
    for state in ["offline", "online"] {
        if state == "online" {
            alice = Some(online(&w.router, "alice", "a", 0).await);
        }
        let mut these = Vec::new();
        for xml in ASKED {
            carol.send(&xml.replace("TO", ALICE)).await;
            these.push(carol.drain().iter().map(String::from).collect::<Vec<_>>());
        }
        answers.push(these);
    }
    assert_eq!(answers[0], answers[1]);
    let got = alice.unwrap().drain();
    assert_eq!(
        of(&got, "message", Some("chat")).len(),
        1,
        "the chat sent while online: {got:?}"
    );
    let first = &answers[0];
    assert!(
        first[0].is_empty(),
        "a chat message is taken, online or not"
    );
    assert!(first[1].is_empty(), "a normal one too");
    assert!(first[2].is_empty(), "a headline");
    assert!(
        first[3][0].contains("service-unavailable"),
        "groupchat to a bare JID"
    );
    assert!(first[4][0].contains("type='result'"), "ping: {first:?}");
    assert!(first[5][0].contains("registered"), "disco#info: {first:?}");
    assert!(first[6][0].contains("forbidden"), "roster: {first:?}");
    assert!(first[7][0].contains("service-unavailable"));
    assert!(first[8].is_empty(), "a stranger's probe goes unanswered");
}

#[tokio::test]
async fn probes_are_answered_only_for_subscribers_that_may_see() {
    let w = world();
    let mut alice = online(&w.router, "alice", "a", 0).await;
    let mut bob = online(&w.router, "bob", "b", 0).await;
    let mut dave = online(&w.router, "dave", "d", 0).await;
    befriend(&mut alice, &mut bob).await;
    befriend(&mut alice, &mut dave).await;
    // Bob stays a subscriber of alice's, now at level blocked.
    w.relay.hide(&bare("alice"), &bare("bob"));
    for c in [&mut bob, &mut dave] {
        c.send(&format!("<presence type='probe' to='{ALICE}'/>"))
            .await;
    }
    assert!(bob.drain().is_empty(), "hidden subscriber: silence");
    let got = dave.drain();
    assert_eq!(of(&got, "presence", None).len(), 1, "a subscriber: {got:?}");
    bob.send(&format!("<presence type='probe' to='{MISSING}'/>"))
        .await;
    assert!(bob.drain().is_empty(), "missing account: silence");
}

#[tokio::test]
async fn directed_presence_from_a_hidden_viewer_never_reaches_alice() {
    let w = hiding_world();
    let mut alice = online(&w.router, "alice", "a", 0).await;
    let carol = online(&w.router, "carol", "c", 0).await;
    let bob = online(&w.router, "bob", "b", 0).await;
    for to in [ALICE, "alice@example.org/a"] {
        bob.send(&format!(
            "<presence to='{to}'><status>hi</status></presence>"
        ))
        .await;
        carol
            .send(&format!(
                "<presence to='{to}'><status>hi</status></presence>"
            ))
            .await;
    }
    let got = alice.drain();
    assert!(
        got.iter()
            .all(|p| p.attr("from") == Some("carol@example.org/c")),
        "{got:?}"
    );
    assert_eq!(got.len(), 2, "carol's directed presences arrive: {got:?}");
}

#[tokio::test]
async fn from_another_domain_a_hidden_sender_gets_what_a_missing_account_gives() {
    let mut w = hiding_world();
    let mut alice = online(&w.router, "alice", "a", 0).await;
    let stanzas = [
        "<message from='eve@remote.net/r' to='TO' type='chat' id='1'><body>hi</body></message>",
        "<message from='eve@remote.net/r' to='TO' type='headline' id='2'><body>hi</body></message>",
        "<iq from='eve@remote.net/r' to='TO' type='get' id='3'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq from='eve@remote.net/r' to='TO' type='get' id='4'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        "<presence from='eve@remote.net/r' to='TO' type='probe'/>",
        "<presence from='eve@remote.net/r' to='TO' type='subscribe'/>",
        "<presence from='eve@remote.net/r' to='TO'/>",
    ];
    for xml in stanzas {
        w.from_remote(&xml.replace("TO", ALICE)).await;
        let to_alice: Vec<String> = w.sent_out().iter().map(text).collect();
        w.from_remote(&xml.replace("TO", MISSING)).await;
        let to_missing: Vec<String> = w.sent_out().iter().map(text).collect();
        assert_eq!(to_alice, to_missing, "{xml}");
    }
    assert!(alice.drain().is_empty(), "alice sees nothing of eve");
    assert!(w.backend.kept("alice").is_empty());
    assert_eq!(w.backend.stored("alice", "eve@remote.net"), None);

    // A stranger from there is answered for alice's account, and reaches her.
    let ping = "<iq from='zed@remote.net/r' to='alice@example.org' type='get' id='p'>\
                <ping xmlns='urn:xmpp:ping'/></iq>";
    w.from_remote(ping).await;
    let got = w.sent_out();
    assert_eq!(got[0].attr("type"), Some("result"), "{got:?}");
    assert_eq!(got[0].attr("from"), Some(ALICE));
    assert_eq!(got[0].attr("to"), Some("zed@remote.net/r"));
    w.from_remote(
        "<message from='zed@remote.net/r' to='alice@example.org' type='chat' id='m'>\
         <body>hello</body></message>",
    )
    .await;
    assert!(w.sent_out().is_empty());
    assert_eq!(of(&alice.drain(), "message", Some("chat")).len(), 1);
}

#[tokio::test]
async fn a_hidden_remote_contacts_broadcast_still_reaches_a_user_who_asked_for_it() {
    let w = hiding_world();
    let mut alice = online(&w.router, "alice", "a", 0).await;
    // Alice receives eve's presence (subscription `to`), though she hides her own from eve.
    let to = Subscription {
        to: true,
        ..Subscription::default()
    };
    in_roster(&w, "alice", "eve@remote.net", to).await;
    w.from_remote("<presence from='eve@remote.net/r' to='alice@example.org'/>")
        .await;
    assert_eq!(of(&alice.drain(), "presence", None).len(), 1);
}
