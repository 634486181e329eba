//! Presence published on the node's behalf (see [`crate::ports::authority`]): every viewer gets the
//! view the node renders for it, in the form its disclosure allows, and never the same stanza
//! twice.
//!
//! - Forms: a viewer below team sees one presence per person, from `user@domain/`
//!   [`NODE_RESOURCE`] with no priority and the person-level extensions of the user's first
//!   client; a viewer at team or above sees one presence per available resource, with its
//!   priority and the extensions its disclosure allows ([`super::extensions`]).
//! - What each viewer holds ([`Held`]): the form it was shown and a digest of its bytes. A viewer
//!   that may see nothing gets an unavailable only for what it holds, so a blocked viewer never
//!   receives a stanza an offline user would not cause; a viewer whose stanza would be the one it
//!   holds gets nothing, since a duplicate would tell that something changed underneath.
//! - The node resource: a user with no client online may still be live (a call on the desk
//!   phone, docs/PRESENCE.md rule 4). The presence then comes from [`NODE_RESOURCE`] for every
//!   viewer, which goes unavailable for those who see devices when a client comes online.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

use jid::{BareJid, FullJid};
use minidom::Element;

use super::extensions::Extensions;
use super::unavailable;
use crate::delivery::{Deliveries, Delivery};
use crate::ports::authority::{Disclosure, Shown};
use crate::session::table::Table;
use crate::stanza::{self, FanoutStanza};

/// Resource of the presence the node publishes for a user to viewers that see the person, and to
/// every viewer for a user without a connected client. No client may bind it.
pub const NODE_RESOURCE: &str = "lampfield";

/// What one viewer holds of one user's presence. Small on purpose: one per subscriber of every
/// user with a live presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// One presence from the node resource; the digest of its bytes.
    Person(u64),
    /// One presence per available resource; the digest of all of them.
    Devices(u64),
}

impl Held {
    fn same_form(self, other: Held) -> bool {
        matches!(
            (self, other),
            (Held::Person(_), Held::Person(_)) | (Held::Devices(_), Held::Devices(_))
        )
    }
}

/// Publication state of one user.
#[derive(Debug, Default)]
pub(crate) struct Owner {
    /// What each viewer holding an available presence of the user holds.
    held: HashMap<BareJid, Held>,
    /// The user's presence comes from the node resource.
    node_resource: bool,
    /// Taken out of the map while empty: whoever locked it must look it up again.
    retired: bool,
}

/// One resource speaking for a user.
#[derive(Debug, Clone)]
pub(crate) struct Speaker {
    pub(crate) jid: FullJid,
    /// Its priority (the node resource at −1, so it never takes messages to the bare JID).
    pub(crate) priority: i8,
    /// The extensions its client put in its presence.
    pub(crate) extensions: Extensions,
}

/// The resources a publication speaks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Speakers {
    /// Available resources, in the order of their names.
    pub(crate) live: Vec<Speaker>,
    /// Resources that stopped speaking with this publication.
    pub(crate) gone: Vec<FullJid>,
    /// Live resources that started speaking with this publication: no viewer holds them yet.
    pub(crate) arrived: Vec<FullJid>,
}

impl Speakers {
    /// Whether `announce` sends `speaker`'s presence to those already holding the others: every
    /// live one, or the one resource that changed and those that started.
    fn announces(&self, announce: &Announce<'_>, speaker: &Speaker) -> bool {
        announce.only.is_none_or(|r| speaker.jid == *r) || self.arrived.contains(&speaker.jid)
    }

    /// The resources a viewer shown every resource before this publication holds.
    fn held_before(&self) -> impl Iterator<Item = &FullJid> {
        self.live
            .iter()
            .map(|s| &s.jid)
            .filter(|j| !self.arrived.contains(j))
            .chain(&self.gone)
    }

    /// The client whose person-level extensions go with the presence per person: the highest
    /// priority, the first resource name on a tie.
    fn first_client(&self) -> Option<&Speaker> {
        let mut first: Option<&Speaker> = None;
        for s in &self.live {
            if first.is_none_or(|f| s.priority > f.priority) {
                first = Some(s);
            }
        }
        first
    }
}

/// Which resources' presence a publication sends to viewers already holding the others.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Announce<'a> {
    /// Only this resource changed (it came, went, or changed priority or extensions), and what
    /// viewers hold of the other resources is still right; `None`: every resource's presence is
    /// news, since the user's view changed.
    pub(crate) only: Option<&'a FullJid>,
    /// This resource just sent initial presence: it also gets the presence of the user's other
    /// available resources (RFC 6121 §4.2.2), having seen none of them yet.
    pub(crate) arrived: Option<&'a FullJid>,
}

