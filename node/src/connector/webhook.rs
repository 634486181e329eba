//! The webhook connector: `POST <url>` with the action as JSON; 2xx is delivered, connection
//! errors, timeouts, 5xx and 429 are retried with bounded exponential backoff, any other answer
//! gives the action up (retrying a 4xx would only repeat the refusal).

use std::time::Duration;

use super::ConnectorAction;
use crate::config::ConnectorConfig;

pub(super) struct Webhook {
    client: reqwest::Client,
    url: reqwest::Url,
    config: ConnectorConfig,
}

impl Webhook {
    pub(super) fn new(config: &ConnectorConfig) -> Result<Self, String> {
        let url = config
            .url
            .as_deref()
            .ok_or("no url")
            .and_then(|u| reqwest::Url::parse(u).map_err(|_| "bad url"))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_s.max(1)))
            .connect_timeout(Duration::from_secs(config.timeout_s.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Webhook {
            client,
            url,
            config: config.clone(),
        })
    }

    /// Deliver one action, retrying as configured; logs the outcome.
    pub(super) async fn deliver(&self, item: &ConnectorAction, action: &str) {
        let attempts = self.config.max_attempts.max(1);
        for attempt in 1..=attempts {
            let outcome = self.client.post(self.url.clone()).json(item).send().await;
            let retry = match outcome {
                Ok(r) if r.status().is_success() => {
                    tracing::info!(
                        user = %item.user, seq = item.seq, %action, attempt,
                        "profile action delivered to the webhook"
                    );
                    return;
                }
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    format!("status {}", r.status().as_u16())
                }
                Ok(r) => {
                    tracing::error!(
                        user = %item.user, seq = item.seq, %action, status = r.status().as_u16(),
                        "webhook refused the profile action; not retried"
                    );
                    return;
                }
                Err(e) => e.to_string(),
            };
            if attempt == attempts {
                tracing::error!(
                    user = %item.user, seq = item.seq, %action, attempts, error = %retry,
                    "profile action not delivered: giving up"
                );
                return;
            }
            let wait = self.config.backoff(attempt - 1);
            tracing::warn!(
                user = %item.user, seq = item.seq, %action, attempt, error = %retry,
                ?wait, "profile action not delivered: retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }
}
