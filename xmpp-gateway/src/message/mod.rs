//! RFC 6121 §5 and §8.5 (RFC 6120 §10.5): delivery of messages to local accounts.
//!
//! To a full JID: that session if it is bound and the sender may address it, else as if to
//! the bare JID (§8.5.3.2.1). To a bare JID (§8.5.2.1.1): `chat` goes to the available resources
//! with the highest non-negative priority, `normal` and `headline` to every available
//! resource with a non-negative priority, `groupchat` is refused, `error` is dropped.
//!
//! A `chat` or `normal` message that no resource can take is kept offline (XEP-0160,
//! `offline`) and delivered at the user's next available presence; the sender hears nothing,
//! as it would had the message been delivered, unless the user's offline store is full
//! (`service-unavailable`). A `headline` nobody takes is dropped (§8.5.2.2.1).
//!
//! A `chat` message, or a `normal` one with a body, that reaches one of the user's resources is
//! copied to the others that enabled XEP-0280 carbons (`carbons/`), and a resource's own such
//! message to the others as sent; the `<private/>` opt-out is removed first.
//!
//! Who may not tell a person from a missing account: a sender the person hides from (access
//! level blocked) gets exactly what a message to an account that does not exist gets, the
//! same error from the same bare JID, and the message goes nowhere. So the answer never
//! tells that sender whether the account exists or whether the person is online, and tells
//! nobody else whether the person is online.

mod handler;
mod offline;

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::message::MessageType;

use crate::carbons;
use crate::session::table::Table;

/// One bound resource of the recipient, as message delivery sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resource<'a> {
    /// Its resource part.
    pub(crate) name: &'a str,
    /// Whether it sent available presence.
    pub(crate) available: bool,
    /// Its presence priority.
    pub(crate) priority: i8,
}

/// Where a message to a bare JID goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// To these resources.
    Deliver(Vec<&'a str>),
    /// Nobody takes it now: keep it for the user's next available presence (XEP-0160).
    Keep,
    /// Answer the sender with `service-unavailable`.
    Refuse,
    /// Drop silently.
    Drop,
}

/// Choose the resources of a bare JID that receive a message of type `kind`.
pub(crate) fn to_bare<'a>(kind: &MessageType, resources: &[Resource<'a>]) -> Route<'a> {
    let eligible = || resources.iter().filter(|r| r.available && r.priority >= 0);
    let chosen: Vec<&str> = match kind {
        MessageType::Error => return Route::Drop,
        MessageType::Groupchat => return Route::Refuse,
        MessageType::Chat => {
            let Some(top) = eligible().map(|r| r.priority).max() else {
                return Route::Keep;
            };
            eligible()
                .filter(|r| r.priority == top)
                .map(|r| r.name)
                .collect()
        }
        MessageType::Normal | MessageType::Headline => eligible().map(|r| r.name).collect(),
    };
    match (chosen.is_empty(), kind) {
        (false, _) => Route::Deliver(chosen),
        (true, MessageType::Headline) => Route::Drop,
        (true, _) => Route::Keep,
    }
}

/// A message its recipient does not take: the sender is owed `service-unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

/// What became of a message to a bare JID that no resource took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Untaken {
    /// To be kept offline.
    Keep,
    /// To be refused.
    Refuse,
}

/// What a message to an account that does not exist, or whose owner hides from the sender,
/// gets: the answer must be the same in both cases (§8.5.1 allows an error or silence).
pub(crate) fn to_nobody(kind: &MessageType) -> Result<(), Refused> {
    match kind {
        MessageType::Headline | MessageType::Error => Ok(()),
        MessageType::Chat | MessageType::Normal | MessageType::Groupchat => Err(Refused),
    }
}

/// §8.5.2: queue `el` to the resources of `to` that a message of type `kind` goes to, for
/// local senders and remote ones alike, and when `copy` a XEP-0280 received carbon to the
/// other resources. `Ok` when it was delivered or is to be dropped.
pub(crate) fn send_to_bare(
    table: &Table,
    to: &BareJid,
    kind: &MessageType,
    el: &Element,
    copy: bool,
) -> Result<(), Untaken> {
    let sessions = table.of(to);
    let resources: Vec<Resource<'_>> = sessions
        .map(|m| {
            m.iter()
                .map(|(name, s)| Resource {
                    name,
                    available: s.available(),
                    priority: s.priority,
                })
                .collect()
        })
        .unwrap_or_default();
    match to_bare(kind, &resources) {
        Route::Deliver(names) => {
            for s in names
                .iter()
                .filter_map(|n| sessions.and_then(|m| m.get(*n)))
            {
                s.send(el.clone());
            }
            if copy {
                carbons::received(table, to, &names, el);
            }
            Ok(())
        }
        Route::Keep => Err(Untaken::Keep),
        Route::Refuse => Err(Untaken::Refuse),
        Route::Drop => Ok(()),
    }
}

