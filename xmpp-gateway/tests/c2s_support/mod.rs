//! A c2s server on 127.0.0.1 with an in-memory backend, and a raw XML client.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jid::BareJid;
use lampfield_xmpp::router::RemoteSender;
use lampfield_xmpp::{
    Backend, BackendError, C2sConfig, Contact, Ports, Router, ScramCredentials, ScramHash,
    derive_credentials, serve_c2s,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[path = "../authority_support/mod.rs"]
mod authority_support;
use authority_support::Relay;

pub const DOMAIN: &str = "example.com";
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Accounts with SCRAM credentials, and rosters in memory.
#[derive(Default)]
pub struct Accounts {
    creds: HashMap<(BareJid, &'static str), ScramCredentials>,
    rosters: Mutex<HashMap<BareJid, Vec<Contact>>>,
}

impl Accounts {
    pub fn with(users: &[(&str, &str)]) -> Arc<Self> {
        Self::with_iterations(users, 4096)
    }

    pub fn with_iterations(users: &[(&str, &str)], iterations: u32) -> Arc<Self> {
        let mut a = Self::default();
        for (user, password) in users {
            let jid = BareJid::new(&format!("{user}@{DOMAIN}")).unwrap();
            for (hash, tag) in [(ScramHash::Sha1, "sha1"), (ScramHash::Sha256, "sha256")] {
                let creds = derive_credentials(password, hash, b"0123456789abcdef", iterations);
                a.creds.insert((jid.clone(), tag), creds);
            }
        }
        Arc::new(a)
    }
}

impl Accounts {
    /// Run `f` on `user`'s roster.
    fn with_roster<T>(&self, user: &BareJid, f: impl FnOnce(&mut Vec<Contact>) -> T) -> T {
        f(self
            .rosters
            .lock()
            .unwrap()
            .entry(user.clone())
            .or_default())
    }
}

impl Backend for Accounts {
    async fn account_exists(&self, user: &BareJid) -> Result<bool, BackendError> {
        Ok(self.creds.contains_key(&(user.clone(), "sha256")))
    }
    async fn credentials(
        &self,
        user: &BareJid,
        hash: ScramHash,
    ) -> Result<Option<ScramCredentials>, BackendError> {
        let tag = match hash {
            ScramHash::Sha1 => "sha1",
            ScramHash::Sha256 => "sha256",
        };
        Ok(self.creds.get(&(user.clone(), tag)).cloned())
    }
    async fn contacts(&self, user: &BareJid) -> Result<Vec<Contact>, BackendError> {
        Ok(self.with_roster(user, |r| r.clone()))
    }
    async fn contact(
        &self,
        user: &BareJid,
        jid: &BareJid,
    ) -> Result<Option<Contact>, BackendError> {
        Ok(self.with_roster(user, |r| r.iter().find(|c| c.jid == *jid).cloned()))
    }
    async fn put_contact(&self, user: &BareJid, contact: Contact) -> Result<(), BackendError> {
        self.with_roster(user, |r| {
            r.retain(|c| c.jid != contact.jid);
            r.push(contact);
        });
        Ok(())
    }
    async fn remove_contact(&self, user: &BareJid, jid: &BareJid) -> Result<(), BackendError> {
        self.with_roster(user, |r| r.retain(|c| c.jid != *jid));
        Ok(())
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<std::io::Result<()>>,
    /// The self-signed certificate (DER) when TLS is on.
    pub cert: Option<rustls_pki_types::CertificateDer<'static>>,
}

/// Start a server; `tls` creates a self-signed certificate for [`DOMAIN`].
pub async fn start(tls: bool, adjust: impl FnOnce(&mut C2sConfig)) -> Server {
    let backend = Accounts::with(&[("user", "pencil"), ("alice", "wonderland")]);
    start_with(tls, backend, adjust).await
}

/// [`start`] with the given accounts.
pub async fn start_with(
    tls: bool,
    backend: Arc<Accounts>,
    adjust: impl FnOnce(&mut C2sConfig),
) -> Server {
    let mut config = C2sConfig::new(DOMAIN);
    config.require_tls = tls;
    adjust(&mut config);
    let (tls_config, cert) = if tls {
        let ck = rcgen::generate_simple_self_signed(vec![DOMAIN.to_owned()]).unwrap();
        let cfg = lampfield_xmpp::tls::server_config_from_pem(
            ck.cert.pem().as_bytes(),
            ck.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        (Some(cfg), Some(ck.cert.der().clone()))
    } else {
        (None, None)
    };
    let ports = Ports {
        backend: Arc::clone(&backend),
        authority: Relay::new(),
        commands: None,
        remote: RemoteSender::none(),
    };
    let router = Router::new(DOMAIN, ports);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_c2s(
        listener,
        config,
        tls_config,
        router,
        backend,
        shutdown.clone(),
    ));
    Server {
        addr,
        shutdown,
        task,
        cert,
    }
}

/// A rustls client configuration that trusts exactly `cert`.
pub fn client_tls(cert: &rustls_pki_types::CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A client speaking raw XML.
pub struct Raw {
    pub io: Box<dyn Io>,
    /// Everything received and not consumed by `expect`.
    pub seen: String,
}

pub fn header() -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='{DOMAIN}' version='1.0'>"
    )
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Self {
            io: Box::new(tcp),
            seen: String::new(),
        }
    }

    pub async fn send(&mut self, xml: &str) {
        self.io.write_all(xml.as_bytes()).await.unwrap();
        self.io.flush().await.unwrap();
    }

    /// Read until `needle` has arrived; returns everything up to and including it.
    pub async fn expect(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.seen.find(needle) {
                let rest = self.seen.split_off(i + needle.len());
                return std::mem::replace(&mut self.seen, rest);
            }
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.io.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {needle:?}; got {:?}", self.seen))
                .unwrap_or(0);
            if n == 0 {
                panic!(
                    "connection closed waiting for {needle:?}; got {:?}",
                    self.seen
                );
            }
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }

    /// Read until the server closes the connection; returns everything received.
    pub async fn until_closed(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let mut buf = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.io.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return std::mem::take(&mut self.seen),
                Ok(Ok(n)) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => panic!("server did not close; got {:?}", self.seen),
            }
        }
    }

    /// Open a stream and read its features.
    pub async fn open(&mut self) -> String {
        self.send(&header()).await;
        self.expect("</stream:features>").await
    }

    /// STARTTLS with a client that trusts `cert`.
    pub async fn starttls(self, cert: &rustls_pki_types::CertificateDer<'static>) -> Self {
        let mut me = self;
        me.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await;
        me.expect("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await;
        assert!(me.seen.is_empty());
        let connector = tokio_rustls::TlsConnector::from(client_tls(cert));
        let name = rustls_pki_types::ServerName::try_from(DOMAIN).unwrap();
        // Box<dyn Io> is not a TcpStream any more; wrap it as it is.
        let tls = connector.connect(name, me.io).await.unwrap();
        Self {
            io: Box::new(tls),
            seen: String::new(),
        }
    }

    /// A full SCRAM-SHA-256 (or -1) exchange with the `sasl` crate's client; returns
    /// the server's last element (success or failure).
    pub async fn scram(&mut self, sha256: bool, user: &str, password: &str) -> String {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD as B64;
        use sasl::client::Mechanism;
        let mut mech: Box<dyn Mechanism> = if sha256 {
            Box::new(
                sasl::client::mechanisms::Scram::<sasl::common::scram::Sha256>::new(
                    user,
                    password.to_owned(),
                    sasl::common::ChannelBinding::None,
                )
                .unwrap(),
            )
        } else {
            Box::new(
                sasl::client::mechanisms::Scram::<sasl::common::scram::Sha1>::new(
                    user,
                    password.to_owned(),
                    sasl::common::ChannelBinding::None,
                )
                .unwrap(),
            )
        };
        let initial = B64.encode(mech.initial());
        let name = if sha256 {
            "SCRAM-SHA-256"
        } else {
            "SCRAM-SHA-1"
        };
        self.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{name}'>{initial}</auth>"
        ))
        .await;
        let challenge = self.expect("</challenge>").await;
        let data = between(&challenge, "'>", "</challenge>");
        let response = mech.response(&B64.decode(data).unwrap()).unwrap();
        self.send(&format!(
            "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
            B64.encode(response)
        ))
        .await;
        let out = self.expect("</").await;
        let out = out + &self.expect(">").await;
        if out.contains("<success") {
            let data = between(&out, "'>", "</success>");
            mech.success(&B64.decode(data).unwrap())
                .expect("server signature verifies");
        }
        out
    }

    /// Connect (over STARTTLS when given the server's certificate), log in with
    /// SCRAM-SHA-256 and bind `resource`: a session ready for stanzas.
    pub async fn login(
        addr: SocketAddr,
        tls: Option<&rustls_pki_types::CertificateDer<'static>>,
        user: &str,
        password: &str,
        resource: &str,
    ) -> Self {
        let mut c = Self::connect(addr).await;
        c.open().await;
        if let Some(cert) = tls {
            c = c.starttls(cert).await;
            c.open().await;
        }
        let outcome = c.scram(true, user, password).await;
        assert!(outcome.contains("<success"), "{outcome}");
        c.bind(Some(resource)).await;
        c
    }

    /// Restart after SASL success, bind, and return the bound JID.
    pub async fn bind(&mut self, resource: Option<&str>) -> String {
        let features = self.open().await;
        assert!(
            features.contains("urn:ietf:params:xml:ns:xmpp-bind"),
            "{features}"
        );
        let res = resource
            .map(|r| format!("<resource>{r}</resource>"))
            .unwrap_or_default();
        self.send(&format!(
            "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>{res}</bind></iq>"
        ))
        .await;
        let reply = self.expect("</iq>").await;
        between(&reply, "<jid>", "</jid>").to_owned()
    }
}

/// The text between the last `start` before `end` and `end`.
pub fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let e = s.find(end).unwrap_or_else(|| panic!("{end} not in {s}"));
    let b = s[..e]
        .rfind(start)
        .unwrap_or_else(|| panic!("{start} not in {s}"))
        + start.len();
    &s[b..e]
}

/// The stream error condition element in `s`.
pub fn stream_error(s: &str) -> &str {
    let i = s
        .find("<stream:error><")
        .unwrap_or_else(|| panic!("no stream error in {s:?}"))
        + "<stream:error><".len();
    let rest = &s[i..];
    &rest[..rest.find(' ').unwrap()]
}
