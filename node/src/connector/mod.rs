//! Connectors: how profile actions (forwarding, queue log-in, Follow-Me, ...) reach the PBX.
//!
//! The profile runtime hands every action to a [`Connector`] in the order the profile engine
//! returned it. One worker task delivers them one at a time, so a receiver sees them in order;
//! the queue in front of it is bounded, and an action that does not fit is logged and dropped
//! rather than stalling profile switches. Every action is logged with its outcome.
//!
//! Two kinds (`[connector] kind`): `log` only writes the action to the log; `webhook` POSTs it as
//! JSON to a configured URL and retries failures (connection errors, 5xx, 429) with bounded
//! exponential backoff, giving up after a fixed number of attempts.

mod webhook;

use std::time::Duration;

use jid::BareJid;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use lampfield_domain::presence::{ProfileName, Timestamp};
use lampfield_domain::profiles::Action;

/// Which connector carries actions out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Write each action to the log only.
    #[default]
    Log,
    /// POST each action as JSON to `url`.
    Webhook,
}

/// `[connector]`: where profile actions go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectorConfig {
    /// `log` or `webhook`. Default: `log`.
    pub kind: ConnectorKind,
    /// The webhook's URL (`http://` only; put a TLS proxy in front for anything else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Attempts per action before it is given up. Default: `5`.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubled on each further retry. Default: `500`.
    pub initial_backoff_ms: u64,
    /// Longest wait between retries, in milliseconds. Default: `30000`.
    pub max_backoff_ms: u64,
    /// Time one POST may take, in seconds. Default: `10`.
    pub timeout_s: u64,
    /// Actions waiting for delivery at most; more are logged and dropped. Default: `1024`.
    pub queue_len: usize,
}

impl Default for ConnectorConfig {
    fn default() -> Self {
        ConnectorConfig {
            kind: ConnectorKind::Log,
            url: None,
            max_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            timeout_s: 10,
            queue_len: 1024,
        }
    }
}

impl ConnectorConfig {
    /// Why the section cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.kind == ConnectorKind::Webhook {
            let url = self
                .url
                .as_deref()
                .ok_or("kind = \"webhook\" needs a url")?;
            let parsed = reqwest::Url::parse(url).map_err(|e| format!("url: {e}"))?;
            if parsed.scheme() != "http" {
                return Err("url: only http:// is supported".to_owned());
            }
        }
        if self.max_attempts == 0 || self.max_attempts > 100 {
            return Err("max_attempts must be between 1 and 100".to_owned());
        }
        if self.queue_len == 0 || self.queue_len > 1_000_000 {
            return Err("queue_len must be between 1 and 1000000".to_owned());
        }
        if self.timeout_s == 0 {
            return Err("timeout_s must be at least 1".to_owned());
        }
        Ok(())
    }

    /// The wait before retry number `retry` (0 is the first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u64.checked_shl(retry.min(32)).unwrap_or(u64::MAX);
        Duration::from_millis(
            self.initial_backoff_ms
                .saturating_mul(factor)
                .min(self.max_backoff_ms),
        )
    }
}

/// One action as a connector receives it (the webhook's JSON body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorAction {
    /// Increases by one per action since the node started, so a receiver can spot gaps.
    pub seq: u64,
    /// When the switch happened.
    pub at: Timestamp,
    /// Whose profile switched.
    pub user: String,
    /// The profile active after the switch (`None`: no profile).
    pub profile: Option<ProfileName>,
    /// The action.
    pub action: Action,
}

