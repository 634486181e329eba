//! RFC 6120 §10 and RFC 6121 §8: the session table and stanza dispatch. Every stanza a
//! bound session sends, and every stanza addressed to a local account, passes through here.
//!
//! Contract with the c2s layer (`c2s/`): after resource binding the session calls
//! [`Router::bind`] and gets the full JID it was given plus a bounded receiver of
//! elements to write to its stream; it hands every stanza it reads to
//! [`Router::handle`]; when the stream ends for any reason (clean close, error, TCP
//! drop, shutdown) it calls [`Router::unbind`] exactly once.
//!
//! Dispatch is by (stanza kind, address kind), as RFC 6120 §10 and RFC 6121 §8 lay it
//! out. The stanza's own `from` is always replaced by the session's full JID (RFC 6120
//! §8.1.2.1), so a forged sender never reaches anyone.

mod deliver;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::blocking;
use crate::disco::{self, Entity};
use crate::ping;
use crate::ports::adhoc::AdHocCommands;
use crate::ports::authority::{AccessLevel, PresenceAuthority};
use crate::ports::backend::Backend;
use crate::presence::published::PublishedState;
use crate::presence::{self, Kind};
use crate::session::table::Table;
use crate::stanza::error::{self, Head};
use crate::{entity_time, last_activity, vcard, version};

pub use crate::ports::{Ports, RemoteSender};
pub use crate::presence::published::NODE_RESOURCE;
pub use crate::remote::RemoteError;
pub use crate::session::{BindError, Outbox, Outgoing, TryRecvError};

/// Default length of each session's outgoing queue, in stanzas. Large enough for the
/// burst of presences a user with a big roster receives when logging in.
pub const DEFAULT_QUEUE_LEN: usize = 2048;
/// Default limit of simultaneous sessions per account.
pub const DEFAULT_MAX_SESSIONS_PER_USER: usize = 32;

/// Clone handle over the session table and the feature handlers.
pub struct Router<B: Backend> {
    inner: Arc<Inner<B>>,
}

/// Where a stanza is going, seen from the local server (RFC 6120 §10.3-§10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dest {
    /// The server itself (its domain, with or without a resource).
    Server,
    /// A local account's bare JID (the sender's own, when `to` is absent).
    Account(BareJid),
    /// A local full JID.
    Session(FullJid),
    /// Another domain: the seam where s2s will plug in.
    Remote(Jid),
}

/// The state behind a [`Router`].
struct Inner<B> {
    domain: Jid,
    backend: Arc<B>,
    table: RwLock<Table>,
    /// Source of roster push ids.
    pushes: AtomicU64,
    /// Serializes the read-modify-write of one user's contacts (a subscription step
    /// or a roster set), so that two sessions acting at once never lose an update.
    /// Striped by user; held across the backend write, never across anything else.
    writers: lampfield_stripes::Stripes,
    /// Where stanzas for other domains go.
    remote: RemoteSender,
    /// The node's say over presence.
    authority: Arc<dyn PresenceAuthority>,
    /// Who was shown which published presence.
    published: PublishedState,
    /// The node's XEP-0050 ad-hoc command port.
    commands: Option<Arc<dyn AdHocCommands>>,
    /// When the router was made: the server's uptime (XEP-0012) counts from here.
    started: std::time::Instant,
    /// XEP-0115 caps resolved to what each client wants to be notified of (XEP-0163).
    caps: crate::pep::CapsCache,
    /// Each user's avatar hash, for presence (XEP-0398).
    avatars: crate::avatar_conversion::Hashes,
    /// XEP-0114 components: their domains and the queues to their connections.
    components: crate::component::registry::Registry,
    /// XEP-0357 policy, rate limits and notifications awaiting an answer.
    push: crate::push::Pushes,
}

