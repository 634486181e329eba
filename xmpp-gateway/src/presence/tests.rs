use super::*;
use crate::ports::backend::Subscription;
use crate::subscription::subscription_stanza;

fn p(xml: &str) -> Presence {
    Presence::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

fn bare(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

#[test]
fn classification_rows() {
    let rows: &[(&str, &str, Kind)] = &[
        (
            "§4.2.1 initial presence",
            "<presence xmlns='jabber:client'/>",
            Kind::Broadcast { available: true },
        ),
        (
            "§4.5.1 unavailable broadcast",
            "<presence xmlns='jabber:client' type='unavailable'/>",
            Kind::Broadcast { available: false },
        ),
        (
            "§4.6.1 directed available",
            "<presence xmlns='jabber:client' to='room@x/n'/>",
            Kind::Directed {
                available: true,
                to: Jid::new("room@x/n").unwrap(),
            },
        ),
        (
            "§4.6.1 directed unavailable",
            "<presence xmlns='jabber:client' type='unavailable' to='a@x'/>",
            Kind::Directed {
                available: false,
                to: Jid::new("a@x").unwrap(),
            },
        ),
        (
            "§3.1.1 subscribe, full JID reduced to bare",
            "<presence xmlns='jabber:client' type='subscribe' to='a@x/r'/>",
            Kind::Subscription(Event::OutSubscribe, bare("a@x")),
        ),
        (
            "§3.1.5 subscribed",
            "<presence xmlns='jabber:client' type='subscribed' to='a@x'/>",
            Kind::Subscription(Event::OutSubscribed, bare("a@x")),
        ),
        (
            "§3.3.1 unsubscribe",
            "<presence xmlns='jabber:client' type='unsubscribe' to='a@x'/>",
            Kind::Subscription(Event::OutUnsubscribe, bare("a@x")),
        ),
        (
            "§3.2.1 unsubscribed",
            "<presence xmlns='jabber:client' type='unsubscribed' to='a@x'/>",
            Kind::Subscription(Event::OutUnsubscribed, bare("a@x")),
        ),
        (
            "§3 subscribe without to",
            "<presence xmlns='jabber:client' type='subscribe'/>",
            Kind::Invalid,
        ),
        (
            "§4.3 probe",
            "<presence xmlns='jabber:client' type='probe' to='a@x'/>",
            Kind::Probe(bare("a@x")),
        ),
        (
            "§4.3 probe without to",
            "<presence xmlns='jabber:client' type='probe'/>",
            Kind::Invalid,
        ),
    ];
    for (name, xml, want) in rows {
        assert_eq!(&classify(&p(xml)), want, "{name}");
    }
}

fn contact(jid: &str, sub: Subscription) -> Contact {
    Contact {
        jid: bare(jid),
        name: None,
        groups: vec![],
        subscription: sub,
        in_roster: true,
    }
}

#[test]
fn audiences() {
    let from = Subscription {
        from: true,
        ..Default::default()
    };
    let to = Subscription {
        to: true,
        ..Default::default()
    };
    let both = Subscription {
        to: true,
        from: true,
        ..Default::default()
    };
    let pending = Subscription {
        pending_in: true,
        ..Default::default()
    };
    let cs = [
        contact("f@x", from),
        contact("t@x", to),
        contact("b@x", both),
        contact("p@x", pending),
    ];
    let names =
        |it: &mut dyn Iterator<Item = &BareJid>| it.map(|j| j.to_string()).collect::<Vec<_>>();
    assert_eq!(
        names(&mut subscribers(&cs)),
        ["f@x", "b@x"],
        "§4.2.2 broadcast to from/both"
    );
    assert_eq!(
        names(&mut probed(&cs)),
        ["t@x", "b@x"],
        "§4.2.2 probes to to/both"
    );
    assert_eq!(
        names(&mut pending_requests(&cs)),
        ["p@x"],
        "§3.1.3 pending requests"
    );
}

#[test]
fn section_4_3_2_probe_authorization() {
    assert!(may_see(Some(&contact(
        "a@x",
        Subscription {
            from: true,
            ..Default::default()
        }
    ))));
    assert!(!may_see(Some(&contact(
        "a@x",
        Subscription {
            to: true,
            pending_in: true,
            ..Default::default()
        }
    ))));
    assert!(!may_see(None));
}

#[test]
fn section_4_6_3_directed_leftovers() {
    let directed: HashSet<Jid> = [
        Jid::new("f@x/r").unwrap(),
        Jid::new("room@muc/nick").unwrap(),
    ]
    .into();
    let f = bare("f@x");
    let subs: HashSet<&BareJid> = [&f].into();
    let left = directed_leftovers(&directed, &subs);
    assert_eq!(left, vec![&Jid::new("room@muc/nick").unwrap()]);
}

#[test]
fn stanzas() {
    let s = subscription_stanza(Event::OutSubscribe, &bare("u@d"), &bare("c@d"));
    assert_eq!(
        (s.attr("type"), s.attr("from"), s.attr("to")),
        (Some("subscribe"), Some("u@d"), Some("c@d"))
    );
    let u = unavailable(&FullJid::new("u@d/r").unwrap());
    assert_eq!(
        (u.attr("type"), u.attr("from")),
        (Some("unavailable"), Some("u@d/r"))
    );
}
