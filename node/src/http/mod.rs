//! The integration API (docs/API.md): JSON over HTTP under `/v1`, for PBXs (line states, by user
//! or by extension), queue systems, external presence sources, the user's own settings, dashboards
//! (presence reads and a server-sent-events change stream) and access rules.
//!
//! Every request but `/v1/health` and `/v1/openapi.json` carries `Authorization: Bearer <token>`
//! (RFC 6750; `tokens`), and passes `guard`: the token's request budget, the action its scope
//! allows, the users it acts for. Each token has a level; everything it reads is the [`View`] at
//! that level (or, with `?viewer=`, what that viewer would see, capped by the level), taken from
//! an engine [`Snapshot`], the same filter every other outgoing path uses. Writes go through
//! [`Engine::update`], which refuses a change whole and returns only after it is on disk.
//!
//! Layout: `tokens` (making and checking tokens), `guard` (who may call which route), `extract`
//! (input extractors), `error` (the JSON error shape), `bodies` (request bodies to source changes,
//! pure), `sources` (write routes), `read` (presence reads), `events` (the change stream), `rules`
//! (access rules), `openapi` (the machine-readable description), `listener` (connection limits and
//! idle timeout), `websocket` (XMPP over WebSocket) and `panel` (the lamp field page at `/`).

mod bodies;
mod calendar;
mod directory;
mod error;
mod events;
mod extract;
mod guard;
mod listener;
mod openapi;
mod panel;
mod profiles;
mod read;
mod rules;
mod sources;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use jid::BareJid;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use error::ApiError;
use lampfield_xmpp::websocket::WebSocketEndpoint;

use crate::adapters::xmpp::StoreBackend;
use crate::config::HttpConfig;
use crate::engine::{Engine, Snapshot};
use crate::store::Store;
use crate::tokens;
use lampfield_domain::access::{Level, View};
use lampfield_domain::users::{UserJidError, parse_user};

/// Largest request body, in bytes; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct ApiState {
    engine: Engine,
    store: Store,
    domain: String,
    config_tokens: Arc<[tokens::KnownToken]>,
    streams: Arc<Semaphore>,
    cancel: CancellationToken,
    profile_runtime: Option<crate::profile_runtime::ProfileRuntime>,
    /// Per-token request budgets and change-stream cancellations, shared with the admin service.
    live_tokens: tokens::LiveTokens,
    /// XMPP over WebSocket, when the node serves XMPP.
    websocket: Option<WebSocketEndpoint<StoreBackend>>,
    /// The running node's admin service: directory changes reach online rosters through it.
    admin: Option<crate::admin::Service>,
}

impl ApiState {
    /// The state for a node's API. `config.tokens` must have passed [`tokens::from_config`]
    /// (`Config::validate` does); entries that do not are left out.
    pub fn new(
        engine: Engine,
        store: Store,
        domain: String,
        config: &HttpConfig,
        cancel: CancellationToken,
    ) -> Self {
        let known = tokens::from_config(&config.tokens, &domain).unwrap_or_default();
        ApiState {
            engine,
            store,
            domain,
            config_tokens: known.into(),
            streams: Arc::new(Semaphore::new(config.max_event_streams.max(1))),
            cancel,
            profile_runtime: None,
            live_tokens: tokens::LiveTokens::default(),
            websocket: None,
            admin: None,
        }
    }

    /// Apply directory changes through the running node's admin service.
    pub fn with_admin(mut self, admin: crate::admin::Service) -> Self {
        self.admin = Some(admin);
        self
    }

    /// Serve XMPP over WebSocket (RFC 7395) at `/xmpp-websocket` through `endpoint`.
    pub fn with_websocket(mut self, endpoint: WebSocketEndpoint<StoreBackend>) -> Self {
        self.websocket = Some(endpoint);
        self
    }

    /// Share per-token state with the admin service, so that removing a token there ends its
    /// change streams here.
    pub fn with_live_tokens(mut self, live_tokens: tokens::LiveTokens) -> Self {
        self.live_tokens = live_tokens;
        self
    }

    /// A local account named in a path: malformed is 400, another domain's JID 404.
    fn user(&self, text: &str) -> Result<BareJid, ApiError> {
        parse_user(&self.domain, text).map_err(|e| match e {
            UserJidError::WrongDomain { jid, .. } => {
                ApiError::not_found("unknown_user", format!("no such user: {jid}"))
            }
            other => ApiError::bad_request(other.to_string()),
        })
    }

