//! Token scopes, rate limits and revocation against a real node over real HTTP (docs/API.md,
//! "Tokens and scopes"): a token acts only for its users and only with its actions, answers about
//! users outside its scope never tell whether they exist, every token has a request budget, and
//! removing a token ends its open change streams at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::path::Path;
use std::time::Duration;

use api_support::{Api, Events, token, token_with};
use lampfield_domain::access::Level;
use lampfield_node::admin::client;
use lampfield_node::admin::protocol::{Request, Response};
use lampfield_node::tokens::{Action, TokenScope};
use lampfield_node::{Config, RunningNode, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";
const NOBODY: &str = "nobody@localhost";

/// A node with alice and bob, and the base URL of its API.
async fn node(dir: &Path) -> (RunningNode, String) {
    let mut config = Config::builtin().unwrap();
    config.data_dir = dir.to_owned();
    config.c2s.listen = "127.0.0.1:0".parse().unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    let node = start(config).await.unwrap();
    for jid in [ALICE, BOB] {
        node.add_user(jid, "pw").await.unwrap();
    }
    let base = format!("http://{}", node.http_addr().unwrap());
    (node, base)
}

fn scope(users: &[&str], actions: Option<&[Action]>) -> TokenScope {
    let users: Vec<String> = users.iter().map(|u| (*u).to_owned()).collect();
    TokenScope::new(&users, &[], actions, "localhost").unwrap()
}

/// A body with the addressed JID blanked, to compare answers about different users.
fn without(jid: &str, v: &Value) -> String {
    v.to_string().replace(jid, "JID")
}

#[tokio::test]
async fn a_token_scoped_to_one_user_cannot_touch_another_users_sources() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    let admin = Api::new(&base, &token(dir.path(), "admin", Level::Personal).await);
    let alices = token_with(
        dir.path(),
        "alices-pbx",
        Level::Team,
        scope(&[ALICE], Some(&[Action::Source])),
        None,
    )
    .await;
    let pbx = Api::new(&base, &alices);

    // Its own user: writes go through. It may not read, so the answer shows nothing.
    let (s, v) = pbx
        .put(
            &format!("/v1/users/{ALICE}/lines/201"),
            json!({"state": "on_call"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["level"], "blocked", "{v}");
    let (_, v) = admin.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(v["view"]["presence"]["lines"]["201"]["state"], "on_call");

    // Another user: 403 naming that user, and nothing changes, "appear offline" included.
    let before = admin.get(&format!("/v1/users/{BOB}/presence")).await.1;
    let (s, v) = pbx
        .put(
            &format!("/v1/users/{BOB}/lines/201"),
            json!({"state": "on_call"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(
        (&v["error"], &v["scope"]),
        (&json!("out_of_scope"), &json!(BOB))
    );
    let (s, v) = pbx
        .put(
            &format!("/v1/users/{BOB}/manual"),
            json!({"availability": "appear_offline"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = pbx.delete(&format!("/v1/users/{BOB}/manual")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = pbx
        .put(
            &format!("/v1/users/{BOB}/settings"),
            json!({"idle_threshold_s": 60}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        admin.get(&format!("/v1/users/{BOB}/presence")).await.1,
        before,
        "bob unchanged"
    );

    // An account that does not exist gets the very same answer as bob, and so does a user of
    // another domain: the token learns nothing of who exists.
    let (s_bob, bob) = pbx
        .put(
            &format!("/v1/users/{BOB}/queues/q"),
            json!({"state": "available"}),
        )
        .await;
    let (s_none, none) = pbx
        .put(
            &format!("/v1/users/{NOBODY}/queues/q"),
            json!({"state": "available"}),
        )
        .await;
    assert_eq!(
        (s_bob, without(BOB, &bob)),
        (s_none, without(NOBODY, &none))
    );
    let (s, v) = pbx
        .put(
            "/v1/users/x@elsewhere.org/queues/q",
            json!({"state": "available"}),
        )
        .await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::FORBIDDEN, &json!("out_of_scope"))
    );
    // An unscoped token still tells a missing account apart, as before.
    let (s, v) = admin
        .put(
            &format!("/v1/users/{NOBODY}/queues/q"),
            json!({"state": "available"}),
        )
        .await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_user"))
    );

    // Extensions: bob's looks unmapped to this token, and it may not take it over.
    admin
        .ok_put(&format!("/v1/users/{BOB}/extensions/2001"), json!({}))
        .await;
    let (s, mapped) = pbx.get("/v1/extensions/2001").await;
    let (s2, unmapped) = pbx.get("/v1/extensions/2999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        (s, without("2001", &mapped)),
        (s2, without("2999", &unmapped))
    );
    let (s, _) = pbx
        .put("/v1/extensions/2001", json!({"state": "ringing"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = pbx
        .put(&format!("/v1/users/{ALICE}/extensions/2001"), json!({}))
        .await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::FORBIDDEN, &json!("out_of_scope"))
    );
    let (_, v) = admin.get("/v1/extensions/2001").await;
    assert_eq!(v["user"], BOB, "still bob's");
    // Its own user's extensions work as before.
    pbx.ok_put(&format!("/v1/users/{ALICE}/extensions/2002"), json!({}))
        .await;
    pbx.ok_put("/v1/extensions/2002", json!({"state": "ringing"}))
        .await;

    // Without `read` it reads nothing, not even its own user.
    let (s, v) = pbx.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        (&v["error"], &v["scope"]),
        (&json!("missing_scope"), &json!("read"))
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_read_only_token_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    let secret = token_with(
        dir.path(),
        "wallboard",
        Level::Personal,
        scope(&[], Some(&[Action::Read])),
        None,
    )
    .await;
    let wallboard = Api::new(&base, &secret);
    let (s, v) = wallboard.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!((s, &v["level"]), (StatusCode::OK, &json!("personal")));
    let (s, v) = wallboard.get("/v1/presence").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["users"].as_array().unwrap().len(), 2);

    let writes = [
        (
            format!("/v1/users/{ALICE}/lines/201"),
            json!({"state": "ringing"}),
            "sources",
        ),
        (
            format!("/v1/users/{ALICE}/manual"),
            json!({"availability": "appear_offline"}),
            "sources",
        ),
        (
            format!("/v1/users/{ALICE}/extensions/2001"),
            json!({}),
            "sources",
        ),
        (format!("/v1/users/{ALICE}/rules"), json!({}), "rules"),
        (
            format!("/v1/users/{ALICE}/profile"),
            json!({"profile": "Meeting"}),
            "profiles",
        ),
    ];
    for (path, body, needed) in writes {
        let (s, v) = wallboard.put(&path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {v}");
        assert_eq!(v["error"], "missing_scope", "{path}");
        assert_eq!(v["scope"], needed, "{path}");
        assert!(v["message"].as_str().unwrap().contains(needed), "{v}");
    }
    let (_, v) = wallboard.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(
        v["view"]["presence"]["lines"],
        json!({}),
        "nothing was written"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_token_without_scopes_keeps_working_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    // Made exactly as before scopes: no scope, no rate.
    let secret = token_with(
        dir.path(),
        "old",
        Level::Personal,
        TokenScope::default(),
        None,
    )
    .await;
    let api = Api::new(&base, &secret);
    for user in [ALICE, BOB] {
        api.ok_put(
            &format!("/v1/users/{user}/lines/201"),
            json!({"state": "ringing"}),
        )
        .await;
        api.ok_put(
            &format!("/v1/users/{user}/manual"),
            json!({"availability": "appear_offline"}),
        )
        .await;
        api.ok_put(&format!("/v1/users/{user}/rules"), json!({}))
            .await;
        let (s, _) = api.get(&format!("/v1/users/{user}/profiles")).await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, v) = api.get("/v1/presence").await;
    assert_eq!(
        (s, v["users"].as_array().unwrap().len()),
        (StatusCode::OK, 2)
    );
    let (s, v) = api.get(&format!("/v1/users/{NOBODY}/presence")).await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_user"))
    );
    let (s, events) = Events::open(&api).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(events.unwrap().next().await.0, "ready");
    let socket = dir.path().join(lampfield_node::admin::SOCKET_FILE);
    let Response::Tokens { tokens } = client::send(&socket, &Request::ListTokens).await.unwrap()
    else {
        panic!("no token list");
    };
    assert_eq!(tokens[0].scope, TokenScope::default());
    assert_eq!(tokens[0].rate, lampfield_node::tokens::DEFAULT_RATE);
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_rate_limit_answers_429_after_the_burst() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    let busy = Api::new(
        &base,
        &token_with(
            dir.path(),
            "busy",
            Level::Team,
            TokenScope::default(),
            Some(20),
        )
        .await,
    );
    let other = Api::new(&base, &token(dir.path(), "other", Level::Team).await);
    let path = format!("/v1/users/{ALICE}/presence");

    // A hundred at once: the burst of forty goes through (and whatever the rate of twenty a
    // second refills meanwhile), the rest get 429 with a Retry-After and a JSON body.
    let sent = (0..100).map(|_| async {
        busy.http
            .get(format!("{base}{path}"))
            .bearer_auth(&busy.token)
            .send()
            .await
            .unwrap()
    });
    let answers = futures::future::join_all(sent).await;
    let ok = answers
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    let limited: Vec<_> = answers
        .into_iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(ok + limited.len(), 100);
    assert!((40..100).contains(&ok), "{ok} admitted");
    let first = limited.into_iter().next().expect("a 429 after the burst");
    let retry: u64 = first.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert!(body["message"].as_str().unwrap().contains("20"), "{body}");

    // Each token has its own budget.
    let (s, _) = other.get(&path).await;
    assert_eq!(s, StatusCode::OK);

    // A token given a rate of one a second gets a burst of two.
    let slow = Api::new(
        &base,
        &token_with(
            dir.path(),
            "slow",
            Level::Team,
            TokenScope::default(),
            Some(1),
        )
        .await,
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(slow.get(&path).await.0);
    }
    assert_eq!(&statuses[..2], [StatusCode::OK, StatusCode::OK]);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn removing_a_token_ends_its_open_change_stream_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    let doomed = Api::new(&base, &token(dir.path(), "doomed", Level::Team).await);
    let kept = Api::new(&base, &token(dir.path(), "kept", Level::Team).await);
    let (_, events) = Events::open(&doomed).await;
    let mut doomed_events = events.unwrap();
    assert_eq!(doomed_events.next().await.0, "ready");
    let (_, events) = Events::open(&kept).await;
    let mut kept_events = events.unwrap();
    assert_eq!(kept_events.next().await.0, "ready");

    let socket = dir.path().join(lampfield_node::admin::SOCKET_FILE);
    let removed = client::send(
        &socket,
        &Request::RemoveToken {
            name: "doomed".into(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        removed,
        Response::TokenRemoved { existed: true, .. }
    ));
    assert!(
        doomed_events.ends_within(Duration::from_secs(1)).await,
        "the removed token's stream ends within a second"
    );
    let (s, none) = Events::open(&doomed).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(none.is_none());

    // Another token's stream goes on.
    kept.ok_put(
        &format!("/v1/users/{ALICE}/lines/201"),
        json!({"state": "ringing"}),
    )
    .await;
    let (name, data) = kept_events.next().await;
    assert_eq!(name, "presence");
    assert!(data.contains(ALICE), "{data}");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_scoped_stream_and_listing_carry_only_the_tokens_users() {
    let dir = tempfile::tempdir().unwrap();
    let (node, base) = node(dir.path()).await;
    let admin = Api::new(&base, &token(dir.path(), "admin", Level::Team).await);
    let alices = Api::new(
        &base,
        &token_with(
            dir.path(),
            "alices",
            Level::Team,
            scope(&[ALICE], Some(&[Action::Read])),
            None,
        )
        .await,
    );
    let (_, v) = alices.get("/v1/presence").await;
    let listed: Vec<&str> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["jid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ALICE]);

    let (_, events) = Events::open(&alices).await;
    let mut events = events.unwrap();
    assert_eq!(events.next().await.0, "ready");
    // Bob changes first, then alice: the stream's first event is alice's.
    admin
        .ok_put(
            &format!("/v1/users/{BOB}/lines/201"),
            json!({"state": "ringing"}),
        )
        .await;
    admin
        .ok_put(
            &format!("/v1/users/{ALICE}/lines/201"),
            json!({"state": "ringing"}),
        )
        .await;
    let (name, data) = events.next().await;
    assert_eq!(name, "presence");
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["jid"], ALICE, "bob's change is not this token's");
    node.shutdown().await.unwrap();
}
