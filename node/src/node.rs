//! Starting and stopping a whole node: storage, the admin socket and the XMPP
//! listener, all stopped by one cancellation token.

use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jid::BareJid;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::adapters;
use crate::admin::{self, AdminError};
use crate::config::{Config, ConfigError};
use crate::engine::{Engine, EngineConfig};
use crate::files;
use crate::http;
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsError};

/// Name of the database folder inside the data folder.
pub const DB_DIR: &str = "db";

/// Time sessions get to say goodbye on shutdown before the node stops waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data folder cannot be created or read.
    #[error("data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database cannot be opened (locked, corrupt, unreadable).
    #[error("database {path}: {source}")]
    Store {
        /// The database folder.
        path: PathBuf,
        /// The cause.
        source: StoreError,
    },
    /// No usable TLS certificate.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The c2s address cannot be bound.
    #[error("cannot listen for clients on {addr}: {source}")]
    Listen {
        /// The configured address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The SIP address cannot be bound (UDP or TCP).
    #[error("cannot listen for SIP on {addr}: {source}")]
    SipListen {
        /// The configured address (`[sip] listen`).
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The integration API's address cannot be bound.
    #[error("cannot listen for the integration API on {addr}: {source}")]
    HttpListen {
        /// The configured address (`[http] listen`).
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The admin socket cannot be created.
    #[error(transparent)]
    Admin(#[from] admin::server::BindError),
    /// Server-to-server XMPP cannot start.
    #[error(transparent)]
    S2s(#[from] adapters::s2s::S2sStartError),
    /// The XEP-0114 component listener cannot start.
    #[error(transparent)]
    Components(#[from] adapters::components::ComponentsStartError),
    /// Federation cannot start.
    #[error(transparent)]
    Federation(#[from] crate::federation::FederationStartError),
}

/// A node serving clients. Stop it with [`RunningNode::shutdown`]; dropping it
/// cancels its tasks without waiting for them.
#[derive(Debug)]
pub struct RunningNode {
    c2s_addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    sip_addr: Option<SocketAddr>,
    domain: String,
    data_dir: PathBuf,
    store: Store,
    engine: Engine,
    profile_runtime: crate::profile_runtime::ProfileRuntime,
    admin: admin::Service,
    socket: PathBuf,
    cancel: CancellationToken,
    tracker: TaskTracker,
    federation: Option<crate::federation::Running>,
}

/// Start a node: open the store, load or generate the certificate, bind the c2s
/// listener and the admin socket, and serve until [`RunningNode::shutdown`].
pub async fn start(config: Config) -> Result<RunningNode, StartError> {
    config.validate()?;
    let data_dir = config.data_dir.clone();
    let in_data_dir = |path: PathBuf| move |source| StartError::DataDir { path, source };
    create_data_dir(&data_dir)?;
    // Every fallible step comes before the first task is spawned, so a failed start
    // leaves nothing running.
    let db_path = data_dir.join(DB_DIR);
    let store = Store::open(&db_path)
        .await
        .map_err(|source| StartError::Store {
            path: db_path.clone(),
            source,
        })?;
    store
        .set_directory(crate::store::DirectorySettings {
            enabled: config.directory.enabled,
            group: config.directory.group.clone(),
        })
        .await
        .map_err(|source| StartError::Store {
            path: db_path.clone(),
            source,
        })?;
    let tls = tls::server_tls(&tls::cert_files(&config)?)?;
    let secret_path = data_dir.join(files::UNKNOWN_USER_SECRET_FILE);
    let secret =
        files::load_or_create_secret(&secret_path).map_err(in_data_dir(secret_path.clone()))?;
    let owner = admin::server::owner_uid(&data_dir).map_err(in_data_dir(data_dir.clone()))?;

    let listen = config.c2s.listen;
    let listen_error = |source| StartError::Listen {
        addr: listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(listen_error)?;
    let c2s_addr = listener.local_addr().map_err(listen_error)?;
    let direct_tls_listener = match config.c2s.direct_tls_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Listen { addr, source })?,
        ),
        None => None,
    };
    let s2s = adapters::s2s::prepare(&config, &tls::cert_files(&config)?).await?;
    let components = adapters::components::prepare(&config).await?;
    let http_listen = config.http.listen;
    let http_error = |source| StartError::HttpListen {
        addr: http_listen,
        source,
    };
    let http_listener = match config.http.enabled {
        true => Some(http::bind(http_listen).await.map_err(http_error)?),
        false => None,
    };
    let sip_bound = match config.sip.enabled {
        true => Some(
            crate::sip::bind(config.sip.listen)
                .await
                .map_err(|source| StartError::SipListen {
                    addr: config.sip.listen,
                    source,
                })?,
        ),
        false => None,
    };
    let socket = data_dir.join(admin::SOCKET_FILE);
    let admin_listener = admin::server::bind(&socket)?;
    let federation = crate::federation::prepare(&config).await?;

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let engine = Engine::start(
        store.clone(),
        EngineConfig {
            idle_threshold: Duration::from_secs(config.presence.idle_threshold_s),
            policy: config.access,
        },
        cancel.clone(),
    );
    let connector =
        crate::connector::Connector::start(config.connector.clone(), &tracker, cancel.clone());
    let profile_runtime = crate::profile_runtime::ProfileRuntime::start(
        engine.clone(),
        store.clone(),
        &config.profiles,
        connector,
        &tracker,
        cancel.clone(),
    );
    // Stanzas for other domains leave the router through one queue, made before the router
    // so that it is wired at construction: federation drains it when enabled, else s2s;
    // with neither, it is dropped here and the router refuses such stanzas at once.
    let (remote, outbound) = adapters::c2s::remote_queue();
    let sessions = adapters::c2s::spawn_c2s(
        listener,
        direct_tls_listener,
        adapters::c2s::c2s_config(&config, secret),
        tls,
        adapters::xmpp::StoreBackend::with_offline_limits(store.clone(), &config.c2s),
        &engine,
        &profile_runtime,
        remote,
        &tracker,
        cancel.clone(),
    );
    if let Some(components) = components {
        adapters::components::spawn(components, &sessions, &tracker, cancel.clone());
    }
    let federation = match federation {
        Some(prepared) => {
            let s2s = s2s
                .and_then(|s| adapters::s2s::spawn_behind(s, &sessions, &tracker, cancel.clone()));
            let router = sessions.router();
            let spawn = crate::federation::spawn;
            Some(spawn(
                prepared,
                router,
                outbound,
                s2s,
                &store,
                &engine,
                &tracker,
                cancel.clone(),
            ))
        }
        None => {
            if let Some(s2s) = s2s {
                let (_, queue) = outbound;
                adapters::s2s::spawn(s2s, &sessions, queue, &tracker, cancel.clone());
            }
            None
        }
    };
    let forget = engine.clone();
    // Removing a token through the admin service ends its change streams in the API.
    let live_tokens = crate::tokens::LiveTokens::default();
    let notices = federation.clone();
    let service = admin::Service::new(config.domain.clone(), store.clone())
        .with_engine(engine.clone())
        .with_profile_runtime(profile_runtime.clone())
        .with_live_tokens(live_tokens.clone())
        .with_sessions(sessions.clone())
        .with_on_removed(Arc::new(move |user| {
            forget.forget(user);
            if let Some(f) = &notices {
                f.forget_user(user);
            }
        }));
    tracker.spawn(admin::server::serve(
        admin_listener,
        service.clone(),
        owner,
        cancel.clone(),
    ));
    let http_addr = match http_listener {
        Some(listener) => {
            let state = http::ApiState::new(
                engine.clone(),
                store.clone(),
                config.domain.clone(),
                &config.http,
                cancel.clone(),
            )
            .with_profile_runtime(profile_runtime.clone())
            .with_live_tokens(live_tokens)
            .with_websocket(sessions.websocket())
            .with_admin(service.clone());
            let addr = http::spawn(listener, state, &config.http, &tracker, cancel.clone())
                .map_err(http_error)?;
            tracing::info!("integration API listening on http://{addr}");
            Some(addr)
        }
        None => None,
    };
    let sip_addr = sip_bound.map(|bound| {
        let addr = crate::sip::spawn(
            bound,
            &config.sip,
            &engine,
            &store,
            &tracker,
            cancel.clone(),
        );
        tracing::info!("SIP listening on udp and tcp {addr}");
        addr
    });
    tracing::info!(domain = %config.domain, "c2s listening on {c2s_addr}");
    tracing::info!(socket = %socket.display(), "admin socket ready");

    Ok(RunningNode {
        c2s_addr,
        http_addr,
        sip_addr,
        domain: config.domain,
        data_dir,
        store,
        engine,
        profile_runtime,
        admin: service,
        socket,
        cancel,
        tracker,
        federation,
    })
}

/// Create the data folder readable by its owner only; leave an existing one as is.
pub fn create_data_dir(path: &Path) -> Result<(), StartError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| StartError::DataDir {
            path: path.to_owned(),
            source,
        })
}

impl RunningNode {
    /// The address the c2s listener is bound to (the real port when 0 was configured).
    pub fn c2s_addr(&self) -> SocketAddr {
        self.c2s_addr
    }

    /// The address SIP is bound to, UDP and TCP (`None` when `[sip] enabled = false`).
    pub fn sip_addr(&self) -> Option<SocketAddr> {
        self.sip_addr
    }

    /// The address the integration API is bound to (`None` when `[http] enabled = false`).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The XMPP domain served.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The data folder (database, certificate, admin socket).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Create an account (`user@domain`); durable on return.
    pub async fn add_user(&self, jid: &str, password: &str) -> Result<BareJid, AdminError> {
        self.admin.add_user(jid, password.to_owned()).await
    }

    /// Remove an account and every trace of it (see [`admin::Service::remove_user`]); durable
    /// on return. Returns whether it existed.
    pub async fn remove_user(&self, jid: &str) -> Result<bool, AdminError> {
        Ok(self.admin.remove_user(jid).await?.1)
    }

    /// The presence engine (to feed sources and read views in tests and embedders).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The profile runtime (list, activate and deactivate profiles; see `profile_runtime`).
    pub fn profile_runtime(&self) -> &crate::profile_runtime::ProfileRuntime {
        &self.profile_runtime
    }

    /// The federation service (`None` when `[federation] enabled = false`).
    pub fn federation(&self) -> Option<&lampfield_federation::FederationHandle> {
        self.federation.as_ref().map(|f| f.handle())
    }

    /// The last change notices other organizations sent this node (at most 256, oldest
    /// first): the sending organization and the payload as received. Empty without
    /// federation.
    pub fn federation_notices_received(&self) -> Vec<(String, Vec<u8>)> {
        self.federation
            .as_ref()
            .map(|f| f.received_notices())
            .unwrap_or_default()
    }

    /// Every account.
    pub fn users(&self) -> Result<Vec<BareJid>, AdminError> {
        self.admin.users()
    }

    /// Stop: cancel every task, let sessions send their unavailable presence and close
    /// their streams (for at most 10 s), remove the admin socket, flush the database.
    pub async fn shutdown(self) -> Result<(), StoreError> {
        tracing::info!("shutting down");
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within {SHUTDOWN_GRACE:?}");
        }
        let _ = std::fs::remove_file(&self.socket);
        self.store.flush().await?;
        tracing::info!("stopped");
        Ok(())
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
