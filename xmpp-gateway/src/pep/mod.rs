//! XEP-0163: Personal Eventing Protocol (version 1.2.2) over the subset of XEP-0060
//! Publish-Subscribe (version 1.26) that clients use, with XEP-0223 persistent items and §7.1.5
//! publish-options: enough for XEP-0084 avatars, XEP-0402 bookmarks and XEP-0384 OMEMO device
//! lists and bundles. Every account is its own PEP service at its bare JID.
//!
//! The owner publishes (auto-creating the node), retracts, reads items, creates, configures and
//! deletes nodes. Anyone else may only read items, as far as docs/ACCESS.md lets them (see
//! `access`): below that, a node answers `item-not-found` as if it had never been published. A
//! blocked viewer never gets here: the router answers it as for an account that does not exist.
//! Notifications (`notify`) go to the online sessions whose XEP-0115 caps (`caps`) ask for them.

mod access;
mod caps;
mod config;
mod handler;
mod notify;

use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

pub(crate) use caps::{CapsCache, claim_changed};

use crate::ports::pep::{Item, Node, NodeRefused};
use crate::stanza::error::stanza_error;

/// XEP-0060 namespaces.
pub(crate) const NS: &str = "http://jabber.org/protocol/pubsub";
const NS_OWNER: &str = "http://jabber.org/protocol/pubsub#owner";
const NS_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
const NS_ERRORS: &str = "http://jabber.org/protocol/pubsub#errors";

/// What is advertised (XEP-0060 §10 features), for the server and for accounts.
pub(crate) const FEATURES: &[&str] = &[
    "http://jabber.org/protocol/pubsub#access-open",
    "http://jabber.org/protocol/pubsub#access-presence",
    "http://jabber.org/protocol/pubsub#access-roster",
    "http://jabber.org/protocol/pubsub#access-whitelist",
    "http://jabber.org/protocol/pubsub#auto-create",
    "http://jabber.org/protocol/pubsub#config-node",
    "http://jabber.org/protocol/pubsub#create-nodes",
    "http://jabber.org/protocol/pubsub#delete-nodes",
    "http://jabber.org/protocol/pubsub#filtered-notifications",
    "http://jabber.org/protocol/pubsub#item-ids",
    "http://jabber.org/protocol/pubsub#last-published",
    "http://jabber.org/protocol/pubsub#persistent-items",
    "http://jabber.org/protocol/pubsub#publish",
    "http://jabber.org/protocol/pubsub#publish-options",
    "http://jabber.org/protocol/pubsub#retract-items",
    "http://jabber.org/protocol/pubsub#retrieve-items",
];

/// Longest node name and item id taken.
const MAX_NAME: usize = 1024;

/// Whether `payload` is a pubsub request.
pub(crate) fn is_pubsub(payload: &Element) -> bool {
    payload.is("pubsub", NS) || payload.is("pubsub", NS_OWNER)
}

/// Why a request fails.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A plain condition.
    Plain(DefinedCondition),
    /// `feature-not-implemented` with §5.2 `<unsupported feature=.../>`.
    Unsupported(&'static str),
    /// §7.1.5: the node exists with another configuration.
    Precondition,
    /// A bound of the store.
    Refused(NodeRefused),
    /// The backend failed.
    Backend,
}

type Answer = Result<Option<Element>, Failure>;

impl Failure {
    fn to_error(&self) -> xmpp_parsers::stanza_error::StanzaError {
        let app = |name: &str| Some(Element::builder(name, NS_ERRORS).build());
        match self {
            Failure::Plain(c) => stanza_error(c.clone()),
            Failure::Backend => stanza_error(DefinedCondition::InternalServerError),
            Failure::Unsupported(feature) => {
                let mut e = stanza_error(DefinedCondition::FeatureNotImplemented);
                e.other = Some(
                    Element::builder("unsupported", NS_ERRORS)
                        .attr(rxml::xml_ncname!("feature").to_owned(), *feature)
                        .build(),
                );
                e
            }
            Failure::Precondition => {
                let mut e = stanza_error(DefinedCondition::Conflict);
                e.other = app("precondition-not-met");
                e
            }
            Failure::Refused(why) => {
                let (condition, app_condition) = match why {
                    NodeRefused::ItemTooLarge(_) => {
                        (DefinedCondition::NotAcceptable, Some("payload-too-big"))
                    }
                    NodeRefused::TooManyItems(_) => (DefinedCondition::NotAcceptable, None),
                    _ => (DefinedCondition::ResourceConstraint, None),
                };
                let mut e = stanza_error(condition);
                if let NodeRefused::ItemTooLarge(_) = why {
                    e.type_ = ErrorType::Modify;
                }
                e.other = app_condition.and_then(app);
                e.texts.insert(String::new(), why.to_string());
                e
            }
        }
    }
}

fn pubsub(ns: &str, child: Element) -> Element {
    Element::builder("pubsub", ns).append(child).build()
}

/// The node name of `el`, bounded.
fn node_name(el: &Element) -> Result<&str, Failure> {
    match el.attr("node") {
        Some(n) if !n.is_empty() && n.len() <= MAX_NAME => Ok(n),
        // §7.1.3.3 / §6.5.9.8: nodeid-required.
        _ => Err(Failure::Plain(DefinedCondition::BadRequest)),
    }
}

/// An `<item/>` of `ns` with `id` and its payload.
fn item_element(ns: &str, item: &Item) -> Element {
    let mut el = Element::builder("item", ns)
        .attr(rxml::xml_ncname!("id").to_owned(), item.id.as_str())
        .build();
    if let Some(p) = &item.payload {
        el.append_child(p.clone());
    }
    el
}

/// Keep the newest `max_items` items (only the newest one when items do not persist, XEP-0223).
fn trim(node: &mut Node) {
    let keep = if node.config.persist_items {
        node.config.max_items.max(1)
    } else {
        1
    };
    let excess = node.items.len().saturating_sub(keep);
    node.items.drain(..excess);
}

/// §6.5: the items `op` asks for: those it names by id, else the newest `max_items`, else all.
fn items_answer(name: &str, node: &Node, op: &Element) -> Element {
    let wanted: Vec<&str> = op
        .children()
        .filter(|c| c.is("item", NS))
        .filter_map(|c| c.attr("id"))
        .collect();
    let chosen: Vec<&Item> = if !wanted.is_empty() {
        node.items
            .iter()
            .filter(|i| wanted.contains(&i.id.as_str()))
            .collect()
    } else {
        let max = op
            .attr("max_items")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        let skip = node.items.len().saturating_sub(max);
        node.items.iter().skip(skip).collect()
    };
    let mut items = Element::builder("items", NS)
        .attr(rxml::xml_ncname!("node").to_owned(), name)
        .build();
    for item in chosen {
        items.append_child(item_element(NS, item));
    }
    pubsub(NS, items)
}