impl Dest {
    /// The entity addressed when it is neither the server nor the sender's own account: who a
    /// user's block list may name (XEP-0191 §3.5).
    pub(crate) fn other_entity(&self) -> Option<Jid> {
        match self {
            Dest::Server => None,
            Dest::Account(bare) => Some(bare.clone().into()),
            Dest::Session(full) => Some(full.clone().into()),
            Dest::Remote(jid) => Some(jid.clone()),
        }
    }
}

impl<B: Backend> Clone for Router<B> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B: Backend> Router<B> {
    /// A router for the local `domain`, wired to the node through `ports`.
    ///
    /// # Panics
    /// If `domain` is not a valid JID domain: it comes from the configuration, which
    /// is checked before the gateway starts.
    #[allow(clippy::expect_used)]
    pub fn new(domain: &str, ports: Ports<B>) -> Self {
        let Ports {
            backend,
            authority,
            commands,
            remote,
        } = ports;
        let domain = BareJid::new(domain).expect("the configured domain is a valid JID domain");
        let table = Table::new(DEFAULT_QUEUE_LEN, DEFAULT_MAX_SESSIONS_PER_USER);
        let inner = Inner {
            domain: domain.into(),
            backend,
            table: RwLock::new(table),
            pushes: AtomicU64::new(0),
            writers: lampfield_stripes::Stripes::default(),
            remote,
            authority,
            published: Default::default(),
            commands,
            started: std::time::Instant::now(),
            caps: Default::default(),
            avatars: Default::default(),
            components: Default::default(),
            push: Default::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Bind a resource for an authenticated `user`; `None` asks the server to pick one.
    /// Returns the full JID and the receiver the session writes from.
    ///
    /// A requested resource already in use is taken over: the older session receives
    /// `Outgoing::Close("conflict")` (RFC 6120 §7.7.2.2) and its own later `unbind`
    /// changes nothing.
    pub async fn bind(
        &self,
        user: &BareJid,
        resource: Option<&str>,
    ) -> Result<(FullJid, Outbox), BindError> {
        // The node's own resource names no device and is never a session: a client asking for
        // it gets one of the server's choosing, as on a conflict (RFC 6120 §7.7.2.2).
        let resource = resource.filter(|r| r.trim() != NODE_RESOURCE);
        let (jid, rx, replaced) = self.table_mut().bind(user, resource)?;
        if let Some(ended) = replaced {
            self.ended(ended).await;
        }
        tracing::debug!(%jid, "resource bound");
        Ok((jid, rx))
    }

    /// Handle one stanza a bound session sent. `from` is the session's full JID; the
    /// stanza's own `from` is ignored and rewritten (RFC 6120 §8.1.2.1).
    pub async fn handle(&self, from: &FullJid, stanza: Element) {
        if !stanza.has_ns(ns::JABBER_CLIENT) || self.table().get(from).is_none() {
            return;
        }
        match stanza.name() {
            "iq" => self.iq(from, stanza).await,
            "message" => self.message(from, stanza).await,
            "presence" => self.presence(from, stanza).await,
            _ => {}
        }
    }

    /// The session's stream ended; broadcast unavailable if it had sent available presence.
    pub async fn unbind(&self, jid: &FullJid) {
        let ended = self.table_mut().unbind(jid);
        if let Some(ended) = ended {
            self.ended(ended).await;
        }
        tracing::debug!(%jid, "resource unbound");
    }

    /// End every session of `user` with the stream error `condition` (for example
    /// `not-authorized` when the account was removed). Each session says goodbye
    /// through its own `unbind`, so subscribers see it go unavailable.
    pub fn end_sessions(&self, user: &BareJid, condition: &'static str) {
        self.table().close_user(user, condition);
    }

    /// Read access to the session table; never held across `.await`.
    pub(crate) fn table(&self) -> RwLockReadGuard<'_, Table> {
        self.inner
            .table
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the session table; never held across `.await`.
    pub(crate) fn table_mut(&self) -> RwLockWriteGuard<'_, Table> {
        self.inner
            .table
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn backend(&self) -> &B {
        &self.inner.backend
    }

    pub(crate) fn domain(&self) -> &Jid {
        &self.inner.domain
    }

    pub(crate) fn is_local(&self, jid: &BareJid) -> bool {
        jid.domain() == self.inner.domain.domain()
    }

    /// Queue a stanza to one local session, if it is still bound.
    pub(crate) fn send_to(&self, jid: &FullJid, stanza: Element) -> bool {
        self.table().send_to(jid, stanza)
    }

    /// Whether a local account exists; sessions answer without asking the backend.
    pub(crate) async fn exists(&self, user: &BareJid) -> bool {
        if self.table().of(user).is_some() {
            return true;
        }
        match self.backend().account_exists(user).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(%user, error = %e, "account lookup failed");
                false
            }
        }
    }

