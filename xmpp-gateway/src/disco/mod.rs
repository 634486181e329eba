//! XEP-0030: Service Discovery, answered by the server for itself and for the bare
//! JIDs of local accounts; the server's items are its connected XEP-0114 components.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::disco::{
    DiscoInfoQuery, DiscoInfoResult, DiscoItemsQuery, DiscoItemsResult, Identity,
};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;

/// Features the server offers (XEP-0030 §3.1); `msgoffline` is XEP-0160 §4, carbons XEP-0280 §3.
const SERVER_FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::DISCO_ITEMS,
    ns::PING,
    ns::ROSTER,
    "presence",
    "msgoffline",
    crate::adhoc::NS,
    crate::ns::REGISTER,
    crate::ns::PRIVATE,
    crate::ns::INVISIBLE,
    crate::version::NS,
    crate::entity_time::NS,
    crate::last_activity::NS,
    crate::vcard::NS,
    ns::CARBONS,
    ns::BLOCKING,
];
/// Features an account's bare JID offers, as answered by its server.
const ACCOUNT_FEATURES: &[&str] = &[ns::DISCO_INFO, ns::DISCO_ITEMS, ns::PING];
/// What an account's bare JID offers its owner, who alone reads the archive: XEP-0313 support
/// is advertised on the account (as Prosody does), XEP-0359 with it for the ids it stamps, and
/// XEP-0357 push, which only the owner's clients enable (§4: discovered on the account).
const OWN_ACCOUNT_FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::DISCO_ITEMS,
    ns::PING,
    crate::archive::NS,
    crate::archive::SID,
    crate::avatar_conversion::FEATURE,
    crate::push::NS,
];

/// Who is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    /// The server itself: identity server/im.
    Server,
    /// A local account's bare JID: identity account/registered.
    Account,
    /// A local account's bare JID asked by that account itself.
    OwnAccount,
}

/// The answer to a disco#info or disco#items get, or `None` if `payload` is neither.
/// A query naming a node we do not have gets `None` too, and so an error.
pub(crate) fn answer(
    entity: Entity,
    id: &str,
    requester: Jid,
    asked: Jid,
    payload: Element,
) -> Option<Element> {
    let result: Element = if payload.is("query", ns::DISCO_INFO) {
        let query = DiscoInfoQuery::try_from(payload).ok()?;
        if query.node.is_some() {
            return None;
        }
        let (category, type_, features) = match entity {
            Entity::Server => ("server", "im", SERVER_FEATURES),
            Entity::Account => ("account", "registered", ACCOUNT_FEATURES),
            Entity::OwnAccount => ("account", "registered", OWN_ACCOUNT_FEATURES),
        };
        let identity = |category: &str, type_: &str| Identity {
            category: category.into(),
            type_: type_.into(),
            lang: None,
            name: None,
        };
        let mut identities = vec![identity(category, type_)];
        // XEP-0163 §6.1: every account is its own PEP service.
        if entity == Entity::Account {
            identities.push(identity("pubsub", "pep"));
        }
        DiscoInfoResult {
            node: None,
            identities,
            features: features
                .iter()
                .chain(crate::pep::FEATURES)
                .map(|f| (*f).to_owned())
                .collect(),
            extensions: Vec::new(),
        }
        .into()
    } else if payload.is("query", ns::DISCO_ITEMS) {
        let query = DiscoItemsQuery::try_from(payload).ok()?;
        if query.node.is_some() {
            return None;
        }
        DiscoItemsResult {
            node: None,
            items: Vec::new(),
            rsm: None,
        }
        .into()
    } else {
        return None;
    };
    Some(
        Iq::Result {
            from: Some(asked),
            to: Some(requester),
            id: id.to_owned(),
            payload: Some(result),
        }
        .into(),
    )
}

/// Whether `payload` asks for the items at the root node (XEP-0030 §4.1).
pub(crate) fn is_root_items(payload: &Element) -> bool {
    payload.is("query", ns::DISCO_ITEMS) && payload.attr("node").is_none()
}

