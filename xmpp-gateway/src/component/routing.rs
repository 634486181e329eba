//! XEP-0114 routing: what a component may send and where it goes, and what reaches a
//! component from local users. A component is not a person: what it sends is not filtered
//! by access levels of its own, and nothing of a person's presence reaches it but the
//! directed presence the person sends it (RFC 6121 §4.6); no broadcast, probe or
//! subscription.

use minidom::Element;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::registry::Queued;
use crate::ns::{COMPONENT_ACCEPT, JABBER_CLIENT};
use crate::ports::backend::Backend;
use crate::remote::RemoteError;
use crate::router::Router;
use crate::stream::{error_reply, rewrite_ns};

/// Where a stanza a component sent goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// To this server, a local account or one of its resources.
    Local,
    /// To another component of this server.
    Component,
    /// Elsewhere: s2s authenticates only the server's own domain, so other servers would
    /// refuse it; answered `remote-server-not-found`.
    Refuse,
}

/// Check a stanza from the component serving `component` against what it may send, and say
/// where it goes. `Err` closes the component's stream with that error (XEP-0114 §3: a
/// component sends from its own domain only).
pub(crate) fn inbound(
    component: &str,
    ours: &str,
    stanza: &Element,
    is_component: impl Fn(&str) -> bool,
) -> Result<Inbound, RemoteError> {
    let (_, to) = crate::remote::addresses(stanza, component)?;
    let domain = to.domain().as_str();
    Ok(if domain.eq_ignore_ascii_case(ours) {
        Inbound::Local
    } else if is_component(domain) {
        Inbound::Component
    } else {
        Inbound::Refuse
    })
}

/// Whether a stanza leaving a local user for a component may reach it: everything but
/// presence, and of presence only what the user directed at it (`directed`).
pub(crate) fn may_reach(stanza: &Element, directed: bool) -> bool {
    stanza.name() != "presence" || directed
}

impl<B: Backend> Router<B> {
    /// A stanza the component serving `domain` sent, in `jabber:component:accept`, over a
    /// stream that proved its secret. `Err` means the stream must close with that error.
    pub async fn handle_component(&self, domain: &str, stanza: Element) -> Result<(), RemoteError> {
        let stanza = rewrite_ns(stanza, COMPONENT_ACCEPT, JABBER_CLIENT);
        let ours = self.domain().domain().as_str().to_owned();
        let registry = self.components();
        match inbound(domain, &ours, &stanza, |d| registry.is_component(d))? {
            // Handled as from a verified remote domain, so that local users' rules about
            // who may address them and what they hide apply as to anyone else.
            Inbound::Local => self.handle_remote(domain, stanza).await,
            Inbound::Component => {
                if registry.send(&stanza) != Queued::Sent {
                    self.bounce_to_component(&stanza, DefinedCondition::ServiceUnavailable);
                }
                Ok(())
            }
            Inbound::Refuse => {
                self.bounce_to_component(&stanza, DefinedCondition::RemoteServerNotFound);
                Ok(())
            }
        }
    }

    /// Answer a component's stanza with an error, back to the component.
    fn bounce_to_component(&self, stanza: &Element, condition: DefinedCondition) {
        if let Some(reply) = error_reply(stanza, condition) {
            self.components().send(&reply);
        }
    }

    /// A stanza for another domain that is a component's: `Some(queued)` when its domain is a
    /// component's (`false` when it is not connected or its queue is full), `None` otherwise.
    /// Presence passes only when `directed`; the rest is dropped as delivered.
    pub(crate) fn to_component(&self, stanza: &Element, directed: bool) -> Option<bool> {
        if !may_reach(stanza, directed) {
            let component = super::registry::to_domain(stanza)
                .is_some_and(|d| self.components().is_component(&d));
            return component.then_some(true);
        }
        match self.components().send(stanza) {
            Queued::NotComponent => None,
            Queued::Sent => Some(true),
            Queued::Unavailable => Some(false),
        }
    }

    /// The domains of the connected components, as items of the server (XEP-0030 §4).
    pub(crate) fn component_items(&self) -> Vec<String> {
        self.components().connected()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    fn route(stanza: &str) -> Result<Inbound, RemoteError> {
        inbound("muc.d", "d", &el(stanza), |d| d == "upload.d")
    }

    #[test]
    fn a_component_sends_from_its_domain_only() {
        let ok = "<message xmlns='jabber:client' from='room@muc.d/nick' to='u@d/r'/>";
        assert_eq!(route(ok), Ok(Inbound::Local));
        let own = "<presence xmlns='jabber:client' from='MUC.d' to='u@d'/>";
        assert_eq!(route(own), Ok(Inbound::Local));
        for bad in [
            "<message xmlns='jabber:client' from='boss@d' to='u@d'/>",
            "<message xmlns='jabber:client' from='x.muc.d' to='u@d'/>",
            "<message xmlns='jabber:client' from='upload.d' to='u@d'/>",
            "<message xmlns='jabber:client' to='u@d'/>",
        ] {
            assert_eq!(route(bad), Err(RemoteError::InvalidFrom), "{bad}");
        }
        let no_to = "<message xmlns='jabber:client' from='muc.d'/>";
        assert_eq!(route(no_to), Err(RemoteError::ImproperAddressing));
    }

    #[test]
    fn to_another_component_or_elsewhere() {
        let other = "<iq xmlns='jabber:client' type='get' id='1' from='muc.d' to='upload.d'/>";
        assert_eq!(route(other), Ok(Inbound::Component));
        let away = "<iq xmlns='jabber:client' type='get' id='1' from='muc.d' to='x@e.example'/>";
        assert_eq!(route(away), Ok(Inbound::Refuse));
    }

    #[test]
    fn only_directed_presence_reaches_a_component() {
        let p = el("<presence xmlns='jabber:client' to='room@muc.d/me'/>");
        assert!(may_reach(&p, true));
        assert!(!may_reach(&p, false));
        let m = el("<message xmlns='jabber:client' to='room@muc.d'/>");
        assert!(may_reach(&m, false));
    }
}
