//! SIP for PBXs and desk phones (RFC 3261): line state in by `PUBLISH` (RFC 3903) of RFC 4235
//! dialog-info, busy lamps out by `SUBSCRIBE`/`NOTIFY` (RFC 6665, RFC 4235), over UDP and TCP.
//!
//! A publication feeds the engine the way the integration API's line routes do: the extension's
//! owner (the API's extension mapping) gets `SourceChange::Line(ext, ..)`, stored durably before
//! the answer. A lamp shows what the engine's view at the configured trusted level shows, never
//! the publication itself. docs/SIP.md has the whole picture.

mod dialog_info;
mod pidf;
mod publish;
mod raw;
mod reply;
mod subscribe;
mod transport;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::clock::DefaultClock;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use jid::BareJid;
use lampfield_domain::access::View;
use lampfield_domain::presence::LineId;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::SipConfig;
use crate::engine::{Engine, FeedScope, SourceChange};
use crate::store::Store;
use publish::{Publications, PublishError};
use raw::Echo;
use reply::{ALLOW, Grant, grant, response};
use subscribe::{NewSubscription, Package, Shown, SubState, Subscriptions};
use transport::Sink;

/// RFC 4235 §3.2 and RFC 3903 §5: the default subscription and publication duration.
const DEFAULT_EXPIRES_S: u32 = 3600;
/// Source addresses whose rate state is kept before quiet ones are forgotten early.
const RATE_TABLE_SOFT_CAP: usize = 65_536;
/// How often expired publications and subscriptions are looked for.
const SWEEP: Duration = Duration::from_secs(1);

/// The SIP service: shared by the UDP and TCP transports and the timers.
#[derive(Clone)]
pub(crate) struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    config: SipConfig,
    local: SocketAddr,
    engine: Engine,
    store: Store,
    publications: Mutex<Publications>,
    subscriptions: Mutex<Subscriptions>,
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
}

/// The UDP socket and TCP listener, bound before anything is spawned.
pub struct Bound {
    udp: tokio::net::UdpSocket,
    tcp: tokio::net::TcpListener,
    local: SocketAddr,
}

/// Bind UDP and TCP on `listen` (one port for both, also when it is 0).
pub async fn bind(listen: SocketAddr) -> std::io::Result<Bound> {
    let (udp, tcp) = transport::bind(listen).await?;
    let local = udp.local_addr()?;
    Ok(Bound { udp, tcp, local })
}

