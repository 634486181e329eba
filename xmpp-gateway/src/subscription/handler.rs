//! RFC 6121 §3 handling: runs the subscription state machine for the user who sent a
//! subscription stanza and, when the contact is local, for the contact who receives
//! it. Every state change is durable (`put_contact`/`remove_contact`) before the
//! stanza is routed, pushed or delivered.

use jid::{BareJid, FullJid};
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::ports::backend::{Backend, BackendError, Contact};
use crate::roster;
use crate::router::Router;
use crate::stanza::error::Head;
use crate::subscription::{Effect, Event, State, inbound, step, subscription_stanza};

/// A subscription stanza still to be delivered: (inbound event, from, to). Kept in a
/// work list so that auto-replies never recurse.
pub(crate) type Work = (Event, BareJid, BareJid);

/// Upper bound on chained auto-replies for one client stanza.
const MAX_CHAIN: usize = 4;

fn state_of(stored: Option<&Contact>) -> State {
    stored
        .map(|c| State {
            sub: c.subscription,
            in_roster: c.in_roster,
        })
        .unwrap_or_default()
}

impl<B: Backend> Router<B> {
    /// §3.1.2, §3.1.5, §3.2.2, §3.3.2, §3.4: an outbound subscription stanza.
    pub(crate) async fn subscription_out(
        &self,
        from: &FullJid,
        head: &Head,
        event: Event,
        contact: BareJid,
    ) {
        let user = from.to_bare();
        if contact == user || contact.node().is_none() {
            return;
        }
        if self.managed_subscription(&user, &contact, event).await {
            return;
        }
        let transition = match self.apply(&user, &contact, event).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(%user, error = %e, "subscription update failed");
                return self.error(
                    head,
                    from,
                    self.domain().clone(),
                    DefinedCondition::InternalServerError,
                );
            }
        };
        let mut work = Vec::new();
        for effect in transition.1 {
            match effect {
                Effect::Route => {
                    if !self.is_local(&contact) {
                        let routed = self.to_remote(subscription_stanza(event, &user, &contact));
                        if !routed {
                            self.error(
                                head,
                                from,
                                contact.clone().into(),
                                DefinedCondition::RemoteServerNotFound,
                            );
                        }
                    } else if let Some(reply) =
                        self.subscription_in(inbound(event), &user, &contact).await
                    {
                        // Auto-replies wait until the user's own effects are out, so
                        // that pushes reach the user's clients in order.
                        work.push(reply);
                    }
                }
                Effect::Push => self.deliver(roster::push_for(
                    &user,
                    transition.0.as_ref(),
                    &contact,
                    transition.2.clone(),
                )),
                Effect::SendPresence => self.presence_owed(&user, &contact, true),
                Effect::SendUnavailable => self.presence_owed(&user, &contact, false),
                Effect::Deliver | Effect::AutoSubscribed => {}
            }
        }
        self.subscriptions_in(work).await;
    }

    /// Deliver queued inbound subscription stanzas, and the auto-replies they cause.
    pub(crate) async fn subscriptions_in(&self, mut work: Vec<Work>) {
        let mut steps = 0;
        while let Some((event, from, to)) = work.pop() {
            steps += 1;
            if steps > MAX_CHAIN {
                break;
            }
            if !self.is_local(&to) {
                self.to_remote(subscription_stanza(event, &from, &to));
                continue;
            }
            if let Some(next) = self.subscription_in(event, &from, &to).await {
                work.push(next);
            }
        }
    }

    /// §3.1.3, §3.1.6, §3.2.3, §3.3.3: an inbound subscription stanza for a local
    /// account. Returns the auto-reply to route, if any.
    async fn subscription_in(
        &self,
        event: Event,
        sender: &BareJid,
        user: &BareJid,
    ) -> Option<Work> {
        // §8.5.1: presence for an account that does not exist is silently dropped.
        if !self.exists(user).await {
            return None;
        }
        // A request from someone the user hides from is dropped unseen and unanswered, which
        // is what an account that does not exist gives (§3.1.3 leaves the answer open, and
        // silence tells nothing). Answers to the user's own requests and cancellations still
        // count: they only ever take away what the sender sees.
        if event == Event::InSubscribe && self.authority().hides_from(user, sender) {
            tracing::debug!(%user, %sender, "subscription request from a hidden viewer dropped");
            return None;
        }
        let (stored, effects, ver) = match self.apply(user, sender, event).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(%user, error = %e, "subscription update failed");
                return None;
            }
        };
        let mut reply = None;
        for effect in effects {
            match effect {
                Effect::Push => {
                    self.deliver(roster::push_for(user, stored.as_ref(), sender, ver.clone()))
                }
                Effect::Deliver => {
                    let stanza = subscription_stanza(event, sender, user);
                    let n = self.send_to_available(&self.table(), user, &stanza);
                    tracing::debug!(%user, %sender, ?event, resources = n, "subscription stanza delivered");
                }
                Effect::AutoSubscribed => {
                    reply = Some((Event::InSubscribed, user.clone(), sender.clone()))
                }
                Effect::SendPresence => self.presence_owed(user, sender, true),
                Effect::SendUnavailable => self.presence_owed(user, sender, false),
                Effect::Route => {}
            }
        }
        reply
    }

    /// Load, step and durably store one contact of `user`. Returns the stored contact
    /// (`None` when nothing is left of it), the effects still to perform and the roster version
    /// after the step (XEP-0237).
    async fn apply(
        &self,
        user: &BareJid,
        contact: &BareJid,
        event: Event,
    ) -> Result<(Option<Contact>, Vec<Effect>, Option<String>), BackendError> {
        let _writer = self.write_lock(user).await;
        let stored = self.backend().contact(user, contact).await?;
        let before = state_of(stored.as_ref());
        let t = step(before, event);
        if t.next == before {
            let ver = self.roster_version(user).await;
            return Ok((stored, t.effects, ver));
        }
        if t.next.is_empty() {
            self.backend().remove_contact(user, contact).await?;
            let ver = self.roster_version(user).await;
            return Ok((None, t.effects, ver));
        }
        let (name, groups) = stored.map(|c| (c.name, c.groups)).unwrap_or_default();
        let next = Contact {
            jid: contact.clone(),
            name,
            groups,
            subscription: t.next.sub,
            in_roster: t.next.in_roster,
        };
        self.backend().put_contact(user, next.clone()).await?;
        let ver = self.roster_version(user).await;
        Ok((Some(next), t.effects, ver))
    }

    /// §3.1.5, §3.2.2, §3.3.3: what `contact` is owed of `user`'s presence now that it may
    /// (`subscribed`) or may no longer see it, as the presence feature hands it back.
    fn presence_owed(&self, user: &BareJid, contact: &BareJid, subscribed: bool) {
        let published = self.published_state();
        if subscribed {
            let view = self.authority().snapshot(user).for_viewer(contact);
            self.deliver_with(|table| published.to_new_subscriber(table, view, user, contact));
        } else {
            self.deliver_with(|table| published.to_former_subscriber(table, user, contact));
        }
    }
}
