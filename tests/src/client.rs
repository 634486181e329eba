//! A real tokio-xmpp client stream (the `StanzaStream` under tokio-xmpp's `Client`: login,
//! STARTTLS, SASL, bind, reconnection) logged in to a test node, with bounded waits.
//!
//! The stream lives in a pump task that forwards its events to the test, so the test
//! can wait for one stanza while others keep arriving. Every wait is bounded by
//! [`WAIT`] and fails with what was expected and what arrived instead.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tokio_xmpp::jid::{BareJid, FullJid, Jid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::message::{Id, Message, MessageType};
use tokio_xmpp::parsers::presence::{Presence, Show, Type as PresenceType};
use tokio_xmpp::parsers::roster::{Item, Roster};
use tokio_xmpp::stanzastream::{self, StanzaStage, StanzaState, StanzaStream, StreamEvent};
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{IqRequest, IqResponse, Stanza};

use crate::connector::{KillSwitch, TestConnector};

/// Longest a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test listens to be sure something does *not* arrive.
pub const QUIET: Duration = Duration::from_millis(1500);

enum Command {
    /// Send, and answer once the stanza reached the stage (written, or acknowledged by the
    /// server with XEP-0198).
    Send(
        Box<Stanza>,
        StanzaStage,
        oneshot::Sender<std::io::Result<()>>,
    ),
    Iq(IqRequest, oneshot::Sender<IqResponse>),
    Close(oneshot::Sender<()>),
}

/// What the pump hands to the test.
enum Event {
    /// The stream is (again) bound to this JID.
    Online(Jid),
    /// A new connection resumed the stream (XEP-0198): nothing was lost.
    Resumed,
    Stanza(Box<Stanza>),
}

/// Runs one tokio-xmpp `StanzaStream` for the test: sends what the test asks, answers
/// IQ requests' waiters, and forwards everything else.
///
/// Why not tokio-xmpp's `Client`: it splits the stream into halves that share a mutex, and
/// its receiving half returns `Pending` without arranging a wake-up when the sending half
/// holds that mutex. A stanza that arrives while the test sends one then stays in
/// tokio-xmpp's queue for good, and so does everything after it. Driving the unsplit
/// stream from one task has no such race.
struct Pump {
    stream: StanzaStream,
    events: mpsc::Sender<Event>,
    /// IQ requests sent and not answered yet, by id.
    waiting: HashMap<String, oneshot::Sender<IqResponse>>,
}

