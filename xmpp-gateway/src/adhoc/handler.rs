//! XEP-0050 ad-hoc commands, the handler: command iqs at the server's JID (and disco of the
//! command nodes) answered by running the node's
//! [`AdHocCommands`](crate::ports::adhoc::AdHocCommands) port.

use jid::FullJid;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::adhoc;
use crate::ports::backend::Backend;
use crate::router::Router;
use crate::stanza::error::Head;

impl<B: Backend> Router<B> {
    /// Whether `iq` to the server is for the command port: a command, or disco of a node.
    pub(crate) fn is_adhoc_iq(&self, iq: &Iq) -> bool {
        if self.adhoc_commands().is_none() {
            return false;
        }
        match iq {
            Iq::Set { payload, .. } => payload.is("command", adhoc::NS),
            Iq::Get { payload, .. } => {
                (payload.is("query", ns::DISCO_ITEMS) || payload.is("query", ns::DISCO_INFO))
                    && payload.attr("node").is_some()
            }
            Iq::Result { .. } | Iq::Error { .. } => false,
        }
    }

    /// Answer a command iq (see [`Router::is_adhoc_iq`]).
    pub(crate) async fn adhoc_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let Some(commands) = self.adhoc_commands() else {
            return;
        };
        let server = self.domain().clone();
        let user = from.to_bare();
        let not_found = || self.error(head, from, server.clone(), DefinedCondition::ItemNotFound);
        let answer = match iq {
            Iq::Get { id, payload, .. } => {
                let node = payload.attr("node").unwrap_or_default();
                let list = commands.list(&user);
                if payload.is("query", ns::DISCO_ITEMS) && node == adhoc::NS {
                    adhoc::items(&id, from, server.clone(), &list)
                } else if let Some(c) = list.iter().find(|c| c.node == node) {
                    if payload.is("query", ns::DISCO_INFO) {
                        adhoc::info(&id, from, server.clone(), c)
                    } else {
                        return not_found();
                    }
                } else {
                    return not_found();
                }
            }
            Iq::Set { id, payload, .. } => {
                let Some(request) = adhoc::parse(&payload) else {
                    return self.error(head, from, server, DefinedCondition::BadRequest);
                };
                let session = request.session.clone().unwrap_or_else(|| self.push_id());
                let body = if request.cancel {
                    adhoc::canceled(&request.node, &session)
                } else {
                    let reply = commands.execute(&user, &request.node, request.form).await;
                    match adhoc::response(&request.node, &session, reply) {
                        Some(body) => body,
                        None => return not_found(),
                    }
                };
                adhoc::result(&id, from, server, body)
            }
            Iq::Result { .. } | Iq::Error { .. } => return,
        };
        self.send_to(from, answer);
    }
}
