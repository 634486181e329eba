//! XEP-0077: In-Band Registration (version 2.4), only for a logged-in user to change their own
//! password (§3.3). Accounts are made by the administrator (`lampfield user add`), so the
//! `register` stream feature is not offered before login, a registration form is never handed
//! out, and cancelling a registration (§3.2, `<remove/>`) is refused: removing an account takes
//! every trace of it from other users' rosters and rules, which is the administrator's decision.

use jid::FullJid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::ports::backend::{Backend, PasswordChange};
use crate::router::Router;
use crate::stanza::error::{self, Head};
use crate::stanza::iq_result;

use crate::ns::REGISTER as NS;

/// What a set asks for.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// §3.3: a new password for the named account.
    Password { username: String, password: String },
    /// §3.2: cancel the registration.
    Remove,
    /// Anything else (a missing or empty field, a filled-in registration form).
    Unclear,
}

fn asked(query: &Element) -> Asked {
    if query.get_child("remove", NS).is_some() {
        return Asked::Remove;
    }
    let field = |name| query.get_child(name, NS).map(Element::text);
    match (field("username"), field("password")) {
        (Some(username), Some(password)) if !password.is_empty() => {
            Asked::Password { username, password }
        }
        _ => Asked::Unclear,
    }
}

impl<B: Backend> Router<B> {
    /// Whether `iq` is a registration request.
    pub(crate) fn is_register_iq(&self, iq: &Iq) -> bool {
        crate::stanza::is_query(iq, NS)
    }

    /// §3.2 and §3.3 for the user's own account, asked of the server or of the user's own bare
    /// JID.
    pub(crate) async fn register_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let server = self.domain().clone();
        let refuse = |condition| self.error(head, from, server.clone(), condition);
        match iq {
            Iq::Get { id, .. } => {
                // §3.2: an account that is registered says so, with its username.
                let username = from.node().map(|n| n.as_str()).unwrap_or_default();
                let query = Element::builder("query", NS)
                    .append(Element::builder("registered", NS).build())
                    .append(Element::builder("username", NS).append(username).build())
                    .append(Element::builder("password", NS).build())
                    .build();
                self.send_to(
                    from,
                    iq_result(&id, from.clone().into(), Some(server.clone()), Some(query)),
                );
            }
            Iq::Set { id, payload, .. } => match asked(&payload) {
                Asked::Remove => refuse(DefinedCondition::NotAllowed),
                Asked::Unclear => refuse(DefinedCondition::BadRequest),
                Asked::Password { username, password } => {
                    let own = from
                        .node()
                        .is_some_and(|n| n.as_str().eq_ignore_ascii_case(username.trim()));
                    if !own {
                        // §3.3: a user changes only their own password.
                        return refuse(DefinedCondition::NotAuthorized);
                    }
                    match self
                        .backend()
                        .change_password(&from.to_bare(), &password)
                        .await
                    {
                        Ok(PasswordChange::Changed) => {
                            tracing::info!(user = %from.to_bare(), "password changed by the user");
                            self.send_to(
                                from,
                                iq_result(&id, from.clone().into(), Some(server), None),
                            );
                        }
                        Ok(PasswordChange::Refused(why)) => {
                            // §3.3: a password the server's policy refuses; the text says why.
                            let mut error = error::stanza_error(DefinedCondition::NotAcceptable);
                            error.texts.insert(String::new(), why);
                            if let Some(reply) = error::reply_with(head, from, server, error) {
                                self.send_to(from, reply);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(user = %from.to_bare(), error = %e, "password change failed");
                            refuse(DefinedCondition::InternalServerError);
                        }
                    }
                }
            },
            Iq::Result { .. } | Iq::Error { .. } => {}
        }
    }
}