impl Pump {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(Command::Send(mut stanza, stage, reply)) => {
                        give_id(&mut stanza);
                        match self.send(*stanza, stage).await {
                            Some(sent) => { let _ = reply.send(sent); }
                            None => return,
                        }
                    }
                    Some(Command::Iq(req, reply)) => {
                        let id = next_id();
                        let iq = match req {
                            IqRequest::Get(payload) => Iq::Get { from: None, to: None, id: id.clone(), payload },
                            IqRequest::Set(payload) => Iq::Set { from: None, to: None, id: id.clone(), payload },
                        };
                        self.waiting.insert(id, reply);
                        if self.send(Stanza::Iq(iq), StanzaStage::Sent).await.is_none() {
                            return;
                        }
                    }
                    Some(Command::Close(reply)) => {
                        let _ = tokio::time::timeout(WAIT, self.stream.close()).await;
                        let _ = reply.send(());
                        return;
                    }
                },
                event = self.stream.next() => if !self.forward(event).await { return },
            }
        }
    }

    /// Queue `stanza` and wait until it reached `stage`, forwarding what arrives meanwhile (a
    /// full receive queue would otherwise hold up the stream). `None` when the test or the
    /// stream is gone.
    async fn send(&mut self, stanza: Stanza, stage: StanzaStage) -> Option<std::io::Result<()>> {
        let mut token = self.stream.send(Box::new(stanza)).await;
        loop {
            tokio::select! {
                state = token.wait_for(stage) => return Some(match state {
                    Some(StanzaState::Acked { .. }) => Ok(()),
                    Some(StanzaState::Sent { .. }) if stage == StanzaStage::Sent => Ok(()),
                    Some(StanzaState::Failed { error }) => Err(error.into_io_error()),
                    _ => Err(std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        "stream ended before the stanza was written",
                    )),
                }),
                event = self.stream.next() => if !self.forward(event).await { return None },
            }
        }
    }

    /// Hand one stream event to the test (IQ answers to their waiters); `false` when the stream
    /// ended (`None`) or the test is gone.
    async fn forward(&mut self, event: Option<stanzastream::Event>) -> bool {
        let Some(event) = event else {
            return false;
        };
        let event = match event {
            stanzastream::Event::Stanza(Stanza::Iq(iq)) => match self.answer(iq) {
                Some(iq) => Event::Stanza(Box::new(Stanza::Iq(iq))),
                None => return true,
            },
            stanzastream::Event::Stanza(s) => Event::Stanza(Box::new(s)),
            stanzastream::Event::Stream(StreamEvent::Reset { bound_jid, .. }) => {
                Event::Online(bound_jid)
            }
            stanzastream::Event::Stream(StreamEvent::Resumed) => Event::Resumed,
            stanzastream::Event::Stream(_) => return true,
        };
        self.events.send(event).await.is_ok()
    }

    /// Give an IQ response to its waiter; anything else comes back.
    fn answer(&mut self, iq: Iq) -> Option<Iq> {
        let (id, response) = match iq {
            Iq::Result { id, payload, .. } => (id, IqResponse::Result(payload)),
            Iq::Error { id, error, .. } => (id, IqResponse::Error(error)),
            request => return Some(request),
        };
        if let Some(waiter) = self.waiting.remove(&id) {
            let _ = waiter.send(response);
        }
        None
    }
}

/// A stanza id unique in this test process.
fn next_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Give `stanza` an id if it has none, as clients do.
fn give_id(stanza: &mut Stanza) {
    match stanza {
        Stanza::Iq(iq) => {
            if iq.id().is_empty() {
                *iq.id_mut() = next_id();
            }
        }
        Stanza::Message(m) => {
            m.id.get_or_insert_with(|| Id(next_id()));
        }
        Stanza::Presence(p) => {
            p.id.get_or_insert_with(next_id);
        }
    }
}

/// One logged-in resource.
pub struct TestClient {
    /// The full JID the server bound.
    pub jid: FullJid,
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    backlog: VecDeque<Stanza>,
    kill: KillSwitch,
    pump: JoinHandle<()>,
}

impl TestClient {
    /// Log in `jid` (bare or full) with `password` through `connector`; waits for the
    /// bound resource. Sends no presence.
    pub async fn login(
        connector: TestConnector,
        jid: &str,
        password: &str,
    ) -> anyhow::Result<Self> {
        let jid: Jid = jid.parse()?;
        let kill = connector.kill.clone();
        let stream = StanzaStream::new_c2s(
            connector,
            jid.clone(),
            password.to_owned(),
            Timeouts::default(),
            16,
        );
        let (cmd_tx, cmd_rx) = mpsc::channel(16);
        let (ev_tx, mut ev_rx) = mpsc::channel(1024);
        let pump = Pump {
            stream,
            events: ev_tx,
            waiting: HashMap::new(),
        };
        let pump = tokio::spawn(pump.run(cmd_rx));
        let deadline = Instant::now() + WAIT;
        let bound = loop {
            match timeout_at(deadline, ev_rx.recv()).await {
                Err(_) => {
                    kill.kill();
                    pump.abort();
                    anyhow::bail!("{jid}: not online within {WAIT:?}");
                }
                Ok(None) => anyhow::bail!("{jid}: client stopped before it was online"),
                Ok(Some(Event::Online(bound_jid))) => break bound_jid,
                Ok(Some(Event::Stanza(_) | Event::Resumed)) => {}
            }
        };
        let jid = bound
            .try_into_full()
            .map_err(|j| anyhow::anyhow!("bound JID {j} has no resource"))?;
        Ok(Self {
            jid,
            commands: cmd_tx,
            events: ev_rx,
            backlog: VecDeque::new(),
            kill,
            pump,
        })
    }

