//! The node's side of the admin socket.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::protocol::{self, Request, Response};
use super::{LineError, Service, read_line};

/// Most admin connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 4;
/// Most requests on one connection.
const MAX_REQUESTS: usize = 64;
/// Time a peer may take to send a request line.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the admin socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("admin socket {path}: {source}")]
pub struct BindError {
    /// The socket path.
    pub path: PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

/// Bind `path`, replacing a stale socket file. Only call this while holding the
/// database: the lock proves no other node owns this data folder.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let err = |source| BindError {
        path: path.to_owned(),
        source,
    };
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
        _ => {}
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(listener)
}

/// Serve admin requests until `cancel` fires. Peers must run as `owner_uid` or root.
pub async fn serve(
    listener: UnixListener,
    service: Service,
    owner_uid: u32,
    cancel: CancellationToken,
) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let tracker = TaskTracker::new();
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            break;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = cancel.cancelled() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = service.clone();
        let cancel = cancel.clone();
        tracker.spawn(async move {
            let _permit = permit;
            tokio::select! {
                () = connection(stream, service, owner_uid) => {}
                () = cancel.cancelled() => {}
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}

/// Serve one connection: a bounded number of request lines, each answered in turn.
async fn connection(stream: UnixStream, service: Service, owner_uid: u32) {
    let allowed = stream
        .peer_cred()
        .map(|c| c.uid() == owner_uid || c.uid() == 0)
        .unwrap_or(false);
    let (read, mut write) = stream.into_split();
    if !allowed {
        tracing::warn!("admin connection refused: peer runs as another user");
        let denied = Response::Error {
            message: "permission denied: run as the owner of the data folder".into(),
        };
        let _ = write.write_all(&protocol::to_line(&denied)).await;
        return;
    }
    let mut reader = BufReader::new(read);
    for _ in 0..MAX_REQUESTS {
        let line = match tokio::time::timeout(
            READ_TIMEOUT,
            read_line(&mut reader, protocol::MAX_LINE_BYTES),
        )
        .await
        {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err(e)) => {
                let _ = write.write_all(&protocol::to_line(&error(&e))).await;
                return;
            }
        };
        let response = match serde_json::from_slice::<Request>(&line) {
            Ok(request) => {
                tracing::debug!(?request, "admin request");
                service.apply(request).await
            }
            Err(e) => Response::Error {
                message: format!("bad request: {e}"),
            },
        };
        if write
            .write_all(&protocol::to_line(&response))
            .await
            .is_err()
        {
            return;
        }
    }
}

fn error(e: &LineError) -> Response {
    Response::Error {
        message: format!("bad request: {e}"),
    }
}

/// The uid that owns `data_dir`: the one user (besides root) the socket serves.
pub fn owner_uid(data_dir: &Path) -> std::io::Result<u32> {
    Ok(std::fs::metadata(data_dir)?.uid())
}
