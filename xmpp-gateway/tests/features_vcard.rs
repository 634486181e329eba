//! What the server keeps of a person and answers at their bare JID by the viewer's level
//! (docs/ACCESS.md): the vCard (XEP-0054) from public on, with the empty `<vCard/>` for strangers,
//! and the last activity (XEP-0012) from team on, with a stranger's `service-unavailable` below
//! it; local and remote viewers alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features_support;

use std::sync::Arc;

use features_support::*;
use lampfield_xmpp::{Backend, Contact, Router, Subscription};
use minidom::Element;
use tokio::sync::mpsc;

const ALICE: &str = "alice@example.org";
const REMOTE: &str = "remote.net";

fn get_vcard(id: &str, to: &str) -> String {
    format!("<iq type='get' id='{id}' to='{to}'><vCard xmlns='vcard-temp'/></iq>")
}

fn get_last(id: &str, to: &str) -> String {
    format!("<iq type='get' id='{id}' to='{to}'><query xmlns='jabber:iq:last'/></iq>")
}

/// The one answer to request `id` among `els`.
fn answer<'a>(els: &'a [Element], id: &str) -> &'a Element {
    let found: Vec<&Element> = els
        .iter()
        .filter(|e| e.name() == "iq" && e.attr("id") == Some(id))
        .collect();
    assert_eq!(found.len(), 1, "one answer to {id}: {els:?}");
    found[0]
}

/// The `<FN/>` of the vCard in a result, empty for the empty vCard.
fn full_name(result: &Element) -> String {
    assert_eq!(result.attr("type"), Some("result"), "{result:?}");
    let card = result.get_child("vCard", "vcard-temp").expect("a vCard");
    card.children()
        .find(|c| c.name() == "FN")
        .map(|c| c.text())
        .unwrap_or_default()
}

/// A router with a queue to other domains, and alice, bob, carol and dave online; bob is
/// alice's contact both ways, carol and dave strangers.
async fn world() -> (
    Router<FakeBackend>,
    Arc<FakeBackend>,
    Arc<Relay>,
    mpsc::Receiver<Element>,
    [Client; 4],
) {
    let (router, backend, relay, out) = router_with_remote(&["alice", "bob", "carol", "dave"]);
    let mut alice = online(&router, "alice", "desk", 0).await;
    let mut bob = online(&router, "bob", "desk", 0).await;
    let carol = online(&router, "carol", "desk", 0).await;
    let dave = online(&router, "dave", "desk", 0).await;
    befriend(&mut alice, &mut bob).await;
    (router, backend, relay, out, [alice, bob, carol, dave])
}

/// A get from `from` (in another domain) to alice, and the answer that left for it.
async fn from_remote(
    router: &Router<FakeBackend>,
    out: &mut mpsc::Receiver<Element>,
    from: &str,
    payload: &str,
) -> Element {
    let el: Element = format!(
        "<iq xmlns='jabber:server' type='get' id='r' from='{from}/x' to='{ALICE}'>{payload}</iq>"
    )
    .parse()
    .unwrap();
    router.handle_remote(REMOTE, el).await.unwrap();
    out.try_recv().expect("an answer to the other domain")
}

