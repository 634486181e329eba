//! XEP-0198 §5 (and Prosody's mod_smacks): stanzas a session ended without the client
//! acknowledging are undelivered. Chat and normal messages are routed again to the user's
//! bare JID: another resource takes them, or offline storage (XEP-0160) keeps them for the
//! next login. Everything else (presence, iq, groupchat, headline, errors, carbon copies) is
//! stale by the time a client could see it, and is dropped.

use std::collections::VecDeque;

use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::MessageType;

use crate::ns::{CARBONS, JABBER_CLIENT};
use crate::ports::backend::Backend;
use crate::router::Router;

/// The message in `xml` as it is routed again to `jid`'s account, with its kind; `None` when
/// it is not one that is.
fn again(xml: &str, jid: &FullJid) -> Option<(Element, MessageType)> {
    let mut el: Element = xml.parse().ok()?;
    if !el.is("message", JABBER_CLIENT) {
        return None;
    }
    let kind = match el.attr("type") {
        None | Some("normal") => MessageType::Normal,
        Some("chat") => MessageType::Chat,
        _ => return None,
    };
    // A carbon copy's original went to the other resource already.
    if el.has_child("received", CARBONS) || el.has_child("sent", CARBONS) {
        return None;
    }
    crate::stanza::set_to(&mut el, jid.to_bare().as_str());
    Some((el, kind))
}

/// Route the chat and normal messages of `unacked`, oldest first, to the account of the
/// session `jid` that ended (it is unbound already).
pub(crate) async fn reroute<B: Backend>(
    router: &Router<B>,
    jid: &FullJid,
    unacked: VecDeque<Box<str>>,
) {
    let user = jid.to_bare();
    let mut count = 0usize;
    for (el, kind) in unacked.iter().filter_map(|xml| again(xml, jid)) {
        let sender = el
            .attr("from")
            .and_then(|f| Jid::new(f).ok())
            .map_or_else(|| router.domain().to_bare(), |f| f.to_bare());
        count += 1;
        if router
            .to_account(&sender, &user, &kind, &el, false)
            .await
            .is_err()
        {
            tracing::warn!(%user, "an unacknowledged message could not be kept offline");
        }
    }
    if count > 0 {
        tracing::info!(%jid, count, "unacknowledged messages routed again");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn only_chat_and_normal_messages_go_again_to_the_bare_jid() {
        let jid = FullJid::new("u@d/phone").unwrap();
        let (el, kind) = again(
            "<message xmlns='jabber:client' type='chat' from='a@d/x' to='u@d/phone'><body>hi</body></message>",
            &jid,
        )
        .unwrap();
        assert_eq!(kind, MessageType::Chat);
        assert_eq!(el.attr("to"), Some("u@d"));
        assert!(
            again(
                "<message xmlns='jabber:client'><body>x</body></message>",
                &jid
            )
            .is_some()
        );
        for other in [
            "<message xmlns='jabber:client' type='groupchat'><body>x</body></message>",
            "<message xmlns='jabber:client' type='headline'><body>x</body></message>",
            "<message xmlns='jabber:client' type='error'/>",
            "<presence xmlns='jabber:client'/>",
            "<iq xmlns='jabber:client' type='get' id='1'/>",
            "<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>",
            "not xml",
        ] {
            assert!(again(other, &jid).is_none(), "{other}");
        }
    }
}
