//! XEP-0160 (Best Practices for Handling Offline Messages), with XEP-0203 delayed delivery
//! and the XEP-0334 storage hints.
//!
//! A `chat` or `normal` message to a bare JID that no available resource with a non-negative
//! priority takes is kept by the node, which bounds what it keeps per user (the backend says
//! [`Kept::Full`] beyond that, and the sender gets `service-unavailable`, §2 step 3). Only a
//! message someone will read later is kept: one with a `<body/>`, or one its sender marked
//! `<store/>`, never one marked `<no-store/>`; a chat state alone is stale by then and is
//! dropped (§3). Each kept message carries a `<delay/>` from the server with the time it was
//! kept.
//!
//! The first resource of the user to send available presence with a non-negative priority
//! gets them all, oldest first, and they are gone (§2 step 5). Delivery is at most once, as
//! live delivery is: a message handed to a session whose stream then breaks is lost with it.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid};
use minidom::{Element, Node};

use super::Refused;
use crate::ns;
use crate::ports::backend::{Backend, Kept};
use crate::router::Router;

use crate::stanza::STAMP_FORMAT;

/// Whether a message nobody takes now is worth keeping for later (XEP-0160 §3, XEP-0334).
pub(crate) fn worth_keeping(message: &Element) -> bool {
    if message.has_child("no-store", ns::HINTS) {
        return false;
    }
    message.has_child("body", ns::JABBER_CLIENT) || message.has_child("store", ns::HINTS)
}

/// `message` as kept: with a XEP-0203 `<delay/>` from `server` stamped `at`. A delay the
/// sender wrote in the server's name is removed first, so nobody can forge when the server
/// kept it; delays from anyone else stay (XEP-0203 allows one per entity).
pub(crate) fn stamped(message: &Element, server: &str, at: DateTime<Utc>) -> Element {
    let mut kept = message.clone();
    for node in kept.take_nodes() {
        let forged = matches!(&node, Node::Element(e)
            if e.is("delay", ns::DELAY) && e.attr("from") == Some(server));
        if !forged {
            kept.append_node(node);
        }
    }
    let delay = Element::builder("delay", ns::DELAY)
        .attr(rxml::xml_ncname!("from").to_owned(), server)
        .attr(
            rxml::xml_ncname!("stamp").to_owned(),
            at.format(STAMP_FORMAT).to_string(),
        )
        .build();
    kept.append_child(delay);
    kept
}

/// The time now, in UTC.
fn now() -> DateTime<Utc> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs())
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, since.subsec_nanos()))
        .unwrap_or_default()
}

impl<B: Backend> Router<B> {
    /// Keep `message` for `to`, who has no resource to take it now. `Err` when the sender is
    /// owed `service-unavailable`: the store is full, or failed.
    pub(crate) async fn keep_offline(
        &self,
        to: &BareJid,
        message: &Element,
    ) -> Result<(), Refused> {
        if !worth_keeping(message) {
            return Ok(());
        }
        let kept = stamped(message, self.domain().domain().as_str(), now());
        match self.backend().keep_offline(to, &kept).await {
            Ok(Kept::Stored) => Ok(()),
            Ok(Kept::Full) => {
                tracing::debug!(user = %to, "offline store full; message refused");
                Err(Refused)
            }
            Err(e) => {
                tracing::warn!(user = %to, error = %e, "offline message not kept");
                Err(Refused)
            }
        }
    }

    /// `resource` sent available presence with a non-negative priority: hand it everything
    /// kept for its user, oldest first. Should it have left meanwhile, they are kept again.
    pub(crate) async fn deliver_offline(&self, resource: &FullJid) {
        let user = resource.to_bare();
        let kept = match self.backend().take_offline(&user).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(%user, error = %e, "offline messages not read");
                return;
            }
        };
        if kept.is_empty() {
            return;
        }
        let count = kept.len();
        let left = {
            let table = self.table();
            match table.get(resource) {
                Some(s) if s.available() => {
                    for message in kept {
                        s.send(message);
                    }
                    Vec::new()
                }
                _ => kept,
            }
        };
        tracing::debug!(%resource, count, undelivered = left.len(), "offline messages delivered");
        for message in left {
            if !matches!(
                self.backend().keep_offline(&user, &message).await,
                Ok(Kept::Stored)
            ) {
                tracing::warn!(%user, "an offline message could not be kept again and is lost");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn msg(inner: &str) -> Element {
        format!("<message xmlns='jabber:client' to='b@d' type='chat'>{inner}</message>")
            .parse()
            .unwrap()
    }

    #[test]
    fn only_what_someone_reads_later_is_kept() {
        assert!(worth_keeping(&msg("<body>hi</body>")));
        assert!(worth_keeping(&msg("<store xmlns='urn:xmpp:hints'/>")));
        assert!(!worth_keeping(&msg(
            "<active xmlns='http://jabber.org/protocol/chatstates'/>"
        )));
        assert!(!worth_keeping(&msg(
            "<body>hi</body><no-store xmlns='urn:xmpp:hints'/>"
        )));
    }

    #[test]
    fn stamp_is_the_servers_and_cannot_be_forged() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_000_000).unwrap();
        let m = msg("<body>hi</body>\
             <delay xmlns='urn:xmpp:delay' from='d' stamp='1999-01-01T00:00:00Z'/>\
             <delay xmlns='urn:xmpp:delay' from='elsewhere' stamp='2000-01-01T00:00:00Z'/>");
        let kept = stamped(&m, "d", at);
        let delays: Vec<_> = kept
            .children()
            .filter(|c| c.is("delay", ns::DELAY))
            .map(|c| (c.attr("from").unwrap(), c.attr("stamp").unwrap()))
            .collect();
        assert_eq!(
            delays,
            [
                ("elsewhere", "2000-01-01T00:00:00Z"),
                ("d", "2023-11-14T22:13:20.123Z")
            ]
        );
        assert_eq!(
            kept.get_child("body", ns::JABBER_CLIENT).unwrap().text(),
            "hi"
        );
        // The stamp parses as XEP-0203 says it must.
        let ours = kept
            .children()
            .find(|c| c.attr("from") == Some("d"))
            .unwrap()
            .clone();
        xmpp_parsers::delay::Delay::try_from(ours).unwrap();
    }
}
