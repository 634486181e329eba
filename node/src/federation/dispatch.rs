//! The router's one outbound path: each stanza for another domain goes over federation
//! when the domain is a configured organization, to the s2s queue otherwise.
//!
//! Over federation, each organization has its own worker and queue: the worker sends
//! what is queued as one signed `xmpp` request (a batch) and waits for the answer
//! before sending the next, so stanzas arrive in the order the router produced them
//! (an "available" can never overtake the "unavailable" that followed it). When the
//! organization cannot be reached, messages and iq requests bounce with
//! `remote-server-not-found`; presence is dropped, and the resynchronization when the
//! link comes back up sends it again.

use std::collections::HashMap;

use jid::Jid;
use minidom::Element;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Links;
use super::wire::{MAX_BATCH, XMPP_TYPE, encode_stanza};

/// Stanzas queued per organization before more are refused.
const ORG_QUEUE_LEN: usize = 1024;
/// A batch stops growing at this many bytes (the envelope limit is 16 KiB).
const BATCH_BYTES: usize = 12 * 1024;
const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const CLIENT_NS: &str = "jabber:client";

/// Route stanzas from the router until `cancel` fires.
pub(super) async fn run(
    links: Links,
    mut rx: mpsc::Receiver<Element>,
    s2s: Option<mpsc::Sender<Element>>,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    let mut workers: HashMap<String, mpsc::Sender<Element>> = HashMap::new();
    loop {
        let stanza = tokio::select! {
            () = cancel.cancelled() => return,
            s = rx.recv() => match s { Some(s) => s, None => return },
        };
        let Some(domain) = stanza
            .attr("to")
            .and_then(|t| Jid::new(t).ok())
            .map(|j| j.domain().as_str().to_ascii_lowercase())
        else {
            continue;
        };
        if !links.organizations.contains(&domain) {
            let queued = s2s
                .as_ref()
                .is_some_and(|q| q.try_send(stanza.clone()).is_ok());
            if !queued {
                bounce(&links, &domain, &stanza).await;
            }
            continue;
        }
        let worker = workers.entry(domain.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(ORG_QUEUE_LEN);
            tracker.spawn(worker(links.clone(), domain.clone(), rx, cancel.clone()));
            tx
        });
        if let Err(e) = worker.try_send(stanza) {
            tracing::warn!(%domain, "federation queue full; stanza not sent");
            let stanza = match e {
                mpsc::error::TrySendError::Full(s) | mpsc::error::TrySendError::Closed(s) => s,
            };
            bounce(&links, &domain, &stanza).await;
        }
    }
}

/// Send `domain`'s stanzas in order, in batches, one request at a time.
async fn worker(
    links: Links,
    domain: String,
    mut rx: mpsc::Receiver<Element>,
    cancel: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            () = cancel.cancelled() => return,
            s = rx.recv() => match s { Some(s) => s, None => return },
        };
        let mut batch = vec![first];
        let mut bytes = encode_stanza(&batch[0]);
        while batch.len() < MAX_BATCH && bytes.len() < BATCH_BYTES {
            let Ok(next) = rx.try_recv() else { break };
            let encoded = encode_stanza(&next);
            if bytes.len() + encoded.len() > BATCH_BYTES {
                // Too big to join this batch: send it alone right after.
                send(
                    &links,
                    &domain,
                    std::mem::take(&mut batch),
                    std::mem::take(&mut bytes),
                )
                .await;
                bytes = encoded;
                batch.push(next);
                break;
            }
            bytes.extend(encoded);
            batch.push(next);
        }
        send(&links, &domain, batch, bytes).await;
    }
}

async fn send(links: &Links, domain: &str, batch: Vec<Element>, bytes: Vec<u8>) {
    if batch.is_empty() {
        return;
    }
    // A request can fail on a connection that is closing while another one to the same
    // organization is fine (both sides dialed at once, a link that just came back): try again a
    // few times before giving up, keeping this organization's order. A batch that did arrive but
    // whose answer was lost arrives twice; presence and subscription stanzas are idempotent.
    let mut last = None;
    for wait in RETRY_WAITS {
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match links.handle.request(domain, XMPP_TYPE, bytes.clone()).await {
            Ok(_) => return,
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        tracing::debug!(%domain, error = %e, stanzas = batch.len(), "federation request failed");
    }
    for stanza in &batch {
        bounce(links, domain, stanza).await;
    }
}

/// Waits before each attempt of one batch: at once, then twice more, backing off.
const RETRY_WAITS: [std::time::Duration; 3] = [
    std::time::Duration::ZERO,
    std::time::Duration::from_millis(200),
    std::time::Duration::from_millis(800),
];

/// RFC 6120 §8.3: a message or iq request that cannot be delivered is answered with
/// `remote-server-not-found`, as if from the remote address; everything else is dropped.
async fn bounce(links: &Links, domain: &str, stanza: &Element) {
    let Some(reply) = error_reply(stanza) else {
        return;
    };
    if let Err(e) = links.router.handle_remote(domain, reply).await {
        tracing::debug!(error = %e, "bounce not delivered");
    }
}

/// The error answer to `stanza`, or `None` for stanzas that get none.
fn error_reply(stanza: &Element) -> Option<Element> {
    let kind = stanza.attr("type").unwrap_or_default();
    let answers = match stanza.name() {
        "message" => kind != "error",
        "iq" => kind == "get" || kind == "set",
        _ => false,
    };
    let (from, to) = (stanza.attr("from")?, stanza.attr("to")?);
    if !answers {
        return None;
    }
    let error = Element::builder("error", CLIENT_NS)
        .attr(rxml::xml_ncname!("type").to_owned(), "cancel")
        .append(Element::builder("remote-server-not-found", STANZAS_NS).build())
        .build();
    let mut reply = Element::builder(stanza.name(), CLIENT_NS)
        .attr(rxml::xml_ncname!("type").to_owned(), "error")
        .attr(rxml::xml_ncname!("from").to_owned(), to)
        .attr(rxml::xml_ncname!("to").to_owned(), from);
    if let Some(id) = stanza.attr("id") {
        reply = reply.attr(rxml::xml_ncname!("id").to_owned(), id);
    }
    Some(reply.append(error).build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn only_messages_and_requests_bounce() {
        let m: Element = "<message xmlns='jabber:client' id='m1' from='a@a.example/r' to='b@b.example'><body>x</body></message>"
            .parse()
            .unwrap();
        let r = error_reply(&m).unwrap();
        assert_eq!(r.attr("type"), Some("error"));
        assert_eq!(r.attr("from"), Some("b@b.example"));
        assert_eq!(r.attr("to"), Some("a@a.example/r"));
        assert_eq!(r.attr("id"), Some("m1"));
        for xml in [
            "<presence xmlns='jabber:client' from='a@a.example' to='b@b.example'/>",
            "<message xmlns='jabber:client' type='error' from='a@a.example' to='b@b.example'/>",
            "<iq xmlns='jabber:client' type='result' id='1' from='a@a.example/r' to='b.example'/>",
        ] {
            assert!(error_reply(&xml.parse().unwrap()).is_none(), "{xml}");
        }
    }
}
