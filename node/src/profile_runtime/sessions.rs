//! Client start, client exit and inactivity from the presence engine's change feed: the number
//! of connected sessions and the idle time of the user's record, compared with what the profile
//! state last saw.

use tokio_util::sync::CancellationToken;

use super::ProfileRuntime;
use crate::engine::ChangeFeed;
use lampfield_domain::presence::Timestamp;
use lampfield_domain::profiles::{Event, ProfileState};
use lampfield_domain::record::UserRecord;

/// Follow the feed until `cancel` or until the engine is gone.
pub(super) async fn follow(
    profile_runtime: ProfileRuntime,
    mut feed: ChangeFeed,
    cancel: CancellationToken,
) {
    while let Some(user) = feed.next_until(&cancel).await {
        profile_runtime.observe(&user).await;
    }
}

/// When the user counts as idle: an idle report, or every connected client idle (since the most
/// recent of them went idle).
fn idle_since(record: &UserRecord) -> Option<Timestamp> {
    if let Some(t) = record.sources.idle {
        return Some(t);
    }
    if record.sources.clients.is_empty() {
        return None;
    }
    record
        .sources
        .clients
        .values()
        .map(|c| c.idle_since)
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// The events that bring `state` in line with `record` (pure).
pub(super) fn events(state: &ProfileState, record: &UserRecord, now: Timestamp) -> Vec<Event> {
    let mut out = Vec::new();
    let sessions = u32::try_from(record.sources.clients.len()).unwrap_or(u32::MAX);
    let up = sessions.saturating_sub(state.sessions);
    let down = state.sessions.saturating_sub(sessions);
    out.extend((0..up.min(64)).map(|_| Event::SessionUp));
    out.extend((0..down.min(64)).map(|_| Event::SessionDown));
    match (idle_since(record).map(|t| t.min(now)), state.idle_since) {
        (Some(t), old) if old != Some(t) => out.push(Event::Idle { since: t }),
        (None, Some(_)) => out.push(Event::InputResumed),
        _ => {}
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use lampfield_domain::presence::{ClientPresence, ClientShow, DeviceKind};

    fn client(idle: Option<Timestamp>) -> ClientPresence {
        ClientPresence {
            device: DeviceKind::Desktop,
            priority: 0,
            show: ClientShow::Available,
            status: None,
            idle_since: idle,
        }
    }

    #[test]
    fn sessions_and_idle_become_events() {
        let t = Timestamp::from_unix_ms;
        let mut state = ProfileState::new(t(0));
        let mut record = UserRecord::default();
        assert!(events(&state, &record, t(10)).is_empty());
        record.set_client("desk", Some(client(None)));
        assert_eq!(events(&state, &record, t(10)), vec![Event::SessionUp]);
        state.sessions = 1;
        record.set_client("desk", Some(client(Some(t(5)))));
        assert_eq!(
            events(&state, &record, t(10)),
            vec![Event::Idle { since: t(5) }]
        );
        state.idle_since = Some(t(5));
        assert!(events(&state, &record, t(10)).is_empty());
        record.set_client("desk", None);
        assert_eq!(
            events(&state, &record, t(10)),
            vec![Event::SessionDown, Event::InputResumed]
        );
    }
}
