//! Presence fan-out: one publisher, S watchers subscribed to it (RFC 6121 §3), K presence changes.
//!
//! Setup goes through the protocol only, so it works on any server and is idempotent: the
//! publisher's roster says which watchers already have a subscription (`from`/`both` on its side);
//! each missing watcher sends `subscribe`, and the publisher approves it with `subscribed`.
//! Measurement: the publisher sends K presences whose `<status/>` carries `lfbench:<run>:<seq>`,
//! each watcher stamps the arrival, latency = arrival - send (one clock, one process).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::bytes;
use crate::hold::{self, Command, Shared};
use crate::login::{self, Session, Target};
use crate::rounds::{self, RoundConfig, Sink};
use crate::scram::{Client, SaltedKey};
use crate::splitter::find;
use crate::stats::{self, Summary};

pub struct FanoutConfig {
    pub subscribers: usize,
    pub changes: u32,
    pub interval: Duration,
    pub setup_timeout: Duration,
    pub drain_timeout: Duration,
    /// Send the changes through Lampfield's integration API (`PUT /v1/users/{jid}/manual`)
    /// instead of the publisher's XMPP stream.
    pub http: Option<HttpSource>,
}

/// Where and how to reach the integration API.
pub struct HttpSource {
    pub addr: std::net::SocketAddr,
    pub token: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct FanoutResult {
    pub subscribers_requested: usize,
    pub watchers_logged_in: usize,
    pub subscribed: usize,
    pub newly_subscribed: usize,
    pub changes: u32,
    pub expected: usize,
    pub received: usize,
    pub latency: Summary,
    /// Changes per second through the whole path: changes sent / (last arrival - first send).
    pub changes_per_s: Option<f64>,
    /// How the changes entered: "xmpp" or "http".
    pub source: &'static str,
    pub error: Option<String>,
}

const PUBLISHER: usize = 0;

pub async fn run(
    target: Arc<Target>,
    keys: Arc<Vec<Option<SaltedKey>>>,
    round: &RoundConfig,
    cfg: &FanoutConfig,
) -> FanoutResult {
    let mut res = FanoutResult {
        subscribers_requested: cfg.subscribers,
        changes: cfg.changes,
        ..Default::default()
    };
    let cached = keys.get(PUBLISHER).and_then(Option::as_ref);
    let mut publisher =
        match login::login(&target, PUBLISHER, cached, true, round.login_timeout).await {
            Ok(ok) => ok.session,
            Err(e) => {
                res.error = Some(format!("publisher login: {e}"));
                return res;
            }
        };
    let watchers_cfg = RoundConfig {
        keep_early: false,
        ..*round
    };
    let r = rounds::run(
        target.clone(),
        1..cfg.subscribers + 1,
        keys,
        &watchers_cfg,
        Sink::Collect,
    )
    .await;
    res.watchers_logged_in = r.ok;
    if let Some(e) = &r.first_error {
        res.error = Some(format!("{} watcher logins failed, first: {e}", r.failed));
    }
    let mut watchers = r.sessions;

    match subscribe_all(&target, &mut publisher, &mut watchers, cfg.setup_timeout).await {
        Ok((now, total)) => (res.newly_subscribed, res.subscribed) = (now, total),
        Err(e) => {
            res.error = Some(format!("subscription setup: {e}"));
            return res;
        }
    }

    let run_id: String = Client::random_nonce()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let marker = format!("lfbench:{run_id}:");
    let shared = Shared::new(&target.domain, Some(marker.clone()));
    let (ctl, ctl_rx) = watch::channel(Command::Idle);
    let held: Vec<_> = watchers
        .into_iter()
        .map(|s| tokio::spawn(hold::run(s, ctl_rx.clone(), shared.clone())))
        .collect();
    // Let setup traffic (roster pushes, probes) drain before measuring.
    drain(&mut publisher, Duration::from_secs(2)).await;

    let mut sent_at = Vec::with_capacity(cfg.changes as usize);
    let mut api = cfg
        .http
        .as_ref()
        .map(|h| crate::http::Api::new(h.addr, h.token.clone()));
    res.source = if api.is_some() { "http" } else { "xmpp" };
    let path = format!("/v1/users/{}/manual", target.bare_jid(PUBLISHER));
    for seq in 0..cfg.changes {
        sent_at.push(Instant::now());
        let sent = match api.as_mut() {
            Some(api) => {
                // Alternate the availability so that every change is one the watchers see.
                let availability = if seq % 2 == 0 { "busy" } else { "away" };
                let body = format!(r#"{{"availability":"{availability}","note":"{marker}{seq}"}}"#);
                match api.put(&path, &body).await {
                    Ok(code) if (200..300).contains(&code) => Ok(()),
                    Ok(code) => Err(anyhow::anyhow!("HTTP {code}")),
                    Err(e) => Err(e),
                }
            }
            None => {
                let p =
                    format!("<presence><show>away</show><status>{marker}{seq}</status></presence>");
                publisher
                    .conn
                    .send(p.as_bytes())
                    .await
                    .map_err(anyhow::Error::from)
            }
        };
        if let Err(e) = sent {
            res.error = Some(format!("publisher send: {e}"));
            break;
        }
        drain(&mut publisher, cfg.interval).await;
    }
    res.expected = res.subscribed * sent_at.len();
    let deadline = Instant::now() + cfg.drain_timeout;
    while shared.arrivals.load(Ordering::Relaxed) < res.expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outs = rounds::close_all(&ctl, held, Duration::from_secs(30)).await;
    let _ = publisher.conn.send(b"</stream:stream>").await;
    let arrivals: Vec<(u32, Duration)> = outs
        .iter()
        .flat_map(|o| o.arrivals.iter())
        .filter_map(|(seq, at)| {
            let sent = sent_at.get(*seq as usize)?;
            Some((*seq, at.saturating_duration_since(*sent)))
        })
        .collect();
    res.received = arrivals.len();
    if let Some(path) = std::env::var_os("XMPP_BENCH_ARRIVALS") {
        write_arrivals(&path, &arrivals);
    }
    let last = outs
        .iter()
        .flat_map(|o| o.arrivals.iter())
        .map(|(_, at)| *at)
        .max();
    if let (Some(first), Some(last)) = (sent_at.first(), last) {
        let span = last.saturating_duration_since(*first).as_secs_f64();
        if span > 0.0 {
            res.changes_per_s = Some(sent_at.len() as f64 / span);
        }
    }
    res.latency = stats::summarize(arrivals.into_iter().map(|(_, lat)| lat).collect());
    res
}

/// One line per arrival, `<change> <latency in µs>`, for looking at single changes (when the
/// first copy arrived, how the rest spread).
fn write_arrivals(path: &std::ffi::OsStr, arrivals: &[(u32, Duration)]) {
    use std::fmt::Write;
    let mut out = String::with_capacity(arrivals.len() * 12);
    for (seq, lat) in arrivals {
        let _ = writeln!(out, "{seq} {}", lat.as_micros());
    }
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("xmpp-bench: could not write arrivals: {e}");
    }
}

/// Reads and discards the publisher's incoming stanzas for `d`, answering pings.
async fn drain(p: &mut Session, d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    for _ in 0..1_000_000 {
        let pong = match tokio::time::timeout_at(deadline, p.conn.next()).await {
            Err(_) | Ok(Err(_)) => return,
            Ok(Ok(el)) => ping_answer(el),
        };
        if let Some(pong) = pong {
            let _ = p.conn.send(pong.as_bytes()).await;
        }
    }
}

fn ping_answer(el: &[u8]) -> Option<String> {
    if bytes::is(el, "iq")
        && bytes::attr(el, "type").as_deref() == Some("get")
        && bytes::contains(el, "urn:xmpp:ping")
    {
        let id = hold::xml_escape(&bytes::attr(el, "id").unwrap_or_default());
        let to = bytes::attr(el, "from")
            .map(|f| format!(" to='{}'", hold::xml_escape(&f)))
            .unwrap_or_default();
        return Some(format!("<iq type='result' id='{id}'{to}/>"));
    }
    None
}

/// Returns (approved in this run, watchers subscribed in total).
async fn subscribe_all(
    t: &Target,
    publisher: &mut Session,
    watchers: &mut [Session],
    limit: Duration,
) -> anyhow::Result<(usize, usize)> {
    let deadline = Instant::now() + limit;
    let have = subscribed_watchers(t, publisher, deadline).await?;
    let publisher_jid = t.bare_jid(PUBLISHER);
    let mut missing: HashSet<String> = HashSet::new();
    for w in watchers.iter_mut() {
        let jid = t.bare_jid(w.account);
        if !have.contains(&jid) {
            let sub = format!("<presence to='{publisher_jid}' type='subscribe'/>");
            w.conn.send(sub.as_bytes()).await?;
            missing.insert(jid);
        }
    }
    let asked = missing.len();
    // Requests left pending by an earlier, interrupted run arrive at login: approve those too.
    let early = std::mem::take(&mut publisher.early);
    for el in &early {
        approve(publisher, el, &mut missing).await?;
    }
    for _ in 0..1_000_000 {
        if missing.is_empty() || Instant::now() >= deadline {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let el = match tokio::time::timeout(left, publisher.conn.next()).await {
            Err(_) => break,
            Ok(r) => r?.to_vec(),
        };
        approve(publisher, &el, &mut missing).await?;
    }
    // Give the server a moment to apply the last approvals, then count from the roster itself.
    // A server that stores each roster change slowly answers only after it has worked through
    // them all: it gets what is left of the budget, and at least a minute.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let until = deadline.max(Instant::now() + Duration::from_secs(60));
    let total = subscribed_watchers(t, publisher, until).await?.len();
    Ok((asked - missing.len(), total.min(watchers.len())))
}

/// Answers a `subscribe` from one of our watchers with `subscribed`; answers pings.
async fn approve(p: &mut Session, el: &[u8], missing: &mut HashSet<String>) -> anyhow::Result<()> {
    if let Some(pong) = ping_answer(el) {
        p.conn.send(pong.as_bytes()).await?;
        return Ok(());
    }
    if !bytes::is(el, "presence") || bytes::attr(el, "type").as_deref() != Some("subscribe") {
        return Ok(());
    }
    let Some(from) = bytes::attr(el, "from") else {
        return Ok(());
    };
    let bare = from.split('/').next().unwrap_or(&from).to_owned();
    missing.remove(&bare);
    let ok = format!(
        "<presence to='{}' type='subscribed'/>",
        hold::xml_escape(&bare)
    );
    p.conn.send(ok.as_bytes()).await?;
    Ok(())
}

/// Bare JIDs on the publisher's roster with a subscription `from` or `both`.
async fn subscribed_watchers(
    t: &Target,
    p: &mut Session,
    deadline: Instant,
) -> anyhow::Result<HashSet<String>> {
    p.conn
        .send(b"<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
        .await?;
    for _ in 0..1_000_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        let el = tokio::time::timeout(left, p.conn.next())
            .await
            .map_err(|_| anyhow::anyhow!("no roster result"))??;
        if bytes::is(el, "iq") && bytes::attr(el, "id").as_deref() == Some("roster1") {
            return Ok(roster_subscribers(el, &t.domain));
        }
        // Keep subscription requests that arrive meanwhile.
        if bytes::is(el, "presence") && p.early.len() < 100_000 {
            let el = el.to_vec();
            p.early.push(el);
        }
    }
    anyhow::bail!("no roster result")
}

/// Items of a roster result with `subscription` `from` or `both`.
fn roster_subscribers(el: &[u8], domain: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut from = 0;
    while let Some(off) = find(&el[from..], b"<item") {
        let at = from + off;
        from = at + 5;
        let item = &el[at..];
        let (Some(jid), Some(sub)) = (bytes::attr(item, "jid"), bytes::attr(item, "subscription"))
        else {
            continue;
        };
        if (sub == "from" || sub == "both") && jid.ends_with(&format!("@{domain}")) {
            out.insert(jid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_parsing() {
        let el = b"<iq type='result' id='roster1'><query xmlns='jabber:iq:roster'>\
            <item jid='b1@localhost' subscription='from'/>\
            <item subscription=\"both\" jid=\"b2@localhost\"><group>x</group></item>\
            <item jid='b3@localhost' subscription='none' ask='subscribe'/>\
            <item jid='b4@elsewhere' subscription='both'/></query></iq>";
        let got = roster_subscribers(el, "localhost");
        assert_eq!(got.len(), 2);
        assert!(got.contains("b1@localhost") && got.contains("b2@localhost"));
    }

    #[test]
    fn pings_are_answered() {
        assert_eq!(
            ping_answer(
                b"<iq type='get' id='a1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
            )
            .as_deref(),
            Some("<iq type='result' id='a1' to='localhost'/>")
        );
        assert_eq!(ping_answer(b"<iq type='result' id='a1'/>"), None);
    }
}