    /// Every stanza for another domain leaves through here. `false` (no route to other
    /// domains, or its queue is full) tells the caller to answer `remote-server-not-found`
    /// where an answer is due; later failures are bounced by the s2s layer itself.
    ///
    /// A stanza for a component's domain (XEP-0114) goes to the component instead, and of
    /// presence only what [`Router::to_remote_directed`] passes reaches it.
    pub(crate) fn to_remote(&self, stanza: Element) -> bool {
        match self.to_component(&stanza, false) {
            Some(queued) => queued,
            None => self.inner.remote.send(stanza),
        }
    }

    /// [`Router::to_remote`] for directed presence (RFC 6121 §4.6) and its errors: the only
    /// presence of a person a component receives.
    pub(crate) fn to_remote_directed(&self, stanza: Element) -> bool {
        match self.to_component(&stanza, true) {
            Some(queued) => queued,
            None => self.inner.remote.send(stanza),
        }
    }

    /// The XEP-0114 components of this server.
    pub(crate) fn components(&self) -> &crate::component::registry::Registry {
        &self.inner.components
    }

    /// The node's presence authority.
    pub(crate) fn authority(&self) -> &dyn PresenceAuthority {
        self.inner.authority.as_ref()
    }

    /// Classify a destination. `None` means the sender's own account.
    pub(crate) fn dest(&self, sender: &FullJid, to: Option<&Jid>) -> Dest {
        let Some(to) = to else {
            return Dest::Account(sender.to_bare());
        };
        if to.domain() != self.inner.domain.domain() {
            return Dest::Remote(to.clone());
        }
        if to.node().is_none() {
            return Dest::Server;
        }
        match to.try_as_full() {
            Ok(full) => Dest::Session(full.clone()),
            Err(bare) => Dest::Account(bare.clone()),
        }
    }

    /// Answer `head` with a stanza error from `replier`.
    pub(crate) fn error(
        &self,
        head: &Head,
        sender: &FullJid,
        replier: Jid,
        condition: DefinedCondition,
    ) {
        if let Some(reply) = error::reply_to(head, sender, replier, condition) {
            self.send_to(sender, reply);
        }
    }

    /// Exclusive right to change `user`'s stored contacts until the guard drops.
    pub(crate) async fn write_lock(&self, user: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writers.lock(user).await
    }

    /// A fresh roster push id.
    pub(crate) fn push_id(&self) -> String {
        format!("push{}", self.inner.pushes.fetch_add(1, Ordering::Relaxed))
    }

    /// The node's XEP-0050 ad-hoc commands, if it offers any.
    pub(crate) fn adhoc_commands(&self) -> Option<&dyn AdHocCommands> {
        self.inner.commands.as_deref()
    }

    /// XEP-0115 caps resolved for XEP-0163 notifications.
    pub(crate) fn caps_cache(&self) -> &crate::pep::CapsCache {
        &self.inner.caps
    }

    /// Users' avatar hashes for presence (XEP-0398 §4).
    pub(crate) fn avatars(&self) -> &crate::avatar_conversion::Hashes {
        &self.inner.avatars
    }

