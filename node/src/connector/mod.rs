//! Connectors: how profile actions (forwarding, queue log-in, Follow-Me, ...) reach the PBX.
//!
//! The profile runtime hands every action to a [`Connector`] in the order the profile state
//! machine returned it. One worker task delivers them one at a time, so a receiver sees them in order;
//! the queue in front of it is bounded, and an action that does not fit is logged and dropped
//! rather than stalling profile switches. Every action is logged with its outcome.
//!
//! Two kinds (`[connector] kind`): `log` only writes the action to the log; `webhook` POSTs it as
//! JSON to a configured URL and retries failures (connection errors, 5xx, 429) with bounded
//! exponential backoff, giving up after a fixed number of attempts.

mod webhook;

use jid::BareJid;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConnectorConfig, ConnectorKind};
use lampfield_domain::presence::{ProfileName, Timestamp};
use lampfield_domain::profiles::Action;

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
    use std::time::Duration;

    use super::*;

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
}
