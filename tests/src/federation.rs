//! Several organizations in one process: each a real node with its own domain
//! (`org<i>.test`), its own sled in a temporary folder and its own keys, federated over
//! loopback TCP, with real XMPP clients. Links can be cut and healed (both sides block
//! each other's peer), nodes stopped, crashed and restarted on the same port and data. Started
//! with [`Orgs::start_with_links`], every organization is reached through a [`Link`] that can
//! delay what it carries or drop it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use lampfield_node::config::Organization;
use lampfield_node::federation::identity::Identity;
use lampfield_node::{Config, RunningNode};
use tempfile::TempDir;

use crate::client::TestClient;
use crate::connector::{KillSwitch, TestConnector, trust_only};
use crate::link::Link;

/// Accounts every organization has (local parts); the password is `secret-<name>`.
pub const NAMES: [&str; 3] = ["alice", "bob", "carol"];

/// One organization's node.
pub struct OrgNode {
    /// Its domain.
    pub domain: String,
    /// Its organization public key (base64).
    pub public_key: String,
    /// Its libp2p peer id.
    pub peer_id: lampfield_federation::PeerId,
    node: Option<RunningNode>,
    config: Config,
    /// Federation address with `/p2p/...`, known once it listened.
    address: Option<String>,
    /// The fault-injecting link others reach it through, with links on.
    link: Option<Link>,
    _dir: TempDir,
}

/// N organizations federated with each other.
pub struct Orgs {
    /// The organizations, by index.
    pub orgs: Vec<OrgNode>,
    /// Organizations outside the harness every node trusts too (e.g. a bad actor's).
    extra: Vec<Organization>,
    /// Reach every organization through a [`Link`].
    links: bool,
}

fn domain(i: usize) -> String {
    format!("org{i}.test")
}

impl Orgs {
    /// Start `n` organizations that all trust each other, each with the accounts in
    /// [`NAMES`]; returns once every pair is linked.
    pub async fn start(n: usize) -> Orgs {
        Self::start_with(n, &NAMES, Vec::new()).await
    }

    /// Start `n` organizations with accounts `names` each, trusting each other and `extra`.
    pub async fn start_with(n: usize, names: &[&str], extra: Vec<Organization>) -> Orgs {
        Self::start_all(n, names, extra, false).await
    }

    /// [`Orgs::start`], with every organization reached through a [`Link`] ([`Orgs::link`]).
    pub async fn start_with_links(n: usize) -> Orgs {
        Self::start_all(n, &NAMES, Vec::new(), true).await
    }

    async fn start_all(n: usize, names: &[&str], extra: Vec<Organization>, links: bool) -> Orgs {
        init_tracing();
        let mut orgs = Vec::with_capacity(n);
        for i in 0..n {
            let dir = tempfile::tempdir().expect("temporary folder");
            let mut config = Config::builtin().expect("built-in config");
            config.domain = domain(i);
            config.data_dir = dir.path().join("data");
            config.c2s.listen = "127.0.0.1:0".parse().expect("address");
            config.http.enabled = false;
            // The scenarios subscribe users of one organization to each other as strangers
            // would; the directory would make every colleague a contact (as tests/src/node.rs).
            config.directory.enabled = false;
            config.federation.enabled = true;
            config.federation.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
            config.federation.redial_interval_ms = 300;
            lampfield_node::create_data_dir(&config.data_dir).expect("data folder");
            let id = Identity::load_or_create(&config).expect("keys");
            orgs.push(OrgNode {
                domain: domain(i),
                public_key: id.public_key_base64(),
                peer_id: id.peer_id(),
                node: None,
                config,
                address: None,
                link: None,
                _dir: dir,
            });
        }
        let mut all = Orgs { orgs, extra, links };
        for i in 0..n {
            all.launch(i).await;
            let node = all.node(i);
            for name in names {
                node.add_user(&format!("{name}@{}", domain(i)), &password(name))
                    .await
                    .expect("user added");
            }
        }
        all.wait_linked(Duration::from_secs(30)).await;
        all
    }

