//! The bound session (RFC 6120 §8, §10): stanzas from the client go to the router,
//! stanzas from the router go to the client, and silence is probed with an XEP-0199
//! ping before the stream is closed with `connection-timeout`.

use jid::FullJid;
use minidom::Element;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::bind;
use super::conn::{Conn, End};
use super::negotiate::{Phase, first_level_condition};
use super::sm::resume::{self, Reply, Ticket};
use super::sm::{self, Managed, Nonza, Sm};
use crate::ns::{CSI, JABBER_CLIENT, PING};
use crate::ports::backend::Backend;
use crate::router::{Outbox, Outgoing, Router};
use crate::stream::{Item, StreamCondition};

/// Stanzas written per flush when the router has a burst queued.
const WRITE_BATCH: usize = 64;

/// How a bound session ended.
#[derive(Debug)]
pub(crate) enum SessionEnd {
    /// The stream is closed already.
    Done(End),
    /// The server shuts down: unbind first (so contacts see unavailable), then close
    /// the stream with `system-shutdown`.
    Shutdown,
    /// A new connection resumed the session (XEP-0198 §5): hand it over, then close this
    /// stream with `conflict`.
    TakenOver(Reply),
}

/// Run a bound session until its stream ends. The caller unbinds afterwards.
///
/// A session wakes for every stanza the router queues for it, so a wake-up must stay cheap:
/// the shutdown signal and the idle timer are registered once for the session's life, not on
/// every turn (with thousands of sessions, registering with the shared shutdown signal and the
/// runtime's timer on each wake-up measurably slowed a fan-out). The idle timer is moved only
/// when it fires: traffic just records when it was heard, and the timer, on firing, sleeps on
/// if the peer spoke since.
pub(crate) async fn run<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    router: &Router<B>,
    jid: &FullJid,
    rx: &mut Outbox,
    shutdown: &CancellationToken,
    managed: &mut Managed,
) -> SessionEnd {
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    let idle = conn.cfg.idle_timeout;
    let mut heard = Heard::new(conn.reader.received());
    let timer = tokio::time::sleep_until(heard.at + idle);
    tokio::pin!(timer);
    // The ping in flight and when it was sent.
    let mut ping: Option<(String, Instant)> = None;
    let mut pings = 0u64;
    loop {
        tokio::select! {
            biased;
            () = &mut cancelled => return SessionEnd::Shutdown,
            reply = takeover(&mut managed.ticket) => return SessionEnd::TakenOver(reply),
            out = rx.recv() => {
                if let Err(end) = write_out(conn, out, rx, managed.sm.as_mut()).await {
                    return SessionEnd::Done(end);
                }
            }
            item = conn.read() => {
                let el = match item {
                    Ok(Item::Element(el)) => el,
                    Ok(Item::Close) => return SessionEnd::Done(conn.close().await),
                    Ok(Item::Header(_)) => {
                        return SessionEnd::Done(conn.fail(StreamCondition::BadFormat).await);
                    }
                    Err(e) => return SessionEnd::Done(conn.on_read_error(e).await),
                };
                if let Some(sm) = managed.sm.as_mut().filter(|_| is_stanza(&el)) {
                    // XEP-0198 §4: every stanza counts, the answer to our ping too.
                    sm.handled();
                }
                if is_reply_to(&el, ping.as_ref().map(|(id, _)| id.as_str())) {
                    ping = None;
                } else if let Err(end) = handle(conn, router, jid, el, rx, managed).await {
                    return SessionEnd::Done(end);
                }
            }
            () = &mut timer => {
                heard.update(conn.reader.received());
                let now = Instant::now();
                let answered = ping.as_ref().is_some_and(|(_, sent)| heard.at > *sent);
                if answered || heard.at + idle > now {
                    // The peer spoke since the timer was set (a stanza, a whitespace keepalive,
                    // the ping's answer): sleep until it has been quiet for `idle`.
                    ping = None;
                    timer.as_mut().reset(heard.at + idle);
                    continue;
                }
                if ping.is_some() {
                    return SessionEnd::Done(conn.fail(StreamCondition::ConnectionTimeout).await);
                }
                pings += 1;
                let id = format!("c2s-ping-{pings}");
                let domain = conn.cfg.domain.clone();
                if let Err(end) = send_stanza(conn, managed.sm.as_mut(), &ping_iq(&id, &domain, jid)).await {
                    return SessionEnd::Done(end);
                }
                ping = Some((id, now));
                timer.as_mut().reset(now + conn.cfg.ping_timeout);
            }
        }
        heard.update(conn.reader.received());
    }
}

/// When the peer was last heard from, judged by the reader's count of received bytes.
struct Heard {
    bytes: u64,
    at: Instant,
}

impl Heard {
    fn new(bytes: u64) -> Self {
        Self {
            bytes,
            at: Instant::now(),
        }
    }

    /// Note the time if bytes arrived since the last look (a clock read, no timer work).
    fn update(&mut self, bytes: u64) {
        if bytes != self.bytes {
            self.bytes = bytes;
            self.at = Instant::now();
        }
    }
}

