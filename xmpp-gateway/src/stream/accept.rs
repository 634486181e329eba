//! The accept loop of a listener, for client and server connections alike: a bounded
//! number of connections, backoff when accepting fails, one task per connection in its
//! own tracing span, and a shutdown that waits for every connection to end.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Pause after the first failed accept; it doubles with each failure in a row.
const FIRST_ACCEPT_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause after failing accepts (e.g. out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// What one listener is, for [`serve`].
pub(crate) struct Listener<F> {
    /// Named in the log when accepting fails.
    pub(crate) name: &'static str,
    /// Simultaneous connections; more wait in the kernel's accept queue.
    pub(crate) max_connections: usize,
    /// The span each connection's task runs in.
    pub(crate) span: F,
}

/// Accept connections on `listener` until `shutdown` is cancelled, and run each in a
/// task of its own: `connection` makes the future of one from its TCP stream and peer
/// address. Returns once every connection's task has ended.
pub(crate) async fn serve<F, C, Fut>(
    listener: TcpListener,
    this: Listener<F>,
    shutdown: &CancellationToken,
    mut connection: C,
) where
    F: Fn(SocketAddr) -> tracing::Span,
    C: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(this.max_connections));
    let tracker = TaskTracker::new();
    let mut backoff = FIRST_ACCEPT_BACKOFF;
    loop {
        // Wait for a free slot first, so excess peers wait in the accept queue.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(accepted) => {
                    backoff = FIRST_ACCEPT_BACKOFF;
                    accepted
                }
                Err(e) => {
                    tracing::warn!(error = %e, listener = this.name, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        // The permit rides along in `map`'s closure and drops when the connection ends. Not
        // `async move { task.await; drop(permit) }`: an async block that awaits a future it
        // captured keeps room for it twice, and a held session's task would be twice its
        // size (measured: 2.5 KiB more per idle client session).
        let task = connection(tcp, peer).map(move |()| drop(permit));
        tracker.spawn(task.instrument((this.span)(peer)));
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}
