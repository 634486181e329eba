//! A bound session's outgoing queue: bounded, fed by the router through the session table,
//! drained by the session's writer.
//!
//! Why not `tokio::sync::mpsc`: its channel allocates a block of 32 slots when it is created
//! and keeps it, about 1.3 KiB for every session whether it ever receives anything or not.
//! Here an idle session's queue holds no buffer at all: it is allocated when stanzas arrive
//! and released as soon as the writer has taken the last one.
//!
//! A stanza may also skip the queue: when the session's transport is shared for direct
//! writes ([`Outbox::attach`]), nothing is queued and the session's task is not between
//! taking items and flushing them, [`OutboxHandle::offer`] writes it at once. Both checks
//! happen under this queue's lock, so a stanza never overtakes one queued before it.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::Outgoing;
use crate::stream::{Direct, DirectWrite};

/// A queue for at most `capacity` stanzas, plus one close notice ([`OutboxSender::close_with`]).
pub(crate) fn outbox(capacity: usize) -> (OutboxSender, Outbox) {
    let shared = Arc::new(Mutex::new(State {
        items: VecDeque::new(),
        capacity,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
        closing: false,
        busy: false,
        direct: None,
    }));
    (
        OutboxSender(OutboxHandle {
            shared: Arc::clone(&shared),
        }),
        Outbox { shared },
    )
}

struct State {
    items: VecDeque<Outgoing>,
    capacity: usize,
    /// The writer waiting for the next item.
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
    /// The close notice is queued: nothing more is.
    closing: bool,
    /// The writer took items and has not flushed them yet ([`Outbox::written`]).
    busy: bool,
    /// The session's transport, for writes that skip the queue.
    direct: Option<Arc<dyn DirectWrite>>,
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why an item was not queued (it is dropped).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The queue held `capacity` items already: the session is being closed with
    /// `policy-violation`, a consumer too slow for its stanzas (RFC 6120 §4.9.3.14).
    Full,
    /// The session's writer is gone.
    Closed,
}

/// The router's end, one per session, in the session table: when it is dropped the
/// session has left the table, and its writer learns so once the queue is empty.
pub(crate) struct OutboxSender(OutboxHandle);

impl std::ops::Deref for OutboxSender {
    type Target = OutboxHandle;

    fn deref(&self) -> &OutboxHandle {
        &self.0
    }
}

/// What a fan-out keeps of a session to write to it after the table's lock is released.
#[derive(Clone)]
pub(crate) struct OutboxHandle {
    shared: Arc<Mutex<State>>,
}

