//! XEP-0357 in the router: `enable`/`disable` from the user's clients, notifications when a
//! wanted message finds the registering client away, and the app servers' answers. See the
//! parent module for the rules.

use std::time::Instant;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use super::{InFlight, Key, Last, Request, Step};
use crate::ports::backend::{Backend, Kept, PushRegistration};
use crate::router::Router;
use crate::stanza::error::Head;
use crate::stanza::iq_result;

impl<B: Backend> Router<B> {
    /// Whether `iq` is a push `enable` or `disable` (§5, §6).
    pub(crate) fn is_push_iq(&self, iq: &Iq) -> bool {
        match iq {
            Iq::Get { payload, .. } | Iq::Set { payload, .. } => super::parse(payload).is_some(),
            Iq::Result { .. } | Iq::Error { .. } => false,
        }
    }

    /// §5 and §6 for the user's own account, stored before the client is answered.
    pub(crate) async fn push_iq(&self, from: &FullJid, head: &Head, iq: Iq) {
        let user = from.to_bare();
        let replier: Jid = user.clone().into();
        let refuse = |condition| self.error(head, from, replier.clone(), condition);
        let Iq::Set { id, payload, .. } = iq else {
            return refuse(DefinedCondition::BadRequest);
        };
        let Some(Ok(request)) = super::parse(&payload) else {
            return refuse(DefinedCondition::BadRequest);
        };
        let done = match request {
            Request::Enable {
                service,
                node,
                options,
            } => {
                let registration = PushRegistration {
                    service,
                    node,
                    resource: Some(from.resource().as_str().to_owned()),
                    options,
                };
                match self.backend().enable_push(&user, &registration).await {
                    Ok(Kept::Stored) => Ok(()),
                    Ok(Kept::Full) => Err(DefinedCondition::NotAcceptable),
                    Err(e) => {
                        tracing::warn!(%user, error = %e, "push registration not stored");
                        Err(DefinedCondition::InternalServerError)
                    }
                }
            }
            Request::Disable { service, node } => self
                .backend()
                .disable_push(&user, &service, node.as_deref())
                .await
                .map_err(|e| {
                    tracing::warn!(%user, error = %e, "push registration not removed");
                    DefinedCondition::InternalServerError
                }),
        };
        match done {
            Ok(()) => {
                let result = iq_result(&id, from.clone().into(), Some(replier), None);
                self.send_to(from, result);
            }
            Err(condition) => refuse(condition),
        }
    }

