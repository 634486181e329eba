//! Presence to and from XMPP elements (pure): what a viewer's [`View`] looks like in a
//! `<presence/>`, and what a client's own `<presence/>` says as a presence source.
//!
//! A standard client reads `<show/>` and `<status/>`; clients that know more read the XEP-0108
//! activity and the XEP-0319 idle time; Lampfield-aware clients read the one
//! `<presence xmlns="urn:lampfield:presence:0">` child with the structured detail
//! (docs/PROTOCOL.md, "Presence detail"). Every element is built from the view alone, so nothing
//! the viewer's level hides can appear in it.

use chrono::{DateTime, SecondsFormat, Utc};
use minidom::Element;
use rxml::xml_ncname;
use serde::Serialize;
use xmpp_parsers::presence::{Presence, Show};

use lampfield_domain::access::View;
use lampfield_domain::presence::{
    ClientPresence, ClientShow, DeviceKind, LineState, MAX_NOTE_BYTES, Note, Timestamp,
};

/// Namespace of Lampfield's presence detail element.
pub const NS_LAMPFIELD: &str = "urn:lampfield:presence:0";
/// XEP-0108 User Activity.
pub const NS_ACTIVITY: &str = "http://jabber.org/protocol/activity";
/// XEP-0319 Last User Interaction in Presence.
pub const NS_IDLE: &str = "urn:xmpp:idle:1";
/// XEP-0115 Entity Capabilities.
const NS_CAPS: &str = "http://jabber.org/protocol/caps";
const NS_CLIENT: &str = "jabber:client";

/// The `<presence/>` a viewer gets for `view`; `None` when the view is offline, which a client
/// must see exactly as an offline contact.
pub fn render(view: &View) -> Option<Element> {
    let p = view.presence();
    if p.availability == lampfield_domain::presence::Availability::Offline {
        return None;
    }
    let mut el = Element::builder("presence", NS_CLIENT);
    if let Some(show) = p.availability.xmpp_show() {
        el = el.append(Element::builder("show", NS_CLIENT).append(show).build());
    }
    // Plain "Available" says nothing a missing <show/> does not.
    if p.status_line != lampfield_domain::presence::Availability::Available.label() {
        el = el.append(
            Element::builder("status", NS_CLIENT)
                .append(p.status_line.as_str())
                .build(),
        );
    }
    if let Some(a) = p.user_activity() {
        let mut general = Element::builder(a.general, NS_ACTIVITY);
        if let Some(specific) = a.specific {
            general = general.append(Element::builder(specific, NS_ACTIVITY).build());
        }
        el = el.append(
            Element::builder("activity", NS_ACTIVITY)
                .append(general.build())
                .build(),
        );
    }
    if let Some(since) = p.idle_since {
        el = el.append(
            Element::builder("idle", NS_IDLE)
                .attr(xml_ncname!("since").to_owned(), iso(since))
                .build(),
        );
    }
    Some(el.append(detail(view)).build())
}

/// The structured detail element.
fn detail(view: &View) -> Element {
    let p = view.presence();
    let mut d = Element::builder("presence", NS_LAMPFIELD).attr(
        xml_ncname!("availability").to_owned(),
        name(&p.availability),
    );
    if let Some(a) = p.activity {
        d = d.attr(xml_ncname!("activity").to_owned(), name(&a));
    }
    if let Some(u) = p.until {
        d = d.attr(xml_ncname!("until").to_owned(), iso(u));
    }
    if let Some(profile) = &p.profile {
        d = d.attr(xml_ncname!("profile").to_owned(), profile.as_str());
    }
    if p.lamp != lampfield_domain::presence::Lamp::NoLine {
        d = d.attr(xml_ncname!("lamp").to_owned(), name(&p.lamp));
    }
    if let Some(note) = &p.note {
        d = d.append(text_child("note", note.as_str()));
    }
    let devices = [
        ("desktop", p.devices.desktop),
        ("mobile", p.devices.mobile),
        ("web", p.devices.web),
        ("phone", p.devices.phone),
    ];
    for (kind, _) in devices.iter().filter(|(_, on)| *on) {
        d = d.append(
            Element::builder("device", NS_LAMPFIELD)
                .attr(xml_ncname!("kind").to_owned(), *kind)
                .build(),
        );
    }
    for (id, state) in &p.lines {
        let mut line =
            Element::builder("line", NS_LAMPFIELD).attr(xml_ncname!("id").to_owned(), id.as_str());
        line = match state {
            LineState::Idle => line.attr(xml_ncname!("state").to_owned(), "idle"),
            LineState::Ringing => line.attr(xml_ncname!("state").to_owned(), "ringing"),
            LineState::OutOfOrder => line.attr(xml_ncname!("state").to_owned(), "out_of_order"),
            LineState::OnCall(call) => {
                let mut l = line.attr(xml_ncname!("state").to_owned(), "on_call");
                if call.held {
                    l = l.attr(xml_ncname!("held").to_owned(), "true");
                }
                if call.conference {
                    l = l.attr(xml_ncname!("conference").to_owned(), "true");
                }
                l
            }
        };
        d = d.append(line.build());
    }
    for (id, state) in &p.queues {
        d = d.append(
            Element::builder("queue", NS_LAMPFIELD)
                .attr(xml_ncname!("id").to_owned(), id.as_str())
                .attr(xml_ncname!("state").to_owned(), name(state))
                .build(),
        );
    }
    for slot in view.appointments() {
        let mut a = Element::builder("appointment", NS_LAMPFIELD)
            .attr(xml_ncname!("start").to_owned(), iso(slot.start))
            .attr(xml_ncname!("end").to_owned(), iso(slot.end))
            .attr(xml_ncname!("show-as").to_owned(), name(&slot.show_as));
        if slot.private {
            a = a.attr(xml_ncname!("private").to_owned(), "true");
        }
        if let Some(subject) = &slot.subject {
            a = a.append(text_child("subject", subject.as_str()));
        }
        d = d.append(a.build());
    }
    if let Some(f) = view.forwarding() {
        d = d.append(
            Element::builder("forwarding", NS_LAMPFIELD)
                .attr(xml_ncname!("target").to_owned(), f.target.as_str())
                .build(),
        );
    }
    d.build()
}

