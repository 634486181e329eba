//! Group commit: one flush at a time, shared by every write it covers.
//!
//! Each acknowledged write must be on disk before it is acknowledged, but a flush
//! per write is both slow and dangerous with sled 0.34: every `flush_async` occupies
//! a thread of sled's small I/O pool while it waits for log buffers that are written
//! by that same pool, so a few hundred concurrent flushes starve the pool and no
//! flush ever finishes (see the store test
//! `concurrent_contact_reads_and_writes_never_block_the_runtime`).
//!
//! Instead, a writer takes a ticket after its write, then waits for the gate. The
//! holder of the gate notes the newest ticket issued, flushes once on tokio's
//! blocking pool, and marks every ticket up to that one as durable: those writes
//! all happened before the flush began. Writers whose ticket is already covered
//! return without flushing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;

/// Shared state of the group commit.
#[derive(Debug, Default)]
pub(super) struct FlushGate {
    /// Tickets issued so far (the newest ticket's number).
    issued: AtomicU64,
    /// Every ticket up to this one is durable.
    durable: AtomicU64,
    /// Held by the single flush in progress.
    running: tokio::sync::Mutex<()>,
}

impl FlushGate {
    /// Make every write that completed before this call durable.
    pub(super) async fn flush(self: &Arc<Self>, db: &sled::Db) -> Result<(), StoreError> {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = self.running.lock().await;
        if self.durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every ticket up to `covered` was taken after its write finished, and all of
        // them before the flush below starts.
        let covered = self.issued.load(Ordering::SeqCst);
        let db = db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Db(format!("flush task failed: {e}")))??;
        self.durable.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }
}