    /// A message from `sender` reached `user` (delivered, or kept offline when `kept`): wake
    /// the clients that registered for push and are away. With `only`, the message was for
    /// that resource alone, and only its registrations count.
    pub(crate) async fn push_notify(
        &self,
        sender: &BareJid,
        user: &BareJid,
        message: &Element,
        kept: bool,
        only: Option<&str>,
    ) {
        // A user's own messages are copies of what one of their clients already has.
        if sender == user || !super::wanted(message, kept) {
            return;
        }
        let registrations = match self.backend().push_registrations(user).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%user, error = %e, "push registrations unreadable");
                return;
            }
        };
        if registrations.is_empty() {
            return;
        }
        let last = Last::of(self.pushes().policy(), sender, message);
        for registration in registrations {
            if only.is_some_and(|r| registration.resource.as_deref() != Some(r))
                || !self.push_asleep(user, &registration)
            {
                continue;
            }
            let key = super::key(user, &registration);
            match self
                .pushes()
                .note(key.clone(), Instant::now(), last.clone())
            {
                None => tracing::warn!(%user, "too many push registrations tracked; not notified"),
                Some(Step::Now(count)) => self.push_send(user, &registration, key, count, &last),
                Some(Step::Later(after)) => {
                    let router = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        router.push_due(key).await;
                    });
                }
                Some(Step::Counted) => {}
            }
        }
    }

    /// The session `jid` detached with `message` (from its unacknowledged stanzas) perhaps
    /// never read: wake that client.
    pub(crate) async fn push_detached(&self, jid: &FullJid, message: Element) {
        let Some(sender) = message.attr("from").and_then(|f| Jid::new(f).ok()) else {
            return;
        };
        let resource = Some(jid.resource().as_str());
        self.push_notify(&sender.to_bare(), &jid.to_bare(), &message, false, resource)
            .await;
    }

    /// Whether the client of `registration` is away now.
    fn push_asleep(&self, user: &BareJid, registration: &PushRegistration) -> bool {
        let table = self.table();
        let sessions: Vec<(&str, bool)> = table
            .of(user)
            .map(|m| m.iter().map(|(n, s)| (n.as_str(), s.detached)).collect())
            .unwrap_or_default();
        super::asleep(registration.resource.as_deref(), &sessions)
    }

    /// The coalesced notification of `key` is due: sent if the registration is still there and
    /// its client still away.
    async fn push_due(&self, key: Key) {
        let user = &key.0.clone();
        let registration = match self.backend().push_registrations(user).await {
            Ok(r) => r.into_iter().find(|r| super::key(user, r) == key),
            Err(e) => {
                tracing::warn!(%user, error = %e, "push registrations unreadable");
                None
            }
        };
        let due = self.pushes().due(&key, Instant::now());
        if let (Some(registration), Some((count, last))) = (registration, due)
            && self.push_asleep(user, &registration)
        {
            self.push_send(user, &registration, key, count, &last);
        }
    }

    /// Publish one notification (§7) and await its answer.
    fn push_send(
        &self,
        user: &BareJid,
        registration: &PushRegistration,
        key: Key,
        count: u32,
        last: &Last,
    ) {
        let flight = InFlight {
            key,
            service: registration.service.clone(),
        };
        let Some(id) = self.pushes().send(flight) else {
            tracing::warn!(%user, "too many push notifications unanswered; one dropped");
            return;
        };
        let iq = super::notification(user, registration, &id, count, last);
        if !self.push_route(&registration.service, iq) {
            self.pushes().answered(&id, None);
            tracing::warn!(%user, service = %registration.service, "push app server unreachable");
            return;
        }
        tracing::debug!(%user, service = %registration.service, count, "push notification sent");
        let router = self.clone();
        let service = registration.service.clone();
        tokio::spawn(async move {
            tokio::time::sleep(super::ANSWER_TIMEOUT).await;
            if router.pushes().answered(&id, None).is_some() {
                tracing::warn!(%service, "push app server did not answer a notification");
            }
        });
    }

    /// Send `iq` to the app server: through s2s for another domain, to the session for a
    /// local full JID, to one session (the first by resource) of a local account's bare JID.
    fn push_route(&self, service: &Jid, iq: Element) -> bool {
        let bare = service.to_bare();
        if !self.is_local(&bare) {
            return self.to_remote(iq);
        }
        let target = match service.try_as_full() {
            Ok(full) => Some(full.clone()),
            Err(_) => {
                let table = self.table();
                table
                    .of(&bare)
                    .and_then(|m| m.keys().min().cloned())
                    .and_then(|r| bare.with_resource_str(&r).ok())
            }
        };
        target.is_some_and(|full| self.send_to(&full, iq))
    }

    /// An iq result or error for `user`: when it answers a notification, it is consumed (and
    /// an error of type `cancel` or `auth` disables the registration). `false` for any other.
    pub(crate) async fn push_answer(&self, iq: &Iq) -> bool {
        let (id, from, error) = match iq {
            Iq::Result { id, from, .. } => (id, from, None),
            Iq::Error {
                id, from, error, ..
            } => (id, from, Some(error)),
            Iq::Get { .. } | Iq::Set { .. } => return false,
        };
        let Some(from) = from else {
            return false;
        };
        let Some(flight) = self.pushes().answered(id, Some(from)) else {
            return false;
        };
        let Some(error) = error else {
            return true;
        };
        let (user, _, node) = &flight.key;
        match error.type_ {
            ErrorType::Cancel | ErrorType::Auth => {
                tracing::info!(%user, service = %flight.service, condition = ?error.defined_condition,
                    "push app server refused a notification; registration disabled");
                if let Err(e) = self
                    .backend()
                    .disable_push(user, &flight.service, Some(node))
                    .await
                {
                    tracing::warn!(%user, error = %e, "push registration not removed");
                }
            }
            ErrorType::Wait | ErrorType::Modify | ErrorType::Continue => {
                tracing::warn!(%user, service = %flight.service, condition = ?error.defined_condition,
                    "push app server answered a notification with an error");
            }
        }
        true
    }

    /// The same for an iq from another domain, as its raw element.
    pub(crate) async fn push_answer_remote(&self, stanza: &Element) -> bool {
        match Iq::try_from(stanza.clone()) {
            Ok(iq) => self.push_answer(&iq).await,
            Err(_) => false,
        }
    }
}
