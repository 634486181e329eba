use super::*;

fn user() -> BareJid {
    BareJid::new("juliet@example.com").unwrap()
}

fn set(xml: &str) -> Result<Set, DefinedCondition> {
    parse_set(&user(), xml.parse().unwrap())
}

#[test]
fn set_adds_with_name_and_groups() {
    let s = set(
        "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query>",
    );
    assert_eq!(
        s,
        Ok(Set::Update {
            jid: BareJid::new("nurse@example.com").unwrap(),
            name: Some("Nurse".into()),
            groups: vec!["Servants".into()]
        })
    );
}

#[test]
fn set_remove() {
    let s = set(
        "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query>",
    );
    assert_eq!(
        s,
        Ok(Set::Remove(BareJid::new("nurse@example.com").unwrap()))
    );
}

#[test]
fn section_2_3_3_errors() {
    let rows: &[(&str, &str, DefinedCondition)] = &[
        (
            "§2.3.3 more than one item",
            "<query xmlns='jabber:iq:roster'><item jid='a@x'/><item jid='b@x'/></query>",
            DefinedCondition::BadRequest,
        ),
        (
            "§2.3.3 no item",
            "<query xmlns='jabber:iq:roster'/>",
            DefinedCondition::BadRequest,
        ),
        (
            "§2.3.3 own bare JID",
            "<query xmlns='jabber:iq:roster'><item jid='juliet@example.com'/></query>",
            DefinedCondition::NotAllowed,
        ),
        (
            "§2.3.3 duplicate group",
            "<query xmlns='jabber:iq:roster'><item jid='a@x'><group>G</group><group>G</group></item></query>",
            DefinedCondition::BadRequest,
        ),
        (
            "§2.3.3 empty group",
            "<query xmlns='jabber:iq:roster'><item jid='a@x'><group></group></item></query>",
            DefinedCondition::NotAcceptable,
        ),
        (
            "§2.1.1 item JID with a resource",
            "<query xmlns='jabber:iq:roster'><item jid='a@x/r'/></query>",
            DefinedCondition::BadRequest,
        ),
    ];
    for (name, xml, want) in rows {
        assert_eq!(set(xml).as_ref().err(), Some(want), "{name}");
    }
    let long = format!(
        "<query xmlns='jabber:iq:roster'><item jid='a@x' name='{}'/></query>",
        "n".repeat(MAX_TEXT_LEN + 1)
    );
    assert_eq!(set(&long), Err(DefinedCondition::NotAcceptable));
}

#[test]
fn server_owned_attributes_are_ignored_in_a_set() {
    let s = set(
        "<query xmlns='jabber:iq:roster'><item jid='a@x' subscription='both' ask='subscribe' approved='true'/></query>",
    );
    assert!(matches!(s, Ok(Set::Update { .. })));
}

#[test]
fn result_lists_only_roster_items_with_states() {
    let c = |jid: &str, sub: Subscription, in_roster| Contact {
        jid: BareJid::new(jid).unwrap(),
        name: None,
        groups: vec!["G".into()],
        subscription: sub,
        in_roster,
    };
    let both = Subscription {
        to: true,
        from: true,
        ..Default::default()
    };
    let asking = Subscription {
        pending_out: true,
        ..Default::default()
    };
    let hidden = Subscription {
        pending_in: true,
        ..Default::default()
    };
    let to = FullJid::new("juliet@example.com/balcony").unwrap();
    let el = result(
        "r1",
        &to,
        &[
            c("a@x", both, true),
            c("b@x", asking, true),
            c("c@x", hidden, false),
        ],
        Some("7".into()),
    );
    let Iq::Result {
        payload: Some(p),
        id,
        ..
    } = Iq::try_from(el).unwrap()
    else {
        panic!()
    };
    assert_eq!(id, "r1");
    let roster = Roster::try_from(p).unwrap();
    assert_eq!(roster.items.len(), 2);
    assert_eq!(roster.items[0].subscription, WireSub::Both);
    assert_eq!(roster.items[1].subscription, WireSub::None);
    assert_eq!(roster.items[1].ask, Ask::Subscribe);
    assert_eq!(
        roster.ver.as_deref(),
        Some("7"),
        "XEP-0237: the result names its version"
    );
}

#[test]
fn push_carries_one_item() {
    let to = FullJid::new("juliet@example.com/balcony").unwrap();
    let el = push(
        "p1".into(),
        &to,
        removed(&BareJid::new("a@x").unwrap()),
        None,
    );
    assert_eq!(el.attr("type"), Some("set"));
    assert_eq!(el.attr("from"), None, "pushes come from the account itself");
    let q = el.get_child("query", "jabber:iq:roster").unwrap();
    assert_eq!(
        q.children().next().unwrap().attr("subscription"),
        Some("remove")
    );
}

#[test]
fn cancellations_on_remove() {
    let s = |to, from, po, pi| Subscription {
        to,
        from,
        pending_out: po,
        pending_in: pi,
        preapproved: false,
    };
    assert_eq!(cancellations(s(true, true, false, false)), (true, true));
    assert_eq!(cancellations(s(false, false, true, false)), (true, false));
    assert_eq!(cancellations(s(false, false, false, true)), (false, true));
    assert_eq!(cancellations(s(false, false, false, false)), (false, false));
}

/// RFC 6121 §2.1.2.5: `subscription='none'` is sent, in results and pushes alike.
#[test]
fn items_without_subscription_say_none() {
    let contact = Contact {
        jid: BareJid::new("nurse@example.com").unwrap(),
        name: None,
        groups: Vec::new(),
        subscription: Subscription::default(),
        in_roster: true,
    };
    let to = FullJid::new("juliet@example.com/balcony").unwrap();
    let result = result("r1", &to, std::slice::from_ref(&contact), None);
    let pushed = push("p1".into(), &to, item(&contact), None);
    for iq in [result, pushed] {
        let query = iq.get_child("query", "jabber:iq:roster").unwrap();
        let item = query.children().next().unwrap();
        assert_eq!(
            item.attr("subscription"),
            Some("none"),
            "{}",
            String::from(&iq)
        );
    }
}
