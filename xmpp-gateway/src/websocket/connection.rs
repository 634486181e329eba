//! One client over a WebSocket (RFC 7395): its messages are translated to the RFC 6120 byte
//! stream and served by the c2s connection code over an in-memory pipe, so a browser gets the
//! same negotiation, SASL, router and access filter as a TCP client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::framing::{self, FramingError, Outbound};
use crate::c2s::{C2sConfig, Ctx, Transport, connection};
use crate::ports::backend::Backend;
use crate::router::Router;
use crate::stream::escape_attr;

/// Bytes the pipe between the WebSocket and the c2s connection holds each way; a client that
/// does not read its messages stops the session's writes here, as a TCP client's full socket
/// buffer would.
const PIPE_BYTES: usize = 64 * 1024;
/// How often the node pings the browser: keeps proxies and the HTTP listener's idle timeout
/// from closing a quiet session (RFC 7395 §3.6: WebSocket pings, not whitespace).
pub const PING_INTERVAL: Duration = Duration::from_secs(25);

/// A WebSocket message, as the HTTP layer hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message: one XML element.
    Text(String),
    /// A WebSocket ping from the node.
    Ping,
    /// The end of the WebSocket.
    Close,
}

/// Serves XMPP clients over WebSockets with the c2s configuration, router and backend the
/// TCP listener uses.
pub struct WebSocketEndpoint<B: Backend> {
    config: Arc<C2sConfig>,
    router: Router<B>,
    backend: Arc<B>,
    shutdown: CancellationToken,
}

impl<B: Backend> Clone for WebSocketEndpoint<B> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            router: self.router.clone(),
            backend: Arc::clone(&self.backend),
            shutdown: self.shutdown.clone(),
        }
    }
}

impl<B: Backend> WebSocketEndpoint<B> {
    /// An endpoint serving with `config` (its limits and SASL mechanisms) through `router`.
    pub fn new(
        config: C2sConfig,
        router: Router<B>,
        backend: Arc<B>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            config: Arc::new(config),
            router,
            backend,
            shutdown,
        }
    }

    /// The largest message a client may send: one stanza at the c2s limit, plus room for
    /// the namespace declarations a WebSocket message repeats.
    pub fn max_message_bytes(&self) -> usize {
        self.config.max_stanza_bytes + 1024
    }

    /// Serve one client whose messages arrive on `incoming`; the node's go to `outgoing`.
    /// Returns when either side ends.
    pub async fn serve<I, O>(&self, peer: SocketAddr, mut incoming: I, mut outgoing: O)
    where
        I: Stream<Item = Frame> + Unpin + Send,
        O: Sink<Frame> + Unpin + Send,
    {
        let (server_io, client_io) = tokio::io::duplex(PIPE_BYTES);
        let (mut from_server, mut to_server) = tokio::io::split(client_io);
        let ctx = Ctx {
            cfg: Arc::clone(&self.config),
            tls: None,
            transport: Transport::WebSocket,
            router: self.router.clone(),
            backend: Arc::clone(&self.backend),
            shutdown: self.shutdown.clone(),
        };
        let session = connection(server_io, peer, ctx);
        // A channel rather than a oneshot: its receiver may be polled again once the sender is gone.
        let (refused_tx, mut refused_rx) = tokio::sync::mpsc::channel::<FramingError>(1);
        // The client's messages into the pipe; a message that is not framed as RFC 7395
        // demands ends the stream with an error the client can read.
        let inbound = async move {
            while let Some(frame) = incoming.next().await {
                let text = match frame {
                    Frame::Text(text) => text,
                    Frame::Ping => continue,
                    Frame::Close => break,
                };
                match framing::inbound(&text) {
                    Ok(bytes) => {
                        if to_server.write_all(&bytes.into_bytes()).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "WebSocket framing refused");
                        let _ = refused_tx.send(e).await;
                        break;
                    }
                }
            }
            // The c2s reader sees the end of its transport.
            let _ = to_server.shutdown().await;
        };
        // The node's byte stream out as messages, with pings while it is quiet.
        let outbound = async move {
            let mut splitter = Outbound::default();
            let mut buf = vec![0u8; 8192];
            let mut ping = tokio::time::interval(PING_INTERVAL);
            ping.tick().await;
            loop {
                let (frames, last) = tokio::select! {
                    biased;
                    Some(e) = refused_rx.recv() => {
                        let text = escape_attr(&e.to_string());
                        let error = format!(
                            "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>\
                             <bad-format xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                             <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{text}</text>\
                             </stream:error>"
                        );
                        let close = format!("<close xmlns='{}'/>", framing::FRAMING);
                        (vec![Frame::Text(error), Frame::Text(close)], true)
                    },
                    read = from_server.read(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(n) => match splitter.push(&buf[..n]) {
                            Ok(frames) => (frames.into_iter().map(Frame::Text).collect(), false),
                            Err(e) => {
                                tracing::warn!(error = %e, "WebSocket output");
                                break;
                            }
                        },
                    },
                    _ = ping.tick() => (vec![Frame::Ping], false),
                };
                for frame in frames {
                    if outgoing.send(frame).await.is_err() {
                        return;
                    }
                }
                if last {
                    break;
                }
            }
            let _ = outgoing.send(Frame::Close).await;
        };
        // The session ends the pipe when it ends; the output pump then closes the socket.
        // The input pump is dropped with it: a client still sending is not waited for.
        tokio::select! {
            ((), ()) = async { futures::join!(session, outbound) } => {}
            () = async { inbound.await; std::future::pending::<()>().await } => {}
        }
    }
}