impl<'a> Announce<'a> {
    /// Every live resource: what viewers see of the user changed.
    pub(crate) fn all() -> Self {
        Announce::default()
    }

    /// Only `resource` is news.
    pub(crate) fn only(resource: &'a FullJid) -> Self {
        Announce {
            only: Some(resource),
            arrived: None,
        }
    }

    /// As before, with `resource` just arrived.
    pub(crate) fn arriving(self, resource: &'a FullJid) -> Self {
        Announce {
            arrived: Some(resource),
            ..self
        }
    }
}

/// The node resource of `owner`.
#[allow(clippy::expect_used)]
pub(crate) fn node_jid(owner: &BareJid) -> FullJid {
    owner
        .with_resource_str(NODE_RESOURCE)
        .expect("the node resource is a valid resourcepart")
}

/// The form one view takes, built once per fan-out for every viewer sharing it.
enum Form {
    /// One presence from the node resource.
    Person(Rc<FanoutStanza>, u64),
    /// The presence of every live resource, as the speakers list them.
    Devices(Vec<Rc<FanoutStanza>>, u64),
}

impl Form {
    fn held(&self) -> Held {
        match self {
            Form::Person(_, digest) => Held::Person(*digest),
            Form::Devices(_, digest) => Held::Devices(*digest),
        }
    }
}

/// The stanzas of one publication, built and serialized once per distinct view and disclosure
/// (a view is shared by every viewer at its level, see [`crate::PresenceSnapshot::for_viewer`]).
pub(crate) struct Rendered<'s> {
    owner: &'s BareJid,
    speakers: &'s Speakers,
    announce: Announce<'s>,
    forms: Vec<(Arc<Element>, Disclosure, Rc<Form>)>,
    /// Unavailable from the node resource, for a viewer that held the presence per person.
    person_gone: Option<Rc<FanoutStanza>>,
    /// Unavailable from each resource a viewer that held every resource holds.
    devices_gone: Option<Vec<Rc<FanoutStanza>>>,
    /// Unavailable from each resource that stopped speaking.
    gone: Option<Vec<Rc<FanoutStanza>>>,
}

impl<'s> Rendered<'s> {
    pub(crate) fn new(owner: &'s BareJid, speakers: &'s Speakers, announce: Announce<'s>) -> Self {
        Rendered {
            owner,
            speakers,
            announce,
            forms: Vec::new(),
            person_gone: None,
            devices_gone: None,
            gone: None,
        }
    }

    /// What a viewer holding `old` gets, and what it holds then, when it may see `shown`.
    /// `again`: the viewer asked (a probe, a new subscription), so it gets its whole form even
    /// when it holds it already.
    pub(crate) fn plan(
        &mut self,
        old: Option<Held>,
        shown: Option<&Shown>,
        again: bool,
    ) -> (Vec<Rc<FanoutStanza>>, Option<Held>) {
        let new = shown.and_then(|s| self.form(s));
        let mut out = Vec::new();
        let Some(new) = new else {
            match old {
                Some(Held::Person(_)) => out.push(self.person_gone()),
                Some(Held::Devices(_)) => out.extend(self.devices_gone()),
                None => {}
            }
            return (out, None);
        };
        let held = new.held();
        match (old, &*new) {
            (Some(Held::Devices(_)), Form::Person(..)) => out.extend(self.devices_gone()),
            (Some(Held::Person(_)), Form::Devices(..)) => out.push(self.person_gone()),
            _ => {}
        }
        match (old, &*new) {
            (Some(o), _) if o == held && !again => {}
            (_, Form::Person(stanza, _)) => out.push(Rc::clone(stanza)),
            (Some(o), Form::Devices(all, _)) if o.same_form(held) && !again => {
                let (speakers, announce) = (self.speakers, &self.announce);
                out.extend(
                    speakers
                        .live
                        .iter()
                        .zip(all)
                        .filter(|(s, _)| speakers.announces(announce, s))
                        .map(|(_, st)| Rc::clone(st)),
                );
                out.extend(self.gone());
            }
            (_, Form::Devices(all, _)) => out.extend(all.iter().cloned()),
        }
        (out, Some(held))
    }

