use std::time::{Duration, Instant};

use super::*;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

fn registration(options: Option<Element>) -> PushRegistration {
    PushRegistration {
        service: Jid::new("push.example").unwrap(),
        node: "n1".into(),
        resource: Some("phone".into()),
        options,
    }
}

#[test]
fn enable_and_disable_parse() {
    let enable = el(
        "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'>\
        <x xmlns='jabber:x:data' type='submit'><field var='secret'><value>s</value></field></x>\
        </enable>",
    );
    let Some(Ok(Request::Enable {
        service,
        node,
        options,
    })) = parse(&enable)
    else {
        panic!("enable not parsed");
    };
    assert_eq!((service.as_str(), node.as_str()), ("push.example", "n1"));
    assert!(options.is_some());
    // §5: the node is required.
    assert_eq!(
        parse(&el("<enable xmlns='urn:xmpp:push:0' jid='push.example'/>")),
        Some(Err(()))
    );
    assert_eq!(
        parse(&el("<disable xmlns='urn:xmpp:push:0' jid='push.example'/>")),
        Some(Ok(Request::Disable {
            service: Jid::new("push.example").unwrap(),
            node: None
        }))
    );
    assert_eq!(
        parse(&el("<disable xmlns='urn:xmpp:push:0'/>")),
        Some(Err(()))
    );
    assert_eq!(parse(&el("<query xmlns='jabber:iq:private'/>")), None);
}

#[test]
fn only_messages_a_person_reads_wake_the_phone() {
    let chat = el("<message xmlns='jabber:client' type='chat'><body>hi</body></message>");
    let normal = el("<message xmlns='jabber:client'><body>hi</body></message>");
    let state = el("<message xmlns='jabber:client' type='chat'>\
        <composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    let headline = el("<message xmlns='jabber:client' type='headline'><body>x</body></message>");
    let group = el("<message xmlns='jabber:client' type='groupchat'><body>x</body></message>");
    let carbon = el(
        "<message xmlns='jabber:client'><received xmlns='urn:xmpp:carbons:2'/>\
        <body>x</body></message>",
    );
    assert!(wanted(&chat, false));
    assert!(wanted(&normal, false));
    assert!(!wanted(&state, false), "a chat state alone");
    assert!(
        wanted(&state, true),
        "but what offline storage kept is worth reading"
    );
    assert!(!wanted(&headline, false));
    assert!(!wanted(&group, false));
    assert!(!wanted(&carbon, false));
}

#[test]
fn the_newest_wanted_unacknowledged_message_wakes_a_dropped_client() {
    let unacked = [
        "<message xmlns='jabber:client' type='chat' from='b@d/x'><body>first</body></message>",
        "<message xmlns='jabber:client' type='chat' from='b@d/x'><body>second</body></message>",
        "<presence xmlns='jabber:client' from='b@d/x'/>",
        "<message xmlns='jabber:client' type='chat' from='b@d/x'>\
         <active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        "<message not xml",
    ];
    let found = last_wanted(unacked.into_iter()).unwrap();
    assert_eq!(
        found.get_child("body", JABBER_CLIENT).unwrap().text(),
        "second"
    );
    assert!(last_wanted(unacked[2..].iter().copied()).is_none());
}

#[test]
fn only_an_away_client_is_woken() {
    assert!(asleep(Some("phone"), &[]), "no session at all");
    assert!(
        asleep(Some("phone"), &[("desk", false)]),
        "another client is no phone"
    );
    assert!(
        asleep(Some("phone"), &[("phone", true)]),
        "detached, awaiting resumption"
    );
    assert!(!asleep(Some("phone"), &[("phone", false)]), "connected");
    assert!(!asleep(None, &[("desk", false)]));
    assert!(asleep(None, &[("desk", true)]));
}

#[test]
fn by_default_the_notification_says_only_how_many() {
    let message =
        el("<message xmlns='jabber:client' type='chat'><body>secret plans</body></message>");
    let sender = BareJid::new("bob@d").unwrap();
    let options = el("<x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
        <field var='secret'><value>s3</value></field></x>");
    let last = Last::of(PushPolicy::default(), &sender, &message);
    let user = BareJid::new("alice@d").unwrap();
    let iq = notification(&user, &registration(Some(options)), "p1", 1, &last);
    let xml = String::from(&iq);
    assert!(
        !xml.contains("secret plans") && !xml.contains("bob@d"),
        "{xml}"
    );
    assert_eq!(iq.attr("from"), Some("alice@d"));
    assert_eq!(iq.attr("to"), Some("push.example"));
    let pubsub = iq.get_child("pubsub", PUBSUB).unwrap();
    let publish = pubsub.get_child("publish", PUBSUB).unwrap();
    assert_eq!(publish.attr("node"), Some("n1"));
    let form = publish
        .get_child("item", PUBSUB)
        .and_then(|i| i.get_child("notification", NS))
        .and_then(|n| n.get_child("x", DATA_FORMS))
        .unwrap();
    let fields: Vec<(&str, String)> = form
        .children()
        .map(|f| (f.attr("var").unwrap(), f.children().next().unwrap().text()))
        .collect();
    assert_eq!(
        fields,
        [
            ("FORM_TYPE", SUMMARY.to_owned()),
            ("message-count", "1".to_owned())
        ]
    );
    let secret = pubsub.get_child("publish-options", PUBSUB).unwrap();
    assert!(String::from(secret).contains("s3"));

    let allowed = PushPolicy {
        include_sender: true,
        include_body: true,
    };
    let xml = String::from(&summary(2, &Last::of(allowed, &sender, &message)));
    assert!(
        xml.contains("bob@d") && xml.contains("secret plans"),
        "{xml}"
    );
}

#[test]
fn a_body_is_cut_on_a_character_boundary() {
    assert_eq!(truncated("ééé", 3), "é");
    assert_eq!(truncated("abc", 10), "abc");
}

#[test]
fn notifications_are_coalesced() {
    let mut slot = Slot::default();
    let t0 = Instant::now();
    assert_eq!(slot.note(t0, Last::default()), Step::Now(1));
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(
        slot.note(t1, Last::default()),
        Step::Later(COALESCE - Duration::from_secs(1))
    );
    assert_eq!(slot.note(t1, Last::default()), Step::Counted);
    assert_eq!(slot.due(t0 + COALESCE).map(|(n, _)| n), Some(2));
    assert_eq!(slot.due(t0 + COALESCE), None, "nothing more due");
    let later = t0 + COALESCE * 3;
    assert_eq!(slot.note(later, Last::default()), Step::Now(1));
}

#[test]
fn answers_come_only_from_the_app_server() {
    let pushes = Pushes::default();
    let key: Key = (
        BareJid::new("a@d").unwrap(),
        "push.example".into(),
        "n1".into(),
    );
    let id = pushes
        .send(InFlight {
            key,
            service: Jid::new("push.example").unwrap(),
        })
        .unwrap();
    assert!(
        pushes
            .answered(&id, Some(&Jid::new("evil.example").unwrap()))
            .is_none()
    );
    assert!(
        pushes
            .answered(&id, Some(&Jid::new("push.example").unwrap()))
            .is_some()
    );
    assert!(pushes.answered(&id, None).is_none(), "answered once");
}