/// The server's items (XEP-0030 §4.2): the domains of its XEP-0114 components, so that
/// clients find the group chat and upload services attached to it.
pub(crate) fn server_items(id: &str, requester: Jid, asked: Jid, domains: &[String]) -> Element {
    let items = domains
        .iter()
        .filter_map(|d| Jid::new(d).ok())
        .map(|jid| xmpp_parsers::disco::Item {
            jid,
            node: None,
            name: None,
        })
        .collect();
    Iq::Result {
        from: Some(asked),
        to: Some(requester),
        id: id.to_owned(),
        payload: Some(
            DiscoItemsResult {
                node: None,
                items,
                rsm: None,
            }
            .into(),
        ),
    }
    .into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ask(entity: Entity, xml: &str) -> Option<DiscoInfoResult> {
        let me = Jid::new("u@d/r").unwrap();
        let el = answer(
            entity,
            "i",
            me,
            Jid::new("d").unwrap(),
            xml.parse().unwrap(),
        )?;
        let Iq::Result {
            payload: Some(p), ..
        } = Iq::try_from(el).unwrap()
        else {
            panic!()
        };
        DiscoInfoResult::try_from(p).ok()
    }

    #[test]
    fn server_info() {
        let info = ask(
            Entity::Server,
            "<query xmlns='http://jabber.org/protocol/disco#info'/>",
        )
        .unwrap();
        assert_eq!(info.identities[0].category, "server");
        assert_eq!(info.identities[0].type_, "im");
        for f in [
            "jabber:iq:roster",
            "urn:xmpp:ping",
            "presence",
            "msgoffline",
            "urn:xmpp:carbons:2",
            "urn:xmpp:blocking",
            "http://jabber.org/protocol/disco#info",
        ] {
            assert!(info.features.contains(f), "{f}");
        }
    }

    #[test]
    fn account_info() {
        let info = ask(
            Entity::Account,
            "<query xmlns='http://jabber.org/protocol/disco#info'/>",
        )
        .unwrap();
        assert_eq!(
            (
                info.identities[0].category.as_str(),
                info.identities[0].type_.as_str()
            ),
            ("account", "registered")
        );
    }

    #[test]
    fn items_are_empty_and_nodes_unknown() {
        let me = Jid::new("u@d/r").unwrap();
        let el = answer(
            Entity::Server,
            "i",
            me,
            Jid::new("d").unwrap(),
            "<query xmlns='http://jabber.org/protocol/disco#items'/>"
                .parse()
                .unwrap(),
        )
        .unwrap();
        let Iq::Result {
            payload: Some(p), ..
        } = Iq::try_from(el).unwrap()
        else {
            panic!()
        };
        assert!(DiscoItemsResult::try_from(p).unwrap().items.is_empty());
        assert!(
            ask(
                Entity::Server,
                "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>"
            )
            .is_none()
        );
        assert!(ask(Entity::Server, "<query xmlns='urn:other'/>").is_none());
    }

    #[test]
    fn server_items_name_the_components() {
        let el = server_items(
            "i",
            Jid::new("u@d/r").unwrap(),
            Jid::new("d").unwrap(),
            &["muc.d".to_owned(), "upload.d".to_owned()],
        );
        let Iq::Result {
            payload: Some(p), ..
        } = Iq::try_from(el).unwrap()
        else {
            panic!()
        };
        let items = DiscoItemsResult::try_from(p).unwrap().items;
        let jids: Vec<String> = items.iter().map(|i| i.jid.to_string()).collect();
        assert_eq!(jids, ["muc.d", "upload.d"]);
        let root: Element = "<query xmlns='http://jabber.org/protocol/disco#items'/>"
            .parse()
            .unwrap();
        assert!(is_root_items(&root));
        let node: Element = "<query xmlns='http://jabber.org/protocol/disco#items' node='x'/>"
            .parse()
            .unwrap();
        assert!(!is_root_items(&node));
    }
}
