//! Wiring of the gateway's c2s server: router, backend, TLS and limits from the
//! node's configuration.

use std::sync::Arc;
use std::time::Duration;

use lampfield_xmpp::router::RemoteSender;
use lampfield_xmpp::websocket::WebSocketEndpoint;
use lampfield_xmpp::{C2sConfig, Ports, Router, serve_c2s, serve_c2s_direct_tls};
use minidom::Element;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::adhoc::NodeCommands;
use super::presence::{EngineAuthority, XmppPublisher};
use super::xmpp::StoreBackend;
use crate::config::Config;
use crate::engine::Engine;
use crate::profile_runtime::ProfileRuntime;

/// The gateway's settings from the node's `[c2s]` section. `unknown_user_secret`
/// keeps the fake SCRAM salts of unknown accounts stable across restarts.
pub fn c2s_config(config: &Config, unknown_user_secret: Vec<u8>) -> C2sConfig {
    let c2s = &config.c2s;
    let mut out = C2sConfig::new(config.domain.clone());
    out.require_tls = c2s.require_tls;
    out.max_stanza_bytes = c2s.max_stanza_bytes;
    out.max_connections = c2s.max_connections;
    out.max_auth_failures = c2s.max_auth_failures;
    out.negotiation_timeout = Duration::from_secs(c2s.negotiation_timeout_s);
    out.idle_timeout = Duration::from_secs(c2s.idle_timeout_s);
    out.ping_timeout = Duration::from_secs(c2s.ping_timeout_s);
    out.unknown_user_secret = unknown_user_secret;
    out.resume_window = Duration::from_secs(c2s.resume_window_s);
    out.sm_max_unacked_stanzas = c2s.sm_max_unacked_stanzas;
    out.sm_max_unacked_bytes = c2s.sm_max_unacked_bytes;
    out.push = lampfield_xmpp::PushPolicy {
        include_sender: config.push.include_sender,
        include_body: config.push.include_body,
    };
    out
}

/// Both ends of the queue from the router to other domains, for whoever routes them.
pub type RemoteQueue = (mpsc::Sender<Element>, mpsc::Receiver<Element>);

/// The router's way to other domains, and the queue behind it for whoever routes there (s2s
/// or the federation dispatcher). Dropping the queue closes the way: the router then refuses
/// stanzas for other domains at once.
pub fn remote_queue() -> (RemoteSender, RemoteQueue) {
    let (tx, rx) = mpsc::channel(lampfield_xmpp::s2s::QUEUE_LEN);
    (RemoteSender::new(tx.clone()), (tx, rx))
}

/// Serve XMPP clients on `listener` (and, with `direct_tls`, clients that start with TLS there,
/// XEP-0368) until `cancel` fires, answering from `backend`. The task
/// is tracked, so shutdown waits until every session has sent its unavailable presence and
/// closed its stream. Stanzas for other domains go to `remote`. Returns what the rest of the
/// node may do to live sessions.
pub fn spawn_c2s(
    listener: TcpListener,
    direct_tls: Option<TcpListener>,
    config: C2sConfig,
    tls: Arc<rustls::ServerConfig>,
    backend: StoreBackend,
    engine: &Engine,
    profile_runtime: &ProfileRuntime,
    remote: RemoteSender,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> SessionControl {
    let store = backend.store().clone();
    let backend = Arc::new(backend);
    let ports = Ports {
        backend: Arc::clone(&backend),
        authority: Arc::new(EngineAuthority::new(engine.clone(), store)),
        commands: Some(Arc::new(NodeCommands::new(
            engine.clone(),
            profile_runtime.clone(),
        ))),
        remote,
    };
    let router = Router::new(&config.domain, ports);
    router.set_push_policy(config.push);
    XmppPublisher::start(engine, router.clone(), cancel.clone());
    let control = SessionControl {
        router: router.clone(),
        websocket: WebSocketEndpoint::new(
            config.clone(),
            router.clone(),
            Arc::clone(&backend),
            cancel.clone(),
        ),
    };
    if let Some(direct) = direct_tls {
        let (config, tls, router, backend, cancel) = (
            config.clone(),
            Arc::clone(&tls),
            router.clone(),
            Arc::clone(&backend),
            cancel.clone(),
        );
        tracker.spawn(async move {
            let served = serve_c2s_direct_tls(direct, config, tls, router, backend, cancel.clone());
            if let Err(e) = served.await {
                tracing::error!(error = %e, "c2s direct TLS server stopped");
                cancel.cancel();
            }
        });
    }
    tracker.spawn(async move {
        let served = serve_c2s(listener, config, Some(tls), router, backend, cancel.clone());
        if let Err(e) = served.await {
            tracing::error!(error = %e, "c2s server stopped");
            // Without its client listener the node is useless: stop the rest too.
            cancel.cancel();
        }
    });
    control
}

/// What the core may ask of live XMPP sessions, without naming the gateway.
#[derive(Clone)]
pub struct SessionControl {
    router: Router<StoreBackend>,
    websocket: WebSocketEndpoint<StoreBackend>,
}

impl SessionControl {
    /// XMPP over WebSocket (RFC 7395) for the HTTP listener, served like the c2s listener.
    pub fn websocket(&self) -> WebSocketEndpoint<StoreBackend> {
        self.websocket.clone()
    }

    /// The router, for the other XMPP adapters (s2s) to share.
    pub fn router(&self) -> &Router<StoreBackend> {
        &self.router
    }

    /// Remove account `user` with `removal`, the store's part, which returns its result and
    /// the accounts whose rosters name `user`: the sessions end (`not-authorized`), those
    /// rosters lose it with a push to their clients, whoever was shown its presence gets
    /// `unavailable`, its contacts at other domains `unsubscribe`/`unsubscribed`
    /// (`Router::remove_account`).
    pub async fn remove_account<T, E>(
        &self,
        user: &jid::BareJid,
        removal: impl std::future::Future<Output = Result<(T, Vec<jid::BareJid>), E>>,
    ) -> Result<T, E> {
        self.router.remove_account(user, removal).await
    }
}

impl std::fmt::Debug for SessionControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionControl")
    }
}