    /// Start organization `i` with the others' keys and known addresses.
    async fn launch(&mut self, i: usize) {
        let organizations = self
            .orgs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, o)| Organization {
                domain: o.domain.clone(),
                public_key: o.public_key.clone(),
                addresses: o.address.iter().cloned().collect(),
            })
            .chain(self.extra.iter().cloned())
            .collect();
        let org = &mut self.orgs[i];
        org.config.federation.organizations = organizations;
        let mut node = None;
        // After a crash the database lock may take a moment to be released.
        for _ in 0..50 {
            match lampfield_node::start(org.config.clone()).await {
                Ok(n) => {
                    node = Some(n);
                    break;
                }
                Err(lampfield_node::StartError::Store { .. }) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{} starts: {e}", org.domain),
            }
        }
        let node = node.unwrap_or_else(|| panic!("{} starts within 5 s", org.domain));
        let fed = node.federation().expect("federation enabled");
        let addr = fed.listen_addrs().await.expect("listen addresses");
        let addr = addr.first().expect("one listen address").clone();
        // Keep the port across restarts, so the others' redials find it.
        org.config.federation.listen = vec![addr.to_string()];
        org.address = Some(format!("{addr}/p2p/{}", org.peer_id));
        if self.links && org.link.is_none() {
            let text = addr.to_string();
            let port: u16 = text
                .rsplit_once("/tcp/")
                .and_then(|(_, p)| p.split('/').next())
                .and_then(|p| p.parse().ok())
                .expect("a TCP port");
            let link = Link::start(std::net::SocketAddr::from(([127, 0, 0, 1], port))).await;
            org.link = Some(link);
        }
        if let Some(link) = &org.link {
            org.address = Some(format!(
                "/ip4/127.0.0.1/tcp/{}/p2p/{}",
                link.addr().port(),
                org.peer_id
            ));
        }
        org.node = Some(node);
    }

    /// The federation address of organization `i` (with `/p2p/...`).
    pub fn address(&self, i: usize) -> lampfield_federation::Multiaddr {
        let addr = self.orgs[i].address.as_ref().expect("listened");
        addr.parse().expect("multiaddr")
    }

    /// The running node of organization `i`.
    pub fn node(&self, i: usize) -> &RunningNode {
        self.orgs[i].node.as_ref().expect("node is running")
    }

    /// The domain of organization `i`.
    pub fn domain(&self, i: usize) -> &str {
        &self.orgs[i].domain
    }

    /// The bare JID `name@org<i>.test`.
    pub fn jid(&self, i: usize, name: &str) -> jid::BareJid {
        jid::BareJid::new(&format!("{name}@{}", self.domain(i))).expect("valid JID")
    }

    fn connector(&self, i: usize) -> TestConnector {
        let org = &self.orgs[i];
        TestConnector {
            addr: self.node(i).c2s_addr(),
            tls: trust_only(&org.config.data_dir.join("cert.pem")).expect("certificate loads"),
            kill: KillSwitch::default(),
        }
    }

    /// Log in `name` (one of [`NAMES`]) at organization `i`; sends no presence.
    pub async fn login(&self, i: usize, name: &str, resource: &str) -> TestClient {
        let jid = format!("{name}@{}/{resource}", self.domain(i));
        TestClient::login(self.connector(i), &jid, &password(name))
            .await
            .unwrap_or_else(|e| panic!("login {jid}: {e:#}"))
    }

    /// Log in and send initial presence, as clients do after the roster get.
    pub async fn online(&self, i: usize, name: &str, resource: &str) -> TestClient {
        let client = self.login(i, name, resource).await;
        let _ = client.roster().await;
        client.presence(None, None, 0).await;
        client
    }

    /// Wait until every running organization is linked to every other running one.
    pub async fn wait_linked(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut missing = Vec::new();
            for (i, org) in self.orgs.iter().enumerate() {
                let Some(node) = &org.node else { continue };
                let fed = node.federation().expect("federation enabled");
                let linked = fed.connected_domains().await.unwrap_or_default();
                for (j, other) in self.orgs.iter().enumerate() {
                    if i != j && other.node.is_some() && !linked.contains(&other.domain) {
                        missing.push((i, j));
                    }
                }
            }
            if missing.is_empty() {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("organizations not linked within {within:?}: {missing:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until organizations `i` and `j` are linked (both directions proven).
    pub async fn wait_pair(&self, i: usize, j: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let a = self
                .node(i)
                .federation()
                .expect("fed")
                .connected_domains()
                .await
                .unwrap_or_default();
            let b = self
                .node(j)
                .federation()
                .expect("fed")
                .connected_domains()
                .await
                .unwrap_or_default();
            if a.iter().any(|d| d == self.domain(j)) && b.iter().any(|d| d == self.domain(i)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "org{i} and org{j} not linked within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Cut every link between the organizations in `a` and those in `b`.
    pub async fn partition(&self, a: &[usize], b: &[usize]) {
        for &i in a {
            for &j in b {
                let (fi, fj) = (self.fed(i), self.fed(j));
                fi.block_peer(self.orgs[j].peer_id).await.expect("block");
                fj.block_peer(self.orgs[i].peer_id).await.expect("block");
            }
        }
    }

    /// Restore the links cut by [`Orgs::partition`] and wait until they are up.
    pub async fn heal(&self, a: &[usize], b: &[usize]) {
        for &i in a {
            for &j in b {
                self.fed(i)
                    .unblock_peer(self.orgs[j].peer_id)
                    .await
                    .expect("unblock");
                self.fed(j)
                    .unblock_peer(self.orgs[i].peer_id)
                    .await
                    .expect("unblock");
                if let Some(addr) = &self.orgs[j].address {
                    let _ = self.fed(i).dial(addr.parse().expect("multiaddr")).await;
                }
            }
        }
        for &i in a {
            for &j in b {
                self.wait_pair(i, j, Duration::from_secs(20)).await;
            }
        }
    }

    /// The link organization `i` is reached through (with [`Orgs::start_with_links`]).
    pub fn link(&self, i: usize) -> &Link {
        self.orgs[i].link.as_ref().expect("started with links")
    }

    /// The federation service of organization `i`.
    pub fn fed(&self, i: usize) -> &lampfield_federation::FederationHandle {
        self.node(i).federation().expect("federation enabled")
    }

    /// Orderly stop of organization `i` (its clients see the stream close).
    pub async fn stop(&mut self, i: usize) {
        if let Some(node) = self.orgs[i].node.take() {
            node.shutdown().await.expect("clean shutdown");
        }
    }

    /// Crash organization `i`: its tasks are cancelled without any goodbye being waited for.
    pub fn crash(&mut self, i: usize) {
        drop(self.orgs[i].node.take());
    }

    /// Start organization `i` again on the same data folder, keys and port; returns once
    /// it is linked to every other running organization.
    pub async fn restart(&mut self, i: usize) {
        self.launch(i).await;
        self.wait_linked(Duration::from_secs(30)).await;
    }

    /// Stop every node in order.
    pub async fn shutdown(mut self) {
        for i in 0..self.orgs.len() {
            self.stop(i).await;
        }
    }
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

/// The password of test account `name`.
pub fn password(name: &str) -> String {
    format!("secret-{name}")
}