/// Cheap `Clone` handle: queue actions for delivery.
#[derive(Debug, Clone)]
pub struct Connector {
    tx: mpsc::Sender<ConnectorAction>,
    seq: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Connector {
    /// Start the delivery worker for `config` (which must have passed [`ConnectorConfig::check`]).
    pub fn start(
        config: ConnectorConfig,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> Connector {
        let (tx, rx) = mpsc::channel(config.queue_len.max(1));
        tracker.spawn(worker(config, rx, cancel));
        Connector {
            tx,
            seq: std::sync::Arc::default(),
        }
    }

    /// Queue `actions` for delivery, in order. Never waits: when the queue is full the action is
    /// logged and dropped.
    pub fn send(
        &self,
        user: &BareJid,
        profile: Option<&ProfileName>,
        actions: impl IntoIterator<Item = Action>,
        at: Timestamp,
    ) {
        use std::sync::atomic::Ordering;
        for action in actions {
            let item = ConnectorAction {
                seq: self.seq.fetch_add(1, Ordering::Relaxed),
                at,
                user: user.to_string(),
                profile: profile.cloned(),
                action,
            };
            if let Err(e) = self.tx.try_send(item) {
                let item = match e {
                    mpsc::error::TrySendError::Full(i) | mpsc::error::TrySendError::Closed(i) => i,
                };
                tracing::warn!(
                    %user, seq = item.seq, action = ?item.action,
                    "connector queue full or stopped: action dropped"
                );
            }
        }
    }
}

async fn worker(
    config: ConnectorConfig,
    mut rx: mpsc::Receiver<ConnectorAction>,
    cancel: CancellationToken,
) {
    let hook = match config.kind {
        ConnectorKind::Log => None,
        ConnectorKind::Webhook => match webhook::Webhook::new(&config) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::error!(error = %e, "webhook connector unusable: actions are only logged");
                None
            }
        },
    };
    loop {
        let item = tokio::select! {
            () = cancel.cancelled() => return,
            item = rx.recv() => match item {
                Some(i) => i,
                None => return,
            },
        };
        let action = serde_json::to_string(&item.action).unwrap_or_default();
        match &hook {
            None => tracing::info!(
                user = %item.user, seq = item.seq, profile = ?item.profile.as_ref().map(|p| p.as_str()),
                %action, "profile action"
            ),
            Some(h) => {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = h.deliver(&item, &action) => {}
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = ConnectorConfig::default();
        assert_eq!(c.backoff(0), Duration::from_millis(500));
        assert_eq!(c.backoff(1), Duration::from_millis(1000));
        assert_eq!(c.backoff(3), Duration::from_millis(4000));
        assert_eq!(c.backoff(10), Duration::from_millis(30_000));
        assert_eq!(c.backoff(u32::MAX), Duration::from_millis(30_000));
    }

    #[tokio::test]
    async fn the_webhook_retries_failures_and_keeps_the_order() {
        use std::sync::{Arc, Mutex};
        let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (s, c) = (Arc::clone(&seen), Arc::clone(&calls));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
                let (s, c) = (Arc::clone(&s), Arc::clone(&c));
                async move {
                    // Every other call fails: each action needs one retry.
                    if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 2 == 0 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    s.lock().unwrap().push(v);
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let tracker = TaskTracker::new();
        let cancel = CancellationToken::new();
        let connector = Connector::start(
            ConnectorConfig {
                kind: ConnectorKind::Webhook,
                url: Some(url),
                initial_backoff_ms: 10,
                ..ConnectorConfig::default()
            },
            &tracker,
            cancel.clone(),
        );
        let user = BareJid::new("alice@example.org").unwrap();
        let actions = [
            Action::ClearForwarding,
            Action::GsmMode { enabled: true },
            Action::Workplace { workplace: None },
        ];
        connector.send(&user, None, actions.clone(), Timestamp::from_unix_ms(1));
        for _ in 0..200 {
            if seen.lock().unwrap().len() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let got: Vec<Action> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|v| serde_json::from_value(v["action"].clone()).unwrap())
            .collect();
        assert_eq!(got, actions);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 6);
        cancel.cancel();
    }

    #[test]
    fn a_webhook_needs_an_http_url() {
        let mut c = ConnectorConfig {
            kind: ConnectorKind::Webhook,
            ..ConnectorConfig::default()
        };
        assert!(c.check().is_err());
        c.url = Some("https://pbx.example/hook".into());
        assert!(c.check().is_err());
        c.url = Some("http://127.0.0.1:8080/hook".into());
        assert!(c.check().is_ok());
    }
}
