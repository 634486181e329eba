//! A JSON client for a test node's integration API, and tokens made the way `lampfield token add`
//! makes them (through the admin socket). Shared by the API and profile tests.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use lampfield_domain::access::Level;
use lampfield_node::admin::client;
use lampfield_node::admin::protocol::{Request, Response};
use lampfield_node::tokens::TokenScope;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// A token made through the admin socket in data folder `dir`, for every user and action. Its
/// rate is the highest there is: these tests make hundreds of requests in a row, and the rate
/// limit has tests of its own.
pub async fn token(dir: &Path, name: &str, level: Level) -> String {
    token_with(
        dir,
        name,
        level,
        TokenScope::default(),
        Some(lampfield_node::tokens::MAX_RATE),
    )
    .await
}

/// A token made through the admin socket in data folder `dir`, with a scope and a rate (`None`:
/// the default), as `lampfield token add --user/--domain/--can/--rate` makes it.
pub async fn token_with(
    dir: &Path,
    name: &str,
    level: Level,
    scope: TokenScope,
    rate: Option<u32>,
) -> String {
    let socket = dir.join(lampfield_node::admin::SOCKET_FILE);
    let request = Request::AddToken {
        name: name.into(),
        level,
        scope,
        rate,
    };
    match client::send(&socket, &request).await.unwrap() {
        Response::TokenAdded { token, .. } => token,
        other => panic!("{other:?}"),
    }
}

/// Requests to `base` (e.g. `http://127.0.0.1:5280`, or a user's `…/v1/users/{jid}`) with one
/// bearer token.
pub struct Api {
    pub http: Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Self {
        Api {
            http: Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    /// Status and JSON body (a non-JSON body comes back as a string).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// A request that must succeed; returns its body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// PUT that must answer 200; returns its body.
    pub async fn ok_put(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.put(path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {v}");
        v
    }

    /// For a user-scoped `Api`: the user's presence as the token sees it.
    pub async fn presence(&self) -> Value {
        self.ok(Method::GET, "/presence", None).await["view"]["presence"].clone()
    }

    /// For a user-scoped `Api`: polls the presence until `check` holds (at most 10 s).
    pub async fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..200 {
            let p = self.presence().await;
            if check(&p) {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}: {}", self.presence().await);
    }
}

/// Reads server-sent events off a response body.
pub struct Events {
    body: futures::stream::BoxStream<'static, reqwest::Result<axum::body::Bytes>>,
    buffer: String,
}

impl Events {
    pub async fn open(api: &Api) -> (StatusCode, Option<Events>) {
        let resp = api
            .http
            .get(format!("{}/v1/events", api.base))
            .bearer_auth(&api.token)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        if status != StatusCode::OK {
            return (status, None);
        }
        let events = Events {
            body: resp.bytes_stream().boxed(),
            buffer: String::new(),
        };
        (status, Some(events))
    }

    /// The next event (name, data), within 10 s.
    pub async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut name = String::from("message");
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(n) = line.strip_prefix("event:") {
                            name = n.trim().to_owned();
                        } else if let Some(d) = line.strip_prefix("data:") {
                            data.push_str(d.trim());
                        }
                    }
                    if data.is_empty() && name == "message" {
                        continue; // a keep-alive comment
                    }
                    return (name, data);
                }
                let chunk = self.body.next().await.expect("stream open").unwrap();
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 10 s")
    }
}

impl Events {
    /// Whether the server ends the stream within `limit` (events before the end are skipped).
    pub async fn ends_within(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, async {
            while let Some(chunk) = self.body.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        })
        .await
        .is_ok()
    }
}
