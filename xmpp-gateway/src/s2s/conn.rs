//! A server stream: the stream layer's [`crate::stream::Conn`] over TCP, carrying a
//! `jabber:server` stream (RFC 6120 §4.8.3) that declares the dialback prefix
//! (XEP-0220 §2.1). Shared by inbound and outbound streams.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::stream::{self, Content, ReadLimits, Settings};

pub(crate) use crate::stream::End;

/// What a server stream needs of the s2s configuration.
pub(crate) struct Ours {
    /// Our domain, the `from` of our headers.
    domain: String,
    write_timeout: Duration,
}

impl Settings for Ours {
    fn domain(&self) -> &str {
        &self.domain
    }

    fn write_timeout(&self) -> Duration {
        self.write_timeout
    }
}

/// A server stream over TCP.
pub(crate) type S2sConn = stream::Conn<TcpStream, Ours>;

/// A stream over a fresh TCP connection, read within `limits`.
pub(crate) fn new(
    tcp: TcpStream,
    domain: &str,
    limits: ReadLimits,
    write_timeout: Duration,
) -> S2sConn {
    let ours = Ours {
        domain: domain.to_owned(),
        write_timeout,
    };
    stream::Conn::new(tcp, ours, limits, Content::Server)
}
