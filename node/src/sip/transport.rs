//! SIP over UDP and TCP (RFC 3261 §18) on one address: datagrams and framed TCP messages, each
//! bounded in bytes, handed to the service; and the way back to the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::raw;

/// What the transports hand messages to (the SIP service).
pub(super) trait Handler: Clone + Send + Sync + 'static {
    /// Largest message accepted, in bytes.
    fn max_message_bytes(&self) -> usize;
    /// Handle one complete message; answers go back through `sink`.
    fn handle<'a>(
        &'a self,
        message: &'a [u8],
        sink: &'a Sink,
    ) -> impl Future<Output = ()> + Send + 'a;
    /// Answer a message from its raw header alone with `code`, if it can be addressed.
    fn refuse_raw(&self, head: &[u8], code: u16, reason: &str, sink: &Sink);
}

/// Requests being handled at once over UDP; a datagram past that is dropped (the sender
/// retransmits).
const UDP_IN_FLIGHT: usize = 64;
/// TCP connections held at once.
const TCP_CONNECTIONS: usize = 256;
/// Silence after which a TCP connection is closed.
const TCP_IDLE: Duration = Duration::from_secs(600);
/// Messages queued to one TCP connection; more are dropped (the peer is not reading).
const TCP_QUEUE: usize = 64;

/// Where responses and NOTIFYs to one peer go.
#[derive(Debug, Clone)]
pub(super) enum Sink {
    /// A datagram to the sender's address (RFC 3581 symmetric response).
    Udp(Arc<UdpSocket>, SocketAddr),
    /// The TCP connection the request came on.
    Tcp(mpsc::Sender<Vec<u8>>, SocketAddr),
}

impl Sink {
    /// Send, without waiting: a full socket buffer or queue loses the message, as UDP would.
    pub(super) fn send(&self, bytes: Vec<u8>) {
        match self {
            Sink::Udp(socket, to) => {
                if let Err(e) = socket.try_send_to(&bytes, *to) {
                    tracing::debug!(%to, "SIP datagram not sent: {e}");
                }
            }
            Sink::Tcp(queue, to) => {
                if queue.try_send(bytes).is_err() {
                    tracing::debug!(%to, "SIP TCP queue full or closed");
                }
            }
        }
    }

    /// The peer's address.
    pub(super) fn peer(&self) -> SocketAddr {
        match self {
            Sink::Udp(_, a) | Sink::Tcp(_, a) => *a,
        }
    }

    /// `UDP` or `TCP`, as a Via names it.
    pub(super) fn transport(&self) -> &'static str {
        match self {
            Sink::Udp(..) => "UDP",
            Sink::Tcp(..) => "TCP",
        }
    }
}

/// Bind UDP and TCP on `listen` (the same port for both when it is 0).
pub(super) async fn bind(listen: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let udp = UdpSocket::bind(listen).await?;
    let tcp = TcpListener::bind(udp.local_addr()?).await?;
    Ok((udp, tcp))
}

/// Serve datagrams until cancelled.
pub(super) async fn serve_udp(socket: UdpSocket, service: impl Handler, cancel: CancellationToken) {
    let socket = Arc::new(socket);
    let limit = Arc::new(Semaphore::new(UDP_IN_FLIGHT));
    let max = service.max_message_bytes();
    // One byte more than allowed tells an oversized datagram from one that fits exactly.
    let mut buf = vec![0u8; max + 1];
    loop {
        let received = tokio::select! {
            _ = cancel.cancelled() => return,
            r = socket.recv_from(&mut buf) => r,
        };
        let (n, from) = match received {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("SIP UDP receive: {e}");
                continue;
            }
        };
        let sink = Sink::Udp(socket.clone(), from);
        if n > max {
            // Only the start was read: answer 513 if its header is there to address it.
            let head = raw::head_end(&buf[..max]).map_or(&buf[..max], |end| &buf[..end]);
            service.refuse_raw(head, 513, "Message Too Large", &sink);
            continue;
        }
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::debug!(%from, "SIP UDP busy: datagram dropped");
            continue;
        };
        let message = buf[..n].to_vec();
        let service = service.clone();
        tokio::spawn(async move {
            service.handle(&message, &sink).await;
            drop(permit);
        });
    }
}

/// Accept TCP connections until cancelled.
pub(super) async fn serve_tcp(
    listener: TcpListener,
    service: impl Handler,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    let limit = Arc::new(Semaphore::new(TCP_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, from) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("SIP TCP accept: {e}");
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::debug!(%from, "SIP TCP connection refused: too many");
            continue;
        };
        let (service, cancel) = (service.clone(), cancel.clone());
        tracker.spawn(async move {
            connection(stream, from, service, cancel).await;
            drop(permit);
        });
    }
}

/// Why a TCP connection ends.
enum Framing {
    /// Closed, silent too long, or cancelled.
    Closed,
    /// Broken framing: answered if possible, then closed, since the stream cannot be resynced.
    Broken(u16, &'static str, Vec<u8>),
}

/// One TCP connection: messages framed by `Content-Length` (required, RFC 3261 §18.3).
async fn connection(
    stream: TcpStream,
    from: SocketAddr,
    service: impl Handler,
    cancel: CancellationToken,
) {
    let (mut reader, mut writer) = stream.into_split();
    let (queue, mut outgoing) = mpsc::channel::<Vec<u8>>(TCP_QUEUE);
    let writing = tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let sink = Sink::Tcp(queue, from);
    let max = service.max_message_bytes();
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8192];
    let end = loop {
        // Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped.
        let skip = buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        buf.drain(..skip);
        if let Some(head_end) = raw::head_end(&buf) {
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let Some(length) = raw::content_length(&head) else {
                break Framing::Broken(400, "Content-Length Required", buf[..head_end].to_vec());
            };
            if head_end.saturating_add(length) > max {
                break Framing::Broken(513, "Message Too Large", buf[..head_end].to_vec());
            }
            if buf.len() >= head_end + length {
                let message: Vec<u8> = buf.drain(..head_end + length).collect();
                service.handle(&message, &sink).await;
                continue;
            }
        } else if buf.len() > max {
            break Framing::Broken(513, "Message Too Large", Vec::new());
        }
        let read = tokio::select! {
            _ = cancel.cancelled() => break Framing::Closed,
            r = tokio::time::timeout(TCP_IDLE, reader.read(&mut chunk)) => r,
        };
        match read {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break Framing::Closed,
        }
    };
    if let Framing::Broken(code, reason, head) = end {
        tracing::debug!(%from, code, "SIP TCP framing broken: {reason}");
        service.refuse_raw(&head, code, reason, &sink);
    }
    // The writer ends when the last sink is gone: subscriptions on this connection keep theirs
    // until they end, so their NOTIFYs still go out.
    drop((sink, writing));
}