    /// The account's bare JID.
    pub fn bare(&self) -> BareJid {
        self.jid.to_bare()
    }

    /// Send a stanza; returns once it is written.
    pub async fn send(&self, stanza: impl Into<Stanza>) {
        self.send_until(stanza.into(), StanzaStage::Sent).await;
    }

    /// Send a stanza; returns once the server acknowledged it (XEP-0198 `<a/>`).
    pub async fn send_acked(&self, stanza: impl Into<Stanza>) {
        self.send_until(stanza.into(), StanzaStage::Acked).await;
    }

    async fn send_until(&self, stanza: Stanza, stage: StanzaStage) {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Send(Box::new(stanza), stage, tx))
            .await
            .expect("client pump gone");
        tokio::time::timeout(WAIT, rx)
            .await
            .unwrap_or_else(|_| panic!("{}: stanza not {stage:?} within {WAIT:?}", self.jid))
            .expect("client pump gone")
            .unwrap_or_else(|e| panic!("{}: send failed: {e}", self.jid));
    }

    /// Send available presence with the given show, status and priority; returns once the
    /// server acknowledged it (XEP-0198), so it has been handled. tokio-xmpp reports a stanza
    /// written before it flushes: a test that went on at once could overtake its own presence.
    pub async fn presence(&self, show: Option<Show>, status: Option<&str>, priority: i8) {
        self.send_acked(presence(show, status, priority)).await;
    }

    /// Send a subscription presence (`subscribe`, `subscribed`, ...) to a bare JID.
    pub async fn subscription(&self, to: &BareJid, type_: PresenceType) {
        self.send(Presence::new(type_).with_to(to.clone())).await;
    }

    /// Send a chat message.
    pub async fn chat(&self, to: impl Into<Jid>, body: &str) {
        let msg = Message::chat(Some(to.into())).with_body(Default::default(), body.to_owned());
        self.send(msg).await;
    }

    /// An IQ request, waiting (bounded) for its response.
    pub async fn iq(&self, req: IqRequest) -> IqResponse {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Iq(req, tx))
            .await
            .expect("client pump gone");
        match tokio::time::timeout(WAIT, rx).await {
            Err(_) => panic!("{}: no IQ response within {WAIT:?}", self.jid),
            Ok(Err(_)) => panic!("{}: client stopped before the IQ response", self.jid),
            Ok(Ok(resp)) => resp,
        }
    }

    /// The roster as the server has it now (RFC 6121 §2.1.3 roster get).
    pub async fn roster(&self) -> Vec<Item> {
        let query: Element = Roster {
            ver: None,
            items: vec![],
        }
        .into();
        match self.iq(IqRequest::Get(query)).await {
            IqResponse::Result(Some(el)) => {
                Roster::try_from(el).expect("roster result parses").items
            }
            IqResponse::Result(None) => vec![],
            IqResponse::Error(e) => panic!("{}: roster get failed: {e:?}", self.jid),
        }
    }

    /// Add or update one roster item (RFC 6121 §2.1.5); waits for the result.
    pub async fn roster_set(&self, item: Item) {
        let query: Element = Roster {
            ver: None,
            items: vec![item],
        }
        .into();
        match self.iq(IqRequest::Set(query)).await {
            IqResponse::Result(_) => {}
            IqResponse::Error(e) => panic!("{}: roster set failed: {e:?}", self.jid),
        }
    }

    /// Drop every stanza received but not yet expected, so the next `expect` sees only what
    /// arrives from now on (and what is already on its way).
    pub fn forget_backlog(&mut self) {
        self.backlog.clear();
    }

    /// The first stanza (received now or within [`WAIT`]) for which `f` returns `Some`.
    pub async fn expect<T>(&mut self, what: &str, mut f: impl FnMut(&Stanza) -> Option<T>) -> T {
        if let Some(i) = self.backlog.iter().position(|s| f(s).is_some()) {
            let stanza = self.backlog.remove(i).expect("index from position");
            return f(&stanza).expect("matched before");
        }
        let deadline = Instant::now() + WAIT;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Err(_) => panic!(
                    "{}: no {what} within {WAIT:?}; received instead:\n{}",
                    self.jid,
                    self.describe_backlog()
                ),
                Ok(None) => panic!("{}: client stopped while waiting for {what}", self.jid),
                Ok(Some(Event::Stanza(stanza))) => match f(&stanza) {
                    Some(t) => return t,
                    None => self.backlog.push_back(*stanza),
                },
                Ok(Some(Event::Online(_) | Event::Resumed)) => {}
            }
        }
    }

    /// The first presence matching `pred`.
    pub async fn expect_presence(
        &mut self,
        what: &str,
        pred: impl Fn(&Presence) -> bool,
    ) -> Presence {
        self.expect(what, |s| match s {
            Stanza::Presence(p) if pred(p) => Some(p.clone()),
            _ => None,
        })
        .await
    }

    /// The first message matching `pred`.
    pub async fn expect_message(&mut self, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        self.expect(what, |s| match s {
            Stanza::Message(m) if pred(m) => Some(m.clone()),
            _ => None,
        })
        .await
    }

    /// Listen for up to `within`: `Some(message)` if one matching `pred` arrived (now or
    /// earlier), `None` otherwise.
    pub async fn message_within(
        &mut self,
        within: Duration,
        pred: impl Fn(&Message) -> bool,
    ) -> Option<Message> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self
                .backlog
                .iter()
                .position(|s| matches!(s, Stanza::Message(m) if pred(m)))
            {
                if let Some(Stanza::Message(m)) = self.backlog.remove(i) {
                    return Some(m);
                }
            }
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::Stanza(s))) => self.backlog.push_back(*s),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Listen for up to `within`: whether the server ended the stream and tokio-xmpp
    /// logged in again (the pump reports only the new `Online`, not the loss before it).
    pub async fn stream_restarted_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::Online(_))) => return true,
                Ok(Some(Event::Stanza(s))) => self.backlog.push_back(*s),
                Ok(Some(Event::Resumed)) => {}
                Ok(None) | Err(_) => return false,
            }
        }
    }

    /// Listen for up to `within`: whether the stream was resumed on a new connection
    /// (XEP-0198) rather than logged in afresh; `false` on a fresh login too.
    pub async fn resumed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::Resumed)) => return true,
                Ok(Some(Event::Stanza(s))) => self.backlog.push_back(*s),
                Ok(Some(Event::Online(_))) | Ok(None) | Err(_) => return false,
            }
        }
    }

    /// Whether a message matching `pred` has already arrived (consumed if so); no wait.
    pub fn expect_message_now(&mut self, pred: impl Fn(&Message) -> bool) -> bool {
        while let Ok(event) = self.events.try_recv() {
            if let Event::Stanza(s) = event {
                self.backlog.push_back(*s);
            }
        }
        let found = self
            .backlog
            .iter()
            .position(|s| matches!(s, Stanza::Message(m) if pred(m)));
        found.map(|i| self.backlog.remove(i)).is_some()
    }

    /// Listen for `quiet` and fail if a stanza matching `pred` arrived (or had arrived).
    pub async fn assert_none(
        &mut self,
        what: &str,
        quiet: Duration,
        pred: impl Fn(&Stanza) -> bool,
    ) {
        let deadline = Instant::now() + quiet;
        while let Ok(Some(event)) = timeout_at(deadline, self.events.recv()).await {
            if let Event::Stanza(s) = event {
                self.backlog.push_back(*s);
            }
        }
        let bad: Vec<String> = self
            .backlog
            .iter()
            .filter(|s| pred(s))
            .map(describe)
            .collect();
        assert!(
            bad.is_empty(),
            "{} received {what}, which it must not:\n{}",
            self.jid,
            bad.join("\n")
        );
    }

    /// Drop the TCP connection without `</stream:stream>`.
    pub fn kill(&self) {
        self.kill.kill();
    }

    /// Drop the TCP connection without `</stream:stream>` and let tokio-xmpp connect again
    /// (and resume, XEP-0198).
    pub fn cut(&self) {
        self.kill.cut();
    }

    /// Close the stream in order (`</stream:stream>`), bounded.
    pub async fn close(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Close(tx)).await.is_ok() {
            let _ = tokio::time::timeout(WAIT, rx).await;
        }
        self.kill.kill();
        self.pump.abort();
    }

    fn describe_backlog(&self) -> String {
        if self.backlog.is_empty() {
            return "  (nothing)".to_owned();
        }
        self.backlog
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.kill.kill();
        self.pump.abort();
    }
}

