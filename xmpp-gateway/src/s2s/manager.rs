//! Outbound routing to other domains (RFC 6120 §10.4): one stream per remote domain,
//! opened on the first stanza for it, reused while traffic flows, closed after the idle
//! timeout. Stanzas wait in a bounded queue while the stream connects; whatever cannot
//! be delivered bounces to the local sender with the RFC 6120 §8.3.3 condition that
//! says why.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jid::Jid;
use minidom::Element;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::Context;
use super::conn::S2sConn;
use super::outbound;
use crate::ns::{JABBER_CLIENT, JABBER_SERVER, STREAM};
use crate::ports::backend::Backend;
use crate::stream::{Item, error_reply, rewrite_ns};

/// Most remote domains with a stream (or a queue) at once.
const MAX_DOMAINS: usize = 10_000;

/// Route every stanza the router hands over until shutdown.
pub(crate) async fn run<B: Backend>(
    shared: Arc<Context<B>>,
    mut rx: mpsc::Receiver<Element>,
    tracker: TaskTracker,
) {
    let mut domains: HashMap<String, mpsc::Sender<Element>> = HashMap::new();
    loop {
        let el = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            el = rx.recv() => match el {
                Some(el) => el,
                None => break,
            },
        };
        let Some(domain) = el
            .attr("to")
            .and_then(|t| Jid::new(t).ok())
            .map(|j| j.domain().as_str().to_ascii_lowercase())
        else {
            continue;
        };
        let el = match domains.get(&domain) {
            Some(tx) => match tx.try_send(el) {
                Ok(()) => continue,
                Err(TrySendError::Full(el)) => {
                    bounce(&shared, &el, DefinedCondition::ResourceConstraint);
                    continue;
                }
                // The stream task ended (idle or failed): start a new one.
                Err(TrySendError::Closed(el)) => el,
            },
            None => el,
        };
        domains.retain(|_, tx| !tx.is_closed());
        if domains.len() >= MAX_DOMAINS {
            bounce(&shared, &el, DefinedCondition::ResourceConstraint);
            continue;
        }
        let (tx, queue) = mpsc::channel(shared.cfg.queue_len.max(1));
        let _ = tx.try_send(el);
        domains.insert(domain.clone(), tx);
        let span = tracing::info_span!("s2s_out", %domain);
        tracker.spawn(stream_task(Arc::clone(&shared), domain, queue).instrument(span));
    }
}

/// The life of one outbound stream: connect, then write queued stanzas until idle.
async fn stream_task<B: Backend>(
    shared: Arc<Context<B>>,
    domain: String,
    mut queue: mpsc::Receiver<Element>,
) {
    let connected = tokio::select! {
        () = shared.shutdown.cancelled() => return,
        r = tokio::time::timeout(shared.cfg.negotiation_timeout, outbound::connect(&shared, &domain)) => r,
    };
    let mut conn = match connected {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::info!(error = %e, "no stream to remote domain");
            return refuse_for_a_while(&shared, &mut queue, e.condition()).await;
        }
        Err(_) => {
            tracing::info!("stream to remote domain timed out");
            let condition = DefinedCondition::RemoteServerTimeout;
            return refuse_for_a_while(&shared, &mut queue, condition).await;
        }
    };
    tracing::info!("outbound stream ready");
    match serve(&shared, &mut conn, &mut queue).await {
        Ended::Broken(why) => tracing::info!(%why, "outbound stream broke"),
        end => tracing::debug!(?end, "outbound stream ended"),
    }
    drain(&shared, &mut queue, DefinedCondition::RemoteServerTimeout);
}

/// After a failed attempt, stanzas for the domain bounce at once for this long
/// instead of each starting a new attempt.
const RETRY_AFTER: Duration = Duration::from_secs(10);

/// Bounce what is queued and what arrives until `RETRY_AFTER` has passed, then end
/// (the next stanza starts a new attempt).
async fn refuse_for_a_while<B: Backend>(
    shared: &Context<B>,
    queue: &mut mpsc::Receiver<Element>,
    condition: DefinedCondition,
) {
    let until = Instant::now() + RETRY_AFTER;
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            el = tokio::time::timeout_at(until, queue.recv()) => match el {
                Ok(Some(el)) => bounce(shared, &el, condition.clone()),
                Ok(None) | Err(_) => break,
            },
        }
    }
    drain(shared, queue, condition);
}

/// How an established outbound stream ended.
#[derive(Debug)]
enum Ended {
    Idle,
    Shutdown,
    Broken(String),
}

/// Write queued stanzas; read (and ignore) what the peer sends on our stream; close
/// after `idle_timeout` without a stanza.
async fn serve<B: Backend>(
    shared: &Context<B>,
    conn: &mut S2sConn,
    queue: &mut mpsc::Receiver<Element>,
) -> Ended {
    let idle = shared.cfg.idle_timeout;
    let mut last = Instant::now();
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => {
                queue.close();
                flush_queue(shared, conn, queue).await;
                let _ = conn.close().await;
                return Ended::Shutdown;
            }
            el = queue.recv() => {
                let Some(el) = el else {
                    let _ = conn.close().await;
                    return Ended::Idle;
                };
                last = Instant::now();
                if let Err(e) = write(conn, &el).await {
                    bounce(shared, &el, DefinedCondition::RemoteServerTimeout);
                    return Ended::Broken(e);
                }
            }
            item = conn.read() => match item {
                Ok(Item::Element(el)) if el.is("error", STREAM) => {
                    let _ = conn.close().await;
                    return Ended::Broken("stream error from peer".into());
                }
                Ok(Item::Element(_)) => {}
                Ok(Item::Close) => {
                    let _ = conn.close().await;
                    return Ended::Broken("peer closed the stream".into());
                }
                Ok(Item::Header(_)) => return Ended::Broken("unexpected header".into()),
                Err(e) => return Ended::Broken(format!("{:?}", conn.on_read_error(e).await)),
            },
            () = tokio::time::sleep_until(last + idle) => {
                // Refuse new stanzas, send those already accepted, then close.
                queue.close();
                flush_queue(shared, conn, queue).await;
                let _ = conn.close().await;
                return Ended::Idle;
            }
        }
    }
}

/// Write what is left in a closed queue.
async fn flush_queue<B: Backend>(
    shared: &Context<B>,
    conn: &mut S2sConn,
    queue: &mut mpsc::Receiver<Element>,
) {
    while let Ok(el) = queue.try_recv() {
        if write(conn, &el).await.is_err() {
            bounce(shared, &el, DefinedCondition::RemoteServerTimeout);
        }
    }
}

/// One stanza on the wire, in the server namespace.
async fn write(conn: &mut S2sConn, el: &Element) -> Result<(), String> {
    let out = rewrite_ns(el.clone(), JABBER_CLIENT, JABBER_SERVER);
    conn.send(&out).await.map_err(|e| format!("{e:?}"))
}

/// Bounce everything still queued, and refuse more.
fn drain<B: Backend>(
    shared: &Context<B>,
    queue: &mut mpsc::Receiver<Element>,
    condition: DefinedCondition,
) {
    queue.close();
    while let Ok(el) = queue.try_recv() {
        bounce(shared, &el, condition.clone());
    }
}

/// Tell the local sender its stanza did not get through (RFC 6120 §8.3.1).
fn bounce<B: Backend>(shared: &Context<B>, el: &Element, condition: DefinedCondition) {
    if let Some(reply) = error_reply(el, condition) {
        shared.router.deliver_local(reply);
    }
}