fn text_child(name: &str, text: &str) -> Element {
    Element::builder(name, NS_LAMPFIELD).append(text).build()
}

/// The serde (snake_case) name of a unit enum value.
fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// RFC 3339 / XEP-0082 date-time in UTC.
fn iso(t: Timestamp) -> String {
    let ms = i64::try_from(t.unix_ms()).unwrap_or(i64::MAX);
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A client's own available presence as a presence source. `resource` helps classify the device
/// when the client says nothing about it.
pub fn client_source(p: &Presence, resource: &str) -> ClientPresence {
    let show = match p.show {
        None => ClientShow::Available,
        Some(Show::Chat) => ClientShow::Chat,
        Some(Show::Away) => ClientShow::Away,
        Some(Show::Xa) => ClientShow::ExtendedAway,
        Some(Show::Dnd) => ClientShow::DoNotDisturb,
    };
    let status = p
        .statuses
        .get("")
        .or_else(|| p.statuses.values().next())
        .map(|s| one_line(s))
        .filter(|s| !s.is_empty())
        .and_then(|s| Note::new(s).ok());
    ClientPresence {
        device: device_kind(p, resource),
        priority: p.priority.0,
        show,
        status,
        idle_since: idle_since(p),
    }
}

/// XEP-0319 `<idle since=.../>`, if present and readable.
fn idle_since(p: &Presence) -> Option<Timestamp> {
    let since = p
        .payloads
        .iter()
        .find(|e| e.is("idle", NS_IDLE))?
        .attr("since")?;
    let t = DateTime::parse_from_rfc3339(since).ok()?;
    u64::try_from(t.timestamp_millis())
        .ok()
        .map(Timestamp::from_unix_ms)
}

/// The kind of device: a Lampfield `<device kind=.../>` hint, else the XEP-0115 caps node or the
/// resource name of well-known mobile and web clients, else desktop (which never claims "mobile
/// only" falsely).
fn device_kind(p: &Presence, resource: &str) -> DeviceKind {
    let hinted = p
        .payloads
        .iter()
        .find(|e| e.is("device", NS_LAMPFIELD))
        .and_then(|e| e.attr("kind"))
        .and_then(|k| serde_json::from_value(serde_json::Value::String(k.to_owned())).ok());
    if let Some(kind) = hinted {
        return kind;
    }
    let caps = p
        .payloads
        .iter()
        .find(|e| e.is("c", NS_CAPS))
        .and_then(|e| e.attr("node"))
        .unwrap_or("");
    classify(&format!("{caps} {resource}").to_ascii_lowercase())
}

/// Known client names and words, lower-case.
fn classify(names: &str) -> DeviceKind {
    const MOBILE: [&str; 10] = [
        "mobile",
        "android",
        "iphone",
        "ios",
        "conversations",
        "monal",
        "siskin",
        "blabber",
        "monocles",
        "cheogram",
    ];
    const WEB: [&str; 3] = ["web", "converse", "movim"];
    if MOBILE.iter().any(|m| names.contains(m)) {
        DeviceKind::Mobile
    } else if WEB.iter().any(|w| names.contains(w)) {
        DeviceKind::Web
    } else {
        DeviceKind::Desktop
    }
}

/// The first line of a status text, cut to the note limit at a character boundary.
fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = cleaned.trim();
    let mut end = line.len().min(MAX_NOTE_BYTES);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "presence_xml_tests.rs"]
mod tests;