/// Queue `el` to the bound resource `to`, and when `copy` a XEP-0280 received carbon to its
/// user's other resources; `el` back if `to` is not bound.
pub(crate) fn send_to_session(
    table: &Table,
    to: &FullJid,
    el: Element,
    copy: bool,
) -> Result<(), Element> {
    let Some(session) = table.get(to) else {
        return Err(el);
    };
    if copy {
        carbons::received(table, &to.to_bare(), &[to.resource().as_str()], &el);
    }
    session.send(el);
    Ok(())
}

/// What to do with a message to a full JID whose resource is not bound (§8.5.3.2.1).
pub(crate) fn unbound_full(kind: &MessageType) -> Option<Route<'static>> {
    match kind {
        MessageType::Groupchat => Some(Route::Refuse),
        MessageType::Error => Some(Route::Drop),
        // Handled as if sent to the bare JID.
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn r(name: &str, available: bool, priority: i8) -> Resource<'_> {
        Resource {
            name,
            available,
            priority,
        }
    }

    #[test]
    fn section_8_5_2_rows() {
        let set = [
            r("hi", true, 5),
            r("hi2", true, 5),
            r("lo", true, 1),
            r("neg", true, -1),
            r("away", false, 9),
        ];
        let rows: &[(&str, MessageType, &[Resource<'_>], Route<'_>)] = &[
            (
                "§8.5.2.1.1 chat: highest priority",
                MessageType::Chat,
                &set,
                Route::Deliver(vec!["hi", "hi2"]),
            ),
            (
                "§8.5.2.1.1 normal: all non-negative",
                MessageType::Normal,
                &set,
                Route::Deliver(vec!["hi", "hi2", "lo"]),
            ),
            (
                "§8.5.2.1.1 headline: all non-negative",
                MessageType::Headline,
                &set,
                Route::Deliver(vec!["hi", "hi2", "lo"]),
            ),
            (
                "§8.5.2.1.1 groupchat to bare JID",
                MessageType::Groupchat,
                &set,
                Route::Refuse,
            ),
            (
                "§8.5.2.1.1 error to bare JID",
                MessageType::Error,
                &set,
                Route::Drop,
            ),
            (
                "§8.5.2.2.1 chat, only negative priority: kept (XEP-0160)",
                MessageType::Chat,
                &[r("neg", true, -1)],
                Route::Keep,
            ),
            (
                "§8.5.2.2.1 normal, no available resource: kept",
                MessageType::Normal,
                &[r("away", false, 0)],
                Route::Keep,
            ),
            (
                "§8.5.2.2.1 headline, nobody",
                MessageType::Headline,
                &[],
                Route::Drop,
            ),
            (
                "§8.5.2.2.1 chat, nobody: kept",
                MessageType::Chat,
                &[],
                Route::Keep,
            ),
            (
                "§8.5.2.2.1 groupchat, nobody",
                MessageType::Groupchat,
                &[],
                Route::Refuse,
            ),
        ];
        for (name, kind, res, want) in rows {
            assert_eq!(&to_bare(kind, res), want, "{name}");
        }
    }

    #[test]
    fn section_8_5_1_no_account_and_hidden_alike() {
        for kind in [
            MessageType::Chat,
            MessageType::Normal,
            MessageType::Groupchat,
        ] {
            assert_eq!(to_nobody(&kind), Err(Refused), "{kind:?}");
        }
        assert_eq!(to_nobody(&MessageType::Headline), Ok(()));
        assert_eq!(to_nobody(&MessageType::Error), Ok(()));
    }

    #[test]
    fn section_8_5_3_2_1_unbound_full_jid() {
        assert_eq!(unbound_full(&MessageType::Groupchat), Some(Route::Refuse));
        assert_eq!(unbound_full(&MessageType::Error), Some(Route::Drop));
        assert_eq!(unbound_full(&MessageType::Chat), None);
        assert_eq!(unbound_full(&MessageType::Normal), None);
    }
}