/// Serve SIP on `bound` until `cancel`; the bound address.
pub fn spawn(
    bound: Bound,
    config: &SipConfig,
    engine: &Engine,
    store: &Store,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> SocketAddr {
    let Bound { udp, tcp, local } = bound;
    let rate = NonZeroU32::new(config.rate_per_s).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(config.rate_per_s.saturating_mul(5)).unwrap_or(rate);
    let service = Service {
        inner: Arc::new(Inner {
            config: config.clone(),
            local,
            engine: engine.clone(),
            store: store.clone(),
            publications: Mutex::new(Publications::new(config.max_entries)),
            subscriptions: Mutex::new(Subscriptions::new(config.max_entries)),
            limiter: RateLimiter::hashmap(Quota::per_second(rate).allow_burst(burst)),
        }),
    };
    tracker.spawn(transport::serve_udp(udp, service.clone(), cancel.clone()));
    tracker.spawn(transport::serve_tcp(
        tcp,
        service.clone(),
        tracker.clone(),
        cancel.clone(),
    ));
    tracker.spawn(service.clone().sweep(cancel.clone()));
    tracker.spawn(service.follow(cancel));
    local
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a request is about: the extension in its Request-URI and the user it is mapped to.
struct Target {
    ext: LineId,
    owner: BareJid,
}

impl transport::Handler for Service {
    fn max_message_bytes(&self) -> usize {
        self.inner.config.max_message_bytes
    }

    /// Dropped when the header is not even enough to address a response.
    fn refuse_raw(&self, head: &[u8], code: u16, reason: &str, sink: &Sink) {
        tracing::debug!(peer = %sink.peer(), code, "SIP message refused: {reason}");
        let head = String::from_utf8_lossy(head);
        if raw::request_method(&head).is_none() {
            return;
        }
        if let Some(echo) = Echo::of(&head) {
            sink.send(response(&echo, code, reason, None, &[]));
        }
    }

    async fn handle(&self, message: &[u8], sink: &Sink) {
        self.dispatch(message, sink).await
    }
}

impl Service {
    /// Handle one message from `sink`'s peer; every answer goes back through `sink`.
    async fn dispatch(&self, message: &[u8], sink: &Sink) {
        if self.inner.limiter.check_key(&sink.peer().ip()).is_err() {
            tracing::debug!(peer = %sink.peer(), "SIP rate limit: message dropped");
            return;
        }
        let Some(end) = raw::head_end(message) else {
            return;
        };
        let head = String::from_utf8_lossy(&message[..end]).into_owned();
        // Responses (to our NOTIFYs) need nothing; no retransmission is kept to stop.
        if head.starts_with("SIP/2.0 ") {
            return;
        }
        let Some(echo) = Echo::of(&head) else {
            tracing::debug!(peer = %sink.peer(), "SIP request without Via/From/To/Call-ID/CSeq dropped");
            return;
        };
        // The parser is third-party code fed hostile bytes: a panic in it answers 400.
        let parsed = std::panic::catch_unwind(|| rsip::Request::try_from(message));
        let Ok(Ok(request)) = parsed else {
            // A method token the parser does not know is an extension method: 501 (RFC 3261
            // §8.2.1); anything else it refuses is malformed.
            let code = match raw::request_method(&head) {
                Some(m) if m.parse::<rsip::Method>().is_err() => (501, "Not Implemented"),
                _ => (400, "Bad Request"),
            };
            sink.send(response(
                &echo,
                code.0,
                code.1,
                None,
                &[("Allow", ALLOW.into())],
            ));
            return;
        };
        let answer = match request.method {
            rsip::Method::Ack => return,
            rsip::Method::Options => response(
                &echo,
                200,
                "OK",
                None,
                &[
                    ("Allow", ALLOW.into()),
                    ("Allow-Events", "dialog, presence".into()),
                    ("Accept", dialog_info::CONTENT_TYPE.into()),
                ],
            ),
            rsip::Method::Publish | rsip::Method::Subscribe => {
                match self.event_request(&request, &head, &echo, sink).await {
                    Ok(()) => return,
                    Err(refusal) => refusal,
                }
            }
            _ => response(
                &echo,
                405,
                "Method Not Allowed",
                None,
                &[("Allow", ALLOW.into())],
            ),
        };
        sink.send(answer);
    }

    /// PUBLISH and SUBSCRIBE: the checks they share, then each its own handling. `Err` is the
    /// refusal to send.
    async fn event_request(
        &self,
        request: &rsip::Request,
        head: &str,
        echo: &Echo,
        sink: &Sink,
    ) -> Result<(), Vec<u8>> {
        let refuse = |code, reason| response(echo, code, reason, None, &[]);
        if !self.inner.config.is_trusted(sink.peer().ip()) {
            tracing::info!(peer = %sink.peer(), method = %request.method, "SIP from an untrusted address refused");
            return Err(refuse(403, "Forbidden"));
        }
        let event = raw::value(head, "Event", Some("o"))
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        // Line state comes in as dialog-info only; lamps go out as dialog-info or PIDF.
        let package = match (&request.method, event) {
            (_, e) if e.eq_ignore_ascii_case("dialog") => Package::Dialog,
            (rsip::Method::Subscribe, e) if e.eq_ignore_ascii_case("presence") => Package::Presence,
            _ => {
                let allowed = match request.method {
                    rsip::Method::Subscribe => "dialog, presence",
                    _ => "dialog",
                };
                return Err(response(
                    echo,
                    489,
                    "Bad Event",
                    None,
                    &[("Allow-Events", allowed.into())],
                ));
            }
        };
        let requested = match raw::value(head, "Expires", None) {
            None => None,
            Some(v) => Some(v.parse::<u32>().map_err(|_| refuse(400, "Bad Expires"))?),
        };
        let config = &self.inner.config;
        let granted = grant(
            requested,
            config.min_expires_s,
            config.max_expires_s,
            DEFAULT_EXPIRES_S,
        );
        if granted == Grant::TooBrief {
            return Err(response(
                echo,
                423,
                "Interval Too Brief",
                None,
                &[("Min-Expires", config.min_expires_s.to_string())],
            ));
        }
        let target = self.target(&request.uri).map_err(|(c, r)| refuse(c, r))?;
        let answer = match request.method {
            rsip::Method::Publish => self.publish(request, head, echo, target, granted).await,
            _ => return self.subscribe(head, echo, sink, target, package, granted),
        };
        sink.send(answer);
        Ok(())
    }

    /// The extension a Request-URI `sip:EXT@host` names, and its owner: 404 when unmapped.
    fn target(&self, uri: &rsip::Uri) -> Result<Target, (u16, &'static str)> {
        let user = uri.user().ok_or((404, "Not Found"))?;
        let ext = LineId::new(user.to_owned()).map_err(|_| (404, "Not Found"))?;
        match self.inner.store.extension_user(ext.as_str()) {
            Ok(Some(owner)) => Ok(Target { ext, owner }),
            Ok(None) => Err((404, "Not Found")),
            Err(e) => {
                tracing::warn!("SIP extension lookup failed: {e}");
                Err((500, "Server Internal Error"))
            }
        }
    }

    /// RFC 3903 §6: initial, refresh, modify and remove.
    async fn publish(
        &self,
        request: &rsip::Request,
        head: &str,
        echo: &Echo,
        target: Target,
        granted: Grant,
    ) -> Vec<u8> {
        let refuse = |code, reason| response(echo, code, reason, None, &[]);
        let report = if request.body.is_empty() {
            None
        } else {
            let dialog_info = raw::value(head, "Content-Type", Some("c")).is_some_and(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(dialog_info::CONTENT_TYPE))
            });
            if !dialog_info {
                return response(
                    echo,
                    415,
                    "Unsupported Media Type",
                    None,
                    &[("Accept", dialog_info::CONTENT_TYPE.into())],
                );
            }
            match dialog_info::parse(&request.body) {
                Ok(report) => Some(report),
                Err(e) => {
                    tracing::debug!(ext = %target.ext, "SIP PUBLISH body refused: {e}");
                    return refuse(400, "Bad Request");
                }
            }
        };
        let changes_state = report.is_some() || granted == Grant::Remove;
        if let Some(r) = &report {
            tracing::info!(ext = %target.ext, state = ?r.state, direction = ?r.direction,
                remote = ?r.remote, "SIP line state published");
        }
        let if_match = raw::value(head, "SIP-If-Match", None);
        let now = Instant::now();
        let outcome = {
            let mut pubs = lock(&self.inner.publications);
            match (if_match, granted, report) {
                (None, Grant::Seconds(s), Some(report)) => pubs
                    .insert(target.ext.clone(), report, now, s)
                    .map(|tag| (tag, s)),
                (None, _, _) => return refuse(400, "Bad Request"),
                (Some(tag), Grant::Remove, _) => {
                    pubs.remove(tag, &target.ext).map(|()| (tag.to_owned(), 0))
                }
                (Some(tag), Grant::Seconds(s), report) => pubs
                    .update(tag, &target.ext, report, now, s)
                    .map(|tag| (tag, s)),
                (Some(_), Grant::TooBrief, _) => return refuse(423, "Interval Too Brief"),
            }
        };
        let (etag, seconds) = match outcome {
            Ok(o) => o,
            Err(PublishError::UnknownTag) => return refuse(412, "Conditional Request Failed"),
            Err(PublishError::Full) => return refuse(503, "Service Unavailable"),
        };
        if changes_state && !self.feed(&target.ext).await {
            return refuse(500, "Server Internal Error");
        }
        response(
            echo,
            200,
            "OK",
            None,
            &[("SIP-ETag", etag), ("Expires", seconds.to_string())],
        )
    }

    /// Give the engine the line state `ext`'s publications add up to, as the API's
    /// `PUT /v1/extensions/{ext}` does. False when it could not be stored.
    async fn feed(&self, ext: &LineId) -> bool {
        let state = lock(&self.inner.publications).state_of(ext);
        let owner = match self.inner.store.extension_user(ext.as_str()) {
            Ok(Some(owner)) => owner,
            // Unmapped meanwhile: nobody's line to change.
            Ok(None) => return true,
            Err(e) => {
                tracing::warn!("SIP extension lookup failed: {e}");
                return false;
            }
        };
        let change = SourceChange::Line(ext.clone(), Some(state));
        match self.inner.engine.update(&owner, change).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(%ext, "SIP line state not stored: {e}");
                false
            }
        }
    }

    /// What a watcher of `ext` at the trusted level may see of `owner`: the line (`None`: no
    /// such line in that view: unknown, hidden by "appear offline", or below the level), or the
    /// presence document of that view.
    fn shown(&self, owner: &BareJid, ext: &LineId, package: Package) -> Shown {
        let mut snapshot = self.inner.engine.snapshot(owner).ok();
        let level = self.inner.config.trusted_level;
        let unavailable = View::unavailable();
        let view = snapshot.as_mut().map_or(&unavailable, |s| s.at(level));
        match package {
            Package::Dialog => Shown::Line(view.presence().lines.get(ext).copied()),
            Package::Presence => Shown::Presence(pidf::PresenceDoc::of(view)),
        }
    }

    /// RFC 6665 §4.2: new subscriptions, refreshes and unsubscribes, each answered 200 and
    /// followed by a NOTIFY of the current state.
    fn subscribe(
        &self,
        head: &str,
        echo: &Echo,
        sink: &Sink,
        target: Target,
        package: Package,
        granted: Grant,
    ) -> Result<(), Vec<u8>> {
        let now = Instant::now();
        let state = self.shown(&target.owner, &target.ext, package);
        let local = self.inner.local;
        let mut subs = lock(&self.inner.subscriptions);
        if let Some(tag) = echo.to_tag() {
            let key = (echo.call_id.clone(), tag.to_owned());
            let Some(sub) = subs.get_mut(&key) else {
                return Err(response(
                    echo,
                    481,
                    "Subscription Does Not Exist",
                    None,
                    &[],
                ));
            };
            let (seconds, sub_state) = match granted {
                Grant::Seconds(s) => (s, SubState::Active),
                _ => (0, SubState::Unsubscribed),
            };
            sub.refresh(now, seconds);
            let notify = sub.notify(state, sub_state, local, now);
            sink.send(response(
                echo,
                200,
                "OK",
                None,
                &[("Expires", seconds.to_string())],
            ));
            sub.sink.send(notify);
            if sub_state == SubState::Unsubscribed {
                subs.remove(&key);
            }
            return Ok(());
        }
        let contact = raw::value(head, "Contact", Some("m")).map(raw::uri_of);
        let target_uri = contact.map_or_else(|| format!("sip:{}", sink.peer()), str::to_owned);
        let new = NewSubscription {
            entity: format!(
                "sip:{}@{}",
                target.ext,
                raw::uri_of(&echo.to)
                    .split('@')
                    .nth(1)
                    .unwrap_or("localhost")
            ),
            ext: target.ext,
            owner: target.owner,
            package,
            sink: sink.clone(),
            target: target_uri,
            call_id: echo.call_id.clone(),
            to: echo.to.clone(),
            from: echo.from.clone(),
        };
        let seconds = match granted {
            Grant::Seconds(s) => s,
            _ => 0,
        };
        let Some(key) = subs.insert(new, now, seconds) else {
            return Err(response(echo, 503, "Service Unavailable", None, &[]));
        };
        let Some(sub) = subs.get_mut(&key) else {
            return Err(response(echo, 500, "Server Internal Error", None, &[]));
        };
        // Expires: 0 on a new subscription is a one-time fetch (RFC 6665 §4.4.3).
        let sub_state = if seconds == 0 {
            SubState::Unsubscribed
        } else {
            SubState::Active
        };
        let notify = sub.notify(state, sub_state, local, now);
        sink.send(response(
            echo,
            200,
            "OK",
            Some(&key.1),
            &[("Expires", seconds.to_string())],
        ));
        sub.sink.send(notify);
        if seconds == 0 {
            subs.remove(&key);
        }
        Ok(())
    }

    /// Expire publications (their lines go idle) and subscriptions (a final NOTIFY), every
    /// second, until cancelled.
    async fn sweep(self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(SWEEP);
        let mut ticks: u32 = 0;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            let expired = lock(&self.inner.publications).expire(now);
            for ext in expired {
                tracing::info!(%ext, "SIP publication expired: the line goes idle");
                self.feed(&ext).await;
            }
            let ended = lock(&self.inner.subscriptions).expire(now);
            for mut sub in ended {
                let state = self.shown(&sub.owner, &sub.ext, sub.package);
                let notify = sub.notify(state, SubState::Timeout, self.inner.local, now);
                sub.sink.send(notify);
            }
            ticks = ticks.wrapping_add(1);
            // Every minute, or at once when many addresses (spoofed ones, say) fill the table.
            if ticks.is_multiple_of(60) || self.inner.limiter.len() > RATE_TABLE_SOFT_CAP {
                // Forget the rate state of addresses that went quiet, so the table stays small.
                self.inner.limiter.retain_recent();
            }
        }
    }

    /// NOTIFY every watcher whose lamp changed, on every change of a user's presence.
    async fn follow(self, cancel: CancellationToken) {
        let mut feed = self.inner.engine.subscribe(FeedScope::All);
        while let Some(owner) = feed.next_until(&cancel).await {
            let now = Instant::now();
            let mut subs = lock(&self.inner.subscriptions);
            for sub in subs.of_owner(&owner) {
                let state = self.shown(&owner, &sub.ext, sub.package);
                if sub.differs(&state) {
                    let notify = sub.notify(state, SubState::Active, self.inner.local, now);
                    sub.sink.send(notify);
                }
            }
        }
    }
}
