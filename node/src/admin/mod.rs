//! The admin socket: account management while the node runs.
//!
//! sled lets one process open a database, so `lampfield user ...` cannot open it
//! while a node runs. The node instead listens on a Unix socket in its data folder
//! (`admin.sock`, mode 0600, peers must run as the data folder's owner or root) and
//! applies line-delimited JSON requests (`protocol`) through the same [`Service`]
//! the CLI uses directly when no node runs.

pub mod client;
mod directory;
mod profiles;
pub mod protocol;
mod rules;
pub mod server;
mod service;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

pub use service::{AdminError, OnRemoved, Service};

/// File name of the admin socket in the data folder.
pub const SOCKET_FILE: &str = "admin.sock";

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line is longer than the limit.
    #[error("line longer than {0} bytes")]
    TooLong(usize),
    /// The stream ended in the middle of a line.
    #[error("stream ended inside a line")]
    Truncated,
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Read one newline-terminated line of at most `max` bytes, without its newline, never
/// buffering more. `Ok(None)` at a clean end of stream.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, LineError> {
    let mut line = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    match line.pop() {
        None => Ok(None),
        Some(b'\n') => Ok(Some(line)),
        Some(_) if line.len() >= max => Err(LineError::TooLong(max)),
        Some(_) => Err(LineError::Truncated),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_bounded() {
        let mut ok = &b"{\"op\":\"list_users\"}\nrest"[..];
        assert_eq!(
            read_line(&mut ok, protocol::MAX_LINE_BYTES)
                .await
                .unwrap()
                .unwrap(),
            b"{\"op\":\"list_users\"}"
        );
        assert!(matches!(
            read_line(&mut ok, protocol::MAX_LINE_BYTES).await,
            Err(LineError::Truncated)
        ));
        let mut empty = &b""[..];
        assert!(
            read_line(&mut empty, protocol::MAX_LINE_BYTES)
                .await
                .unwrap()
                .is_none()
        );
        let long = vec![b'x'; protocol::MAX_LINE_BYTES + 10];
        assert!(matches!(
            read_line(&mut &long[..], protocol::MAX_LINE_BYTES).await,
            Err(LineError::TooLong(_))
        ));
        let mut exact = vec![b'x'; protocol::MAX_LINE_BYTES];
        exact.push(b'\n');
        assert_eq!(
            read_line(&mut &exact[..], protocol::MAX_LINE_BYTES)
                .await
                .unwrap()
                .unwrap()
                .len(),
            protocol::MAX_LINE_BYTES
        );
        // The node's answers may be far longer than a request: a listing of many accounts.
        let mut listing = vec![b'x'; 100 * protocol::MAX_LINE_BYTES];
        listing.push(b'\n');
        assert_eq!(
            read_line(&mut &listing[..], protocol::MAX_ANSWER_BYTES)
                .await
                .unwrap()
                .unwrap()
                .len(),
            100 * protocol::MAX_LINE_BYTES
        );
    }
}
