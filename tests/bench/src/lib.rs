//! xmpp-bench's client: a minimal XMPP client over tokio and rustls, built to load a server, not
//! itself. Elements are found by an incremental byte splitter and read by byte search; no DOM.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod bytes;
pub mod compare;
pub mod conn;
pub mod fanout;
pub mod hold;
pub mod http;
pub mod login;
pub mod procfs;
pub mod report;
pub mod rounds;
pub mod scram;
pub mod splitter;
pub mod stats;
pub mod tls;
