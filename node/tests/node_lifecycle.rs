//! A whole node in-process: start on port 0, accounts, a second node on the same data
//! folder refused, shutdown, restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lampfield_node::admin::client;
use lampfield_node::admin::protocol::{Request, Response};
use lampfield_node::{Config, StartError, start};

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::builtin().unwrap();
    config.data_dir = dir.to_owned();
    config.c2s.listen = "127.0.0.1:0".parse().unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config
}

#[tokio::test]
async fn start_add_users_refuse_a_second_node_shutdown_restart() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(dir.path())).await.unwrap();
    assert_ne!(node.c2s_addr().port(), 0, "the bound port is reported");
    assert_eq!(node.domain(), "localhost");
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(node.c2s_addr()),
    )
    .await
    .unwrap()
    .unwrap();

    assert_eq!(
        node.add_user("alice@localhost", "pw")
            .await
            .unwrap()
            .as_str(),
        "alice@localhost"
    );
    assert!(node.add_user("alice@localhost", "pw").await.is_err());
    assert!(node.add_user("bob@example.org", "pw").await.is_err());
    // The CLI's path: the admin socket of the running node.
    let socket = dir.path().join(lampfield_node::admin::SOCKET_FILE);
    let added = client::send(
        &socket,
        &Request::AddUser {
            jid: "bob@localhost".into(),
            password: "pw".into(),
            details: Default::default(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        added,
        Response::Added {
            jid: "bob@localhost".into()
        }
    );

    let second = start(config(dir.path())).await.unwrap_err();
    assert!(matches!(second, StartError::Store { .. }), "{second}");
    assert!(
        second.to_string().contains("in use by another process"),
        "{second}"
    );

    assert!(dir.path().join("cert.pem").exists());
    node.shutdown().await.unwrap();
    assert!(!socket.exists(), "the admin socket goes with the node");

    let node = start(config(dir.path())).await.unwrap();
    let users: Vec<String> = node
        .users()
        .unwrap()
        .iter()
        .map(|u| u.to_string())
        .collect();
    assert_eq!(users, ["alice@localhost", "bob@localhost"]);
    assert!(node.remove_user("bob@localhost").await.unwrap());
    node.shutdown().await.unwrap();
}

mod raw_xmpp;

/// A node without TLS on `dir`, with alice logged in and available.
async fn node_with_alice_online(
    dir: &std::path::Path,
) -> (lampfield_node::RunningNode, raw_xmpp::Client) {
    let mut config = config(dir);
    config.c2s.require_tls = false;
    let node = start(config).await.unwrap();
    node.add_user("alice@localhost", "pencil").await.unwrap();
    let port = node.c2s_addr().port();
    let alice = tokio::task::spawn_blocking(move || {
        let mut alice = raw_xmpp::Client::login(port, "localhost", "alice", "pencil");
        alice.send("<presence/>");
        alice
    })
    .await
    .unwrap();
    (node, alice)
}

/// Shutdown closes open sessions with `system-shutdown` and a closing stream tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (node, mut alice) = node_with_alice_online(dir.path()).await;

    tokio::time::timeout(Duration::from_secs(15), node.shutdown())
        .await
        .expect("shutdown within the grace period")
        .unwrap();
    let rest = tokio::task::spawn_blocking(move || alice.wait_for("</stream:stream>"))
        .await
        .unwrap();
    assert!(rest.contains("system-shutdown"), "{rest}");
}

/// Removing an account while it is logged in ends its sessions at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_user_ends_their_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (node, mut alice) = node_with_alice_online(dir.path()).await;

    assert!(node.remove_user("alice@localhost").await.unwrap());
    let rest = tokio::task::spawn_blocking(move || alice.wait_for("</stream:stream>"))
        .await
        .unwrap();
    assert!(rest.contains("not-authorized"), "{rest}");
    node.shutdown().await.unwrap();
}
