//! A login round: a fixed set of accounts logged in by a pool of workers, with a bounded number of
//! logins in flight. Each new session either goes to its own idle task at once (so it answers the
//! server while the round goes on) or is handed back to the caller.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::hold::{self, Command, Outcome, Shared};
use crate::login::{self, Session, Target};
use crate::scram::SaltedKey;

pub struct RoundConfig {
    pub concurrency: usize,
    /// Limit for one whole login.
    pub login_timeout: Duration,
    /// Keep stanzas that arrive during login (the fan-out publisher needs its subscription requests).
    pub keep_early: bool,
}

/// Where new sessions go.
pub enum Sink {
    /// Spawn an idle task per session, driven by this command channel.
    Hold(watch::Receiver<Command>, Arc<Shared>),
    /// Hand the sessions back.
    Collect,
}

#[derive(Default)]
pub struct RoundResult {
    pub ok: usize,
    pub failed: usize,
    pub latencies: Vec<Duration>,
    /// From the first connect to the last completed login.
    pub elapsed: Duration,
    pub cache_hits: usize,
    pub keys: Vec<Option<SaltedKey>>,
    pub errors: BTreeMap<&'static str, usize>,
    pub first_error: Option<String>,
    pub held: Vec<JoinHandle<Outcome>>,
    pub sessions: Vec<Session>,
}

impl RoundResult {
    pub fn logins_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }
}

type Done = (usize, Result<login::LoginOk, login::LoginError>);

/// Logs in `accounts` (indices into `keys`, which must cover them) and reports.
pub async fn run(
    target: Arc<Target>,
    accounts: std::ops::Range<usize>,
    keys: Arc<Vec<Option<SaltedKey>>>,
    cfg: &RoundConfig,
    sink: Sink,
) -> RoundResult {
    let next = Arc::new(AtomicUsize::new(accounts.start));
    let end = accounts.end;
    let workers = cfg.concurrency.clamp(1, accounts.len().max(1));
    let (tx, mut rx) = mpsc::channel::<Done>(workers * 2);
    let started = Instant::now();
    for _ in 0..workers {
        let (target, keys, next, tx) = (target.clone(), keys.clone(), next.clone(), tx.clone());
        let (timeout, keep) = (cfg.login_timeout, cfg.keep_early);
        tokio::spawn(async move {
            // Bounded: each worker takes at most all the accounts.
            for _ in 0..end {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let cached = keys.get(i).and_then(Option::as_ref);
                let r = login::login(&target, i, cached, keep, timeout).await;
                if tx.send((i, r)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut res = RoundResult {
        keys: vec![None; keys.len()],
        ..RoundResult::default()
    };
    let mut last_done = started;
    while let Some((i, r)) = rx.recv().await {
        match r {
            Ok(ok) => {
                last_done = Instant::now();
                res.ok += 1;
                res.latencies.push(ok.latency);
                res.cache_hits += usize::from(ok.cache_hit);
                if let Some(slot) = res.keys.get_mut(i) {
                    *slot = Some(ok.key);
                }
                match &sink {
                    Sink::Hold(ctl, shared) => {
                        res.held.push(tokio::spawn(hold::run(
                            ok.session,
                            ctl.clone(),
                            shared.clone(),
                        )));
                    }
                    Sink::Collect => res.sessions.push(ok.session),
                }
            }
            Err(e) => {
                res.failed += 1;
                *res.errors.entry(e.kind()).or_default() += 1;
                if res.first_error.is_none() {
                    res.first_error = Some(format!("{}: {e}", target.user(i)));
                }
            }
        }
    }
    res.elapsed = last_done - started;
    res
}

/// Tells held sessions to close and waits for them (bounded).
pub async fn close_all(
    ctl: &watch::Sender<Command>,
    held: Vec<JoinHandle<Outcome>>,
    limit: Duration,
) -> Vec<Outcome> {
    let _ = ctl.send(Command::Close);
    let deadline = tokio::time::Instant::now() + limit;
    let mut outs = Vec::with_capacity(held.len());
    for h in held {
        match tokio::time::timeout_at(deadline, h).await {
            Ok(Ok(o)) => outs.push(o),
            Ok(Err(_)) => {}
            Err(_) => break,
        }
    }
    outs
}