impl OutboxHandle {
    /// Whether both lead to the same session.
    pub(crate) fn same_session(&self, other: &OutboxHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Queue `item` if there is room; a full queue closes the session instead. Once the
    /// session is closing, items are dropped.
    pub(crate) fn try_send(&self, item: Outgoing) -> Result<(), SendError> {
        self.with_state(|state| {
            if state.items.len() >= state.capacity {
                return Err(close(state, "policy-violation"));
            }
            state.items.push_back(item);
            Ok(())
        })
    }

    /// Queue the close notice, once. It always fits: the queue may exceed its capacity by
    /// this one item, so a session too slow for its stanzas still learns why it is closed.
    pub(crate) fn close_with(&self, condition: &'static str) -> Result<(), SendError> {
        self.with_state(|state| {
            close(state, condition);
            Ok(())
        })
    }

    /// Write `xml` (one complete stanza) directly when the session's writer is idle,
    /// otherwise queue it like [`Self::try_send`].
    pub(crate) fn offer(&self, xml: &str) -> Result<(), SendError> {
        self.with_state(|state| {
            let outcome = match &state.direct {
                Some(direct) if state.items.is_empty() && !state.busy => {
                    direct.write_now(xml.as_bytes())
                }
                _ => Direct::Refused,
            };
            match outcome {
                Direct::Written => {}
                // The writer flushes the rest when it takes this.
                Direct::Started => state.items.push_back(Outgoing::Flush),
                Direct::Refused if state.items.len() >= state.capacity => {
                    return Err(close(state, "policy-violation"));
                }
                Direct::Refused => state.items.push_back(Outgoing::Serialized(xml.into())),
            }
            Ok(())
        })
    }

    /// Run `f` on the open queue and wake the writer if `f` queued something.
    fn with_state(
        &self,
        f: impl FnOnce(&mut State) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let (result, waker) = {
            let mut state = lock(&self.shared);
            if state.receiver_gone {
                return Err(SendError::Closed);
            }
            if state.closing {
                return Ok(());
            }
            let before = state.items.len();
            let result = f(&mut state);
            let waker = (state.items.len() > before)
                .then(|| state.waker.take())
                .flatten();
            (result, waker)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        result
    }
}

/// Queue the close notice and take nothing more; returns [`SendError::Full`] for callers
/// whose item did not fit.
fn close(state: &mut State, condition: &'static str) -> SendError {
    state.closing = true;
    state.items.push_back(Outgoing::Close(condition));
    SendError::Full
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.0.shared);
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The session writer's end: what the router queued for this session.
pub struct Outbox {
    shared: Arc<Mutex<State>>,
}

/// Why [`Outbox::try_recv`] returned nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is queued now.
    Empty,
    /// Nothing is queued and nothing ever will be: the session left the table.
    Disconnected,
}

impl Outbox {
    /// The next item; `None` once the session left the table and everything queued was taken.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Let [`OutboxHandle::offer`] write to the session's transport directly.
    pub(crate) fn attach(&self, direct: Arc<dyn DirectWrite>) {
        lock(&self.shared).direct = Some(direct);
    }

    /// Stop direct writes: from now on the writer sees every stanza (XEP-0198 counts and keeps
    /// them). A direct write cannot be under way meanwhile: it happens under this lock.
    pub(crate) fn detach(&self) {
        lock(&self.shared).direct = None;
    }

    /// What the writer took is flushed: direct writes may go ahead again.
    pub(crate) fn written(&self) {
        lock(&self.shared).busy = false;
    }

