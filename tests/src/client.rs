//! A real tokio-xmpp `Client` logged in to a test node, with bounded waits.
//!
//! The client lives in a pump task that forwards its events to the test, so the test
//! can wait for one stanza while others keep arriving. Every wait is bounded by
//! [`WAIT`] and fails with what was expected and what arrived instead.

use std::collections::VecDeque;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tokio_xmpp::jid::{BareJid, FullJid, Jid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::message::{Message, MessageType};
use tokio_xmpp::parsers::presence::{Presence, Show, Type as PresenceType};
use tokio_xmpp::parsers::roster::{Item, Roster};
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{Client, Event, IqRequest, IqResponse, Stanza};

use crate::connector::{KillSwitch, TestConnector};

/// Longest a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test listens to be sure something does *not* arrive.
pub const QUIET: Duration = Duration::from_millis(1500);

enum Command {
    Send(Box<Stanza>, oneshot::Sender<std::io::Result<()>>),
    Iq(IqRequest, oneshot::Sender<tokio_xmpp::IqResponseToken>),
    Close(oneshot::Sender<()>),
}

/// Forward every event the client already has, without waiting for more.
///
/// tokio-xmpp moves received stanzas through two bounded queues (16 each) to `next()`, and
/// `send_stanza` waits until its stanza is written. While the pump awaits a send it does not call
/// `next()`: if enough stanzas arrive meanwhile, the receive side fills up, tokio-xmpp's stream
/// task stops writing too, and the send (and every IQ answer behind it) waits forever. Emptying the
/// queues first leaves room for the stanzas that arrive during the send. Returns `false` when the
/// client or the test is gone.
async fn drain_ready(client: &mut Client, events: &mpsc::Sender<Event>) -> bool {
    use futures::FutureExt;
    // A few rounds: each one lets tokio-xmpp's worker refill what the previous one emptied.
    for _ in 0..4 {
        for _ in 0..1024 {
            match client.next().now_or_never() {
                Some(Some(event)) => {
                    if events.send(event).await.is_err() {
                        return false;
                    }
                }
                Some(None) => return false,
                None => break,
            }
        }
        tokio::task::yield_now().await;
    }
    true
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

async fn pump(
    mut client: Client,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None => return,
                Some(Command::Send(stanza, reply)) => {
                    if !drain_ready(&mut client, &events).await {
                        return;
                    }
                    let sent = client.send_stanza(*stanza).await.map(|_| ());
                    let _ = reply.send(sent);
                }
                Some(Command::Iq(req, reply)) => {
                    if !drain_ready(&mut client, &events).await {
                        return;
                    }
                    let _ = reply.send(client.send_iq(None, req).await);
                }
                Some(Command::Close(reply)) => {
                    let _ = client.send_end().await;
                    let _ = reply.send(());
                    return;
                }
            },
            event = client.next() => match event {
                None => return,
                Some(event) => if events.send(event).await.is_err() { return },
            },
        }
    }
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
        let client =
            Client::new_with_connector(jid.clone(), password, connector, Timeouts::default());
        let (cmd_tx, cmd_rx) = mpsc::channel(16);
        let (ev_tx, mut ev_rx) = mpsc::channel(1024);
        let pump = tokio::spawn(pump(client, cmd_rx, ev_tx));
        let deadline = Instant::now() + WAIT;
        let bound = loop {
            match timeout_at(deadline, ev_rx.recv()).await {
                Err(_) => {
                    kill.kill();
                    pump.abort();
                    anyhow::bail!("{jid}: not online within {WAIT:?}");
                }
                Ok(None) => anyhow::bail!("{jid}: client stopped before it was online"),
                Ok(Some(Event::Online { bound_jid, .. })) => break bound_jid,
                Ok(Some(Event::Disconnected(e))) => {
                    kill.kill();
                    pump.abort();
                    anyhow::bail!("{jid}: disconnected before online: {e}");
                }
                Ok(Some(Event::Stanza(_))) => {}
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
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Send(Box::new(stanza.into()), tx))
            .await
            .expect("client pump gone");
        tokio::time::timeout(WAIT, rx)
            .await
            .unwrap_or_else(|_| panic!("{}: stanza not written within {WAIT:?}", self.jid))
            .expect("client pump gone")
            .unwrap_or_else(|e| panic!("{}: send failed: {e}", self.jid));
    }

    /// Send available presence with the given show, status and priority.
    pub async fn presence(&self, show: Option<Show>, status: Option<&str>, priority: i8) {
        self.send(presence(show, status, priority)).await;
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
        let token = rx.await.expect("client pump gone");
        match tokio::time::timeout(WAIT, token).await {
            Err(_) => panic!("{}: no IQ response within {WAIT:?}", self.jid),
            Ok(Err(e)) => panic!("{}: IQ failed: {e:?}", self.jid),
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
                    None => self.backlog.push_back(stanza),
                },
                Ok(Some(Event::Disconnected(e))) => {
                    panic!("{}: disconnected while waiting for {what}: {e}", self.jid)
                }
                Ok(Some(Event::Online { .. })) => {}
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
                Ok(Some(Event::Stanza(s))) => self.backlog.push_back(s),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Listen for up to `within`: whether the server ended the stream and tokio-xmpp
    /// logged in again (tokio-xmpp 6 reports a lost stream only as a new `Online`).
    pub async fn stream_restarted_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Event::Online { .. })) | Ok(Some(Event::Disconnected(_))) => return true,
                Ok(Some(Event::Stanza(s))) => self.backlog.push_back(s),
                Ok(None) | Err(_) => return false,
            }
        }
    }

    /// Whether a message matching `pred` has already arrived (consumed if so); no wait.
    pub fn expect_message_now(&mut self, pred: impl Fn(&Message) -> bool) -> bool {
        while let Ok(event) = self.events.try_recv() {
            if let Event::Stanza(s) = event {
                self.backlog.push_back(s);
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
                self.backlog.push_back(s);
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
