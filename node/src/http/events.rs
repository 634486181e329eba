//! `GET /v1/events`: a server-sent-events stream of presence changes for dashboards (WHATWG HTML
//! §9.2 "Server-sent events").
//!
//! Events: `ready` once the stream is subscribed (read `/v1/presence` after it, so nothing falls
//! in between), and `presence` with a user's view at the token's level after each change. Each
//! stream reads its own engine feed, which holds a changed user once however often they changed:
//! a slow client gets the latest view of every user who changed and loses none, so the `resync`
//! event docs/API.md describes is never needed.
//! A comment line every 15 s keeps proxies and the idle timeout from closing a quiet stream. At
//! most `[http] max_event_streams` streams are open at once (503 beyond); all end on shutdown, and
//! a token's streams end the moment the token is removed. A stream carries only the users its
//! token acts for; a token's scope is fixed while it exists (changing it means a new token).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;

use super::ApiState;
use super::error::ApiError;
use super::guard::{self, Caller};
use crate::engine::{ChangeFeed, FeedScope};
use lampfield_domain::access::Level;

/// Interval of the keep-alive comment.
pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(15);

struct Feed {
    changes: ChangeFeed,
    state: ApiState,
    caller: Caller,
    level: Level,
    ready: bool,
    _permit: OwnedSemaphorePermit,
}

/// `GET /v1/events`.
pub(super) async fn stream(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            "too many open event streams; try again later",
        )
    })?;
    // Registered before the token is looked up again: a removal either finds this stream to
    // end, or came first and is seen here.
    let revoked = state.live_tokens.stream(caller.sha256());
    if !guard::still_known(&state, caller.sha256())? {
        // Removed since the request was let in: drop what registering just made again.
        state.live_tokens.revoke(caller.sha256());
        return Err(ApiError::unauthorized("unknown token"));
    }
    tracing::debug!(token = %caller.name(), "event stream opened");
    let feed = Feed {
        changes: state.engine.subscribe(FeedScope::All),
        state: state.clone(),
        level: caller.level(),
        caller,
        ready: false,
        _permit: permit,
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        let event = next_event(&mut feed).await?;
        Some((Ok(event), feed))
    })
    .take_until(state.cancel.clone().cancelled_owned())
    .take_until(revoked.cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next event to send; `None` when the feed is gone.
async fn next_event(feed: &mut Feed) -> Option<Event> {
    if !feed.ready {
        feed.ready = true;
        return Some(Event::default().event("ready").data("{}"));
    }
    loop {
        let user = feed.changes.next().await?;
        if !feed.caller.covers(&user) {
            continue;
        }
        // A user removed since the change has nothing left to show.
        let Ok(presence) = feed.state.presence(&user, feed.level, None) else {
            continue;
        };
        match Event::default().event("presence").json_data(&presence) {
            Ok(event) => return Some(event),
            Err(e) => tracing::warn!(error = %e, "presence event not encoded"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use tokio_util::sync::CancellationToken;

    use jid::BareJid;

    use super::*;
    use crate::config::HttpConfig;
    use crate::engine::feed::{Cause, Feeds};
    use crate::engine::{Engine, EngineConfig};
    use crate::store::Store;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[tokio::test]
    async fn ready_then_changes_coalesced_per_user() {
        let store = Store::temporary().unwrap();
        let account = crate::adapters::xmpp::new_account("pw").unwrap();
        store
            .create_account(&jid("alice@example.org"), &account)
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let engine = Engine::start(
            store.clone(),
            EngineConfig {
                idle_threshold: Duration::from_secs(300),
                policy: Default::default(),
            },
            cancel.clone(),
        );
        let state = ApiState::new(
            engine,
            store,
            "example.org".into(),
            &HttpConfig::default(),
            cancel,
        );
        let feeds = Feeds::default();
        let mut feed = Feed {
            changes: feeds.subscribe(FeedScope::All),
            state,
            caller: Caller::new(crate::tokens::KnownToken {
                name: "lobby".into(),
                sha256: [0; 32],
                level: Level::Public,
                scope: crate::tokens::TokenScope::default(),
                rate: crate::tokens::DEFAULT_RATE,
            }),
            level: Level::Public,
            ready: false,
            _permit: Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap(),
        };
        let text = |e: &Event| format!("{e:?}");
        assert!(text(&next_event(&mut feed).await.unwrap()).contains("ready"));

        // A user removed since the change is skipped; a known one is sent at the level.
        feeds.announce(&jid("gone@example.org"), Cause::Node);
        feeds.announce(&jid("alice@example.org"), Cause::Node);
        let event = text(&next_event(&mut feed).await.unwrap());
        assert!(
            event.contains("presence") && event.contains("alice@example.org"),
            "{event}"
        );
        assert!(event.contains("public"), "{event}");

        // Three changes while the client is slow: one event with the latest view, nothing lost,
        // never a `resync`.
        for _ in 0..3 {
            feeds.announce(&jid("alice@example.org"), Cause::Node);
        }
        let event = text(&next_event(&mut feed).await.unwrap());
        assert!(
            event.contains("presence") && event.contains("alice@example.org"),
            "{event}"
        );
        assert!(feed.changes.try_next().is_none());
        drop(feeds);
        while next_event(&mut feed).await.is_some() {}
    }
}