    /// The form `shown` takes; `None` when nothing speaks.
    fn form(&mut self, shown: &Shown) -> Option<Rc<Form>> {
        if self.speakers.live.is_empty() {
            return None;
        }
        let cached = self
            .forms
            .iter()
            .find(|(v, d, _)| Arc::ptr_eq(v, &shown.presence) && *d == shown.disclosure);
        if let Some((_, _, form)) = cached {
            return Some(Rc::clone(form));
        }
        let form = Rc::new(match shown.disclosure {
            Disclosure::Person => {
                let stanza = FanoutStanza::new(person(&shown.presence, self.owner, self.speakers));
                let digest = digest([&stanza]);
                Form::Person(Rc::new(stanza), digest)
            }
            disclosure @ (Disclosure::Devices | Disclosure::Everything) => {
                let all: Vec<_> = self
                    .speakers
                    .live
                    .iter()
                    .map(|s| Rc::new(FanoutStanza::new(device(&shown.presence, s, disclosure))))
                    .collect();
                let digest = digest(all.iter().map(|s| &**s));
                Form::Devices(all, digest)
            }
        });
        self.forms.push((
            Arc::clone(&shown.presence),
            shown.disclosure,
            Rc::clone(&form),
        ));
        Some(form)
    }

    fn person_gone(&mut self) -> Rc<FanoutStanza> {
        let owner = self.owner;
        Rc::clone(
            self.person_gone
                .get_or_insert_with(|| Rc::new(FanoutStanza::new(unavailable(&node_jid(owner))))),
        )
    }

    fn devices_gone(&mut self) -> Vec<Rc<FanoutStanza>> {
        let speakers = self.speakers;
        self.devices_gone
            .get_or_insert_with(|| unavailables(speakers.held_before()))
            .clone()
    }

    fn gone(&mut self) -> Vec<Rc<FanoutStanza>> {
        let speakers = self.speakers;
        self.gone
            .get_or_insert_with(|| unavailables(speakers.gone.iter()))
            .clone()
    }
}

fn unavailables<'a>(jids: impl Iterator<Item = &'a FullJid>) -> Vec<Rc<FanoutStanza>> {
    jids.map(|j| Rc::new(FanoutStanza::new(unavailable(j))))
        .collect()
}

/// A digest of the bytes of `stanzas`: what a viewer holds, in a word.
fn digest<'a>(stanzas: impl IntoIterator<Item = &'a FanoutStanza>) -> u64 {
    let mut h = DefaultHasher::new();
    for s in stanzas {
        match &s.prepared {
            Some(p) => p.xml().hash(&mut h),
            None => String::from(&s.element).hash(&mut h),
        }
    }
    h.finish()
}

/// The presence per person: `view` from the node resource, with the person-level extensions of
/// the user's first client.
fn person(view: &Element, owner: &BareJid, speakers: &Speakers) -> Element {
    let mut p = stanza::without_priority(view.clone());
    stanza::set_from(&mut p, node_jid(owner).as_str());
    if let Some(first) = speakers.first_client() {
        for e in first.extensions.at(Disclosure::Person) {
            p.append_child(e.clone());
        }
    }
    p
}

/// The presence of one device: `view` stamped with its resource and priority, with the
/// extensions `disclosure` allows.
fn device(view: &Element, speaker: &Speaker, disclosure: Disclosure) -> Element {
    let mut p = view.clone();
    stanza::set_from(&mut p, speaker.jid.as_str());
    if speaker.priority != 0 {
        p.append_child(
            Element::builder("priority", xmpp_parsers::ns::DEFAULT_NS)
                .append(speaker.priority.to_string())
                .build(),
        );
    }
    for e in speaker.extensions.at(disclosure) {
        p.append_child(e.clone());
    }
    p
}

/// The stanzas the user's own resources get: the view from each announced resource with
/// everything its client put in it (or unavailable from each, when the user shows nothing), then
/// unavailable from each resource that stopped speaking.
pub(crate) fn own_stanzas(
    view: Option<&Element>,
    speakers: &Speakers,
    announce: &Announce<'_>,
) -> Vec<Element> {
    let mut out: Vec<Element> = speakers
        .live
        .iter()
        .filter(|s| speakers.announces(announce, s))
        .map(|s| match view {
            Some(v) => device(v, s, Disclosure::Everything),
            None => unavailable(&s.jid),
        })
        .collect();
    out.extend(speakers.gone.iter().map(unavailable));
    out
}

