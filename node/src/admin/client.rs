//! The CLI's side of the admin socket.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::protocol::{self, Request, Response};
use super::{LineError, read_line};

/// Time the node may take to answer (an account creation derives keys).
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request could not be sent or answered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No node listens on the socket (no file, or a stale one).
    #[error("no node is running")]
    NotRunning,
    /// Talking to the node failed.
    #[error("admin socket: {0}")]
    Io(#[from] std::io::Error),
    /// The node's answer was unreadable.
    #[error("admin socket: unreadable answer: {0}")]
    Answer(String),
    /// The node did not answer in time.
    #[error("admin socket: no answer within {}s", REPLY_TIMEOUT.as_secs())]
    Timeout,
}

/// Send one request to the node listening on `socket` and wait for its answer.
pub async fn send(socket: &Path, request: &Request) -> Result<Response, ClientError> {
    let stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ClientError::NotRunning);
        }
        Err(e) => return Err(e.into()),
    };
    let (read, mut write) = stream.into_split();
    write.write_all(&protocol::to_line(request)).await?;
    let mut reader = BufReader::new(read);
    let line = tokio::time::timeout(
        REPLY_TIMEOUT,
        read_line(&mut reader, protocol::MAX_ANSWER_BYTES),
    )
    .await
    .map_err(|_| ClientError::Timeout)?
    .map_err(|e: LineError| ClientError::Answer(e.to_string()))?
    .ok_or_else(|| ClientError::Answer("connection closed".into()))?;
    serde_json::from_slice(&line).map_err(|e| ClientError::Answer(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::admin::{Service, server};
    use crate::store::Store;

    #[tokio::test]
    async fn requests_reach_the_node_over_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.sock");
        assert!(matches!(
            send(&path, &Request::ListUsers).await,
            Err(ClientError::NotRunning)
        ));

        let listener = server::bind(&path).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let service = Service::new("example.org".into(), Store::temporary().unwrap());
        let cancel = CancellationToken::new();
        let uid = server::owner_uid(dir.path()).unwrap();
        let task = tokio::spawn(server::serve(listener, service, uid, cancel.clone()));

        let add = Request::AddUser {
            jid: "alice@example.org".into(),
            password: "pw".into(),
            details: Default::default(),
        };
        assert_eq!(
            send(&path, &add).await.unwrap(),
            Response::Added {
                jid: "alice@example.org".into()
            }
        );
        assert_eq!(
            send(&path, &Request::ListUsers).await.unwrap(),
            Response::Users {
                users: vec![crate::admin::protocol::UserListing {
                    jid: "alice@example.org".into(),
                    details: Default::default(),
                }]
            }
        );

        // Garbage and over-long lines get an error answer, and the server keeps serving.
        let mut raw = UnixStream::connect(&path).await.unwrap();
        raw.write_all(b"not json\n").await.unwrap();
        let mut reader = BufReader::new(&mut raw);
        let line = read_line(&mut reader, protocol::MAX_LINE_BYTES)
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&line).contains("bad request"));
        let mut raw = UnixStream::connect(&path).await.unwrap();
        raw.write_all(&vec![b'x'; protocol::MAX_LINE_BYTES * 2])
            .await
            .unwrap();
        let mut reader = BufReader::new(&mut raw);
        let line = read_line(&mut reader, protocol::MAX_LINE_BYTES)
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&line).contains("longer than"));
        assert!(send(&path, &Request::ListUsers).await.is_ok());

        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        // A stale socket file without a listener reads as "not running".
        assert!(matches!(
            send(&path, &Request::ListUsers).await,
            Err(ClientError::NotRunning)
        ));
    }
}