    /// `user`'s presence as a token of `level` may read it, or as `viewer` sees it (capped by
    /// `level`).
    fn presence(
        &self,
        user: &BareJid,
        level: Level,
        viewer: Option<&BareJid>,
    ) -> Result<PresenceOut, ApiError> {
        let mut snapshot = self.engine.snapshot(user)?;
        self.presence_from(&mut snapshot, level, viewer)
    }

    fn presence_from(
        &self,
        snapshot: &mut Snapshot,
        level: Level,
        viewer: Option<&BareJid>,
    ) -> Result<PresenceOut, ApiError> {
        let level = match viewer {
            None => level,
            Some(v) => {
                let groups = self.viewer_groups(snapshot.owner(), v)?;
                snapshot.level_of(v, &groups).min(level)
            }
        };
        Ok(PresenceOut {
            jid: snapshot.owner().to_string(),
            level,
            view: snapshot.at(level).clone(),
        })
    }

    /// The roster groups `viewer` is in on `owner`'s roster.
    fn viewer_groups(&self, owner: &BareJid, viewer: &BareJid) -> Result<Vec<String>, ApiError> {
        Ok(self
            .store
            .contact(owner, viewer)?
            .filter(|c| c.in_roster)
            .map(|c| c.groups)
            .unwrap_or_default())
    }
}

/// One user's presence as the API shows it: always a filtered [`View`].
#[derive(Debug, Clone, Serialize)]
pub struct PresenceOut {
    /// The user.
    pub jid: String,
    /// The level the view was made at.
    pub level: Level,
    /// What that level may see.
    pub view: View,
}

/// The routes, with the state attached.
pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/health", get(read::health))
        .route("/openapi.json", get(openapi::document))
        .route("/presence", get(read::all))
        .route("/events", get(events::stream))
        .route(
            "/extensions/{ext}",
            get(sources::extension_owner)
                .put(sources::put_extension_line)
                .delete(sources::delete_extension_line),
        )
        .route("/users/{jid}/presence", get(read::one))
        .route(
            "/users/{jid}/lines/{line}",
            put(sources::put_line).delete(sources::delete_line),
        )
        .route(
            "/users/{jid}/extensions/{ext}",
            put(sources::map_extension).delete(sources::unmap_extension),
        )
        .route(
            "/users/{jid}/queues/{queue}",
            put(sources::put_queue).delete(sources::delete_queue),
        )
        .route(
            "/users/{jid}/external/{source}",
            put(sources::put_external).delete(sources::delete_external),
        )
        .route(
            "/users/{jid}/manual",
            put(sources::put_manual).delete(sources::delete_manual),
        )
        .route(
            "/users/{jid}/idle",
            put(sources::put_idle).delete(sources::delete_idle),
        )
        .route(
            "/users/{jid}/settings",
            get(sources::get_settings).put(sources::put_settings),
        )
        .route(
            "/users/{jid}/directory",
            get(directory::get).put(directory::put),
        )
        .route("/users/{jid}/rules", get(rules::get).put(rules::put))
        .route("/users/{jid}/rules/explain", get(rules::explain))
        .merge(profiles::routes())
        .merge(calendar::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::check));
    Router::new()
        .nest("/v1", v1)
        .route(websocket::PATH, get(websocket::upgrade))
        .route(panel::INDEX, get(panel::index))
        .route(panel::ASSET, get(panel::asset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(trace))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no_route", "no such route; see /v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route; see /v1/openapi.json",
    )
}

/// One span per request, with the method, the route, the token's name once known, and the status.
async fn trace(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "http",
        method = %request.method(),
        route,
        token = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    });
    response.into_response()
}

/// Bind the API's address (before anything is spawned, so a busy port fails the start).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serve the API on `listener` until `cancel` fires; returns the bound address.
pub fn spawn(
    listener: TcpListener,
    state: ApiState,
    config: &HttpConfig,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let limited =
        listener::LimitedListener::new(listener, config.max_connections, listener::IDLE_TIMEOUT);
    let app = router(state);
    tracker.spawn(async move {
        // The peer address reaches the XMPP-over-WebSocket sessions' logs.
        let app = app.into_make_service_with_connect_info::<listener::PeerAddr>();
        let served = axum::serve(limited, app)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "integration API stopped");
        }
    });
    Ok(addr)
}