/// The router's publication state.
#[derive(Default)]
pub(crate) struct PublishedState {
    owners: Mutex<HashMap<BareJid, Arc<Mutex<Owner>>>>,
    /// One publication per user at a time, striped by user: a fan-out takes its snapshot and
    /// delivers it before the next one for the same user begins, so an older snapshot can never
    /// arrive after a newer one.
    turns: lampfield_stripes::Stripes,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PublishedState {
    /// Exclusive right to publish `owner`'s presence until the guard drops.
    pub(crate) async fn turn(&self, owner: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.turns.lock(owner).await
    }

    /// Run `f` on `owner`'s state, locked for it alone: fan-outs of different users never wait
    /// for each other, and nothing changes what viewers hold of `owner` meanwhile. Never called
    /// across `.await`; the session table, when needed, is locked before.
    pub(crate) fn with_owner<R>(&self, owner: &BareJid, f: impl FnOnce(&mut Owner) -> R) -> R {
        loop {
            let entry = Arc::clone(lock(&self.owners).entry(owner.clone()).or_default());
            let mut state = lock(&entry);
            if state.retired {
                continue;
            }
            let out = f(&mut state);
            if state.held.is_empty() && !state.node_resource {
                // Locked after the entry, never the other way round: taking an entry releases
                // the map first.
                let mut owners = lock(&self.owners);
                if owners.get(owner).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                    owners.remove(owner);
                }
                state.retired = true;
            }
            return out;
        }
    }

    /// What `viewer` holds of `owner`, without making room for an owner nobody is shown.
    pub(crate) fn held(&self, owner: &BareJid, viewer: &BareJid) -> Option<Held> {
        let entry = lock(&self.owners).get(owner).map(Arc::clone)?;
        let state = lock(&entry);
        state.held.get(viewer).copied()
    }

    /// §3.1.5, §4.3.2 for a remote prober: `contact` gets its whole `view` of `user` (after
    /// unavailable for what it held in another form), asked of the authority before the table
    /// was locked; nothing when it may see nothing.
    pub(crate) fn to_new_subscriber(
        &self,
        table: &Table,
        view: Option<Shown>,
        user: &BareJid,
        contact: &BareJid,
    ) -> Deliveries {
        if view.is_none() {
            return Vec::new();
        }
        self.show(table, view, user, contact, true)
    }

    /// A subscriber whose level or roster place changed gets what differs between what it holds
    /// and its `view` now: nothing when they are the same, unavailable for what it holds when it
    /// may now see nothing.
    pub(crate) fn reshow(
        &self,
        table: &Table,
        view: Option<Shown>,
        user: &BareJid,
        contact: &BareJid,
    ) -> Deliveries {
        self.show(table, view, user, contact, false)
    }

    /// What `contact` is owed of `user` between what it holds and `view` (all of `view` when
    /// `again`), recording what it holds then.
    fn show(
        &self,
        table: &Table,
        view: Option<Shown>,
        user: &BareJid,
        contact: &BareJid,
        again: bool,
    ) -> Deliveries {
        self.with_owner(user, |state| {
            let speakers = current_speakers(table, user, state);
            let mut rendered = Rendered::new(user, &speakers, Announce::all());
            let old = state.held.get(contact).copied();
            let (out, held) = rendered.plan(old, view.as_ref(), again);
            set_held(state, contact, held);
            out.iter()
                .map(|p| Delivery::Presence(contact.clone(), p.element.clone()))
                .collect()
        })
    }

    /// §4.3.2: the answer to a probe of `probed`: the prober's `view` to the probing resource
    /// only, or silence.
    pub(crate) fn to_prober(
        &self,
        table: &Table,
        view: Option<Shown>,
        prober: &FullJid,
        probed: &BareJid,
    ) -> Deliveries {
        let Some(view) = view else {
            return Vec::new();
        };
        let viewer = prober.to_bare();
        self.with_owner(probed, |state| {
            let speakers = current_speakers(table, probed, state);
            let mut rendered = Rendered::new(probed, &speakers, Announce::all());
            let Some(form) = rendered.form(&view) else {
                return Vec::new();
            };
            let held = form.held();
            // A viewer holding the other form is moved by the publication that changed it, for
            // all of its resources at once; the probe answers the probing one only.
            let old = state.held.get(&viewer).copied();
            if old.is_none_or(|o| o.same_form(held)) {
                state.held.insert(viewer, held);
            }
            let stanzas: Vec<Rc<FanoutStanza>> = match &*form {
                Form::Person(s, _) => vec![Rc::clone(s)],
                Form::Devices(all, _) => all.clone(),
            };
            stanzas
                .iter()
                .map(|p| {
                    let mut p = p.element.clone();
                    stanza::set_to(&mut p, prober.as_str());
                    Delivery::Session(prober.clone(), p)
                })
                .collect()
        })
    }