    /// The next item if one is queued.
    pub fn try_recv(&mut self) -> Result<Outgoing, TryRecvError> {
        let mut state = lock(&self.shared);
        match take(&mut state) {
            Some(item) => Ok(item),
            None if state.sender_gone => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        let mut state = lock(&self.shared);
        if let Some(item) = take(&mut state) {
            return Poll::Ready(Some(item));
        }
        if state.sender_gone {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// The oldest item, releasing the buffer when it was the last. The writer is busy until it
/// reports the item [`Outbox::written`].
fn take(state: &mut State) -> Option<Outgoing> {
    let item = state.items.pop_front()?;
    state.busy = true;
    if state.items.is_empty() {
        state.items = VecDeque::new();
    }
    Some(item)
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.receiver_gone = true;
        state.items = VecDeque::new();
        state.direct = None;
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn stanza(n: u32) -> Outgoing {
        Outgoing::Serialized(format!("<message xmlns='jabber:client' id='{n}'/>").into())
    }

    fn id(item: &Outgoing) -> String {
        item.stanza().unwrap().attr("id").unwrap().to_owned()
    }

    #[tokio::test]
    async fn bounded_in_order_and_a_full_queue_closes_the_session() {
        let (tx, mut rx) = outbox(2);
        tx.try_send(stanza(1)).unwrap();
        tx.try_send(stanza(2)).unwrap();
        assert_eq!(tx.try_send(stanza(3)), Err(SendError::Full));
        // Closing is said once; what comes after is dropped.
        tx.close_with("conflict").unwrap();
        tx.try_send(stanza(4)).unwrap();
        assert_eq!(id(&rx.recv().await.unwrap()), "1");
        assert_eq!(id(&rx.try_recv().unwrap()), "2");
        assert!(matches!(
            rx.recv().await,
            Some(Outgoing::Close("policy-violation"))
        ));
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
        // Drained: no buffer kept.
        assert_eq!(lock(&rx.shared).items.capacity(), 0);
    }

    #[tokio::test]
    async fn the_close_notice_fits_a_full_queue() {
        let (tx, mut rx) = outbox(1);
        tx.try_send(stanza(1)).unwrap();
        tx.close_with("conflict").unwrap();
        assert_eq!(id(&rx.recv().await.unwrap()), "1");
        assert!(matches!(rx.recv().await, Some(Outgoing::Close("conflict"))));
    }

    /// A transport that records direct writes and answers as told.
    struct Fake {
        answer: Mutex<Direct>,
        written: Mutex<Vec<String>>,
    }

    impl Fake {
        fn new(answer: Direct) -> Arc<Self> {
            Arc::new(Fake {
                answer: Mutex::new(answer),
                written: Mutex::new(Vec::new()),
            })
        }

        fn written(&self) -> Vec<String> {
            self.written.lock().unwrap().clone()
        }
    }

    impl DirectWrite for Fake {
        fn write_now(&self, bytes: &[u8]) -> Direct {
            let answer = *self.answer.lock().unwrap();
            if answer != Direct::Refused {
                let xml = String::from_utf8(bytes.to_vec()).unwrap();
                self.written.lock().unwrap().push(xml);
            }
            answer
        }
    }

    #[tokio::test]
    async fn offers_skip_the_queue_only_while_the_writer_is_idle() {
        let (tx, mut rx) = outbox(8);
        // Not attached yet: queued.
        tx.offer("<a/>").unwrap();
        let fake = Fake::new(Direct::Written);
        rx.attach(fake.clone());
        // Something is queued: the offer waits behind it.
        tx.offer("<b/>").unwrap();
        assert!(fake.written().is_empty());
        assert!(matches!(rx.recv().await, Some(Outgoing::Serialized(x)) if &*x == "<a/>"));
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Serialized(x)) if &*x == "<b/>"));
        // The queue is empty, but what was taken is not written yet: still behind.
        tx.offer("<c/>").unwrap();
        assert!(fake.written().is_empty());
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Serialized(x)) if &*x == "<c/>"));
        rx.written();
        // Idle now: straight to the transport, nothing queued.
        tx.offer("<d/>").unwrap();
        assert_eq!(fake.written(), ["<d/>"]);
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    }

    #[tokio::test]
    async fn a_direct_write_the_socket_did_not_finish_is_flushed_by_the_writer() {
        let (tx, mut rx) = outbox(8);
        let fake = Fake::new(Direct::Started);
        rx.attach(fake.clone());
        tx.offer("<a/>").unwrap();
        assert_eq!(fake.written(), ["<a/>"]);
        assert!(matches!(rx.recv().await, Some(Outgoing::Flush)));
        // Until the writer reports the flush, later offers queue.
        tx.offer("<b/>").unwrap();
        assert_eq!(fake.written(), ["<a/>"]);
        *fake.answer.lock().unwrap() = Direct::Refused;
        rx.written();
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Serialized(x)) if &*x == "<b/>"));
        rx.written();
        // A refusing transport: queued.
        tx.offer("<c/>").unwrap();
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Serialized(x)) if &*x == "<c/>"));
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken_and_learns_when_the_session_left() {
        let (tx, mut rx) = outbox(4);
        let writer = tokio::spawn(async move {
            let first = rx.recv().await.map(|i| id(&i));
            let then = rx.recv().await;
            (first, then.is_none(), rx.try_recv().unwrap_err())
        });
        tokio::task::yield_now().await;
        tx.try_send(stanza(7)).unwrap();
        drop(tx);
        let (first, ended, after) = writer.await.unwrap();
        assert_eq!(first.as_deref(), Some("7"));
        assert!(ended);
        assert_eq!(after, TryRecvError::Disconnected);
    }

    #[test]
    fn nothing_is_queued_for_a_writer_that_is_gone() {
        let (tx, rx) = outbox(4);
        drop(rx);
        assert_eq!(tx.try_send(stanza(1)), Err(SendError::Closed));
        assert_eq!(tx.close_with("conflict"), Err(SendError::Closed));
    }
}
