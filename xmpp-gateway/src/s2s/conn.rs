//! A server stream: the stream layer's [`crate::stream::Conn`] over TCP, carrying a
//! `jabber:server` stream (RFC 6120 §4.8.3) that declares the dialback prefix
//! (XEP-0220 §2.1). Shared by inbound and outbound streams.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::stream::{self, Content, Fixed, ReadLimits};

pub(crate) use crate::stream::End;

/// A server stream over TCP.
pub(crate) type S2sConn = stream::Conn<TcpStream, Fixed>;

/// A stream over a fresh TCP connection, read within `limits`.
pub(crate) fn new(
    tcp: TcpStream,
    domain: &str,
    limits: ReadLimits,
    write_timeout: Duration,
) -> S2sConn {
    let ours = Fixed {
        domain: domain.to_owned(),
        write_timeout,
    };
    stream::Conn::new(tcp, ours, limits, Content::Server)
}
