//! XEP-0313: Message Archive Management (version 1.1.3), namespace `urn:xmpp:mam:2`, for each
//! local account's own archive, with XEP-0359 (Unique and Stable Stanza IDs, version 0.7.0)
//! archive ids and XEP-0059 (Result Set Management, version 1.0) paging.
//!
//! What is archived ("User archives", "Business rules"): the one-to-one messages an
//! account sends and receives of type `chat` or `normal` that carry a `<body/>` (what a person
//! reads later), whether delivered now or kept offline; never `error`, `headline` or
//! `groupchat`, never a chat state alone, never a carbon copy (the original is archived), never
//! one marked XEP-0334 `<no-store/>` or `<no-permanent-store/>`. A message whose sender the
//! recipient hides from (blocked) goes nowhere and is archived nowhere on the recipient's side.
//! The user's preferences ("Archiving preferences": default `always`, `never` or `roster`, and
//! lists of JIDs always or never archived) decide last.
//!
//! The copy delivered to the recipient carries `<stanza-id by='recipient bare JID'/>` with
//! the archive id. A stanza-id naming the recipient that came from outside is removed first
//! (XEP-0359), before the message goes anywhere, so a client can trust the one it sees.
//!
//! The archive is read only by its owner: a query, preferences or metadata asked of someone
//! else's bare JID is answered like any namespace the server does not answer for an account
//! (`service-unavailable`, docs/ACCESS.md).

mod handler;

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use minidom::{Element, Node};

use crate::ns;
use crate::ports::archive::{
    ArchiveDefault, ArchiveMark, ArchivePage, ArchivePrefs, ArchiveQuery, Archived,
};
use crate::stanza::STAMP_FORMAT;

/// The namespace of queries, results and preferences.
pub(crate) const NS: &str = xmpp_parsers::ns::MAM;
/// XEP-0359's namespace.
pub(crate) const SID: &str = xmpp_parsers::ns::SID;
/// XEP-0059's namespace.
const RSM: &str = xmpp_parsers::ns::RSM;
/// XEP-0004's namespace.
const DATA: &str = xmpp_parsers::ns::DATA_FORMS;

/// A page holds this many messages when the client names no `max`.
pub(crate) const DEFAULT_PAGE: usize = 50;
/// A page never holds more than this many messages, whatever the client asks.
pub(crate) const MAX_PAGE: usize = 100;

/// Whether `message` belongs in its sender's and recipient's archives (before preferences).
pub(crate) fn worth_archiving(message: &Element) -> bool {
    let kind_ok = matches!(message.attr("type"), None | Some("chat" | "normal"));
    let opted_out = message.has_child("no-store", ns::HINTS)
        || message.has_child("no-permanent-store", ns::HINTS);
    let copy = message.has_child("sent", ns::CARBONS) || message.has_child("received", ns::CARBONS);
    kind_ok && !opted_out && !copy && message.has_child("body", ns::JABBER_CLIENT)
}

/// Whether `user`'s preferences archive a message exchanged with `peer`; `in_roster`: whether
/// `peer` is in `user`'s roster. A JID in both lists is never archived (the safer choice).
pub(crate) fn wanted(prefs: &ArchivePrefs, peer: &Jid, in_roster: bool) -> bool {
    let bare = peer.to_bare();
    let named = |list: &[Jid]| {
        list.iter()
            .any(|j| j == peer || (j.resource().is_none() && j.to_bare() == bare))
    };
    if named(&prefs.never) {
        return false;
    }
    if named(&prefs.always) {
        return true;
    }
    match prefs.default {
        ArchiveDefault::Always => true,
        ArchiveDefault::Never => false,
        ArchiveDefault::Roster => in_roster,
    }
}

/// Whether `node` is a XEP-0359 stanza-id in `user`'s name.
fn is_ours(node: &Node, user: &BareJid) -> bool {
    matches!(node, Node::Element(e)
        if e.is("stanza-id", SID)
            && e.attr("by").and_then(|b| Jid::new(b).ok()).as_ref() == Some(&Jid::from(user.clone())))
}

/// XEP-0359: remove every stanza-id that names `user`, which only `user`'s server may add.
pub(crate) fn strip_forged(message: &mut Element, user: &BareJid) {
    if !message.nodes().any(|n| is_ours(n, user)) {
        return;
    }
    for node in message.take_nodes() {
        if !is_ours(&node, user) {
            message.append_node(node);
        }
    }
}

/// Whether this server gave `message` an archive id in `user`'s name already.
pub(crate) fn stamped_for(message: &Element, user: &BareJid) -> bool {
    message.nodes().any(|n| is_ours(n, user))
}