    /// XEP-0357 state.
    pub(crate) fn pushes(&self) -> &crate::push::Pushes {
        &self.inner.push
    }

    /// What XEP-0357 notifications may say beyond the count (`[push]` of the node).
    pub fn set_push_policy(&self, policy: crate::push::PushPolicy) {
        self.inner.push.set_policy(policy);
    }

    /// Mark the session `jid` as detached awaiting XEP-0198 resumption, or connected again:
    /// a detached client is woken by XEP-0357 notifications.
    pub(crate) fn set_detached(&self, jid: &FullJid, detached: bool) {
        if let Some(session) = self.table_mut().get_mut(jid) {
            session.detached = detached;
        }
    }

    /// Who was shown which published presence.
    pub(crate) fn published_state(&self) -> &PublishedState {
        &self.inner.published
    }
}

impl<B: Backend> Router<B> {
    /// RFC 6121 §3 and §4: parse, stamp the sender, hand subscription stanzas to the
    /// subscription feature and the rest to the presence feature.
    async fn presence(&self, from: &FullJid, stanza: Element) {
        let head = Head::of(&stanza);
        let Ok(mut p) = Presence::try_from(stanza) else {
            return self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::BadRequest,
            );
        };
        p.from = Some(from.clone().into());
        match presence::classify(&p) {
            Kind::Broadcast { available } => self.broadcast(from, p, available).await,
            Kind::Directed { available, to } => {
                self.directed(from, &head, p.into(), available, to).await
            }
            Kind::Subscription(event, contact) => {
                self.subscription_out(from, &head, event, contact).await
            }
            Kind::Probe(contact) => self.client_probe(from, &contact).await,
            Kind::Error(to) => self.forward_error(from, p.into(), to).await,
            Kind::Invalid => self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::BadRequest,
            ),
        }
    }

    /// Parse, then dispatch by destination. Get/set nobody handles gets
    /// `service-unavailable` (RFC 6120 §8.4); results and errors for the server or an
    /// account are dropped.
    async fn iq(&self, from: &FullJid, stanza: Element) {
        let head = Head::of(&stanza);
        // A request carries exactly one payload (RFC 6120 §8.2.3).
        let request = matches!(head.kind.as_deref(), Some("get" | "set"));
        let parsed = if request && stanza.children().count() != 1 {
            None
        } else {
            Iq::try_from(stanza).ok()
        };
        let Some(mut iq) = parsed else {
            return self.error(
                &head,
                from,
                self.domain().clone(),
                DefinedCondition::BadRequest,
            );
        };
        *iq.from_mut() = Some(from.clone().into());
        let dest = self.dest(from, iq.to());
        // XEP-0357: an app server's answer to a notification sent in this user's name.
        if matches!(dest, Dest::Account(_)) && self.push_answer(&iq).await {
            return;
        }
        if dest == Dest::Server && self.pep_caps_answer(from, &iq).await {
            return;
        }
        if self.refused_as_blocked(from, &head, &dest) {
            return;
        }
        if self.carbons_iq(from, &dest, &iq) {
            return;
        }
        match dest {
            Dest::Session(to) => self.iq_to_session(from, &head, to, iq),
            Dest::Remote(to) => {
                if !self.to_remote(iq.into()) {
                    self.error(&head, from, to, DefinedCondition::RemoteServerNotFound);
                }
            }
            Dest::Server if self.is_invisible_iq(&iq) => self.invisible_iq(from, &head, iq).await,
            Dest::Account(to) if to == from.to_bare() && self.is_invisible_iq(&iq) => {
                self.invisible_iq(from, &head, iq).await
            }
            Dest::Server if self.is_register_iq(&iq) => self.register_iq(from, &head, iq).await,
            Dest::Account(to) if to == from.to_bare() && self.is_register_iq(&iq) => {
                self.register_iq(from, &head, iq).await
            }
            Dest::Account(to) if to == from.to_bare() && self.is_archive_iq(&iq) => {
                self.archive_iq(from, &head, iq).await
            }
            Dest::Account(to) if to == from.to_bare() && self.is_private_iq(&iq) => {
                self.private_iq(from, &head, iq).await
            }
            Dest::Account(to) if to == from.to_bare() && self.is_push_iq(&iq) => {
                self.push_iq(from, &head, iq).await
            }
            Dest::Server if self.is_adhoc_iq(&iq) => self.adhoc_iq(from, &head, iq).await,
            Dest::Server => self.iq_to_server(from, &head, iq),
            Dest::Account(to) => self.iq_to_account(from, &head, to, iq).await,
        }
    }

    /// RFC 6121 §8.5.3.1 and §8.5.3.2.1: to a bound resource, or an error. A request to a
    /// resource the sender may not address gets the very error of an unbound one; results and
    /// errors, answers to what the resource asked, pass.
    fn iq_to_session(&self, from: &FullJid, head: &Head, to: FullJid, iq: Iq) {
        let is_request = matches!(iq, Iq::Get { .. } | Iq::Set { .. });
        let addressable = !is_request || self.may_address(&from.to_bare(), &to);
        if !(addressable && self.send_to(&to, iq.into())) && is_request {
            self.error(head, from, to.into(), DefinedCondition::ServiceUnavailable);
        }
    }

    /// RFC 6120 §10.3.3: requests the server answers for itself.
    fn iq_to_server(&self, from: &FullJid, head: &Head, iq: Iq) {
        if let Some(request) = request(iq) {
            let server = self.domain().clone();
            if request.2 && disco::is_root_items(&request.1) {
                let items = self.component_items();
                let result = disco::server_items(&request.0, from.clone().into(), server, &items);
                self.send_to(from, result);
                return;
            }
            self.answer(from, head, Entity::Server, server, request);
        }
    }

    /// RFC 6121 §8.5.2.1.3 and §8.5.2.2.3: the server answers for an account's bare
    /// JID, whether or not the user is online; the roster only for the account's own
    /// sessions (§2.1.5 `forbidden`). An account that does not exist and one whose owner
    /// hides from the sender get the same `service-unavailable`.
    async fn iq_to_account(&self, from: &FullJid, head: &Head, to: BareJid, iq: Iq) {
        let own = to == from.to_bare();
        let Some((id, payload, get)) = request(iq) else {
            return;
        };
        let replier: Jid = to.clone().into();
        if !own && (!self.exists(&to).await || self.authority().hides_from(&to, &from.to_bare())) {
            return self.error(head, from, replier, DefinedCondition::ServiceUnavailable);
        }
        if own && blocking::is_blocking(&payload) {
            return self.blocking(from, head, &id, get, payload).await;
        }
        if crate::pep::is_pubsub(&payload) {
            return self.pep_iq(from, head, to, (id, payload, get)).await;
        }
        if payload.is("query", ns::ROSTER) {
            if !own {
                return self.error(head, from, replier, DefinedCondition::Forbidden);
            }
            return self.roster(from, head, &id, get, payload).await;
        }
        if own && !get && vcard::is_vcard(&payload) {
            return self.set_own_vcard(from, head, &id, payload).await;
        }
        match self.account_item(&from.to_bare(), &to, &payload, get).await {
            Some(Ok(item)) => {
                let result =
                    crate::stanza::iq_result(&id, from.clone().into(), Some(replier), item);
                self.send_to(from, result);
            }
            Some(Err(condition)) => self.error(head, from, replier, condition),
            None => {
                let entity = if own {
                    Entity::OwnAccount
                } else {
                    Entity::Account
                };
                self.answer(from, head, entity, replier, (id, payload, get));
            }
        }
    }

    /// What the server keeps of `owner` and answers for their bare JID by `viewer`'s level, for
    /// local and remote viewers alike: the vCard (XEP-0054) and the last activity (XEP-0012).
    /// `None` when `payload` is neither, or is a last-activity query the viewer's level does not
    /// answer: the caller answers as for any other request. A vCard set for someone else's
    /// vCard is `forbidden` (§3.2 is the user's own).
    pub(crate) async fn account_item(
        &self,
        viewer: &BareJid,
        owner: &BareJid,
        payload: &Element,
        get: bool,
    ) -> Option<Result<Option<Element>, DefinedCondition>> {
        if vcard::is_vcard(payload) {
            if !get {
                return Some(Err(DefinedCondition::Forbidden));
            }
            return Some(self.vcard_for(viewer, owner).await.map(Some));
        }
        if get && last_activity::is_query(payload) {
            return self
                .last_activity_for(viewer, owner)
                .await
                .map(|answer| answer.map(Some));
        }
        None
    }

    /// The level at which `viewer` sees what `owner` keeps on the server (docs/ACCESS.md): the
    /// owner sees everything; a viewer the owner lets see their presence (a subscription
    /// `from`) is at the level the owner's rules give; anyone else is a stranger, with no level
    /// (`None`, below every level). A roster that cannot be read makes a stranger.
    pub(crate) async fn viewer_level(
        &self,
        owner: &BareJid,
        viewer: &BareJid,
    ) -> Option<AccessLevel> {
        if owner == viewer {
            return Some(AccessLevel::Personal);
        }
        match self.backend().contact(owner, viewer).await {
            Ok(entry) if presence::may_see(entry.as_ref()) => {
                Some(self.authority().level_for(owner, viewer))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(%owner, error = %e, "contact lookup failed; viewer is a stranger");
                None
            }
        }
    }

    /// How long the server has been up (XEP-0012 §5).
    pub(crate) fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }

    /// A ping (XEP-0199) or disco query (XEP-0030) to `replier` answered (and, to the server,
    /// version, time and uptime), anything else refused with `service-unavailable`.
    fn answer(
        &self,
        from: &FullJid,
        head: &Head,
        entity: Entity,
        replier: Jid,
        request: (String, Element, bool),
    ) {
        let answer = server_answer(
            entity,
            from.clone().into(),
            replier.clone(),
            request,
            self.uptime(),
        );
        match answer {
            Some(a) => {
                self.send_to(from, a);
            }
            None => self.error(head, from, replier, DefinedCondition::ServiceUnavailable),
        }
    }
}

