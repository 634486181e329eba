//! The engine with a real (temporary) store: inputs, durability, publishing, timers, views.

use std::sync::Mutex;

use super::*;
use crate::store::{Account, Scram};
use lampfield_domain::access::Level;
use lampfield_domain::presence::{
    Activity, Availability, ClientShow, DeviceKind, LineId, LineState, Manual, ManualAvailability,
};

/// Counts what the XMPP publisher's feed hands out, taking each user off the feed as it is
/// counted; a test counts between changes, so no two of them coalesce.
struct Recorder(Mutex<(ChangeFeed, usize)>);

impl Recorder {
    fn published(&self) -> usize {
        let mut guard = self.0.lock().unwrap();
        let (feed, count) = &mut *guard;
        while feed.try_next().is_some() {
            *count += 1;
        }
        *count
    }
}

fn scram() -> Scram {
    Scram {
        salt: vec![1],
        iterations: 4096,
        stored_key: vec![2],
        server_key: vec![3],
    }
}

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

async fn engine_with_alice() -> (Engine, Arc<Recorder>, Store) {
    let store = Store::temporary().unwrap();
    let account = Account {
        scram_sha1: scram(),
        scram_sha256: scram(),
    };
    store
        .create_account(&jid("alice@example.org"), &account)
        .await
        .unwrap();
    let config = EngineConfig {
        idle_threshold: Duration::from_secs(300),
        policy: NodePolicy::default(),
    };
    let engine = Engine::start(store.clone(), config, CancellationToken::new());
    let recorder = Arc::new(Recorder(Mutex::new((
        engine.subscribe(FeedScope::NotByClients),
        0,
    ))));
    (engine, recorder, store)
}

fn desktop() -> ClientPresence {
    ClientPresence {
        device: DeviceKind::Desktop,
        priority: 0,
        show: ClientShow::Available,
        status: None,
        idle_since: None,
    }
}

#[tokio::test]
async fn a_call_reported_by_the_pbx_makes_the_user_busy_and_is_published() {
    let (engine, recorder, _store) = engine_with_alice().await;
    let alice = jid("alice@example.org");
    assert!(engine.client(&alice, "desk", Some(desktop())).unwrap());
    let line = LineId::new("201").unwrap();
    let p = engine
        .update(
            &alice,
            SourceChange::Line(line.clone(), Some(LineState::OnCall(Default::default()))),
        )
        .await
        .unwrap();
    assert_eq!(p.availability, Availability::Busy);
    assert_eq!(p.activity, Some(Activity::OnThePhone));
    assert_eq!(recorder.published(), 1);
    // The same report again changes nothing and publishes nothing.
    engine
        .update(
            &alice,
            SourceChange::Line(line, Some(LineState::OnCall(Default::default()))),
        )
        .await
        .unwrap();
    assert_eq!(recorder.published(), 1);
}

#[tokio::test]
async fn unknown_users_are_refused_and_see_nothing() {
    let (engine, _, _store) = engine_with_alice().await;
    let ghost = jid("ghost@example.org");
    let err = engine.update(&ghost, SourceChange::Idle(None)).await;
    assert!(matches!(err, Err(EngineError::NoSuchUser(_))));
    assert_eq!(
        engine.view(&ghost, &jid("alice@example.org"), &[]),
        View::unavailable()
    );
}

#[tokio::test]
async fn durable_sources_survive_a_restart_and_clients_do_not() {
    let (engine, _, store) = engine_with_alice().await;
    let alice = jid("alice@example.org");
    engine.client(&alice, "desk", Some(desktop())).unwrap();
    let manual = Manual {
        availability: ManualAvailability::DoNotDisturb,
        activity: None,
        note: None,
        until: None,
        since: now(),
    };
    engine
        .update(&alice, SourceChange::Manual(Some(manual.clone())))
        .await
        .unwrap();
    let config = EngineConfig {
        idle_threshold: Duration::from_secs(300),
        policy: NodePolicy::default(),
    };
    let again = Engine::start(store, config, CancellationToken::new());
    let record = again.record(&alice).unwrap();
    assert_eq!(record.sources.manual, Some(manual));
    assert!(record.sources.clients.is_empty());
}

#[tokio::test]
async fn a_lapsing_setting_is_published_by_the_timer() {
    let (engine, recorder, _store) = engine_with_alice().await;
    let alice = jid("alice@example.org");
    engine.client(&alice, "desk", Some(desktop())).unwrap();
    let manual = Manual {
        availability: ManualAvailability::DoNotDisturb,
        activity: None,
        note: None,
        until: Some(now().saturating_add(Duration::from_millis(300))),
        since: now(),
    };
    engine
        .update(&alice, SourceChange::Manual(Some(manual)))
        .await
        .unwrap();
    let published = recorder.published();
    // Bounded wait for the timer task; the assertion is about the fallback, not the timing.
    for _ in 0..100 {
        if recorder.published() > published {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recorder.published(), published + 1);
    let view = engine.view(&alice, &alice, &[]);
    assert_eq!(view.presence().availability, Availability::Available);
}

#[tokio::test]
async fn rules_change_the_view_and_are_published() {
    let (engine, recorder, _store) = engine_with_alice().await;
    let alice = jid("alice@example.org");
    let bob = jid("bob@example.org");
    engine.client(&alice, "desk", Some(desktop())).unwrap();
    assert_eq!(
        engine.snapshot(&alice).unwrap().level_of(&bob, &[]),
        Level::Business
    );
    let before = recorder.published();
    let mut rules = Rules::default();
    rules.contacts.insert(bob.clone(), Level::Blocked);
    engine.set_rules(&alice, rules).await.unwrap();
    assert_eq!(recorder.published(), before + 1);
    assert_eq!(engine.view(&alice, &bob, &[]), View::unavailable());
    assert_eq!(engine.rules(&alice).unwrap().contacts.len(), 1);
}
