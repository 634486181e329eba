//! RFC 6121 §2 handling: roster get and set against the backend, pushes to every
//! interested resource. Each write is durable before anything is pushed or answered.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::delivery::Delivery;
use crate::ports::backend::Backend;
use crate::roster::{self, Set};
use crate::router::Router;
use crate::stanza::error::Head;
use crate::subscription::Event;

impl<B: Backend> Router<B> {
    /// A roster get or set from one of the user's sessions.
    pub(crate) async fn roster(
        &self,
        from: &FullJid,
        head: &Head,
        id: &str,
        get: bool,
        payload: Element,
    ) {
        let user = from.to_bare();
        let own: jid::Jid = user.clone().into();
        let outcome = if get {
            self.roster_get(from, id, payload).await
        } else {
            self.roster_set(from, &user, id, payload).await
        };
        if let Err(condition) = outcome {
            self.error(head, from, own, condition);
        }
    }

    /// §2.2: the result, and the session becomes interested in pushes. XEP-0237 §3.2: an
    /// empty result when the client already holds the current version.
    async fn roster_get(
        &self,
        from: &FullJid,
        id: &str,
        payload: Element,
    ) -> Result<(), DefinedCondition> {
        let (contacts, ver) = self
            .backend()
            .versioned_contacts(&from.to_bare())
            .await
            .map_err(|e| {
                tracing::warn!(%from, error = %e, "roster load failed");
                DefinedCondition::InternalServerError
            })?;
        if let Some(s) = self.table_mut().get_mut(from) {
            s.interested = true;
        }
        let held = roster::requested_version(payload);
        let answer = match ver {
            Some(current) if held.as_ref() == Some(&current) => {
                Iq::empty_result(from.clone().into(), id).into()
            }
            ver => roster::result(id, from, &contacts, ver),
        };
        self.send_to(from, answer);
        Ok(())
    }

    /// XEP-0237: `user`'s roster version after a change, read under the user's write lock so
    /// that it is the version of that change (or a later one). A failed read sends the push
    /// without a version, so the client's next get is answered in full.
    pub(crate) async fn roster_version(&self, user: &BareJid) -> Option<String> {
        self.backend()
            .roster_version(user)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(%user, error = %e, "roster version unreadable");
                None
            })
    }

    /// §2.3-§2.5: add, update or remove one item.
    async fn roster_set(
        &self,
        from: &FullJid,
        user: &BareJid,
        id: &str,
        payload: Element,
    ) -> Result<(), DefinedCondition> {
        let internal = |e: crate::ports::backend::BackendError| {
            tracing::warn!(%user, error = %e, "roster write failed");
            DefinedCondition::InternalServerError
        };
        let set = roster::parse_set(user, payload)?;
        let writer = self.write_lock(user).await;
        match set {
            Set::Update { jid, name, groups } => {
                let existing = self.backend().contact(user, &jid).await.map_err(internal)?;
                if existing.as_ref().is_none_or(|c| !c.in_roster) {
                    let size = self.backend().contacts(user).await.map_err(internal)?.len();
                    if size >= roster::MAX_ITEMS {
                        return Err(DefinedCondition::ResourceConstraint);
                    }
                }
                // Access rules may name roster groups (docs/ACCESS.md): a subscriber moved
                // between groups is shown the view of its new place now, not at the user's
                // next change.
                let regrouped = existing
                    .as_ref()
                    .is_some_and(|c| c.subscription.from && c.groups != groups);
                let contact = roster::updated(existing, jid.clone(), name, groups);
                let mut item = roster::item(&contact);
                self.backend()
                    .put_contact(user, contact)
                    .await
                    .map_err(internal)?;
                // A contact the organization manages keeps its part (its group among them).
                if let Ok(Some(shown)) = self.backend().contact(user, &jid).await {
                    item = roster::item(&shown);
                }
                let ver = self.roster_version(user).await;
                self.deliver([Delivery::RosterPush(user.clone(), item, ver)]);
                drop(writer);
                self.send_to(from, Iq::empty_result(from.clone().into(), id).into());
                if regrouped {
                    self.reshow(user, &jid);
                }
            }
            Set::Remove(jid) => {
                // The organization's contacts are its own to remove (a shared roster).
                if self
                    .backend()
                    .is_managed(user, &jid)
                    .await
                    .map_err(internal)?
                {
                    return Err(DefinedCondition::NotAllowed);
                }
                let existing = self.backend().contact(user, &jid).await.map_err(internal)?;
                let Some(existing) = existing.filter(|c| c.in_roster) else {
                    return Err(DefinedCondition::ItemNotFound);
                };
                self.backend()
                    .remove_contact(user, &jid)
                    .await
                    .map_err(internal)?;
                let ver = self.roster_version(user).await;
                self.deliver([Delivery::RosterPush(
                    user.clone(),
                    roster::removed(&jid),
                    ver,
                )]);
                drop(writer);
                self.send_to(from, Iq::empty_result(from.clone().into(), id).into());
                // §2.5.2: the contact learns that both directions are over.
                let (unsubscribe, unsubscribed) = roster::cancellations(existing.subscription);
                if existing.subscription.from {
                    self.deliver_with(|table| {
                        self.published_state()
                            .to_former_subscriber(table, user, &jid)
                    });
                }
                if unsubscribe {
                    self.route_subscription(Event::OutUnsubscribe, user, &jid)
                        .await;
                }
                if unsubscribed {
                    self.route_subscription(Event::OutUnsubscribed, user, &jid)
                        .await;
                }
            }
        }
        Ok(())
    }
}
