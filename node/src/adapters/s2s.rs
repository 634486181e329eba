//! Wiring of the gateway's server-to-server side from the node's `[s2s]` section:
//! the same certificate as STARTTLS for clients, the configured authorities, static
//! routes, and the router that c2s sessions already use.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lampfield_xmpp::{S2s, S2sConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::c2s::SessionControl;
use crate::config::Config;
use crate::tls::CertFiles;

/// Why s2s could not start.
#[derive(Debug, thiserror::Error)]
pub enum S2sStartError {
    /// The s2s address cannot be bound.
    #[error("cannot listen for servers on {addr}: {source}")]
    Listen {
        /// The configured address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A PEM file (certificate, key or authorities) is unusable.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate and key cannot make a TLS configuration.
    #[error("s2s TLS: {0}")]
    Tls(String),
}

/// Everything s2s needs, checked and bound, before any task runs.
pub struct Prepared {
    config: S2sConfig,
    listener: TcpListener,
    addr: SocketAddr,
}

impl Prepared {
    /// The address other servers connect to (the real port when 0 was configured).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Load certificates and bind the listener when `[s2s]` is enabled; `None` when not.
pub async fn prepare(
    config: &Config,
    files: &CertFiles,
) -> Result<Option<Prepared>, S2sStartError> {
    let section = &config.s2s;
    if !section.enabled {
        return Ok(None);
    }
    let chain = certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| S2sStartError::Pem {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    let mut out = S2sConfig::new(config.domain.clone(), chain, key);
    if let Some(ca) = &section.ca_file {
        out.ca = certs(ca)?;
    }
    out.require_tls = section.require_tls;
    out.idle_timeout = Duration::from_secs(section.idle_timeout_s);
    out.routes = section
        .routes
        .iter()
        .map(|(domain, target)| (domain.clone(), vec![target.clone()]))
        .collect();
    out.check().map_err(|e| S2sStartError::Tls(e.to_string()))?;
    let listen_error = |source| S2sStartError::Listen {
        addr: section.listen,
        source,
    };
    let listener = TcpListener::bind(section.listen)
        .await
        .map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    Ok(Some(Prepared {
        config: out,
        listener,
        addr,
    }))
}

/// Serve s2s on the router of `sessions` until `cancel` fires, carrying what the router
/// queues in `outbound`; tracked, so shutdown waits for server streams to close.
pub fn spawn(
    prepared: Prepared,
    sessions: &SessionControl,
    outbound: tokio::sync::mpsc::Receiver<minidom::Element>,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    let Prepared {
        config,
        listener,
        addr,
    } = prepared;
    match S2s::new(config, sessions.router().clone(), outbound, cancel) {
        Ok(s2s) => {
            tracing::info!("s2s listening on {addr}");
            tracker.spawn(s2s.serve(Some(listener)));
        }
        // `prepare` built the same TLS configuration already.
        Err(e) => tracing::error!(error = %e, "s2s not started"),
    }
}

/// Like [`spawn`], but the router's outbound path is left to the caller (the federation
/// dispatcher), which gets the s2s queue to pass the stanzas s2s should carry.
pub fn spawn_behind(
    prepared: Prepared,
    sessions: &SessionControl,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Option<tokio::sync::mpsc::Sender<minidom::Element>> {
    let Prepared {
        config,
        listener,
        addr,
    } = prepared;
    match S2s::behind(config, sessions.router().clone(), cancel) {
        Ok((s2s, queue)) => {
            tracing::info!("s2s listening on {addr}");
            tracker.spawn(s2s.serve(Some(listener)));
            Some(queue)
        }
        Err(e) => {
            tracing::error!(error = %e, "s2s not started");
            None
        }
    }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, S2sStartError> {
    let pem = |e: rustls_pki_types::pem::Error| S2sStartError::Pem {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(S2sStartError::Pem {
            path: path.to_owned(),
            reason: "no certificate".into(),
        });
    }
    Ok(certs)
}
