//! RFC 7395: XMPP over WebSocket. A browser is an ordinary client: its messages are
//! translated to the byte stream of RFC 6120 (`framing`) and served by the same c2s
//! connection code, with the same SASL, router and access filter as a TCP client.

pub mod framing;

mod connection;
pub use connection::{Frame, PING_INTERVAL, WebSocketEndpoint};