#[tokio::test]
async fn a_vcard_shows_from_public_and_a_stranger_gets_what_no_vcard_gives() {
    let (router, backend, relay, mut out, [mut alice, mut bob, mut carol, _dave]) = world().await;

    alice
        .send("<iq type='set' id='set'><vCard xmlns='vcard-temp'><FN>Alice L</FN></vCard></iq>")
        .await;
    assert_eq!(answer(&alice.drain(), "set").attr("type"), Some("result"));
    alice
        .send("<iq type='get' id='own'><vCard xmlns='vcard-temp'/></iq>")
        .await;
    assert_eq!(full_name(answer(&alice.drain(), "own")), "Alice L");

    bob.send(&get_vcard("contact", ALICE)).await;
    assert_eq!(full_name(answer(&bob.drain(), "contact")), "Alice L");
    relay.set_rule(&bare("alice"), &bare("bob"), Some("public"));
    bob.send(&get_vcard("public", ALICE)).await;
    assert_eq!(full_name(answer(&bob.drain(), "public")), "Alice L");

    // A stranger: exactly what a user who never set a vCard (bob) gives.
    carol.send(&get_vcard("s", ALICE)).await;
    carol.send(&get_vcard("s", "bob@example.org")).await;
    let got = carol.drain();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(error_shape(&got[0]), error_shape(&got[1]));
    assert_eq!(full_name(&got[0]), "");

    // Nobody else sets alice's vCard.
    bob.send(
        "<iq type='set' id='theirs' to='alice@example.org'>\
         <vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>",
    )
    .await;
    let refused = bob.drain();
    assert_eq!(
        error_condition(answer(&refused, "theirs")).as_deref(),
        Some("forbidden")
    );

    // Blocked: what an account that does not exist gives.
    relay.set_rule(&bare("alice"), &bare("bob"), Some("blocked"));
    bob.send(&get_vcard("b", ALICE)).await;
    bob.send(&get_vcard("b", "nobody@example.org")).await;
    let got = bob.drain();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        error_condition(&got[0]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(error_shape(&got[0]), error_shape(&got[1]));

    // Too large: refused with a text, the stored one stays.
    let big = "x".repeat(VCARD_MAX);
    alice
        .send(&format!(
            "<iq type='set' id='big'><vCard xmlns='vcard-temp'><FN>{big}</FN></vCard></iq>"
        ))
        .await;
    let got = alice.drain();
    let refused = answer(&got, "big");
    assert_eq!(error_condition(refused).as_deref(), Some("not-acceptable"));
    assert!(
        String::from(refused).contains("smaller photo"),
        "{refused:?}"
    );
    let kept = backend.vcards.lock().unwrap().get(&bare("alice")).cloned();
    assert!(String::from(&kept.unwrap()).contains("Alice L"));

    // From another domain: a subscribed contact reads it, a stranger gets the empty vCard.
    let eve = Contact {
        jid: bare("eve@remote.net"),
        name: None,
        groups: Vec::new(),
        subscription: Subscription {
            from: true,
            ..Subscription::default()
        },
        in_roster: true,
    };
    backend.put_contact(&bare("alice"), eve).await.unwrap();
    let vcard = "<vCard xmlns='vcard-temp'/>";
    let seen = from_remote(&router, &mut out, "eve@remote.net", vcard).await;
    assert_eq!(full_name(&seen), "Alice L");
    let stranger = from_remote(&router, &mut out, "mallory@remote.net", vcard).await;
    assert_eq!(full_name(&stranger), "");
    assert_eq!(stranger.attr("to"), Some("mallory@remote.net/x"));
}

#[tokio::test]
async fn last_activity_is_told_from_team_on_and_below_it_never_depends_on_the_state() {
    let (router, backend, relay, mut out, [mut alice, mut bob, mut carol, mut dave]) =
        world().await;
    befriend(&mut alice, &mut carol).await;
    relay.set_rule(&bare("alice"), &bare("bob"), Some("team"));
    relay.set_rule(&bare("alice"), &bare("carol"), Some("business"));
    let below_team = |carol: &mut Client, dave: &mut Client, id: &str| {
        let (c, d) = (carol.drain(), dave.drain());
        let (c, d) = (answer(&c, id), answer(&d, id));
        assert_eq!(error_condition(c).as_deref(), Some("service-unavailable"));
        assert_eq!(error_shape(c), error_shape(d));
        error_shape(c)
    };

    // Online: 0 (XEP-0012 §3).
    bob.send(&get_last("on", ALICE)).await;
    let got = bob.drain();
    let on = answer(&got, "on")
        .get_child("query", "jabber:iq:last")
        .unwrap();
    assert_eq!((on.attr("seconds"), on.text().as_str()), (Some("0"), ""));
    carol.send(&get_last("on", ALICE)).await;
    dave.send(&get_last("on", ALICE)).await;
    let online_answer = below_team(&mut carol, &mut dave, "on");

    // The last client goes with a status: kept once, told to the team.
    alice
        .send("<presence type='unavailable'><status>gone home</status></presence>")
        .await;
    alice.logout().await;
    let kept = backend
        .last_logouts
        .lock()
        .unwrap()
        .get(&bare("alice"))
        .cloned();
    assert_eq!(kept.unwrap().status.as_deref(), Some("gone home"));
    bob.send(&get_last("off", ALICE)).await;
    let got = bob.drain();
    let off = answer(&got, "off")
        .get_child("query", "jabber:iq:last")
        .unwrap();
    assert!(off.attr("seconds").unwrap().parse::<u64>().unwrap() < 60);
    assert_eq!(off.text(), "gone home");
    carol.send(&get_last("off", ALICE)).await;
    dave.send(&get_last("off", ALICE)).await;
    assert_eq!(below_team(&mut carol, &mut dave, "off"), online_answer);

    // A federated contact below team gets the same refusal.
    let query = "<query xmlns='jabber:iq:last'/>";
    let remote = from_remote(&router, &mut out, "eve@remote.net", query).await;
    assert_eq!(
        error_condition(&remote).as_deref(),
        Some("service-unavailable")
    );
}
