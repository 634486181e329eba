//! A loopback TCP link with faults on demand, put in front of a node's federation port: every
//! connection to the node goes through it, so a test can delay everything it carries or drop the
//! link (open connections are cut and new ones refused) and restore it later.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The controls shared with the link's tasks.
struct State {
    delay_ms: AtomicU64,
    down: AtomicBool,
    /// Bumped on every drop: connections opened before end.
    cuts: watch::Sender<u64>,
}

/// A fault-injecting forwarder to one target address.
pub struct Link {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Link {
    /// Listen on 127.0.0.1:0 and forward each connection to `target`.
    pub async fn start(target: SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind link");
        let addr = listener.local_addr().expect("link address");
        let (cuts, _) = watch::channel(0);
        let state = Arc::new(State {
            delay_ms: AtomicU64::new(0),
            down: AtomicBool::new(false),
            cuts,
        });
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if shared.down.load(Ordering::SeqCst) {
                    continue; // dropped on the floor: the dialer sees the connection close
                }
                tokio::spawn(forward(inbound, target, Arc::clone(&shared)));
            }
        });
        Link { addr, state, task }
    }

    /// Where to dial instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Hold every chunk this long before passing it on, both ways.
    pub fn delay(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Cut the open connections (what is in flight is lost) and refuse new ones.
    pub fn drop_all(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        self.state.cuts.send_modify(|n| *n += 1);
    }

    /// Accept connections again.
    pub fn restore(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
        self.state.cuts.send_modify(|n| *n += 1);
    }
}

async fn forward(inbound: TcpStream, target: SocketAddr, state: Arc<State>) {
    let Ok(outbound) = TcpStream::connect(target).await else {
        return;
    };
    let mut cut = state.cuts.subscribe();
    let (ri, wi) = inbound.into_split();
    let (ro, wo) = outbound.into_split();
    tokio::select! {
        () = pump(ri, wo, &state) => {}
        () = pump(ro, wi, &state) => {}
        _ = cut.changed() => {}
    }
}

/// Copy one direction, holding each chunk for the current delay.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    state: &State,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let delay = state.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