/// What the server answers for `replier` (itself, or an account's bare JID) to a request
/// from `requester`: a ping (XEP-0199) or disco (XEP-0030) result, and for the server itself
/// software version (XEP-0092), entity time (XEP-0202) and uptime (XEP-0012) too; `None` for
/// anything else.
pub(crate) fn server_answer(
    entity: Entity,
    requester: Jid,
    replier: Jid,
    (id, payload, get): (String, Element, bool),
    uptime: std::time::Duration,
) -> Option<Element> {
    if !get {
        return None;
    }
    if ping::is_ping(&payload) {
        return Some(ping::pong(&id, requester, replier));
    }
    if entity == Entity::Server {
        let own = version::answer(&payload)
            .or_else(|| entity_time::answer(&payload, std::time::SystemTime::now().into()))
            .or_else(|| last_activity::answer(&payload, uptime));
        if let Some(result) = own {
            return Some(crate::stanza::iq_result(
                &id,
                requester,
                Some(replier),
                Some(result),
            ));
        }
    }
    disco::answer(entity, &id, requester, replier, payload)
}

/// The id and payload of a get or set, and whether it is a get; `None` for a result or an
/// error, which nobody answers.
pub(crate) fn request(iq: Iq) -> Option<(String, Element, bool)> {
    match iq {
        Iq::Get { id, payload, .. } => Some((id, payload, true)),
        Iq::Set { id, payload, .. } => Some((id, payload, false)),
        Iq::Result { .. } | Iq::Error { .. } => None,
    }
}
