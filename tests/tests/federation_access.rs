//! The owner's rules hold across organizations: under the default federated ceiling
//! (business), a watcher at another organization never receives appointment subjects
//! or an integration's note, even when the owner grants it personal, while a colleague
//! at home with the same grant does.

use std::time::Duration;

use lampfield_domain::access::{Level, Rules};
use lampfield_domain::presence::{
    Booking, BookingKind, ExternalSource, Note, Settable, SourceName,
};
use lampfield_node::engine::{SourceChange, now};
use lampfield_tests::befriend;
use lampfield_tests::client::{QUIET, from_bare};
use lampfield_tests::federation::Orgs;
use tokio_xmpp::Stanza;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::presence::Type as PresenceType;

const SUBJECT: &str = "Secret merger with Initech";
const NOTE: &str = "Call back ACME about the contract";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_remote_watcher_never_gets_team_detail() {
    let orgs = Orgs::start(2).await;
    let mut alice = orgs.online(0, "alice", "desk").await;
    let mut carol = orgs.online(0, "carol", "desk").await;
    let mut bob = orgs.online(1, "bob", "laptop").await;
    let a = alice.bare();
    befriend(&mut alice, &mut bob).await;
    befriend(&mut alice, &mut carol).await;
    bob.expect_presence("alice available", |p| {
        p.type_ == PresenceType::None && from_bare(&p.from, &a)
    })
    .await;

    let engine = orgs.node(0).engine();
    // alice grants both the most: the colleague gets it, the remote watcher is capped at
    // the federated ceiling (business).
    let mut rules = Rules::default();
    rules.contacts.insert(carol.bare(), Level::Personal);
    rules.contacts.insert(bob.bare(), Level::Personal);
    engine.set_rules(&a, rules).await.unwrap();
    let t = now();
    engine
        .update(
            &a,
            SourceChange::Calendar(vec![Booking {
                start: t,
                end: t.saturating_add(Duration::from_secs(3600)),
                show_as: BookingKind::Busy,
                subject: Some(Note::new(SUBJECT).unwrap()),
                private: false,
            }]),
        )
        .await
        .unwrap();
    engine
        .update(
            &a,
            SourceChange::External(
                SourceName::new("crm").unwrap(),
                Some(ExternalSource {
                    availability: Settable::Busy,
                    activity: None,
                    note: Some(Note::new(NOTE).unwrap()),
                    expires: t.saturating_add(Duration::from_secs(3600)),
                }),
            ),
        )
        .await
        .unwrap();

    // The colleague at home sees the detail: it exists and is rendered.
    carol
        .expect("alice's presence with the subject", |s| match s {
            Stanza::Presence(p) if from_bare(&p.from, &a) => {
                let xml = String::from(&Element::from(p.clone()));
                xml.contains(SUBJECT).then_some(())
            }
            _ => None,
        })
        .await;
    // The remote watcher gets the change (busy), never the detail.
    let seen = collect(&mut bob, &a).await;
    assert!(!seen.is_empty(), "bob saw no change of alice");
    for xml in &seen {
        assert!(
            !xml.contains(SUBJECT),
            "subject leaked to another organization: {xml}"
        );
        assert!(!xml.contains("Initech"), "subject leaked: {xml}");
        assert!(
            !xml.contains(NOTE) && !xml.contains("ACME"),
            "note leaked: {xml}"
        );
    }

    alice.close().await;
    carol.close().await;
    bob.close().await;
    orgs.shutdown().await;
}

/// Every presence from `from` that `client` receives within a quiet period, as XML.
async fn collect(client: &mut lampfield_tests::TestClient, from: &jid::BareJid) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let got = tokio::time::timeout(
            QUIET,
            client.expect("a presence", |s| match s {
                Stanza::Presence(p) if from_bare(&p.from, from) => {
                    Some(String::from(&Element::from(p.clone())))
                }
                _ => None,
            }),
        )
        .await;
        match got {
            Ok(xml) => out.push(xml),
            Err(_) => return out,
        }
    }
}