/// Add the archive id `id` of `user`'s archive to `message` (XEP-0313 "Communicating the
/// archive ID", XEP-0359).
pub(crate) fn stamp(message: &mut Element, user: &BareJid, id: &str) {
    message.append_child(
        Element::builder("stanza-id", SID)
            .attr(rxml::xml_ncname!("by").to_owned(), user.as_str())
            .attr(rxml::xml_ncname!("id").to_owned(), id)
            .build(),
    );
}

/// A client's request in this namespace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    /// "Retrieving form fields" (get `<query/>`): which fields a query takes.
    Fields,
    /// "Querying an archive" (set `<query/>`): one page of the archive.
    Query {
        /// Echoed in each result.
        queryid: Option<String>,
        /// What is asked.
        query: ArchiveQuery,
    },
    /// "Retrieving message archive metadata" (get `<metadata/>`): the archive's first and last message.
    Metadata,
    /// "Archiving preferences" (get `<prefs/>`).
    GetPrefs,
    /// "Archiving preferences" (set `<prefs/>`).
    SetPrefs(ArchivePrefs),
}

/// A request that is not well formed: `bad-request`, or `feature-not-implemented` for what this
/// server does not do (a form field it does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Unreadable.
    Bad,
    /// A field or paging this server does not offer.
    Unsupported,
}

/// The request `payload` (of a get when `get`) makes, `None` when it is not in this namespace.
pub(crate) fn request(payload: &Element, get: bool) -> Option<Result<Request, Malformed>> {
    if payload.ns() != NS {
        return None;
    }
    Some(match (payload.name(), get) {
        ("query", true) => Ok(Request::Fields),
        ("query", false) => query(payload),
        ("metadata", true) => Ok(Request::Metadata),
        ("prefs", true) => Ok(Request::GetPrefs),
        ("prefs", false) => prefs(payload).map(Request::SetPrefs),
        _ => Err(Malformed::Bad),
    })
}

/// The text of the only `<value/>` of a form field.
fn value(field: &Element) -> Option<String> {
    field
        .get_child("value", DATA)
        .map(Element::text)
        .filter(|t| !t.is_empty())
}

/// An XEP-0082 date-time.
fn when(text: &str) -> Result<DateTime<Utc>, Malformed> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Malformed::Bad)
}

fn query(payload: &Element) -> Result<Request, Malformed> {
    let mut q = ArchiveQuery {
        max: DEFAULT_PAGE,
        ..ArchiveQuery::default()
    };
    if payload.attr("node").is_some() {
        return Err(Malformed::Unsupported);
    }
    if let Some(form) = payload.get_child("x", DATA) {
        for field in form.children().filter(|c| c.is("field", DATA)) {
            let var = field.attr("var").unwrap_or_default();
            let text = value(field);
            match (var, text) {
                ("FORM_TYPE", Some(t)) if t == NS => {}
                ("FORM_TYPE", _) => return Err(Malformed::Bad),
                ("with", Some(t)) => q.with = Some(Jid::new(t.trim()).map_err(|_| Malformed::Bad)?),
                ("start", Some(t)) => q.start = Some(when(&t)?),
                ("end", Some(t)) => q.end = Some(when(&t)?),
                ("with" | "start" | "end", None) => {}
                _ => return Err(Malformed::Unsupported),
            }
        }
    }
    if let Some(set) = payload.get_child("set", RSM) {
        if let Some(max) = set.get_child("max", RSM) {
            let n: usize = max.text().trim().parse().map_err(|_| Malformed::Bad)?;
            q.max = n.min(MAX_PAGE);
        }
        q.after = set
            .get_child("after", RSM)
            .map(|a| a.text().trim().to_owned())
            .filter(|a| !a.is_empty());
        q.before = set.get_child("before", RSM).map(|b| {
            let id = b.text().trim().to_owned();
            (!id.is_empty()).then_some(id)
        });
        if set.has_child("index", RSM) {
            return Err(Malformed::Unsupported);
        }
    }
    Ok(Request::Query {
        queryid: payload.attr("queryid").map(str::to_owned),
        query: q,
    })
}

fn prefs(payload: &Element) -> Result<ArchivePrefs, Malformed> {
    let default = match payload.attr("default") {
        Some("always") => ArchiveDefault::Always,
        Some("never") => ArchiveDefault::Never,
        Some("roster") => ArchiveDefault::Roster,
        _ => return Err(Malformed::Bad),
    };
    let list = |name: &str| -> Result<Vec<Jid>, Malformed> {
        payload
            .get_child(name, NS)
            .map(|l| {
                l.children()
                    .filter(|j| j.is("jid", NS))
                    .map(|j| Jid::new(j.text().trim()).map_err(|_| Malformed::Bad))
                    .collect()
            })
            .unwrap_or(Ok(Vec::new()))
    };
    Ok(ArchivePrefs {
        default,
        always: list("always")?,
        never: list("never")?,
    })
}

