//! Two (or more) in-process gateways federating over loopback, a scratch CA, and a raw
//! TCP peer for hostile-server tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use lampfield_xmpp::router::RemoteSender;
use lampfield_xmpp::{Router, S2s, S2sConfig};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::features_support::{FakeBackend, ports};

/// A certificate authority for one test.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A certificate for `domain` (DNS name in subjectAltName only) and its key.
    pub fn issue(&self, domain: &str) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let mut params = CertificateParams::new(vec![domain.to_owned()]).unwrap();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
    }
}

/// A self-signed certificate for `domain`, as a node generates on first start.
pub fn self_signed(domain: &str) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec![domain.to_owned()]).unwrap();
    (
        vec![ck.cert.der().clone()],
        PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()),
    )
}

/// One gateway: router, backend, s2s listener.
pub struct Gateway {
    pub domain: String,
    pub router: Router<FakeBackend>,
    pub backend: Arc<FakeBackend>,
    pub addr: SocketAddr,
    pub secret: Vec<u8>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// How to build a gateway.
pub struct Options {
    pub domain: &'static str,
    pub accounts: Vec<String>,
    /// Our certificate comes from this CA, which we also trust; `None`: self-signed,
    /// trusting nobody (dialback only).
    pub ca: Option<Arc<Ca>>,
    pub routes: HashMap<String, Vec<String>>,
    pub require_tls: bool,
    pub idle_timeout: Duration,
    pub negotiation_timeout: Duration,
}

impl Options {
    pub fn new(domain: &'static str, accounts: &[&str]) -> Self {
        Self {
            domain,
            accounts: accounts.iter().map(|a| format!("{a}@{domain}")).collect(),
            ca: None,
            routes: HashMap::new(),
            require_tls: true,
            idle_timeout: Duration::from_secs(600),
            negotiation_timeout: Duration::from_secs(5),
        }
    }

    pub fn route(mut self, domain: &str, addr: SocketAddr) -> Self {
        self.routes
            .insert(domain.to_owned(), vec![addr.to_string()]);
        self
    }
}

impl Gateway {
    /// Start a gateway on `listener` (bound beforehand, so routes can name it).
    pub fn start(opts: Options, listener: TcpListener) -> Self {
        let names: Vec<&str> = opts.accounts.iter().map(String::as_str).collect();
        let backend = FakeBackend::with_accounts(&names);
        let (outbound, queue) = mpsc::channel(lampfield_xmpp::s2s::QUEUE_LEN);
        let router = Router::new(opts.domain, ports(&backend, RemoteSender::new(outbound)));
        let (chain, key) = match &opts.ca {
            Some(ca) => ca.issue(opts.domain),
            None => self_signed(opts.domain),
        };
        let mut cfg = S2sConfig::new(opts.domain, chain, key);
        if let Some(ca) = &opts.ca {
            cfg.ca = vec![ca.der()];
        }
        cfg.routes = opts.routes;
        cfg.require_tls = opts.require_tls;
        cfg.idle_timeout = opts.idle_timeout;
        cfg.negotiation_timeout = opts.negotiation_timeout;
        let secret = cfg.dialback_secret.clone();
        let shutdown = CancellationToken::new();
        let addr = listener.local_addr().unwrap();
        let s2s = S2s::new(cfg, router.clone(), queue, shutdown.clone()).unwrap();
        let task = tokio::spawn(s2s.serve(Some(listener)));
        Self {
            domain: opts.domain.to_owned(),
            router,
            backend,
            addr,
            secret,
            shutdown,
            task,
        }
    }

    /// Stop and wait (bounded) for every stream to close.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("s2s did not stop")
            .unwrap();
    }
}

pub async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// Two gateways that route to each other.
pub async fn pair(a: Options, b: Options) -> (Gateway, Gateway) {
    let (la, lb) = (listener().await, listener().await);
    let (aa, ba) = (la.local_addr().unwrap(), lb.local_addr().unwrap());
    let (a_domain, b_domain) = (a.domain, b.domain);
    let a = Gateway::start(a.route(b_domain, ba), la);
    let b = Gateway::start(b.route(a_domain, aa), lb);
    (a, b)
}

/// XEP-0185 key, computed here independently of the gateway.
pub fn dialback_key(secret: &[u8], receiving: &str, originating: &str, id: &str) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let hashed = hex(&Sha256::digest(secret));
    let mut mac = Hmac::<Sha256>::new_from_slice(hashed.as_bytes()).unwrap();
    mac.update(format!("{receiving} {originating} {id}").as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// A plain TCP peer that speaks raw XML and records what it hears.
pub struct RawPeer {
    tcp: TcpStream,
    pub heard: String,
}

impl RawPeer {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self {
            tcp: TcpStream::connect(addr).await.unwrap(),
            heard: String::new(),
        }
    }

    pub async fn send(&mut self, xml: &str) {
        self.tcp.write_all(xml.as_bytes()).await.unwrap();
    }

    /// Read until `needle` has been heard (or the connection ends, or 5 s pass).
    pub async fn until(&mut self, needle: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 4096];
        while !self.heard.contains(needle) {
            let read = tokio::time::timeout_at(deadline, self.tcp.read(&mut buf)).await;
            match read {
                Ok(Ok(n)) if n > 0 => self.heard.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => return false,
            }
        }
        true
    }

    /// The `id` of the stream header we were sent.
    pub fn stream_id(&self) -> String {
        let start = self.heard.find("<stream:stream").unwrap();
        let header = &self.heard[start..];
        let at = header.find(" id='").unwrap() + 5;
        header[at..at + header[at..].find('\'').unwrap()].to_owned()
    }
}

/// An s2s stream header from `from` to `to`, declaring dialback.
pub fn header(from: &str, to: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:server' \
         xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' \
         from='{from}' to='{to}' version='1.0'>"
    )
}
