//! A client connection: the stream layer's [`crate::stream::Conn`] with the c2s settings,
//! carrying a `jabber:client` stream (RFC 6120 §4.8.3).

use std::sync::Arc;
use std::time::Duration;

use super::C2sConfig;
use crate::stream::{self, Content, Settings};

pub(crate) use crate::stream::End;

/// A client connection; `conn.cfg` is the listener's configuration.
pub(crate) type Conn<S> = stream::Conn<S, Arc<C2sConfig>>;

impl Settings for Arc<C2sConfig> {
    fn domain(&self) -> &str {
        &self.domain
    }

    fn write_timeout(&self) -> Duration {
        self.write_timeout
    }
}

/// A connection that has not started its stream, read within the pre-authentication
/// limits.
pub(crate) fn new<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    io: S,
    cfg: Arc<C2sConfig>,
) -> Conn<S> {
    let limits = cfg.preauth_limits();
    stream::Conn::new(io, cfg, limits, Content::Client)
}
