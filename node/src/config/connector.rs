//! `[connector]`: where profile actions go (docs/PROFILES.md); the runtime that delivers them is
//! `crate::connector`, which reads this section and nothing else of the configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
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
