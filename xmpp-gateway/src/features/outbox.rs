//! A bound session's outgoing queue: bounded, fed by the router through the session table,
//! drained by the session's writer.
//!
//! Why not `tokio::sync::mpsc`: its channel allocates a block of 32 slots when it is created
//! and keeps it, about 1.3 KiB for every session whether it ever receives anything or not.
//! Here an idle session's queue holds no buffer at all: it is allocated when stanzas arrive
//! and released as soon as the writer has taken the last one.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::router::Outgoing;

/// A queue for at most `capacity` stanzas, plus one close notice ([`OutboxSender::close_with`]).
pub(crate) fn outbox(capacity: usize) -> (OutboxSender, Outbox) {
    let shared = Arc::new(Mutex::new(State {
        items: VecDeque::new(),
        capacity,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        OutboxSender {
            shared: Arc::clone(&shared),
        },
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
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why an item was not queued (it is dropped).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The queue holds `capacity` items already.
    Full,
    /// The session's writer is gone.
    Closed,
}

/// The router's end (one per session, in the session table).
pub(crate) struct OutboxSender {
    shared: Arc<Mutex<State>>,
}

impl OutboxSender {
    /// Queue `item` if there is room.
    pub(crate) fn try_send(&self, item: Outgoing) -> Result<(), SendError> {
        self.push(item, false)
    }

    /// Queue the close notice, which always fits: the queue may exceed its capacity by this
    /// one item, so a session too slow for its stanzas still learns why it is closed.
    pub(crate) fn close_with(&self, item: Outgoing) -> Result<(), SendError> {
        self.push(item, true)
    }

    fn push(&self, item: Outgoing, always: bool) -> Result<(), SendError> {
        let waker = {
            let mut state = lock(&self.shared);
            if state.receiver_gone {
                return Err(SendError::Closed);
            }
            if !always && state.items.len() >= state.capacity {
                return Err(SendError::Full);
            }
            state.items.push_back(item);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
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

/// The oldest item, releasing the buffer when it was the last.
fn take(state: &mut State) -> Option<Outgoing> {
    let item = state.items.pop_front()?;
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
    async fn bounded_in_order_and_the_close_notice_always_fits() {
        let (tx, mut rx) = outbox(2);
        tx.try_send(stanza(1)).unwrap();
        tx.try_send(stanza(2)).unwrap();
        assert_eq!(tx.try_send(stanza(3)), Err(SendError::Full));
        tx.close_with(Outgoing::Close("policy-violation")).unwrap();
        assert_eq!(id(&rx.recv().await.unwrap()), "1");
        assert_eq!(id(&rx.try_recv().unwrap()), "2");
        assert!(matches!(
            rx.recv().await,
            Some(Outgoing::Close("policy-violation"))
        ));
        assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
        // Drained: room again, and no buffer kept meanwhile.
        assert_eq!(lock(&rx.shared).items.capacity(), 0);
        tx.try_send(stanza(4)).unwrap();
        assert_eq!(id(&rx.recv().await.unwrap()), "4");
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
        assert_eq!(
            tx.close_with(Outgoing::Close("conflict")),
            Err(SendError::Closed)
        );
    }
}
