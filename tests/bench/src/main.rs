//! `xmpp-bench`: measures any XMPP server on this machine: logins per second and login latency,
//! the server's resident memory per idle session, how many sessions it holds, and presence fan-out
//! latency. See docs/BENCHMARKS.md for what each number means.
//!
//! Phases, in order:
//! 1. warm-up round: every account logs in once (SCRAM's PBKDF2 runs here, on the client) and stays;
//!    the server's VmRSS before and after (idle) gives memory per session; then all close.
//! 2. measured round: every account logs in again with its cached SaltedPassword; all sessions stay
//!    idle, then each must answer a ping (sessions held).
//! 3. fan-out: publisher `<prefix>0`, watchers `<prefix>1..=S`.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tokio::sync::watch;

use lampfield_bench::hold::{Command, Shared};
use lampfield_bench::report::{HeldReport, MemoryReport, Report, RoundReport};
use lampfield_bench::rounds::{RoundConfig, Sink};
use lampfield_bench::{fanout, login, procfs, rounds, scram, tls};

#[derive(Parser, Debug)]
#[command(
    name = "xmpp-bench",
    version,
    about = "Login, memory and presence fan-out benchmark for any XMPP server"
)]
struct Args {
    /// Server address (loopback only).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, default_value_t = 5222)]
    port: u16,
    /// XMPP domain of the accounts.
    #[arg(long, default_value = "localhost")]
    domain: String,
    /// Accounts are <prefix>0 .. <prefix>N-1.
    #[arg(long, default_value = "bench")]
    user_prefix: String,
    /// Password of every account.
    #[arg(long, env = "XMPP_BENCH_PASSWORD", required_unless_present = "compare")]
    password: Option<String>,
    /// Number of accounts / concurrent sessions (N).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Logins in flight at once.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    #[arg(long, value_enum, default_value = "SCRAM-SHA-1")]
    mechanism: scram::Mechanism,
    /// PID of the server process whose VmRSS is read (ejabberd: beam.smp).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Name of the server in the report.
    #[arg(long, default_value = "server")]
    label: String,
    /// Seconds all sessions stay idle before memory is read and liveness is checked.
    #[arg(long, default_value_t = 5)]
    idle_secs: u64,
    /// Limit for one whole login.
    #[arg(long, default_value_t = 120)]
    login_timeout_secs: u64,
    /// Limit for each single wait on the server during a login.
    #[arg(long, default_value_t = 60)]
    step_timeout_secs: u64,
    /// Limit for the fan-out's subscription setup (a server that stores each roster change
    /// slowly needs minutes for a thousand new subscribers).
    #[arg(long, default_value_t = 600)]
    setup_timeout_secs: u64,
    /// Fan-out watchers S (accounts 1..=S; the publisher is account 0). 0 skips fan-out.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Presence changes K sent by the publisher.
    #[arg(long, default_value_t = 20)]
    changes: u32,
    /// Milliseconds between two presence changes.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// Skip the login, memory and held-sessions phases (fan-out only).
    #[arg(long)]
    skip_login: bool,
    /// Send fan-out changes through Lampfield's integration API at this address (e.g.
    /// 127.0.0.1:5280) instead of the publisher's stream; needs --http-token.
    #[arg(long, requires = "http_token")]
    http: Option<std::net::SocketAddr>,
    /// Integration API token (`lampfield token add bench`).
    #[arg(long, env = "XMPP_BENCH_HTTP_TOKEN")]
    http_token: Option<String>,
    /// Append the JSON line to this file too.
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print a side-by-side Markdown table of the runs in this JSON-lines file, and exit.
    #[arg(long)]
    compare: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.compare {
        let jsonl = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        println!("{}", lampfield_bench::compare::table(&jsonl));
        return Ok(());
    }
    anyhow::ensure!(
        args.host.is_loopback(),
        "xmpp-bench only targets loopback addresses, not {}",
        args.host
    );
    anyhow::ensure!(
        args.clients > 0 && args.clients <= 100_000,
        "--clients must be within 1..=100000"
    );
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build().context("tokio runtime")?;
    let report = rt.block_on(run(&args))?;
    print!("{}", report.table());
    let line = serde_json::to_string(&report)?;
    println!("{line}");
    if let Some(path) = &args.json_out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}", path.display()))?;
        writeln!(f, "{line}")?;
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

