//! The writes of one presence fan-out, made once the session table's lock is released: by the
//! publishing task and, for a large fan-out, by a helper task that another runtime worker
//! picks up, both taking chunks from one list.
//!
//! Each write is an encryption and one `send`, straight into the session's transport when
//! its writer is idle ([`super::outbox::OutboxHandle::offer`]). A thousand of them from one
//! task would leave the fan-out to one core while the others idle; the helper shares them
//! out. The publisher waits for the helper, so one user's fan-outs never overtake each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::outbox::OutboxHandle;

/// Writes taken at a time by each of the two tasks.
const CHUNK: usize = 32;

/// Smaller fan-outs are written by the publishing task alone: a helper's start costs more.
const HELPED_FROM: usize = 2 * CHUNK;

/// Writes after which a task lets others on its worker run (a few milliseconds' worth): a
/// fan-out to tens of thousands must not hold two workers for its whole length.
const YIELD_AFTER: usize = 8 * CHUNK;

/// Serialized stanzas for sessions, to be written by [`Fanout::send`]. Stanzas pushed one
/// after the other for the same session reach it in that order.
#[derive(Default)]
pub(crate) struct Fanout {
    writes: Vec<(OutboxHandle, Arc<str>)>,
}

impl Fanout {
    pub(crate) fn push(&mut self, to: OutboxHandle, xml: Arc<str>) {
        self.writes.push((to, xml));
    }

    /// Write (or queue) everything, in parallel when it is worth it.
    pub(crate) async fn send(self) {
        if self.writes.len() < HELPED_FROM {
            write(&self.writes);
            return;
        }
        let work = Arc::new(Work {
            writes: self.writes,
            next: AtomicUsize::new(0),
        });
        let helper = tokio::spawn({
            let work = Arc::clone(&work);
            async move { work.drain().await }
        });
        // A task spawned from a worker waits in that worker's next-task slot, which no other
        // worker may take, until the spawner yields. Yielding puts this task on the run queue,
        // where an idle worker takes it, while the helper starts here.
        tokio::task::yield_now().await;
        work.drain().await;
        // Whatever the helper took, it finishes; if it had not started, it finds nothing.
        let _ = helper.await;
    }
}

struct Work {
    writes: Vec<(OutboxHandle, Arc<str>)>,
    next: AtomicUsize,
}

impl Work {
    /// Take chunks until none is left. A run of writes to one session belongs to the chunk
    /// it starts in, so one task writes it, in order.
    async fn drain(&self) {
        let w = &self.writes;
        let continues = |i: usize| i > 0 && i < w.len() && w[i].0.same_session(&w[i - 1].0);
        let mut since_yield = 0;
        loop {
            let from = self.next.fetch_add(CHUNK, Ordering::Relaxed);
            if from >= w.len() {
                return;
            }
            let mut start = from;
            while continues(start) {
                start += 1;
            }
            let mut end = (from + CHUNK).min(w.len());
            while continues(end) {
                end += 1;
            }
            if start < end {
                write(&w[start..end]);
                since_yield += end - start;
            }
            if since_yield >= YIELD_AFTER {
                since_yield = 0;
                tokio::task::yield_now().await;
            }
        }
    }
}

fn write(writes: &[(OutboxHandle, Arc<str>)]) {
    for (to, xml) in writes {
        // A full queue closes that session; the others go on.
        let _ = to.offer(xml);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::session::Outgoing;
    use crate::session::outbox::{TryRecvError, outbox};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_session_gets_its_stanzas_once_in_order() {
        // (sessions, stanzas for each): small, just helped, runs across chunk boundaries,
        // one run longer than a chunk.
        for (sessions, each) in [(3, 2), (HELPED_FROM, 1), (1_000, 3), (1, 100)] {
            let (senders, mut outboxes): (Vec<_>, Vec<_>) =
                (0..sessions).map(|_| outbox(128)).unzip();
            let mut fanout = Fanout::default();
            for tx in &senders {
                for n in 0..each {
                    fanout.push(OutboxHandle::clone(tx), Arc::from(format!("<p n='{n}'/>")));
                }
            }
            fanout.send().await;
            for rx in &mut outboxes {
                for n in 0..each {
                    let item = rx.try_recv().unwrap();
                    assert!(
                        matches!(&item, Outgoing::Serialized(x) if **x == *format!("<p n='{n}'/>")),
                        "{item:?}"
                    );
                }
                assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
            }
        }
    }
}
