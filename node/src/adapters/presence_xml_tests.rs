//! What a viewer's XMPP client receives, per level, and how a client's own presence is read.

use super::*;
use lampfield_domain::access::{Detail, Level, view_for};
use lampfield_domain::presence::{
    Booking, BookingKind, Call, LineId, QueueId, Settings, Sources, UtcOffset, aggregate,
};

fn t(min: u64) -> Timestamp {
    Timestamp::from_unix_ms(1_800_000_000_000 + min * 60_000)
}

fn on_a_call_in_a_meeting() -> Detail {
    let mut s = Sources::default();
    let desk: Presence = "<presence xmlns='jabber:client'/>"
        .parse::<Element>()
        .unwrap()
        .try_into()
        .unwrap();
    s.clients
        .insert("desk".into(), client_source(&desk, "desk"));
    s.lines.insert(
        LineId::new("201").unwrap(),
        LineState::OnCall(Call::default()),
    );
    s.queues.insert(
        QueueId::new("support").unwrap(),
        lampfield_domain::presence::AgentState::WrapUp,
    );
    s.calendar.push(Booking {
        start: t(0),
        end: t(60),
        show_as: BookingKind::Busy,
        subject: Some(Note::new("Secret merger").unwrap()),
        private: true,
    });
    Detail {
        presence: aggregate(&s, t(10), &Settings::default()),
        appointments: s.calendar.clone(),
        forwarding: None,
    }
}

fn rendered(level: Level, d: &Detail) -> Option<String> {
    render(&view_for(level, d, t(10), UtcOffset::UTC)).map(|e| String::from(&e))
}

#[test]
fn standard_clients_see_dnd_and_on_the_phone() {
    let xml = rendered(Level::Business, &on_a_call_in_a_meeting()).unwrap();
    assert!(xml.contains("<show>dnd</show>"), "{xml}");
    assert!(xml.contains("On the phone"), "{xml}");
    assert!(xml.contains("<on_the_phone"), "XEP-0108: {xml}");
}

#[test]
fn queue_states_reach_team_but_not_business() {
    let d = on_a_call_in_a_meeting();
    let team = rendered(Level::Team, &d).unwrap();
    assert!(
        team.contains("<queue id='support' state='wrap_up'"),
        "{team}"
    );
    let business = rendered(Level::Business, &d).unwrap();
    assert!(!business.contains("support"), "{business}");
}

#[test]
fn a_private_subject_never_appears_and_blocked_gets_nothing() {
    let d = on_a_call_in_a_meeting();
    for level in Level::ALL {
        if let Some(xml) = rendered(level, &d) {
            assert!(!xml.contains("Secret merger"), "{level:?}: {xml}");
        }
    }
    assert_eq!(rendered(Level::Blocked, &d), None);
}

#[test]
fn client_presence_is_read_with_show_status_idle_and_device() {
    let p: Presence = "<presence xmlns='jabber:client'><show>away</show><status>Back\tsoon\nsecond</status>\
        <priority>5</priority><idle xmlns='urn:xmpp:idle:1' since='2026-11-23T10:00:00Z'/></presence>"
        .parse::<Element>()
        .unwrap()
        .try_into()
        .unwrap();
    let c = client_source(&p, "Conversations.x1y2");
    assert_eq!(c.show, ClientShow::Away);
    assert_eq!(c.priority, 5);
    assert_eq!(c.status.unwrap().as_str(), "Back soon");
    assert_eq!(c.device, DeviceKind::Mobile);
    assert_eq!(c.idle_since.unwrap().unix_ms(), 1_795_428_000_000);
    let hinted: Presence = "<presence xmlns='jabber:client'><device xmlns='urn:lampfield:presence:0' kind='web'/></presence>"
        .parse::<Element>()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(client_source(&hinted, "mobile").device, DeviceKind::Web);
    let plain: Presence = "<presence xmlns='jabber:client'/>"
        .parse::<Element>()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        client_source(&plain, "gajim.AB12").device,
        DeviceKind::Desktop
    );
}