async fn run(args: &Args) -> anyhow::Result<Report> {
    let need = args.clients.max(args.subscribers + 1) as u64 + 64;
    match procfs::open_files_limit() {
        Some(n) if n < need => eprintln!(
            "warning: open-file limit {n} is below the {need} this run needs: raise `ulimit -n`"
        ),
        _ => {}
    }
    let target = Arc::new(login::Target {
        addr: SocketAddr::new(args.host, args.port),
        domain: args.domain.clone(),
        user_prefix: args.user_prefix.clone(),
        password: args.password.clone().unwrap_or_default(),
        mechanism: args.mechanism,
        tls: tls::client_config()?,
        step_timeout: Duration::from_secs(args.step_timeout_secs),
    });
    let round = RoundConfig {
        concurrency: args.concurrency.max(1),
        login_timeout: Duration::from_secs(args.login_timeout_secs),
        keep_early: false,
    };
    let mut report = Report {
        label: args.label.clone(),
        target: target.addr.to_string(),
        domain: args.domain.clone(),
        mechanism: args.mechanism.name(),
        clients: args.clients,
        concurrency: round.concurrency,
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ..Report::default()
    };
    let idle = Duration::from_secs(args.idle_secs);
    let mut keys = Arc::new(vec![None; args.clients.max(args.subscribers + 1)]);

    if !args.skip_login {
        // 1. Warm-up round, with the server's memory before and after.
        let rss_before = args.server_pid.and_then(procfs::rss_kib);
        let (ctl, ctl_rx) = watch::channel(Command::Idle);
        let shared = Shared::new(&args.domain, None);
        eprintln!(
            "[{}] warm-up: logging in {} accounts",
            args.label, args.clients
        );
        let cpu = CpuMeter::start(args.server_pid);
        let r = rounds::run(
            target.clone(),
            0..args.clients,
            keys.clone(),
            &round,
            Sink::Hold(ctl_rx, shared.clone()),
        )
        .await;
        let cpu = cpu.stop();
        tokio::time::sleep(idle).await;
        if let (Some(pid), Some(before)) = (args.server_pid, rss_before) {
            let after = procfs::rss_kib(pid).unwrap_or(0);
            let live = r.ok - shared.dropped.load(Ordering::Relaxed);
            report.memory = Some(MemoryReport {
                pid,
                rss_before_kib: before,
                rss_after_kib: after,
                sessions: live,
                per_session_kib: if live > 0 {
                    ((after as f64 - before as f64) / live as f64 * 10.0).round() / 10.0
                } else {
                    0.0
                },
            });
        }
        report.warmup = Some(RoundReport::from_round(&r, cpu));
        let mut all_keys = (*keys).clone();
        for (slot, k) in all_keys.iter_mut().zip(r.keys) {
            if k.is_some() {
                *slot = k;
            }
        }
        keys = Arc::new(all_keys);
        rounds::close_all(&ctl, r.held, Duration::from_secs(120)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;

        // 2. Measured round, sessions held.
        let (ctl, ctl_rx) = watch::channel(Command::Idle);
        let shared = Shared::new(&args.domain, None);
        eprintln!(
            "[{}] measured: logging in {} accounts with cached keys",
            args.label, args.clients
        );
        let cpu = CpuMeter::start(args.server_pid);
        let r = rounds::run(
            target.clone(),
            0..args.clients,
            keys.clone(),
            &round,
            Sink::Hold(ctl_rx, shared.clone()),
        )
        .await;
        report.login = Some(RoundReport::from_round(&r, cpu.stop()));
        tokio::time::sleep(idle).await;
        let _ = ctl.send(Command::Check);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while shared.checked.load(Ordering::Relaxed) + shared.dropped.load(Ordering::Relaxed) < r.ok
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        report.held = Some(HeldReport {
            logged_in: r.ok,
            alive_at_end: shared.checked.load(Ordering::Relaxed),
            dropped_by_server: shared.dropped.load(Ordering::Relaxed),
        });
        rounds::close_all(&ctl, r.held, Duration::from_secs(120)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    // 3. Presence fan-out.
    if args.subscribers > 0 {
        eprintln!(
            "[{}] fan-out: 1 publisher, {} watchers, {} changes",
            args.label, args.subscribers, args.changes
        );
        let cfg = fanout::FanoutConfig {
            subscribers: args.subscribers,
            changes: args.changes,
            interval: Duration::from_millis(args.interval_ms),
            setup_timeout: Duration::from_secs(args.setup_timeout_secs),
            drain_timeout: Duration::from_secs(30),
            http: args
                .http
                .zip(args.http_token.clone())
                .map(|(addr, token)| fanout::HttpSource { addr, token }),
        };
        report.fanout = Some(fanout::run(target.clone(), keys.clone(), &round, &cfg).await);
    }
    Ok(report)
}

/// CPU seconds of the server and of this client over an interval.
struct CpuMeter {
    server_pid: Option<u32>,
    server: Option<f64>,
    client: Option<f64>,
}

impl CpuMeter {
    fn start(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            server: server_pid.and_then(procfs::cpu_seconds),
            client: procfs::cpu_seconds(std::process::id()),
        }
    }

    fn stop(self) -> (Option<f64>, Option<f64>) {
        let now_server = self.server_pid.and_then(procfs::cpu_seconds);
        let now_client = procfs::cpu_seconds(std::process::id());
        (
            now_server.zip(self.server).map(|(b, a)| b - a),
            now_client.zip(self.client).map(|(b, a)| b - a),
        )
    }
}