/// `<prefs/>` as stored.
pub(crate) fn prefs_element(prefs: &ArchivePrefs) -> Element {
    let default = match prefs.default {
        ArchiveDefault::Always => "always",
        ArchiveDefault::Never => "never",
        ArchiveDefault::Roster => "roster",
    };
    let list = |name: &str, jids: &[Jid]| {
        Element::builder(name, NS)
            .append_all(
                jids.iter()
                    .map(|j| Element::builder("jid", NS).append(j.to_string()).build()),
            )
            .build()
    };
    Element::builder("prefs", NS)
        .attr(rxml::xml_ncname!("default").to_owned(), default)
        .append(list("always", &prefs.always))
        .append(list("never", &prefs.never))
        .build()
}

/// A data form field.
fn field(var: &str, type_: &str, value: Option<&str>) -> Element {
    let mut f = Element::builder("field", DATA)
        .attr(rxml::xml_ncname!("var").to_owned(), var)
        .attr(rxml::xml_ncname!("type").to_owned(), type_);
    if let Some(v) = value {
        f = f.append(Element::builder("value", DATA).append(v).build());
    }
    f.build()
}

/// "Retrieving form fields": the fields a query takes.
pub(crate) fn fields() -> Element {
    let form = Element::builder("x", DATA)
        .attr(rxml::xml_ncname!("type").to_owned(), "form")
        .append(field("FORM_TYPE", "hidden", Some(NS)))
        .append(field("with", "jid-single", None))
        .append(field("start", "text-single", None))
        .append(field("end", "text-single", None))
        .build();
    Element::builder("query", NS).append(form).build()
}

/// "Query results": one archived message as sent to the client that asked, from the archive's owner.
pub(crate) fn result_message(
    to: &Jid,
    owner: &BareJid,
    queryid: Option<&str>,
    item: Archived,
) -> Element {
    let delay = Element::builder("delay", ns::DELAY)
        .attr(
            rxml::xml_ncname!("stamp").to_owned(),
            item.at.format(STAMP_FORMAT).to_string(),
        )
        .build();
    let forwarded = Element::builder("forwarded", ns::FORWARD)
        .append(delay)
        .append(item.message)
        .build();
    let mut result =
        Element::builder("result", NS).attr(rxml::xml_ncname!("id").to_owned(), item.id);
    if let Some(q) = queryid {
        result = result.attr(rxml::xml_ncname!("queryid").to_owned(), q);
    }
    Element::builder("message", ns::JABBER_CLIENT)
        .attr(rxml::xml_ncname!("to").to_owned(), to.to_string())
        .attr(rxml::xml_ncname!("from").to_owned(), owner.as_str())
        .append(result.append(forwarded).build())
        .build()
}

/// "Query results": `<fin/>` closing a page, with its XEP-0059 `<set/>`.
pub(crate) fn fin(page: &ArchivePage, first: Option<&str>, last: Option<&str>) -> Element {
    let mut set = Element::builder("set", RSM);
    if let (Some(first), Some(last)) = (first, last) {
        set = set
            .append(
                Element::builder("first", RSM)
                    .attr(
                        rxml::xml_ncname!("index").to_owned(),
                        page.first_index.to_string(),
                    )
                    .append(first)
                    .build(),
            )
            .append(Element::builder("last", RSM).append(last).build());
    }
    set = set.append(
        Element::builder("count", RSM)
            .append(page.count.to_string())
            .build(),
    );
    let mut fin = Element::builder("fin", NS);
    if page.complete {
        fin = fin.attr(rxml::xml_ncname!("complete").to_owned(), "true");
    }
    fin.append(set.build()).build()
}

/// The archive's first and last message, or an empty `<metadata/>`.
pub(crate) fn metadata(ends: Option<(ArchiveMark, ArchiveMark)>) -> Element {
    let mark = |name: &str, m: &ArchiveMark| {
        Element::builder(name, NS)
            .attr(rxml::xml_ncname!("id").to_owned(), m.id.as_str())
            .attr(
                rxml::xml_ncname!("timestamp").to_owned(),
                m.at.format(STAMP_FORMAT).to_string(),
            )
            .build()
    };
    let mut el = Element::builder("metadata", NS);
    if let Some((first, last)) = ends {
        el = el.append(mark("start", &first)).append(mark("end", &last));
    }
    el.build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
