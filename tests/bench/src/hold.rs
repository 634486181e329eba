//! An idle, logged-in session kept open by its own task: it answers the server's XEP-0199 pings,
//! records fan-out presences when asked to, proves it is alive on a `Check` command, and closes the
//! stream cleanly (RFC 6120 §4.4) on `Close`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::bytes;
use crate::login::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Idle,
    /// Send a ping to the server and count the answer.
    Check,
    Close,
}

/// Counters shared by all the tasks of one phase.
pub struct Shared {
    pub domain: String,
    /// Sessions that answered the last `Check`.
    pub checked: AtomicUsize,
    /// Fan-out presences recorded so far.
    pub arrivals: AtomicUsize,
    /// Sessions whose connection ended before `Close`.
    pub dropped: AtomicUsize,
    /// `lfbench:<run>:` marks the publisher's presences in fan-out; `None` outside fan-out.
    pub marker: Option<String>,
}

impl Shared {
    pub fn new(domain: &str, marker: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            domain: domain.to_owned(),
            checked: AtomicUsize::new(0),
            arrivals: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            marker,
        })
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub checked: bool,
    /// (sequence number, arrival time) of each fan-out presence.
    pub arrivals: Vec<(u32, Instant)>,
    pub error: Option<String>,
}

/// What to do after one element or command.
enum Action {
    None,
    Pong { id: String, to: Option<String> },
    Check,
    Close,
    Failed(String),
}

/// Most fan-out presences one session records (bounds memory against a misbehaving server).
const MAX_ARRIVALS: usize = 100_000;

pub async fn run(
    mut s: Session,
    mut ctl: watch::Receiver<Command>,
    shared: Arc<Shared>,
) -> Outcome {
    let mut out = Outcome::default();
    // A command given before this task started still counts.
    let mut pending = Some(*ctl.borrow_and_update());
    loop {
        let action = if let Some(cmd) = pending.take() {
            match cmd {
                Command::Idle => Action::None,
                Command::Check => Action::Check,
                Command::Close => Action::Close,
            }
        } else {
            tokio::select! {
                changed = ctl.changed() => match changed {
                    Err(_) => Action::Close,
                    Ok(()) => match *ctl.borrow_and_update() {
                        Command::Idle => Action::None,
                        Command::Check => Action::Check,
                        Command::Close => Action::Close,
                    },
                },
                el = s.conn.next() => match el {
                    Err(e) => Action::Failed(e.to_string()),
                    Ok(el) => handle(el, &shared, &mut out),
                },
            }
        };
        match action {
            Action::None => {}
            Action::Pong { id, to } => {
                let to = to.map(|t| format!(" to='{t}'")).unwrap_or_default();
                let pong = format!("<iq type='result' id='{id}'{to}/>");
                if let Err(e) = s.conn.send(pong.as_bytes()).await {
                    out.error = Some(e.to_string());
                    break;
                }
            }
            Action::Check => {
                let ping = format!(
                    "<iq type='get' id='chk' to='{}'><ping xmlns='urn:xmpp:ping'/></iq>",
                    shared.domain
                );
                if let Err(e) = s.conn.send(ping.as_bytes()).await {
                    out.error = Some(e.to_string());
                    break;
                }
            }
            Action::Close => {
                close(&mut s).await;
                return out;
            }
            Action::Failed(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    shared.dropped.fetch_add(1, Ordering::Relaxed);
    out
}

fn handle(el: &[u8], shared: &Shared, out: &mut Outcome) -> Action {
    if bytes::is(el, "iq") {
        let kind = bytes::attr(el, "type");
        let id = bytes::attr(el, "id").unwrap_or_default();
        if kind.as_deref() == Some("get") && bytes::contains(el, "urn:xmpp:ping") {
            return Action::Pong {
                id: xml_escape(&id),
                to: bytes::attr(el, "from").map(|f| xml_escape(&f)),
            };
        }
        if id == "chk" && !out.checked {
            out.checked = true;
            shared.checked.fetch_add(1, Ordering::Relaxed);
        }
        return Action::None;
    }
    if let Some(marker) = &shared.marker
        && bytes::is(el, "presence")
        && let Some(seq) = bytes::child_text(el, "status").and_then(|t| parse_seq(t, marker))
        && out.arrivals.len() < MAX_ARRIVALS
    {
        out.arrivals.push((seq, Instant::now()));
        shared.arrivals.fetch_add(1, Ordering::Relaxed);
    }
    Action::None
}

/// `…lfbench:<run>:<seq>` → seq. The marker may follow other text: a server that aggregates
/// presence (Lampfield) shows the publisher's text as a note after its own status words.
pub fn parse_seq(status: &[u8], marker: &str) -> Option<u32> {
    let at = crate::splitter::find(status, marker.as_bytes())?;
    let rest = &status[at + marker.len()..];
    std::str::from_utf8(rest).ok()?.trim().parse().ok()
}

/// Ends the stream and waits (briefly) for the server to end its side.
async fn close(s: &mut Session) {
    if s.conn.send(b"</stream:stream>").await.is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for _ in 0..10_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.conn.next()).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => break,
        }
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers() {
        assert_eq!(parse_seq(b"lfbench:ab:17", "lfbench:ab:"), Some(17));
        assert_eq!(
            parse_seq("Away · lfbench:ab:3".as_bytes(), "lfbench:ab:"),
            Some(3)
        );
        assert_eq!(parse_seq(b"lfbench:zz:17", "lfbench:ab:"), None);
        assert_eq!(parse_seq(b"lfbench:ab:x", "lfbench:ab:"), None);
    }

    #[test]
    fn records_only_marked_presences() {
        let shared = Shared::new("localhost", Some("lfbench:r:".into()));
        let mut out = Outcome::default();
        handle(
            b"<presence from='p@l/x'><status>lfbench:r:3</status></presence>",
            &shared,
            &mut out,
        );
        handle(
            b"<presence from='p@l/x'><status>hello</status></presence>",
            &shared,
            &mut out,
        );
        handle(b"<iq type='result' id='chk'/>", &shared, &mut out);
        assert_eq!(out.arrivals.len(), 1);
        assert_eq!(out.arrivals[0].0, 3);
        assert!(out.checked);
        assert_eq!(shared.checked.load(Ordering::Relaxed), 1);
        let a = handle(
            b"<iq type='get' id='p&apos;1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
            &shared,
            &mut out,
        );
        assert!(
            matches!(a, Action::Pong { id, to: Some(to) } if id == "p&apos;1" && to == "localhost")
        );
    }
}
