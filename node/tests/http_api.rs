//! The integration API against a real node over real HTTP: every route, every error class, the
//! change stream, tokens made and revoked while the node runs, durability across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::path::Path;
use std::time::Duration;

use api_support::{Api, Events, token};
use lampfield_domain::access::Level;
use lampfield_node::admin::client;
use lampfield_node::admin::protocol::{Request, Response};
use lampfield_node::{Config, RunningNode, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";

fn config(dir: &Path) -> Config {
    let mut config = Config::builtin().unwrap();
    config.data_dir = dir.to_owned();
    config.c2s.listen = "127.0.0.1:0".parse().unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config
}

/// A node with alice and bob, and the base URL of its API.
async fn node(config: Config) -> (RunningNode, String) {
    let node = start(config).await.unwrap();
    for jid in [ALICE, BOB] {
        if node.add_user(jid, "pw").await.is_err() {
            // Already there after a restart.
        }
    }
    let base = format!("http://{}", node.http_addr().unwrap());
    (node, base)
}

fn err(v: &Value) -> (&str, &str) {
    (
        v["error"].as_str().unwrap_or(""),
        v["message"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn every_route_and_every_error_class() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path())).await;
    let team = Api::new(&base, &token(dir.path(), "pbx", Level::Team).await);
    let public = Api::new(&base, &token(dir.path(), "lobby", Level::Public).await);
    let admin = Api::new(&base, &token(dir.path(), "admin", Level::Personal).await);
    let u = |rest: &str| format!("/v1/users/{ALICE}{rest}");

    // No token needed for health and the description.
    let anon = Api::new(&base, "");
    let (s, v) = Client::new()
        .get(format!("{base}/v1/health"))
        .send()
        .await
        .map(|r| r.status())
        .map(|s| (s, ()))
        .unwrap();
    assert_eq!(s, StatusCode::OK, "{v:?}");
    let doc: Value = Client::new()
        .get(format!("{base}/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // 401 with WWW-Authenticate: no token, an unknown one, another scheme.
    for auth in [None, Some("Bearer lf_nope"), Some("Basic YTpi")] {
        let mut req = anon.http.get(format!("{base}{}", u("/presence")));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "unauthorized");
    }
    // A bad token is refused before the body is looked at.
    let (s, _) = anon
        .put(&u("/lines/201"), json!({"state": "nonsense"}))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A PBX call on a line: team sees the call, public only the availability.
    let v = team
        .ok_put(&u("/lines/201"), json!({"state": "on_call"}))
        .await;
    assert_eq!(v["jid"], ALICE);
    assert_eq!(v["level"], "team");
    assert_eq!(v["view"]["presence"]["lamp"], "busy");
    assert_eq!(v["view"]["presence"]["activity"], "on_the_phone");
    assert_eq!(v["view"]["presence"]["lines"]["201"]["state"], "on_call");
    let (s, v) = public.get(&u("/presence")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["level"], "public");
    assert_eq!(v["view"]["presence"]["lines"], json!({}));
    assert_eq!(v["view"]["presence"]["activity"], Value::Null);
    let (_, v) = team
        .put(&u("/lines/201"), json!({"state": "ringing"}))
        .await;
    assert_eq!(v["view"]["presence"]["lamp"], "ringing");
    let (s, v) = team.delete(&u("/lines/201")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["view"]["presence"]["lamp"], "no_line");

    // Extensions: map, report by extension, read the mapping, unmap.
    let (s, v) = team.put(&u("/extensions/2001"), json!({})).await;
    assert_eq!((s, &v["user"]), (StatusCode::OK, &json!(ALICE)), "{v}");
    let (s, v) = team.get("/v1/extensions/2001").await;
    assert_eq!((s, &v["user"]), (StatusCode::OK, &json!(ALICE)));
    let v = team
        .ok_put(
            "/v1/extensions/2001",
            json!({"state": "on_call", "held": true}),
        )
        .await;
    assert_eq!(v["view"]["presence"]["lines"]["2001"]["held"], true);
    let (s, v) = team.delete("/v1/extensions/2001").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["view"]["presence"]["lines"], json!({}));
    let (s, v) = team
        .delete(&format!("/v1/users/{BOB}/extensions/2001"))
        .await;
    assert_eq!((s, err(&v).0), (StatusCode::NOT_FOUND, "unknown_extension"));
    let (s, _) = team.delete(&u("/extensions/2001")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = team
        .put("/v1/extensions/2001", json!({"state": "idle"}))
        .await;
    assert_eq!((s, err(&v).0), (StatusCode::NOT_FOUND, "unknown_extension"));

    // Queues, external claims, manual setting, idle, settings.
    let v = team
        .ok_put(&u("/queues/support"), json!({"state": "wrap_up"}))
        .await;
    assert_eq!(v["view"]["presence"]["queues"]["support"], "wrap_up");
    let (_, v) = team.delete(&u("/queues/support")).await;
    assert_eq!(v["view"]["presence"]["queues"], json!({}));
    let v = team
        .ok_put(
            &u("/external/teams"),
            json!({"availability": "busy", "activity": "in_a_meeting", "expires_in_s": 600}),
        )
        .await;
    assert_eq!(v["view"]["presence"]["activity"], "in_a_meeting");
    let (_, v) = team.delete(&u("/external/teams")).await;
    assert_eq!(v["view"]["presence"]["activity"], Value::Null);
    // A call keeps a user without a client live, so the manual setting shows.
    team.ok_put(&u("/lines/201"), json!({"state": "on_call"}))
        .await;
    let v = team
        .ok_put(
            &u("/manual"),
            json!({"availability": "do_not_disturb", "note": "Focus"}),
        )
        .await;
    assert_eq!(
        v["view"]["presence"]["availability"], "do_not_disturb",
        "{v}"
    );
    let (_, v) = team.delete(&u("/manual")).await;
    assert_ne!(v["view"]["presence"]["availability"], "do_not_disturb");
    team.delete(&u("/lines/201")).await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    team.ok_put(&u("/idle"), json!({"since": now_ms - 1000}))
        .await;
    let (s, _) = team.delete(&u("/idle")).await;
    assert_eq!(s, StatusCode::OK);
    team.ok_put(
        &u("/settings"),
        json!({"idle_threshold_s": 120, "utc_offset_minutes": 60}),
    )
    .await;
    let (s, v) = team.get(&u("/settings")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"idle_threshold_s": 120, "utc_offset_minutes": 60})
    );

    // Reads: one user as a viewer would see it, every user a page at a time.
    let (s, v) = team.get(&format!("{}?viewer={BOB}", u("/presence"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["level"], "business",
        "the node's default for local viewers"
    );
    let (_, v) = public
        .get(&format!("{}?viewer={BOB}", u("/presence")))
        .await;
    assert_eq!(v["level"], "public", "capped by the token's level");
    let (_, v) = team.get("/v1/presence?limit=1").await;
    assert_eq!(v["users"].as_array().unwrap().len(), 1);
    assert_eq!(v["next"], ALICE);
    let (_, v) = team
        .get(&format!("/v1/presence?limit=1&after={ALICE}"))
        .await;
    assert_eq!(v["users"][0]["jid"], BOB);
    assert!(v.get("next").is_none());

    // Rules: personal tokens only; a rule changes what ?viewer= gets; explain says why.
    let (s, v) = team.get(&u("/rules")).await;
    assert_eq!((s, err(&v).0), (StatusCode::FORBIDDEN, "forbidden"));
    let rules = json!({"contacts": {BOB: "team"}, "default": "public"});
    let (s, v) = admin.put(&u("/rules"), rules).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = admin.get(&u("/rules")).await;
    assert_eq!(v["contacts"][BOB], "team");
    let (_, v) = team.get(&format!("{}?viewer={BOB}", u("/presence"))).await;
    assert_eq!(v["level"], "team");
    let (s, v) = admin
        .get(&format!("{}?viewer={BOB}", u("/rules/explain")))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["level"], "team");
    assert_eq!(v["basis"]["by"], "contact");
    let (s, v) = admin
        .put(&u("/rules"), json!({"groups": {"": "team"}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = admin
        .put(&u("/rules"), json!({"contacts": {BOB: "admin"}}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Unknown users and malformed JIDs.
    for (path, status, code) in [
        (
            "/v1/users/nobody@localhost/presence",
            StatusCode::NOT_FOUND,
            "unknown_user",
        ),
        (
            "/v1/users/alice@elsewhere.org/presence",
            StatusCode::NOT_FOUND,
            "unknown_user",
        ),
        (
            "/v1/users/localhost/presence",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/v1/nothing", StatusCode::NOT_FOUND, "no_route"),
    ] {
        let (s, v) = team.get(path).await;
        assert_eq!((s, err(&v).0), (status, code), "{path}: {v}");
    }
    let (s, v) = team
        .call(Method::POST, &u("/lines/201"), Some(json!({})))
        .await;
    assert_eq!(
        (s, err(&v).0),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        "{v}"
    );
    let (s, v) = team
        .put(
            "/v1/users/nobody@localhost/lines/1",
            json!({"state": "idle"}),
        )
        .await;
    assert_eq!((s, err(&v).0), (StatusCode::NOT_FOUND, "unknown_user"));
    let (s, v) = team
        .get(&format!("{}?viewer=not a jid", u("/presence")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = team.get("/v1/presence?limit=100000").await;
    assert_eq!((s, err(&v).0), (StatusCode::BAD_REQUEST, "bad_request"));

    // Bad bodies: syntax 400, unknown field / wrong value / out of range 422 naming the field,
    // not JSON 415, too large 413. Nothing of a refused change is applied.
    let raw = |body: &'static str, ctype: Option<&'static str>| {
        let mut req = team
            .http
            .put(format!("{base}{}", u("/lines/201")))
            .bearer_auth(&team.token)
            .body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = raw("{\"state\":", Some("application/json")).await;
    assert_eq!((s, err(&v).0), (StatusCode::BAD_REQUEST, "bad_json"), "{v}");
    let (s, v) = raw("{\"state\":\"idle\"}", None).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    for (path, body, field) in [
        (
            "/lines/201",
            json!({"state": "idle", "colour": 1}),
            "colour",
        ),
        ("/lines/201", json!({"state": "busy"}), "state"),
        ("/lines/201", json!({"state": "idle", "held": true}), "held"),
        ("/queues/q", json!({"state": "sleeping"}), "state"),
        (
            "/external/teams",
            json!({"availability": "busy", "expires_in_s": 999999}),
            "expires_in_s",
        ),
        (
            "/external/teams",
            json!({"availability": "busy"}),
            "expires_in_s",
        ),
        (
            "/manual",
            json!({"availability": "busy", "note": "x".repeat(600)}),
            "note",
        ),
        (
            "/manual",
            json!({"availability": "busy", "until": 5}),
            "until",
        ),
        (
            "/settings",
            json!({"utc_offset_minutes": 5000}),
            "utc_offset_minutes",
        ),
        (
            "/settings",
            json!({"idle_threshold_s": 1}),
            "idle_threshold_s",
        ),
        ("/idle", json!({"since": now_ms + 3_600_000}), "since"),
    ] {
        let (s, v) = team.put(&u(path), body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {v}");
        assert!(err(&v).1.contains(field), "{path} {body}: {v}");
    }
    let big = format!(
        "{{\"state\":\"idle\",\"pad\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let resp = team
        .http
        .put(format!("{base}{}", u("/lines/201")))
        .bearer_auth(&team.token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (_, v) = team.get(&u("/presence")).await;
    assert_eq!(
        v["view"]["presence"]["lines"],
        json!({}),
        "nothing half-applied"
    );
    let (s, v) = team
        .put(
            &u(&("/lines/".to_owned() + &"9".repeat(65))),
            json!({"state": "idle"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Every documented route is served (no 404 no_route, no 405).
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{jid}", ALICE)
            .replace("{ext}", "2001")
            .replace("{line}", "201")
            .replace("{queue}", "support")
            .replace("{source}", "teams")
            .replace("{name}", "Office")
            .replace("{chain}", "busy")
            .replace("{index}", "0");
        for method in ["get", "put", "post", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(method, "put" | "post").then(|| json!({}));
            let (s, v) = if path.ends_with("/events") {
                let resp = admin
                    .http
                    .get(format!("{base}{concrete}"))
                    .bearer_auth(&admin.token)
                    .send()
                    .await
                    .unwrap();
                (resp.status(), Value::Null)
            } else {
                admin.call(m, &concrete, body).await
            };
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(err(&v).0, "no_route", "{method} {path}");
        }
    }
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_event_stream_sends_each_change_at_the_tokens_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.http.max_event_streams = 2;
    let (node, base) = node(cfg).await;
    let team = Api::new(&base, &token(dir.path(), "wallboard", Level::Team).await);
    let public = Api::new(&base, &token(dir.path(), "lobby", Level::Public).await);

    let (_, team_events) = Events::open(&team).await;
    let mut team_events = team_events.unwrap();
    assert_eq!(team_events.next().await.0, "ready");
    let (_, public_events) = Events::open(&public).await;
    let mut public_events = public_events.unwrap();
    assert_eq!(public_events.next().await.0, "ready");
    let (s, none) = Events::open(&team).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "at most two streams");
    assert!(none.is_none());

    team.ok_put(
        &format!("/v1/users/{ALICE}/lines/201"),
        json!({"state": "ringing"}),
    )
    .await;
    let (name, data) = team_events.next().await;
    assert_eq!(name, "presence");
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["jid"], ALICE);
    assert_eq!(v["view"]["presence"]["lamp"], "ringing");
    let (_, data) = public_events.next().await;
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["level"], "public");
    assert_eq!(
        v["view"]["presence"]["lines"],
        json!({}),
        "ringing is team detail"
    );

    // Closing a stream frees its slot.
    drop(public_events);
    let mut reopened = None;
    for _ in 0..50 {
        if let (StatusCode::OK, Some(e)) = Events::open(&public).await {
            reopened = Some(e);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the slot came back");

    // Shutdown ends open streams instead of waiting for them.
    let started = std::time::Instant::now();
    node.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tokens_from_the_cli_and_the_config_work_while_the_node_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    let configured = "lf_configured-token-for-tests";
    cfg.http.tokens = vec![lampfield_node::tokens::HttpToken {
        name: "configured".into(),
        token_sha256: lampfield_node::tokens::hex(&lampfield_node::tokens::hash(configured)),
        level: Level::Business,
        users: Vec::new(),
        domains: Vec::new(),
        can: None,
        rate: None,
    }];
    let (node, base) = node(cfg).await;
    let path = format!("/v1/users/{ALICE}/presence");

    let (s, v) = Api::new(&base, configured).get(&path).await;
    assert_eq!((s, &v["level"]), (StatusCode::OK, &json!("business")));

    let added = token(dir.path(), "pbx", Level::Team).await;
    let api = Api::new(&base, &added);
    let (s, _) = api.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    let socket = dir.path().join(lampfield_node::admin::SOCKET_FILE);
    let listed = client::send(&socket, &Request::ListTokens).await.unwrap();
    assert!(format!("{listed:?}").contains("pbx"));
    assert!(!format!("{listed:?}").contains(&added), "never listed");
    let removed = client::send(&socket, &Request::RemoveToken { name: "pbx".into() })
        .await
        .unwrap();
    assert_eq!(
        removed,
        Response::TokenRemoved {
            name: "pbx".into(),
            existed: true
        }
    );
    let (s, _) = api.get(&path).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revoked at once");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn acknowledged_changes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(config(dir.path())).await;
    let secret = token(dir.path(), "pbx", Level::Team).await;
    let api = Api::new(&base, &secret);
    api.ok_put(
        &format!("/v1/users/{ALICE}/queues/support"),
        json!({"state": "available"}),
    )
    .await;
    api.ok_put(&format!("/v1/users/{ALICE}/extensions/2001"), json!({}))
        .await;
    node.shutdown().await.unwrap();

    let (node, base) = node_again(dir.path()).await;
    let api = Api::new(&base, &secret);
    let (_, v) = api.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(v["view"]["presence"]["queues"]["support"], "available");
    let (_, v) = api.get("/v1/extensions/2001").await;
    assert_eq!(v["user"], ALICE);
    node.shutdown().await.unwrap();
}

async fn node_again(dir: &Path) -> (RunningNode, String) {
    node(config(dir)).await
}

#[tokio::test]
async fn a_disabled_api_binds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.http.enabled = false;
    let node = start(cfg).await.unwrap();
    assert!(node.http_addr().is_none());
    node.shutdown().await.unwrap();
}