/// The request of a connection that resumes this session; never, when it is not resumable.
async fn takeover(ticket: &mut Option<Ticket>) -> Reply {
    let Some(t) = ticket else {
        return std::future::pending().await;
    };
    match (&mut t.takeover).await {
        Ok(reply) => reply,
        Err(_) => {
            // The registration is gone without a request: nobody can resume any more.
            *ticket = None;
            std::future::pending().await
        }
    }
}

/// Write a stanza of the server's own (a ping, a legacy session result) now; with stream
/// management it counts and is kept like any other.
async fn send_stanza<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    sm: Option<&mut Sm>,
    el: &Element,
) -> Result<(), End> {
    if let Err(condition) = write_stanza(conn, sm, Outgoing::Stanza(Box::new(el.clone()))) {
        return Err(conn.fail(condition).await);
    }
    conn.flush().await
}

/// Append one stanza to the writer; with stream management it is counted and kept until
/// acknowledged. `Err` when the client lets too much go unacknowledged.
fn write_stanza<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    sm: Option<&mut Sm>,
    out: Outgoing,
) -> Result<(), StreamCondition> {
    let Some(sm) = sm else {
        match out {
            Outgoing::Stanza(el) => conn.writer.element(&el),
            Outgoing::Serialized(xml) => conn.writer.raw(&xml),
            Outgoing::Flush | Outgoing::Close(_) => {}
        }
        return Ok(());
    };
    let Some(xml) = sm::serialized(out) else {
        return Ok(());
    };
    conn.writer.raw(&xml);
    sm.sent(xml).map_err(|e| {
        tracing::debug!(error = %e, "stream management queue full");
        StreamCondition::PolicyViolation
    })
}

/// Write what the router sent, and whatever else is queued (bounded), in one flush.
async fn write_out<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    first: Option<Outgoing>,
    rx: &mut Outbox,
    mut sm: Option<&mut Sm>,
) -> Result<(), End> {
    let mut next = first;
    for written in 1..=WRITE_BATCH {
        match next {
            Some(out @ (Outgoing::Stanza(_) | Outgoing::Serialized(_))) => {
                if let Err(condition) = write_stanza(conn, sm.as_deref_mut(), out) {
                    return Err(conn.fail(condition).await);
                }
            }
            Some(Outgoing::Flush) => {}
            Some(Outgoing::Close(condition)) => {
                return Err(conn.fail(StreamCondition::from_name(condition)).await);
            }
            // The router dropped us without a reason: close cleanly.
            None => return Err(conn.close().await),
        }
        // Take another only if it is written in this flush: one taken and not written
        // would be lost.
        if written == WRITE_BATCH {
            break;
        }
        match rx.try_recv() {
            Ok(out) => next = Some(out),
            Err(_) => break,
        }
    }
    // XEP-0198 §4: ask for an acknowledgement of what went out, one request at a time.
    if sm.is_some_and(Sm::should_request) {
        conn.writer.raw(&sm::request());
    }
    conn.flush().await?;
    rx.written();
    Ok(())
}

/// One element from the client: checked at stream level, then routed.
async fn handle<B: Backend, S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    router: &Router<B>,
    jid: &FullJid,
    el: Element,
    rx: &Outbox,
    managed: &mut Managed,
) -> Result<(), End> {
    if let Some(nonza) = sm::nonza(&el) {
        return on_nonza(conn, jid, rx, managed, nonza).await;
    }
    // XEP-0352: client state indication, a nonza the stanza checks would refuse.
    if let Some(active) = csi_state(&el) {
        Box::pin(router.client_active(jid, active)).await;
        return Ok(());
    }
    if let Err(condition) = check_stanza(&el, jid) {
        tracing::debug!(name = el.name(), %condition, "stanza refused at stream level");
        return Err(conn.fail(condition).await);
    }
    if let Some(reply) = bind::session_reply(&el) {
        return send_stanza(conn, managed.sm.as_mut(), &reply).await;
    }
    // Boxed: the router's future is large, and it would otherwise be part of every
    // idle session's task for as long as the session lives.
    Box::pin(router.handle(jid, el)).await;
    Ok(())
}

/// A stream management element from the bound client (XEP-0198 §3, §4).
async fn on_nonza<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    jid: &FullJid,
    rx: &Outbox,
    managed: &mut Managed,
    nonza: Nonza,
) -> Result<(), End> {
    match (nonza, managed.sm.as_mut()) {
        (Nonza::Enable { resume }, None) => {
            // From here the session's writer must see every stanza to count and keep it.
            rx.detach();
            let window = conn.cfg.resume_window;
            if resume && !window.is_zero() {
                let id = resume::new_id();
                managed.ticket = Some(conn.cfg.resumable.register(id, jid.to_bare()));
            }
            managed.sm = Some(Sm::new(conn.cfg.sm_bounds()));
            let offer = managed
                .ticket
                .as_ref()
                .map(|t| (t.id.as_str(), window.as_secs()));
            tracing::debug!(resumable = offer.is_some(), "stream management enabled");
            conn.send_raw(&sm::enabled(offer)).await
        }
        (Nonza::Request, Some(sm)) => conn.send_raw(&sm::ack(sm.handled_count())).await,
        (Nonza::Ack(h), Some(sm)) => match sm.acked(h) {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::debug!(error = %e, "handled-count-too-high");
                Err(conn.fail(StreamCondition::UndefinedCondition).await)
            }
        },
        // An ack before enabling acknowledges nothing.
        (Nonza::Ack(_), None) => Ok(()),
        (Nonza::Invalid, _) => Err(conn.fail(StreamCondition::BadFormat).await),
        // A second enable, a request before enabling, a resume after binding.
        _ => conn.send_raw(&sm::failed("unexpected-request")).await,
    }
}

