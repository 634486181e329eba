//! RFC 6120 §8.3: stanza error replies, built from the offending stanza alone so that
//! even a stanza that failed to parse gets a precise answer.

use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Id, Message, MessageType};
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

/// The error type RFC 6120 §8.3.3 recommends for each condition we raise.
fn error_type(condition: &DefinedCondition) -> ErrorType {
    match condition {
        DefinedCondition::BadRequest
        | DefinedCondition::NotAcceptable
        | DefinedCondition::JidMalformed => ErrorType::Modify,
        DefinedCondition::Forbidden | DefinedCondition::NotAuthorized => ErrorType::Auth,
        DefinedCondition::InternalServerError
        | DefinedCondition::ResourceConstraint
        | DefinedCondition::RemoteServerTimeout => ErrorType::Wait,
        _ => ErrorType::Cancel,
    }
}

/// A bare stanza error for `condition`, with no text.
pub(crate) fn stanza_error(condition: DefinedCondition) -> StanzaError {
    StanzaError {
        type_: error_type(&condition),
        by: None,
        defined_condition: condition,
        texts: Default::default(),
        other: None,
    }
}

/// What an error reply needs of the stanza it answers, copied before the stanza is
/// consumed by parsing.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    name: String,
    id: Option<String>,
    pub(crate) kind: Option<String>,
}

impl Head {
    /// The element name, `id` and `type` of a stanza.
    pub(crate) fn of(stanza: &Element) -> Self {
        Self {
            name: stanza.name().to_owned(),
            id: stanza.attr("id").map(str::to_owned),
            kind: stanza.attr("type").map(str::to_owned),
        }
    }
}

/// The error reply to `stanza`, sent back to `sender` from `replier` (the entity the
/// stanza was addressed to, or the server). `None` when no reply is allowed: an error
/// is never answered with an error (RFC 6120 §8.3.1), nor is an iq result.
#[cfg(test)]
pub(crate) fn reply(
    stanza: &Element,
    sender: &FullJid,
    replier: Jid,
    condition: DefinedCondition,
) -> Option<Element> {
    reply_to(&Head::of(stanza), sender, replier, condition)
}

/// [`reply`] from a stanza's [`Head`].
pub(crate) fn reply_to(
    head: &Head,
    sender: &FullJid,
    replier: Jid,
    condition: DefinedCondition,
) -> Option<Element> {
    reply_with(head, sender, replier, stanza_error(condition))
}

/// [`reply_to`] with a ready error, for one that carries an application condition.
pub(crate) fn reply_with(
    head: &Head,
    sender: &FullJid,
    replier: Jid,
    error: StanzaError,
) -> Option<Element> {
    let kind = head.kind.as_deref();
    if kind == Some("error") {
        return None;
    }
    let id = head.id.clone();
    let to = Jid::from(sender.clone());
    match head.name.as_str() {
        "iq" => {
            if kind == Some("result") {
                return None;
            }
            Some(
                Iq::Error {
                    from: Some(replier),
                    to: Some(to),
                    id: id.unwrap_or_default(),
                    error,
                    payload: None,
                }
                .into(),
            )
        }
        "message" => {
            let mut m = Message::new_with_type(MessageType::Error, Some(to));
            m.from = Some(replier);
            m.id = id.map(Id);
            m.payloads.push(error.into());
            Some(m.into())
        }
        "presence" => {
            let mut p = Presence::new(PresenceType::Error)
                .with_to(to)
                .with_from(replier);
            p.id = id;
            p.payloads.push(error.into());
            Some(p.into())
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn me() -> FullJid {
        FullJid::new("u@d/r").unwrap()
    }

    #[test]
    fn iq_error_keeps_id_and_swaps_addresses() {
        let iq: Element =
            "<iq xmlns='jabber:client' type='get' id='x1' to='d'><q xmlns='urn:x'/></iq>"
                .parse()
                .unwrap();
        let e = reply(
            &iq,
            &me(),
            Jid::new("d").unwrap(),
            DefinedCondition::ServiceUnavailable,
        )
        .unwrap();
        let back = Iq::try_from(e).unwrap();
        match back {
            Iq::Error {
                id,
                to,
                from,
                error,
                ..
            } => {
                assert_eq!(id, "x1");
                assert_eq!(to.unwrap().as_str(), "u@d/r");
                assert_eq!(from.unwrap().as_str(), "d");
                assert_eq!(
                    error.defined_condition,
                    DefinedCondition::ServiceUnavailable
                );
                assert_eq!(error.type_, ErrorType::Cancel);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_and_results_get_no_reply() {
        for xml in [
            "<iq xmlns='jabber:client' type='result' id='a'/>",
            "<message xmlns='jabber:client' type='error'/>",
            "<presence xmlns='jabber:client' type='error'/>",
        ] {
            let el: Element = xml.parse().unwrap();
            assert!(
                reply(
                    &el,
                    &me(),
                    Jid::new("d").unwrap(),
                    DefinedCondition::BadRequest
                )
                .is_none(),
                "{xml}"
            );
        }
    }

    #[test]
    fn message_error_is_typed_error() {
        let m: Element = "<message xmlns='jabber:client' id='m' to='x@d'><body>hi</body></message>"
            .parse()
            .unwrap();
        let e = reply(
            &m,
            &me(),
            Jid::new("x@d").unwrap(),
            DefinedCondition::ServiceUnavailable,
        )
        .unwrap();
        assert_eq!(e.attr("type"), Some("error"));
        assert_eq!(e.attr("id"), Some("m"));
        let m = Message::try_from(e).unwrap();
        assert_eq!(m.type_, MessageType::Error);
    }
}
