//! Unit tests of what is archived and how requests are read.

use super::*;

fn msg(attrs: &str, inner: &str) -> Element {
    format!("<message xmlns='jabber:client' from='b@d/r' to='a@d' {attrs}>{inner}</message>")
        .parse()
        .unwrap()
}

#[test]
fn what_is_archived() {
    assert!(worth_archiving(&msg("type='chat'", "<body>hi</body>")));
    assert!(worth_archiving(&msg("", "<body>hi</body>")));
    assert!(!worth_archiving(&msg("type='headline'", "<body>hi</body>")));
    assert!(!worth_archiving(&msg("type='error'", "<body>hi</body>")));
    assert!(!worth_archiving(&msg(
        "type='groupchat'",
        "<body>hi</body>"
    )));
    assert!(!worth_archiving(&msg(
        "type='chat'",
        "<active xmlns='http://jabber.org/protocol/chatstates'/>"
    )));
    for hint in ["no-store", "no-permanent-store"] {
        assert!(!worth_archiving(&msg(
            "type='chat'",
            &format!("<body>hi</body><{hint} xmlns='urn:xmpp:hints'/>")
        )));
    }
}

#[test]
fn preferences_decide_with_never_first() {
    let bob = Jid::new("bob@d/phone").unwrap();
    let mut prefs = ArchivePrefs::default();
    assert!(wanted(&prefs, &bob, false));
    prefs.default = ArchiveDefault::Roster;
    assert!(!wanted(&prefs, &bob, false));
    assert!(wanted(&prefs, &bob, true));
    prefs.default = ArchiveDefault::Never;
    assert!(!wanted(&prefs, &bob, true));
    prefs.always = vec![Jid::new("bob@d").unwrap()];
    assert!(wanted(&prefs, &bob, false));
    prefs.never = vec![Jid::new("bob@d").unwrap()];
    assert!(!wanted(&prefs, &bob, false));
}

#[test]
fn forged_stanza_ids_go_and_ours_is_added_once() {
    let alice = BareJid::new("a@d").unwrap();
    let mut m = msg(
        "type='chat'",
        "<body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='a@d' id='forged'/>\
         <stanza-id xmlns='urn:xmpp:sid:0' by='elsewhere' id='theirs'/>",
    );
    assert!(stamped_for(&m, &alice));
    strip_forged(&mut m, &alice);
    assert!(!stamped_for(&m, &alice));
    stamp(&mut m, &alice, "42");
    let ids: Vec<_> = m
        .children()
        .filter(|c| c.is("stanza-id", SID))
        .map(|c| (c.attr("by").unwrap(), c.attr("id").unwrap()))
        .collect();
    assert_eq!(ids, [("elsewhere", "theirs"), ("a@d", "42")]);
}

fn parse(xml: &str, get: bool) -> Option<Result<Request, Malformed>> {
    request(&xml.parse().unwrap(), get)
}

#[test]
fn queries_read_the_form_and_paging() {
    let q = "<query xmlns='urn:xmpp:mam:2' queryid='q1'>\
        <x xmlns='jabber:x:data' type='submit'>\
          <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>\
          <field var='with'><value>bob@d</value></field>\
          <field var='start'><value>2024-01-01T00:00:00Z</value></field>\
        </x>\
        <set xmlns='http://jabber.org/protocol/rsm'><max>1000</max><before/></set></query>";
    let Some(Ok(Request::Query { queryid, query })) = parse(q, false) else {
        panic!()
    };
    assert_eq!(queryid.as_deref(), Some("q1"));
    assert_eq!(query.with, Some(Jid::new("bob@d").unwrap()));
    assert!(query.start.is_some() && query.end.is_none());
    assert_eq!(
        (query.max, query.before, query.after),
        (MAX_PAGE, Some(None), None)
    );
    let plain = "<query xmlns='urn:xmpp:mam:2'/>";
    let Some(Ok(Request::Query { query, .. })) = parse(plain, false) else {
        panic!()
    };
    assert_eq!((query.max, query.before), (DEFAULT_PAGE, None));
    assert_eq!(parse(plain, true), Some(Ok(Request::Fields)));
    let unknown = "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>\
        <field var='fulltext'><value>x</value></field></x></query>";
    assert_eq!(parse(unknown, false), Some(Err(Malformed::Unsupported)));
    let bad_time = "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>\
        <field var='start'><value>yesterday</value></field></x></query>";
    assert_eq!(parse(bad_time, false), Some(Err(Malformed::Bad)));
    assert_eq!(parse("<query xmlns='urn:other'/>", false), None);
}

#[test]
fn preferences_round_trip() {
    let set = "<prefs xmlns='urn:xmpp:mam:2' default='roster'>\
        <always><jid>bob@d</jid></always><never><jid>eve@d</jid></never></prefs>";
    let Some(Ok(Request::SetPrefs(prefs))) = parse(set, false) else {
        panic!()
    };
    assert_eq!(prefs.default, ArchiveDefault::Roster);
    let back = prefs_element(&prefs);
    let Some(Ok(Request::SetPrefs(again))) = request(&back, false) else {
        panic!()
    };
    assert_eq!(again, prefs);
    xmpp_parsers::mam_prefs::Prefs::try_from(back).unwrap();
    assert_eq!(
        parse("<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>", false),
        Some(Err(Malformed::Bad))
    );
}

#[test]
fn results_and_fin_parse_as_xep_0313_says() {
    let item = Archived {
        id: "7".into(),
        at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        message: msg("type='chat'", "<body>hi</body>"),
    };
    let owner = BareJid::new("a@d").unwrap();
    let el = result_message(&Jid::new("a@d/r").unwrap(), &owner, Some("q"), item);
    let result = el.get_child("result", NS).unwrap().clone();
    let parsed = xmpp_parsers::mam::Result_::try_from(result).unwrap();
    assert_eq!(parsed.id, "7");
    let page = ArchivePage {
        items: Vec::new(),
        complete: true,
        count: 3,
        first_index: 1,
    };
    let fin = xmpp_parsers::mam::Fin::try_from(fin(&page, Some("5"), Some("7"))).unwrap();
    assert!(fin.complete);
    assert_eq!(fin.set.count, Some(3));
    assert_eq!(fin.set.last.as_deref(), Some("7"));
}
