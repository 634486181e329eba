//! Acknowledged writes survive `kill -9`: of a process writing through the gateway's
//! Backend port, and of a real `lampfield run` taking an account over its admin socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use jid::BareJid;
use lampfield_node::adapters::xmpp::StoreBackend;
use lampfield_node::admin::Service;
use lampfield_node::store::Store;
use lampfield_xmpp::{Backend, Contact, Subscription};

mod raw_xmpp;

const BIN: &str = env!("CARGO_BIN_EXE_lampfield");
const CHILD_ENV: &str = "LAMPFIELD_CRASH_CHILD_DIR";
const WAIT: Duration = Duration::from_secs(30);

fn bob() -> Contact {
    Contact {
        jid: BareJid::new("bob@localhost").unwrap(),
        name: Some("Bob".into()),
        groups: vec!["Team".into()],
        subscription: Subscription {
            to: true,
            from: true,
            ..Subscription::default()
        },
        in_roster: true,
    }
}

/// Run in a child process: add an account and a contact, say so, then wait to be killed.
#[tokio::test]
#[ignore = "runs only as the child of backend_writes_survive_kill_9"]
async fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(&Path::new(&dir).join(lampfield_node::DB_DIR))
        .await
        .unwrap();
    let service = Service::new("localhost".into(), store.clone());
    service
        .add_user("alice@localhost", "pw".into())
        .await
        .unwrap();
    let alice = BareJid::new("alice@localhost").unwrap();
    StoreBackend::new(store)
        .put_contact(&alice, bob())
        .await
        .unwrap();
    println!("ACKNOWLEDGED");
    tokio::time::sleep(Duration::from_secs(600)).await;
}

/// Lines of a child's stream, read on a thread so that waits can time out.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?}: {e}"),
        }
    }
}

/// The node's store, opened from a plain test thread.
fn open_store(dir: &Path) -> Store {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(Store::open(&dir.join(lampfield_node::DB_DIR)))
        .unwrap()
}

fn kill_9(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Start `lampfield run`; returns it, its log lines and its c2s port.
fn start_node(config: &Path) -> (Child, mpsc::Receiver<String>, u16) {
    let mut child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines(child.stderr.take().unwrap());
    let listening = wait_for(&stderr, "c2s listening on ");
    let port = listening
        .split("c2s listening on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {listening:?}"));
    wait_for(&stderr, "admin socket ready");
    (child, stderr, port)
}

fn cli(config: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn backend_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    wait_for(&stdout, "ACKNOWLEDGED");
    kill_9(child);

    let config = dir.path().join("node.toml");
    let toml = format!(
        "data_dir = {:?}\n[http]\nlisten = \"127.0.0.1:0\"\n[c2s]\nlisten = \"127.0.0.1:0\"\n",
        dir.path().display().to_string()
    );
    std::fs::write(&config, toml).unwrap();

    // A real node: an account added over the admin socket while it runs, then kill -9.
    let (node, _log, _) = start_node(&config);
    assert_eq!(
        cli(
            &config,
            &["user", "add", "carol@localhost", "--password", "pw"]
        ),
        "added carol@localhost\n"
    );
    kill_9(node);

    // Restarted, it has every account, and the contact written through the Backend.
    let (node, log, _) = start_node(&config);
    assert_eq!(
        cli(&config, &["user", "list"]),
        "alice@localhost\ncarol@localhost\n"
    );
    let status = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(&log, "stopped");
    let mut node = node;
    assert!(node.wait().unwrap().success());

    let store = open_store(dir.path());
    let alice = BareJid::new("alice@localhost").unwrap();
    let stored = store.contact(&alice, &bob().jid).unwrap().unwrap();
    assert_eq!(stored.name.as_deref(), Some("Bob"));
    assert!(stored.subscription.to && stored.subscription.from && stored.in_roster);
    assert!(
        store
            .account_exists(&BareJid::new("carol@localhost").unwrap())
            .unwrap()
    );
}

fn stop(node: Child, log: &mpsc::Receiver<String>) {
    let status = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(log, "stopped");
    let mut node = node;
    assert!(node.wait().unwrap().success());
}

/// A roster item a client set on a real `lampfield run` (written through the Backend
/// before the node answered) is there after `kill -9` and a restart.
#[test]
fn acknowledged_roster_set_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    let toml = format!(
        "data_dir = {:?}\n[http]\nlisten = \"127.0.0.1:0\"\n[c2s]\nlisten = \"127.0.0.1:0\"\nrequire_tls = false\n",
        dir.path().display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    cli(
        &config,
        &["user", "add", "alice@localhost", "--password", "pencil"],
    );

    let (node, _log, port) = start_node(&config);
    let mut alice = raw_xmpp::Client::login(port, "localhost", "alice", "pencil");
    alice.send(
        "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>\
         <item jid='bob@localhost' name='Bob'><group>Team</group></item></query></iq>",
    );
    let answer = alice.wait_for("id='r1'");
    assert!(!answer.contains("type='error'"), "{answer}");
    kill_9(node);
    drop(alice);

    let (node, log, port) = start_node(&config);
    let mut alice = raw_xmpp::Client::login(port, "localhost", "alice", "pencil");
    alice.send("<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>");
    let roster = alice.wait_for("</iq>");
    assert!(
        roster.contains("bob@localhost") && roster.contains("Team"),
        "{roster}"
    );
    drop(alice);
    stop(node, &log);

    let store = open_store(dir.path());
    let alice = BareJid::new("alice@localhost").unwrap();
    let bob = store.contact(&alice, &bob().jid).unwrap().unwrap();
    assert_eq!(bob.name.as_deref(), Some("Bob"));
    assert!(bob.in_roster);
}