    /// §3.2.2, §3.3.3: a former subscriber that was shown `user` available learns that it no
    /// longer is, for what it held; one that was shown nothing gets nothing.
    pub(crate) fn to_former_subscriber(
        &self,
        table: &Table,
        user: &BareJid,
        contact: &BareJid,
    ) -> Deliveries {
        self.reshow(table, None, user, contact)
    }

    /// `user` is gone for good (its account removed): every viewer gets unavailable for what it
    /// holds, and nothing is left of the user's publication.
    pub(crate) fn to_every_viewer_gone(&self, table: &Table, user: &BareJid) -> Deliveries {
        self.with_owner(user, |state| {
            let speakers = current_speakers(table, user, state);
            let mut rendered = Rendered::new(user, &speakers, Announce::all());
            let mut out = Vec::new();
            for (viewer, held) in state.held.drain() {
                let (stanzas, _) = rendered.plan(Some(held), None, false);
                out.extend(
                    stanzas
                        .iter()
                        .map(|p| Delivery::Presence(viewer.clone(), p.element.clone())),
                );
            }
            state.node_resource = false;
            out
        })
    }

    /// `contact` holds nothing of `user` any more (its domain was told so another way, or it is
    /// gone).
    pub(crate) fn forget(&self, user: &BareJid, contact: &BareJid) {
        self.with_owner(user, |state| {
            state.held.remove(contact);
        });
    }
}

impl Owner {
    /// What `viewer` holds.
    pub(crate) fn held(&self, viewer: &BareJid) -> Option<Held> {
        self.held.get(viewer).copied()
    }

    /// Record what `viewer` holds after a publication.
    pub(crate) fn set_held(&mut self, viewer: &BareJid, held: Option<Held>) {
        set_held(self, viewer, held);
    }

    /// Which resources speak for the user now, updating the node resource's state: `gone`
    /// stopped and `arrived` started with this publication; `live` says whether the user shows
    /// anything at all.
    pub(crate) fn speakers(
        &mut self,
        table: &Table,
        owner: &BareJid,
        gone: Option<&FullJid>,
        arrived: Option<&FullJid>,
        live: bool,
    ) -> Speakers {
        let mut speakers = clients(table, owner);
        let wants_node = live && speakers.live.is_empty();
        if wants_node {
            if !self.node_resource {
                self.node_resource = true;
                speakers.arrived.push(node_jid(owner));
            }
            speakers.live.push(node_speaker(owner));
        } else if self.node_resource {
            self.node_resource = false;
            speakers.gone.push(node_jid(owner));
        }
        speakers.gone.extend(gone.cloned());
        speakers.arrived.extend(arrived.cloned());
        speakers
    }
}

fn set_held(state: &mut Owner, viewer: &BareJid, held: Option<Held>) {
    match held {
        Some(h) => {
            state.held.insert(viewer.clone(), h);
        }
        None => {
            state.held.remove(viewer);
        }
    }
}

/// The resources speaking for `owner` as of the last publication.
fn current_speakers(table: &Table, owner: &BareJid, state: &Owner) -> Speakers {
    let mut speakers = clients(table, owner);
    if speakers.live.is_empty() && state.node_resource {
        speakers.live.push(node_speaker(owner));
    }
    speakers
}

/// `owner`'s available clients, in the order of their resource names.
fn clients(table: &Table, owner: &BareJid) -> Speakers {
    let mut live: Vec<Speaker> = table
        .of(owner)
        .into_iter()
        .flat_map(|sessions| sessions.iter())
        .filter(|(_, s)| s.available())
        .filter_map(|(res, s)| {
            let jid = owner.with_resource_str(res).ok()?;
            Some(Speaker {
                jid,
                priority: s.priority,
                extensions: s.extensions.clone(),
            })
        })
        .collect();
    live.sort_by(|a, b| a.jid.resource().as_str().cmp(b.jid.resource().as_str()));
    Speakers {
        live,
        ..Speakers::default()
    }
}

fn node_speaker(owner: &BareJid) -> Speaker {
    Speaker {
        jid: node_jid(owner),
        priority: -1,
        extensions: Extensions::default(),
    }
}