fn describe(s: &Stanza) -> String {
    let el: Element = s.into();
    format!("  {}", String::from(&el))
}

/// An available presence.
pub fn presence(show: Option<Show>, status: Option<&str>, priority: i8) -> Presence {
    let mut p = Presence::available().with_priority(priority);
    p.show = show;
    if let Some(status) = status {
        p.set_status("", status);
    }
    p
}

/// The status text of a presence ("" when none).
pub fn status(p: &Presence) -> &str {
    p.statuses.values().next().map(String::as_str).unwrap_or("")
}

/// Whether `p` is from exactly `from`.
pub fn from_is(p: &Presence, from: &FullJid) -> bool {
    p.from.as_ref() == Some(&Jid::from(from.clone()))
}

/// Where a viewer below team sees `bare`'s presence from: one presence per person, from the
/// node's own resource (docs/ACCESS.md).
#[allow(clippy::expect_used)]
pub fn person(bare: &BareJid) -> FullJid {
    bare.with_resource_str(lampfield_xmpp::router::NODE_RESOURCE)
        .expect("the node resource is a valid resourcepart")
}

/// Whether `p` is from any resource of `bare` (or the bare JID itself).
pub fn from_bare(from: &Option<Jid>, bare: &BareJid) -> bool {
    from.as_ref().is_some_and(|j| j.to_bare() == *bare)
}

