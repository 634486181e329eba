//! XEP-0191: Blocking Command (version 1.3). The user's block list is the node's access rules at
//! level blocked (docs/ACCESS.md): a contact rule for a bare JID, a domain rule for a domain
//! JID. A full JID in a block or unblock is taken as its bare JID, since a rule is per person.
//!
//! The wire format lives here; `handler.rs` answers the requests, pushes changes (§3.2, §3.3)
//! and refuses what the user sends to someone they block (§3.5).

mod handler;

use std::collections::BTreeSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::blocking::{Block, BlocklistResult, Unblock};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use crate::ns;
use crate::stanza::error::stanza_error;

/// One blocking request of a user's own session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// §3.1: the block list.
    Get,
    /// §3.2: block these (at least one).
    Block(Vec<BareJid>),
    /// §3.3: unblock these; `None`: every entry.
    Unblock(Option<Vec<BareJid>>),
}

/// Whether an iq payload belongs to this protocol.
pub(crate) fn is_blocking(payload: &Element) -> bool {
    payload.ns() == ns::BLOCKING
}

/// The request in `payload` (an iq get when `get`), or the condition to refuse it with.
pub(crate) fn parse(get: bool, payload: Element) -> Result<Request, DefinedCondition> {
    match (get, payload.name()) {
        (true, "blocklist") => Ok(Request::Get),
        (false, "block") => {
            let block = Block::try_from(payload).map_err(|_| DefinedCondition::BadRequest)?;
            // §3.2: a block without items is an error.
            if block.items.is_empty() {
                return Err(DefinedCondition::BadRequest);
            }
            Ok(Request::Block(bare(block.items)))
        }
        (false, "unblock") => {
            let unblock = Unblock::try_from(payload).map_err(|_| DefinedCondition::BadRequest)?;
            Ok(Request::Unblock(
                (!unblock.items.is_empty()).then(|| bare(unblock.items)),
            ))
        }
        _ => Err(DefinedCondition::BadRequest),
    }
}

/// Each JID as its bare JID, each once, in order.
fn bare(items: Vec<Jid>) -> Vec<BareJid> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .map(|j| j.to_bare())
        .filter(|j| seen.insert(j.clone()))
        .collect()
}

/// §3.1: the block list result.
pub(crate) fn list_result(id: &str, to: &FullJid, items: &BTreeSet<BareJid>) -> Element {
    let payload = BlocklistResult {
        items: items.iter().cloned().map(Jid::from).collect(),
    };
    Iq::from_result(id, Some(payload))
        .with_to(to.clone().into())
        .into()
}

/// §3.2 and §3.3: a push of what was blocked (`blocked`) or unblocked to one session.
pub(crate) fn push(id: String, to: &FullJid, blocked: bool, items: Vec<BareJid>) -> Element {
    let items = items.into_iter().map(Jid::from).collect();
    let payload: Element = if blocked {
        Block { items }.into()
    } else {
        Unblock { items }.into()
    };
    Iq::Set {
        from: None,
        to: Some(to.clone().into()),
        id,
        payload,
    }
    .into()
}

/// §3.5: the error for a stanza the user sent to someone they block: `not-acceptable` with the
/// `<blocked/>` application condition.
pub(crate) fn blocked_error() -> StanzaError {
    let mut error = stanza_error(DefinedCondition::NotAcceptable);
    error.other = Some(Element::builder("blocked", ns::BLOCKING_ERRORS).build());
    error
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        s.parse().unwrap()
    }

    #[test]
    fn full_jids_are_blocked_as_their_bare_jid_once() {
        let block = el("<block xmlns='urn:xmpp:blocking'><item jid='b@d/phone'/>\
             <item jid='b@d'/><item jid='spam.example'/></block>");
        assert_eq!(
            parse(false, block),
            Ok(Request::Block(vec![
                BareJid::new("b@d").unwrap(),
                BareJid::new("spam.example").unwrap()
            ]))
        );
    }

    #[test]
    fn an_empty_block_is_refused_and_an_empty_unblock_means_all() {
        assert_eq!(
            parse(false, el("<block xmlns='urn:xmpp:blocking'/>")),
            Err(DefinedCondition::BadRequest)
        );
        assert_eq!(
            parse(false, el("<unblock xmlns='urn:xmpp:blocking'/>")),
            Ok(Request::Unblock(None))
        );
        assert_eq!(
            parse(
                true,
                el("<block xmlns='urn:xmpp:blocking'><item jid='b@d'/></block>")
            ),
            Err(DefinedCondition::BadRequest)
        );
    }

    #[test]
    fn a_malformed_jid_is_a_bad_request() {
        let block = el("<block xmlns='urn:xmpp:blocking'><item jid='@@'/></block>");
        assert_eq!(parse(false, block), Err(DefinedCondition::BadRequest));
    }
}
