//! The run's results: one JSON line for machines, a small table for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::fanout::FanoutResult;
use crate::rounds::RoundResult;
use crate::stats::{self, Summary};

#[derive(Debug, Default, serde::Serialize)]
pub struct RoundReport {
    pub ok: usize,
    pub failed: usize,
    pub logins_per_sec: f64,
    pub elapsed_s: f64,
    pub latency: Summary,
    pub scram_cache_hits: usize,
    pub errors: BTreeMap<&'static str, usize>,
    pub first_error: Option<String>,
    /// CPU seconds the server process used during the round.
    pub server_cpu_s: Option<f64>,
    /// CPU seconds this client used during the round.
    pub client_cpu_s: Option<f64>,
    /// Server CPU milliseconds per successful login.
    pub server_cpu_ms_per_login: Option<f64>,
}

impl RoundReport {
    /// `cpu`: (server, client) CPU seconds spent during the round.
    pub fn from_round(r: &RoundResult, cpu: (Option<f64>, Option<f64>)) -> Self {
        let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
        Self {
            server_cpu_s: cpu.0.map(round3),
            client_cpu_s: cpu.1.map(round3),
            server_cpu_ms_per_login: cpu
                .0
                .filter(|_| r.ok > 0)
                .map(|s| round3(s * 1000.0 / r.ok as f64)),
            ok: r.ok,
            failed: r.failed,
            logins_per_sec: (r.logins_per_sec() * 10.0).round() / 10.0,
            elapsed_s: (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            latency: stats::summarize(r.latencies.clone()),
            scram_cache_hits: r.cache_hits,
            errors: r.errors.clone(),
            first_error: r.first_error.clone(),
        }
    }
}

#[derive(Debug, Default, serde::Serialize)]
pub struct MemoryReport {
    pub pid: u32,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub sessions: usize,
    pub per_session_kib: f64,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct HeldReport {
    pub logged_in: usize,
    /// Sessions that answered a ping after the idle period.
    pub alive_at_end: usize,
    pub dropped_by_server: usize,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub label: String,
    pub target: String,
    pub domain: String,
    pub mechanism: &'static str,
    pub clients: usize,
    pub concurrency: usize,
    pub unix_time: u64,
    pub warmup: Option<RoundReport>,
    pub login: Option<RoundReport>,
    pub memory: Option<MemoryReport>,
    pub held: Option<HeldReport>,
    pub fanout: Option<FanoutResult>,
}

impl Report {
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "xmpp-bench: {} ({}, domain {}, {})",
            self.label, self.target, self.domain, self.mechanism
        );
        let _ = writeln!(
            t,
            "  clients {}, logins in flight {}",
            self.clients, self.concurrency
        );
        for (name, r) in [
            ("warm-up logins", &self.warmup),
            ("logins (cached)", &self.login),
        ] {
            if let Some(r) = r {
                let _ = writeln!(
                    t,
                    "  {name:<20} {:>6} ok {:>5} failed  {:>8.1} logins/s  p50 {:>8.2} ms  p99 {:>8.2} ms",
                    r.ok, r.failed, r.logins_per_sec, r.latency.p50_ms, r.latency.p99_ms
                );
                if let (Some(s), Some(c)) = (r.server_cpu_s, r.client_cpu_s) {
                    let _ = writeln!(
                        t,
                        "  {:<20} CPU during the round: server {s:.2} s ({:.3} ms/login), client {c:.2} s",
                        "",
                        r.server_cpu_ms_per_login.unwrap_or(0.0)
                    );
                }
                if let Some(e) = &r.first_error {
                    let _ = writeln!(t, "  {:<20} errors {:?}, first: {e}", "", r.errors);
                }
            }
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(
                t,
                "  {:<20} {:.1} KiB/session  (VmRSS {} -> {} KiB over {} sessions, pid {})",
                "memory per session",
                m.per_session_kib,
                m.rss_before_kib,
                m.rss_after_kib,
                m.sessions,
                m.pid
            );
        }
        if let Some(h) = &self.held {
            let _ = writeln!(
                t,
                "  {:<20} {} of {} alive at the end ({} dropped by the server)",
                "sessions held", h.alive_at_end, h.logged_in, h.dropped_by_server
            );
        }
        if let Some(f) = &self.fanout {
            let _ = writeln!(
                t,
                "  {:<20} {} subscribers x {} changes: {}/{} received  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                "presence fan-out",
                f.subscribed,
                f.changes,
                f.received,
                f.expected,
                f.latency.p50_ms,
                f.latency.p99_ms,
                f.latency.max_ms
            );
            if let Some(rate) = f.changes_per_s {
                let _ = writeln!(
                    t,
                    "  {:<20} {rate:.1} changes/s through the whole path (changes sent over {})",
                    "", f.source
                );
            }
            if let Some(e) = &f.error {
                let _ = writeln!(t, "  {:<20} error: {e}", "");
            }
        }
        t
    }
}
