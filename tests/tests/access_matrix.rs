//! Issue 6's matrix over the XMPP path and the integration API's payload: one user with every kind of presence detail, one watcher
//! moved through every access level, and for each level exactly the fields docs/ACCESS.md allows
//! arrive in the watcher's client. A private appointment's subject never arrives at any level, and
//! a blocked watcher gets what an offline account gives. Below team the watcher sees the person,
//! not the device.

use std::time::Duration;

use lampfield_domain::access::{Forwarding, Level, Rules};
use lampfield_domain::presence::{
    Activity, AgentState, Booking, BookingKind, Call, ExternalSource, LineId, LineState, Note,
    ProfileName, ProfileSource, QueueId, Settable, SourceName,
};
use lampfield_node::engine::{SourceChange, now};
use lampfield_tests::client::{from_bare, from_is};
use lampfield_tests::{befriend, start_node};
use tokio_xmpp::parsers::presence::Type;

const MIN: Duration = Duration::from_secs(60);

/// Markers in the JSON view the integration API serves (`GET /v1/users/{jid}/presence?viewer=`
/// sends exactly this `View`), and the lowest level that may see each.
const JSON_FIELDS: &[(&str, Option<Level>)] = &[
    ("\"availability\":\"busy\"", Some(Level::Public)),
    ("\"show_as\"", Some(Level::Business)),
    ("Merger call", Some(Level::Team)),
    ("Budget review", Some(Level::Team)),
    ("\"ringing\"", Some(Level::Team)),
    ("support", Some(Level::Team)),
    ("+49 555 0100", Some(Level::Team)),
    ("\"private\":true", Some(Level::Personal)),
    ("Divorce lawyer", None),
];

/// Markers in the XML a watcher receives, and the lowest level that may see each.
const FIELDS: &[(&str, Option<Level>)] = &[
    ("<show>dnd</show>", Some(Level::Public)),
    ("<appointment", Some(Level::Business)),
    ("Merger call", Some(Level::Team)),
    ("Budget review", Some(Level::Team)),
    ("state='ringing'", Some(Level::Team)),
    ("id='support'", Some(Level::Team)),
    ("+49 555 0100", Some(Level::Team)),
    ("urn:xmpp:idle:1", Some(Level::Personal)),
    ("private='true'", Some(Level::Personal)),
    ("Divorce lawyer", None),
];

#[tokio::test]
async fn each_level_receives_exactly_its_fields_over_xmpp() {
    let node = start_node().await;
    let mut alice = node.online("alice@localhost", "desk", 0).await;
    let mut bob = node.online("bob@localhost", "desk", 0).await;
    befriend(&mut alice, &mut bob).await;
    let (ab, bb) = (alice.bare(), bob.bare());
    let engine = node.engine();

    let t = now();
    let later = |m: u32| t.saturating_add(MIN * m);
    let earlier = lampfield_domain::presence::Timestamp::from_unix_ms(t.unix_ms() - 10 * 60_000);
    let changes = vec![
        SourceChange::Line(LineId::new("201").unwrap(), Some(LineState::Ringing)),
        SourceChange::Line(
            LineId::new("202").unwrap(),
            Some(LineState::OnCall(Call::default())),
        ),
        SourceChange::Queue(QueueId::new("support").unwrap(), Some(AgentState::WrapUp)),
        SourceChange::External(
            SourceName::new("meetings").unwrap(),
            Some(ExternalSource {
                availability: Settable::Busy,
                activity: Some(Activity::InAMeeting),
                note: Some(Note::new("Merger call").unwrap()),
                expires: later(60),
            }),
        ),
        SourceChange::Calendar(vec![
            Booking {
                start: earlier,
                end: later(50),
                show_as: BookingKind::Busy,
                subject: Some(Note::new("Divorce lawyer").unwrap()),
                private: true,
            },
            Booking {
                start: later(120),
                end: later(180),
                show_as: BookingKind::Busy,
                subject: Some(Note::new("Budget review").unwrap()),
                private: false,
            },
        ]),
        SourceChange::Profile(
            Some(ProfileSource {
                name: ProfileName::new("Home office").unwrap(),
                availability: Settable::Available,
                activity: Some(Activity::HomeOffice),
                note: None,
                until: None,
                since: t,
            }),
            Some(Forwarding {
                target: Note::new("+49 555 0100").unwrap(),
            }),
        ),
        SourceChange::Idle(Some(earlier)),
    ];
    for change in changes {
        engine.update(&ab, change).await.unwrap();
    }

    // Personal first, and wait for its one marker: everything published before is then through.
    let set = |level: Level| {
        let mut rules = Rules::default();
        rules.contacts.insert(bb.clone(), level);
        engine.set_rules(&ab, rules)
    };
    set(Level::Personal).await.unwrap();
    let mut seen = bob
        .expect_presence("alice at personal", |p| {
            from_bare(&p.from, &ab)
                && String::from(&minidom::Element::from(p.clone())).contains("urn:xmpp:idle:1")
        })
        .await;
    bob.forget_backlog();
    for level in [
        Level::Personal,
        Level::Team,
        Level::Business,
        Level::Public,
        Level::Blocked,
    ] {
        if level != Level::Personal {
            set(level).await.unwrap();
            if level == Level::Business {
                // Below team the device is withdrawn and the person shown in its place.
                bob.expect_presence("alice's desk withdrawn below team", |p| {
                    p.type_ == Type::Unavailable && from_is(p, &alice.jid)
                })
                .await;
            }
            seen = bob
                .expect_presence(&format!("alice at {level}"), |p| from_bare(&p.from, &ab))
                .await;
        }
        let xml = String::from(&minidom::Element::from(seen.clone()));
        if level == Level::Blocked {
            assert_eq!(seen.type_, Type::Unavailable, "{xml}");
        }
        // Team and above see the device; below, one presence per person from the node's resource.
        let from = if level >= Level::Team {
            alice.jid.to_string()
        } else {
            format!("{ab}/lampfield")
        };
        assert_eq!(
            seen.from.as_ref().map(ToString::to_string),
            Some(from),
            "level {level}: {xml}"
        );
        let mut snapshot = engine.snapshot(&ab).unwrap();
        let json = serde_json::to_string(snapshot.for_viewer(&bb, &[])).unwrap();
        for (marker, lowest) in JSON_FIELDS {
            let allowed = lowest.is_some_and(|l| level >= l);
            assert_eq!(
                json.contains(marker),
                allowed,
                "API view at {level}: {marker:?} should {}be there:\n{json}",
                if allowed { "" } else { "not " }
            );
        }
        for (marker, lowest) in FIELDS {
            let allowed = lowest.is_some_and(|l| level >= l);
            assert_eq!(
                xml.contains(marker),
                allowed,
                "level {level}: {marker:?} should {}arrive:\n{xml}",
                if allowed { "" } else { "not " }
            );
        }
    }
    alice.close().await;
    bob.close().await;
    node.stop().await;
}