/// Whether `el` is a stanza (RFC 6120 §8), which stream management counts.
fn is_stanza(el: &Element) -> bool {
    el.ns() == JABBER_CLIENT && matches!(el.name(), "iq" | "message" | "presence")
}

/// `Some(true)` for `<active/>`, `Some(false)` for `<inactive/>` (XEP-0352), `None` otherwise.
fn csi_state(el: &Element) -> Option<bool> {
    if el.ns() != CSI {
        return None;
    }
    match el.name() {
        "active" => Some(true),
        "inactive" => Some(false),
        _ => None,
    }
}

/// Stream-level checks of a first-level element from a bound client (RFC 6120 §8.1,
/// §4.9.3); everything finer is the router's, which answers with stanza errors.
pub(crate) fn check_stanza(el: &Element, jid: &FullJid) -> Result<(), StreamCondition> {
    if !is_stanza(el) {
        let phase = Phase {
            tls_available: true,
            tls: true,
            require_tls: false,
            authenticated: true,
            channel_binding: false,
        };
        return Err(first_level_condition(el, phase));
    }
    // §8.1.2.1: a `from` other than the session's own full or bare JID.
    if let Some(from) = el.attr("from") {
        let own = match jid::Jid::new(from) {
            Ok(f) => match f.try_as_full() {
                Ok(full) => full == jid,
                Err(bare) => *bare == jid.to_bare(),
            },
            Err(_) => false,
        };
        if !own {
            return Err(StreamCondition::InvalidFrom);
        }
    }
    // §8.2.3: an iq without id or type cannot even be answered with an error.
    if el.name() == "iq" && (el.attr("id").is_none_or(str::is_empty) || el.attr("type").is_none()) {
        return Err(StreamCondition::BadFormat);
    }
    Ok(())
}

/// Whether `el` answers our outstanding ping.
fn is_reply_to(el: &Element, ping: Option<&str>) -> bool {
    let Some(id) = ping else { return false };
    el.is("iq", JABBER_CLIENT)
        && el.attr("id") == Some(id)
        && matches!(el.attr("type"), Some("result" | "error"))
}

/// An XEP-0199 ping from the server to the session.
fn ping_iq(id: &str, domain: &str, to: &FullJid) -> Element {
    Element::builder("iq", JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "get")
        .attr(rxml::xml_ncname!("id").to_owned(), id)
        .attr(rxml::xml_ncname!("from").to_owned(), domain)
        .attr(rxml::xml_ncname!("to").to_owned(), to.as_str())
        .append(Element::builder("ping", PING).build())
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        s.parse().unwrap()
    }

    #[test]
    fn stream_level_stanza_checks() {
        let jid = FullJid::new("a@example.com/r").unwrap();
        assert!(
            check_stanza(
                &el("<message xmlns='jabber:client' to='b@example.com'/>"),
                &jid
            )
            .is_ok()
        );
        assert!(
            check_stanza(
                &el("<presence xmlns='jabber:client' from='a@example.com/r'/>"),
                &jid
            )
            .is_ok()
        );
        assert!(
            check_stanza(
                &el("<presence xmlns='jabber:client' from='a@example.com'/>"),
                &jid
            )
            .is_ok()
        );
        assert_eq!(
            check_stanza(
                &el("<presence xmlns='jabber:client' from='b@example.com'/>"),
                &jid
            ),
            Err(StreamCondition::InvalidFrom)
        );
        assert_eq!(
            check_stanza(&el("<iq xmlns='jabber:client' type='get'/>"), &jid),
            Err(StreamCondition::BadFormat)
        );
        assert_eq!(
            check_stanza(&el("<foo xmlns='jabber:client'/>"), &jid),
            Err(StreamCondition::UnsupportedStanzaType)
        );
        assert_eq!(
            check_stanza(&el("<message xmlns='jabber:server'/>"), &jid),
            Err(StreamCondition::InvalidNamespace)
        );
        assert_eq!(
            check_stanza(&el("<enable xmlns='urn:xmpp:sm:3'/>"), &jid),
            Err(StreamCondition::UnsupportedStanzaType)
        );
    }

    #[test]
    fn ping_replies_are_recognised() {
        let r = el("<iq xmlns='jabber:client' type='result' id='c2s-ping-1'/>");
        assert!(is_reply_to(&r, Some("c2s-ping-1")));
        assert!(!is_reply_to(&r, Some("c2s-ping-2")));
        assert!(!is_reply_to(&r, None));
    }
}
