//! `/xmpp-websocket`: XMPP over WebSocket (RFC 7395) on the HTTP listener, so a browser is an
//! ordinary XMPP client. The upgrade needs the `xmpp` subprotocol (§3.2); everything after it
//! is the gateway's, which serves the socket like a c2s connection (SASL, router, access
//! filter). No token: the client authenticates with SASL inside the stream.

use std::net::SocketAddr;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use lampfield_xmpp::websocket::Frame;

use super::ApiState;

/// The subprotocol RFC 7395 §3.2 registers.
const SUBPROTOCOL: &str = "xmpp";

/// The path, as Prosody and ejabberd use it, so clients' defaults find it.
pub(super) const PATH: &str = "/xmpp-websocket";

/// Upgrade to a WebSocket carrying XMPP, or say why not.
pub(super) async fn upgrade(
    State(state): State<ApiState>,
    ConnectInfo(super::listener::PeerAddr(peer)): ConnectInfo<super::listener::PeerAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(endpoint) = state.websocket.clone() else {
        return (StatusCode::NOT_FOUND, "XMPP over WebSocket is not served").into_response();
    };
    let ws = ws.protocols([SUBPROTOCOL]);
    if ws.selected_protocol().is_none() {
        // RFC 7395 §3.2: a client must offer "xmpp"; without it there is no agreement on
        // what the messages mean.
        return (
            StatusCode::BAD_REQUEST,
            "offer the WebSocket subprotocol \"xmpp\" (RFC 7395)",
        )
            .into_response();
    }
    let max = endpoint.max_message_bytes();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| serve(endpoint, peer, socket))
}

async fn serve(
    endpoint: lampfield_xmpp::websocket::WebSocketEndpoint<crate::adapters::xmpp::StoreBackend>,
    peer: SocketAddr,
    socket: WebSocket,
) {
    let (sink, stream) = socket.split();
    let incoming = stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) => Some(Frame::Text(text.as_str().to_owned())),
            // RFC 7395 §3.3.3: text messages only; a binary one is not XMPP.
            Ok(Message::Binary(_)) | Ok(Message::Close(_)) | Err(_) => Some(Frame::Close),
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => None,
        }
    });
    let outgoing = sink.with(|frame: Frame| async move {
        Ok::<_, axum::Error>(match frame {
            Frame::Text(text) => Message::Text(text.into()),
            Frame::Ping => Message::Ping(Default::default()),
            Frame::Close => Message::Close(Some(CloseFrame {
                code: axum::extract::ws::close_code::NORMAL,
                reason: Default::default(),
            })),
        })
    });
    endpoint
        .serve(peer, Box::pin(incoming), Box::pin(outgoing))
        .await;
}