/// The body of a message ("" when none).
pub fn body(m: &Message) -> &str {
    m.bodies.values().next().map(|b| b.as_str()).unwrap_or("")
}

/// Whether a message is a chat message.
pub fn is_chat(m: &Message) -> bool {
    m.type_ == MessageType::Chat
}

/// Mutual subscription the way real clients do it: subscribe/subscribed both ways.
pub async fn befriend(a: &mut TestClient, b: &mut TestClient) {
    let (ab, bb) = (a.bare(), b.bare());
    a.subscription(&bb, PresenceType::Subscribe).await;
    b.expect_presence("subscribe request", |p| {
        p.type_ == PresenceType::Subscribe && from_bare(&p.from, &ab)
    })
    .await;
    b.subscription(&ab, PresenceType::Subscribed).await;
    b.subscription(&ab, PresenceType::Subscribe).await;
    a.expect_presence("subscribed answer", |p| {
        p.type_ == PresenceType::Subscribed && from_bare(&p.from, &bb)
    })
    .await;
    a.expect_presence("subscribe request", |p| {
        p.type_ == PresenceType::Subscribe && from_bare(&p.from, &bb)
    })
    .await;
    a.subscription(&bb, PresenceType::Subscribed).await;
    b.expect_presence("subscribed answer", |p| {
        p.type_ == PresenceType::Subscribed && from_bare(&p.from, &ab)
    })
    .await;
}
