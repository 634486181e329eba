//! In-process test nodes: the real node library on a temporary data folder, c2s on
//! `127.0.0.1:0`, with three accounts.

use std::path::PathBuf;

use lampfield_domain::access::Level;
use lampfield_node::{Config, RunningNode};
use tempfile::TempDir;

use crate::client::TestClient;
use crate::connector::{KillSwitch, TestConnector, trust_only};

/// The accounts every test node has, with their passwords.
pub const USERS: [(&str, &str); 3] = [
    ("alice@localhost", "alice-secret-1"),
    ("bob@localhost", "bob-secret-2"),
    ("carol@localhost", "carol-secret-3"),
];

/// The password of one of [`USERS`].
pub fn password(bare: &str) -> &'static str {
    USERS
        .iter()
        .find(|(jid, _)| *jid == bare)
        .map(|(_, pw)| *pw)
        .unwrap_or_else(|| panic!("{bare} is not a test account"))
}

/// A running node and the folder it keeps its data in.
pub struct TestNode {
    node: Option<RunningNode>,
    config: Config,
    _dir: TempDir,
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// Start a node with the accounts in [`USERS`].
pub async fn start_node() -> TestNode {
    start_node_with(|_| {}).await
}

/// Start a node with the accounts in [`USERS`] and `adjust`'s changes to the test
/// configuration.
pub async fn start_node_with(adjust: impl FnOnce(&mut Config)) -> TestNode {
    init_tracing();
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut config = Config::builtin().expect("built-in config");
    config.domain = "localhost".to_owned();
    config.data_dir = dir.path().join("data");
    config.c2s.listen = "127.0.0.1:0".parse().expect("address");
    config.http.listen = "127.0.0.1:0".parse().expect("address");
    // The scenarios here are about RFC 6121 subscriptions and strangers between accounts of
    // one domain; the organization directory, which shows every account to every other
    // without them, is off unless a scenario turns it on.
    config.directory.enabled = false;
    adjust(&mut config);
    let node = lampfield_node::start(config.clone())
        .await
        .expect("node starts");
    for (jid, pw) in USERS {
        node.add_user(jid, pw).await.expect("user added");
    }
    TestNode {
        node: Some(node),
        config,
        _dir: dir,
    }
}

impl TestNode {
    /// The node's presence engine, to feed sources the way the integration API does.
    pub fn engine(&self) -> &lampfield_node::engine::Engine {
        self.running().engine()
    }

    fn running(&self) -> &RunningNode {
        self.node.as_ref().expect("node is running")
    }

    /// The running node itself (accounts, rules, federation).
    pub fn node(&self) -> &RunningNode {
        self.running()
    }

    /// The node's self-signed certificate.
    pub fn cert(&self) -> PathBuf {
        self.config.data_dir.join("cert.pem")
    }

    /// A STARTTLS connector to this node with its own kill switch.
    pub fn connector(&self) -> TestConnector {
        TestConnector {
            addr: self.running().c2s_addr(),
            tls: trust_only(&self.cert()).expect("node certificate loads"),
            kill: KillSwitch::default(),
        }
    }

    /// Log in `bare` (one of [`USERS`]) with `resource`; sends no presence.
    pub async fn login(&self, bare: &str, resource: &str) -> TestClient {
        TestClient::login(
            self.connector(),
            &format!("{bare}/{resource}"),
            password(bare),
        )
        .await
        .unwrap_or_else(|e| panic!("login {bare}/{resource}: {e:#}"))
    }

    /// Log in and send initial presence with `priority`, as clients do after the roster get.
    pub async fn online(&self, bare: &str, resource: &str, priority: i8) -> TestClient {
        let client = self.login(bare, resource).await;
        let _ = client.roster().await;
        client.presence(None, None, priority).await;
        client
    }

    /// Alice (`phone`) and bob (`desk`) online and subscribed to each other, once bob sees alice
    /// available from where a colleague at business does (the node's resource, returned too).
    pub async fn alice_and_bob(&self) -> (TestClient, TestClient, jid::FullJid) {
        let mut alice = self.online("alice@localhost", "phone", 0).await;
        let mut bob = self.online("bob@localhost", "desk", 0).await;
        crate::befriend(&mut alice, &mut bob).await;
        let aj = crate::client::person(&alice.bare());
        bob.expect_presence("alice available", |p| {
            p.type_ == tokio_xmpp::parsers::presence::Type::None && crate::client::from_is(p, &aj)
        })
        .await;
        (alice, bob, aj)
    }

    /// From now on `viewer` sees `owner` at team, where each of `owner`'s devices shows (the
    /// default level between colleagues shows only the person).
    pub async fn show_devices(&self, owner: &TestClient, viewer: &TestClient) {
        let (owner, viewer) = (owner.bare(), viewer.bare());
        let engine = self.engine();
        let mut rules = engine.rules(&owner).expect("the owner's rules");
        rules.contacts.insert(viewer, Level::Team);
        engine
            .set_rules(&owner, rules)
            .await
            .expect("a team rule is stored");
    }

    /// Orderly shutdown, then a new node on the same data folder (a new port).
    pub async fn restart(&mut self) {
        let node = self.node.take().expect("node is running");
        node.shutdown().await.expect("clean shutdown");
        let node = lampfield_node::start(self.config.clone())
            .await
            .expect("node restarts");
        self.node = Some(node);
    }

    /// Stop the node in order.
    pub async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.shutdown().await.expect("clean shutdown");
        }
    }
}
