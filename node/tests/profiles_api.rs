//! Presence profiles and the calendar against a real node over real HTTP: a manual switch changes
//! what viewers see, a webhook receives the profile's actions in order, an "@Profile" appointment
//! activates its profile while it runs and the previous one returns after it, an external meeting
//! reverts to the profile from before, private subjects never leave the node, and everything
//! survives a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_support::{Api, token};
use axum::routing::post;
use lampfield_domain::access::Level;
use lampfield_domain::presence::{ClientPresence, ClientShow, DeviceKind};
use lampfield_node::config::ConnectorKind;
use lampfield_node::{Config, RunningNode, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ALICE: &str = "alice@localhost";

fn config(dir: &Path, webhook: Option<String>) -> Config {
    let mut config = Config::builtin().unwrap();
    config.data_dir = dir.to_owned();
    config.c2s.listen = "127.0.0.1:0".parse().unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    if let Some(url) = webhook {
        config.connector.kind = ConnectorKind::Webhook;
        config.connector.url = Some(url);
        config.connector.initial_backoff_ms = 50;
    }
    config
}

/// A node with alice online on one desktop client (offline users show no profile: docs/PRESENCE.md
/// rule 4).
async fn node(config: Config) -> (RunningNode, String) {
    let node = start(config).await.unwrap();
    let _ = node.add_user(ALICE, "pw").await;
    let alice = jid::BareJid::new(ALICE).unwrap();
    let desk = ClientPresence {
        device: DeviceKind::Desktop,
        priority: 0,
        show: ClientShow::Available,
        status: None,
        idle_since: None,
    };
    node.engine().client(&alice, "desk", Some(desk)).unwrap();
    let base = format!("http://{}", node.http_addr().unwrap());
    (node, base)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn profile_is(name: &'static str) -> impl Fn(&Value) -> bool {
    move |p| p["profile"] == name
}

/// A webhook receiver on 127.0.0.1:0 that records every JSON body.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let store = Arc::clone(&store);
            async move {
                store.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

async fn actions_seen(seen: &Mutex<Vec<Value>>, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        if seen.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    seen.lock()
        .unwrap()
        .iter()
        .map(|v| v["action"].clone())
        .collect()
}

fn meeting_spec() -> Value {
    json!({
        "availability": "do_not_disturb",
        "note": "Back at three",
        "forwarding": {"to": "voicemail"},
        "on_enter": [
            {"action": {"kind": "follow_me", "family": "mobile", "enabled": false}, "enabled": true},
            {"action": {"kind": "gsm_mode", "enabled": true}, "enabled": false},
            {"action": {"kind": "workplace", "workplace": "desk-7"}, "enabled": true}
        ],
        "on_leave": [
            {"action": {"kind": "follow_me", "family": "mobile", "enabled": true}, "enabled": true}
        ]
    })
}

#[tokio::test]
async fn a_manual_switch_changes_the_presence_and_the_webhook_sees_the_actions_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (url, seen) = webhook().await;
    let (node, base) = node(config(dir.path(), Some(url))).await;
    let api = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "desk", Level::Personal).await,
    );

    let (status, _) = api
        .call(Method::PUT, "/profiles/Meeting", Some(meeting_spec()))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let list = api.ok(Method::GET, "/profiles", None).await;
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Available", "Do not disturb", "Meeting"]);

    api.ok(Method::PUT, "/profile", Some(json!({"profile": "Meeting"})))
        .await;
    let p = api.wait_for("Meeting", profile_is("Meeting")).await;
    assert_eq!(p["availability"], "do_not_disturb");
    assert!(
        p["status_line"].as_str().unwrap().contains("Meeting"),
        "{p}"
    );
    let v = api.ok(Method::GET, "/presence", None).await;
    assert_eq!(v["view"]["forwarding"]["target"], "voicemail", "{v}");

    // The enabled on-enter actions, in order (the disabled one stays out), then the forwarding.
    let actions = actions_seen(&seen, 3).await;
    assert_eq!(
        actions,
        [
            json!({"kind": "follow_me", "family": "mobile", "enabled": false}),
            json!({"kind": "workplace", "workplace": "desk-7"}),
            json!({"kind": "set_forwarding", "target": "voicemail"}),
        ]
    );

    // An active profile cannot be edited or deleted; system profiles never.
    let (status, v) = api
        .call(Method::PUT, "/profiles/Meeting", Some(json!({"note": "x"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _) = api.call(Method::DELETE, "/profiles/Meeting", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = api
        .call(Method::DELETE, "/profiles/Do not disturb", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, v) = api
        .call(
            Method::PUT,
            "/profiles/Meeting",
            Some(json!({"colour": "pink"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Leaving: the on-leave chain, then the new profile's forwarding.
    api.ok(
        Method::PUT,
        "/profile",
        Some(json!({"profile": "Available"})),
    )
    .await;
    api.wait_for("Available", profile_is("Available")).await;
    let actions = actions_seen(&seen, 5).await;
    assert_eq!(
        &actions[3..],
        [
            json!({"kind": "follow_me", "family": "mobile", "enabled": true}),
            json!({"kind": "clear_forwarding"}),
        ]
    );
    let all = seen.lock().unwrap().clone();
    assert!(all.iter().all(|a| a["user"] == ALICE));
    let seqs: Vec<u64> = all.iter().map(|a| a["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // No profile at all.
    api.ok(Method::DELETE, "/profile", None).await;
    api.wait_for("no profile", |p| p["profile"].is_null()).await;
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_calendar_profile_runs_with_the_appointment_and_the_previous_profile_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path(), None)).await;
    let api = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "desk", Level::Personal).await,
    );
    let mut settings = api.ok(Method::GET, "/profile/settings", None).await;
    settings["event_mode"] = json!("full_profile");
    settings["meeting"] = json!("Meeting");
    api.ok(Method::PUT, "/profile/settings", Some(settings))
        .await;
    api.ok(Method::PUT, "/profiles/Meeting", Some(meeting_spec()))
        .await;
    api.ok(
        Method::PUT,
        "/profiles/Lunch",
        Some(json!({"availability": "away"})),
    )
    .await;
    api.ok(Method::PUT, "/profile", Some(json!({"profile": "Lunch"})))
        .await;
    api.wait_for("Lunch", profile_is("Lunch")).await;

    // An external meeting: Meeting while it runs, Lunch again after it.
    api.ok(
        Method::POST,
        "/profile/signals",
        Some(json!({"signal": "meeting_started"})),
    )
    .await;
    api.wait_for("the meeting", profile_is("Meeting")).await;
    api.ok(
        Method::POST,
        "/profile/signals",
        Some(json!({"signal": "meeting_ended"})),
    )
    .await;
    api.wait_for("Lunch again", profile_is("Lunch")).await;

    // An appointment naming "@Do not disturb", starting in a moment and lasting two seconds,
    // with a private one whose subject must never show.
    let start = now_ms() + 1500;
    api.ok(
        Method::PUT,
        "/calendar",
        Some(json!({"appointments": [
            {"start": start, "end": start + 2000, "category": "@Do not disturb", "subject": "Focus"},
            {"start": start - 60_000, "end": start + 600_000, "private": true,
             "subject": "Dentist appointment", "show_as": "out_of_office"}
        ]})),
    )
    .await;
    let p = api
        .wait_for("the appointment's profile", profile_is("Do not disturb"))
        .await;
    assert_eq!(p["availability"], "do_not_disturb");
    api.wait_for("Lunch after the appointment", profile_is("Lunch"))
        .await;

    let everything = api.ok(Method::GET, "/presence", None).await.to_string();
    let calendar = api.ok(Method::GET, "/calendar", None).await;
    assert!(!everything.contains("Dentist"), "{everything}");
    assert!(!calendar.to_string().contains("Dentist"), "{calendar}");
    assert_eq!(calendar["appointments"].as_array().unwrap().len(), 1);

    // Nothing shared: no appointment leaves the node.
    let v = api
        .ok(
            Method::PUT,
            "/calendar/sharing",
            Some(json!({"sharing": "nothing"})),
        )
        .await;
    assert_eq!(v["appointments"], json!([]));

    // Everything is stored: after a restart Lunch is still active.
    node.shutdown().await.unwrap();
    let token = api.token.clone();
    let (node, base) = self::node(config(dir.path(), None)).await;
    let api = Api::new(&format!("{base}/v1/users/{ALICE}"), &token);
    assert_eq!(
        api.ok(Method::GET, "/profile", None).await["active"]["profile"],
        "Lunch"
    );
    api.wait_for("Lunch after the restart", profile_is("Lunch"))
        .await;
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_ics_import_through_the_api_is_stored_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path(), None)).await;
    let api = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "desk", Level::Team).await,
    );
    let low = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "lobby", Level::Business).await,
    );
    let (status, _) = low.call(Method::GET, "/profiles", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n\
UID:1\r\nDTSTART:20990101T090000Z\r\nDTEND:20990101T100000Z\r\nSUMMARY:Far\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART:20200101T090000Z\r\nDTEND:20200101T100000Z\r\n\
RRULE:FREQ=DAILY\r\nSUMMARY:Standup\r\nCATEGORIES:@Do not disturb\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
    let resp = api
        .http
        .post(format!("{base}/v1/users/{ALICE}/calendar/ics"))
        .bearer_auth(&api.token)
        .header("content-type", "text/calendar")
        .body(ics)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let summary: Value = resp.json().await.unwrap();
    assert!(summary["imported"].as_u64().unwrap() >= 29, "{summary}");
    let calendar = api.ok(Method::GET, "/calendar", None).await;
    assert_eq!(calendar["appointments"][0]["subject"], "Standup");

    let resp = api
        .http
        .post(format!("{base}/v1/users/{ALICE}/calendar/ics"))
        .bearer_auth(&api.token)
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    node.shutdown().await.unwrap();
}

/// `HH:MM:SS` in UTC, `secs` from now (the user's zone is UTC by default).
fn utc_time_in(secs: u64) -> String {
    let t = (now_ms() / 1000 + secs) % 86_400;
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

#[tokio::test]
async fn a_sticky_profile_survives_a_time_trigger_and_queue_actions_reach_the_presence() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path(), None)).await;
    let api = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "desk", Level::Personal).await,
    );
    api.ok(
        Method::PUT,
        "/queues/support",
        Some(json!({"state": "available"})),
    )
    .await;
    api.ok(
        Method::PUT,
        "/profiles/Lunch",
        Some(json!({"availability": "away",
                    "queue": [{"op": "pause", "scope": {"one": "support"}}]})),
    )
    .await;
    api.ok(
        Method::PUT,
        "/profiles/Sick",
        Some(json!({"availability": "away", "sticky": true})),
    )
    .await;

    // A time trigger two seconds ahead switches to Lunch and pauses the support queue.
    let mut settings = api.ok(Method::GET, "/profile/settings", None).await;
    settings["time"] =
        json!([{"at": utc_time_in(2), "days": 127, "profile": "Lunch", "enabled": true}]);
    api.ok(Method::PUT, "/profile/settings", Some(settings.clone()))
        .await;
    let p = api
        .wait_for("Lunch by the clock", profile_is("Lunch"))
        .await;
    let p = if p["queues"]["support"] == "unavailable" {
        p
    } else {
        api.wait_for("the paused queue", |p| {
            p["queues"]["support"] == "unavailable"
        })
        .await
    };
    assert_eq!(p["profile"], "Lunch");

    // Sticky Sick holds against the next time trigger; a manual switch still replaces it.
    api.ok(Method::PUT, "/profile", Some(json!({"profile": "Sick"})))
        .await;
    api.wait_for("Sick", profile_is("Sick")).await;
    settings["time"] =
        json!([{"at": utc_time_in(2), "days": 127, "profile": "Lunch", "enabled": true}]);
    api.ok(Method::PUT, "/profile/settings", Some(settings))
        .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(api.presence().await["profile"], "Sick");
    api.ok(Method::PUT, "/profile", Some(json!({"profile": "Lunch"})))
        .await;
    api.wait_for("Lunch by hand", profile_is("Lunch")).await;
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_time_trigger_that_fired_while_the_node_was_down_applies_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path(), None)).await;
    let token = token(dir.path(), "desk", Level::Personal).await;
    let api = Api::new(&format!("{base}/v1/users/{ALICE}"), &token);
    api.ok(
        Method::PUT,
        "/profiles/Lunch",
        Some(json!({"availability": "away"})),
    )
    .await;
    let mut settings = api.ok(Method::GET, "/profile/settings", None).await;
    settings["time"] =
        json!([{"at": utc_time_in(3), "days": 127, "profile": "Lunch", "enabled": true}]);
    api.ok(Method::PUT, "/profile/settings", Some(settings))
        .await;
    assert_eq!(api.presence().await["profile"], Value::Null);
    node.shutdown().await.unwrap();

    tokio::time::sleep(Duration::from_millis(4500)).await;
    let (node, base) = self::node(config(dir.path(), None)).await;
    let api = Api::new(&format!("{base}/v1/users/{ALICE}"), &token);
    api.wait_for("Lunch, missed while down", profile_is("Lunch"))
        .await;
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn client_start_exit_and_the_screen_lock_switch_profiles_through_the_presence_feed() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path(), None)).await;
    let api = Api::new(
        &format!("{base}/v1/users/{ALICE}"),
        &token(dir.path(), "desk", Level::Personal).await,
    );
    for name in ["Office", "Home", "Locked"] {
        api.ok(
            Method::PUT,
            &format!("/profiles/{name}"),
            Some(json!({"availability": "away"})),
        )
        .await;
    }
    let mut settings = api.ok(Method::GET, "/profile/settings", None).await;
    settings["on_client_start"] = json!("Office");
    settings["on_client_exit"] = json!("Home");
    settings["inactivity"] =
        json!({"after_minutes": null, "on_screen_lock": true, "profile": "Locked"});
    api.ok(Method::PUT, "/profile/settings", Some(settings))
        .await;

    let active =
        || async { api.ok(Method::GET, "/profile", None).await["active"]["profile"].clone() };
    let until = |want: &'static str| async move {
        for _ in 0..200 {
            if active().await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{want} never became active: {}", active().await);
    };
    let alice = jid::BareJid::new(ALICE).unwrap();
    let client = |device| ClientPresence {
        device,
        priority: 0,
        show: ClientShow::Available,
        status: None,
        idle_since: None,
    };
    // A second session is no client start; the last one going is the client exit.
    node.engine()
        .client(&alice, "phone", Some(client(DeviceKind::Mobile)))
        .unwrap();
    node.engine().client(&alice, "desk", None).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(active().await, Value::Null);
    node.engine().client(&alice, "phone", None).unwrap();
    until("Home").await;
    node.engine()
        .client(&alice, "desk", Some(client(DeviceKind::Desktop)))
        .unwrap();
    until("Office").await;

    api.ok(
        Method::POST,
        "/profile/signals",
        Some(json!({"signal": "screen_locked"})),
    )
    .await;
    until("Locked").await;
    api.ok(
        Method::POST,
        "/profile/signals",
        Some(json!({"signal": "input_resumed"})),
    )
    .await;
    until("Office").await;
    node.shutdown().await.unwrap();
}
