#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Drives xmpp-bench's login rounds and held sessions against a small scripted XMPP server on
//! 127.0.0.1 (STARTTLS, SCRAM-SHA-1, bind, ping), which writes every reply in small pieces so that
//! the client's element splitting across partial reads is exercised too.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lampfield_bench::bytes;
use lampfield_bench::conn::Conn;
use lampfield_bench::hold::{Command, Shared};
use lampfield_bench::login::Target;
use lampfield_bench::rounds::{self, RoundConfig, Sink};
use lampfield_bench::scram::{Client, Mechanism};
use lampfield_bench::tls;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const PASSWORD: &str = "pw";
const SALT: &[u8] = b"0123456789abcdef";
const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>";

/// Writes `data` in 7-byte pieces, each flushed on its own.
async fn dribble<S: AsyncRead + AsyncWrite + Unpin>(c: &mut Conn<S>, data: &str) {
    for chunk in data.as_bytes().chunks(7) {
        c.send(chunk).await.unwrap();
    }
}

/// Reads the client's stream header: `next` reports a stream header as an error, after which the
/// splitter is inside the stream.
async fn read_header<S: AsyncRead + AsyncWrite + Unpin>(c: &mut Conn<S>) {
    assert!(c.next().await.is_err(), "expected a stream header");
}

async fn serve(tcp: TcpStream, acceptor: tokio_rustls::TlsAcceptor) {
    let mut c = Conn::new(tcp);
    read_header(&mut c).await;
    dribble(&mut c, &format!("{HEADER}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>")).await;
    let el = c.next().await.unwrap();
    assert!(bytes::is(el, "starttls"));
    dribble(&mut c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").await;
    let tls = acceptor.accept(c.into_inner()).await.unwrap();
    let mut c = Conn::new(tls);
    read_header(&mut c).await;
    let features = format!(
        "{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>"
    );
    dribble(&mut c, &features).await;
    let auth = c.next().await.unwrap().to_vec();
    let first = String::from_utf8(B64.decode(bytes::inner(&auth)).unwrap()).unwrap();
    let bare = first.strip_prefix("n,,").unwrap();
    let user = bare
        .split(',')
        .next()
        .unwrap()
        .strip_prefix("n=")
        .unwrap()
        .to_owned();
    let cnonce = bare
        .split(',')
        .nth(1)
        .unwrap()
        .strip_prefix("r=")
        .unwrap()
        .to_owned();
    let server_first = format!("r={cnonce}srv,s={},i=4096", B64.encode(SALT));
    let challenge = format!(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
        B64.encode(&server_first)
    );
    dribble(&mut c, &challenge).await;
    let resp = c.next().await.unwrap().to_vec();
    let client_final = String::from_utf8(B64.decode(bytes::inner(&resp)).unwrap()).unwrap();
    let expected = Client::new(Mechanism::ScramSha1, &user, PASSWORD, &cnonce)
        .final_message(&server_first, None)
        .unwrap();
    if client_final != expected.message {
        dribble(
            &mut c,
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
        )
        .await;
        return;
    }
    let success = format!(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
        B64.encode(expected.expected_server_final())
    );
    dribble(&mut c, &success).await;
    c.reset();
    read_header(&mut c).await;
    dribble(&mut c, &format!("{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")).await;
    // Bind, presence, pings, until the client closes.
    for _ in 0..1000 {
        let reply = match c.next().await {
            Err(_) => {
                let _ = c.send(b"</stream:stream>").await;
                return;
            }
            Ok(el) if bytes::is(el, "iq") => {
                let id = bytes::attr(el, "id").unwrap_or_default();
                if bytes::contains(el, "xmpp-bind") {
                    format!(
                        "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{user}@localhost/r</jid></bind></iq>"
                    )
                } else {
                    format!("<iq type='result' id='{id}' from='localhost'/>")
                }
            }
            Ok(el) if bytes::is(el, "presence") => format!("<presence from='{user}@localhost/r'/>"),
            Ok(_) => continue,
        };
        dribble(&mut c, &reply).await;
    }
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = CertificateDer::from(key.cert.der().to_vec());
    let der = PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], der)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_hold_and_close_against_a_scripted_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor();
    tokio::spawn(async move {
        for _ in 0..100 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve(tcp, acceptor.clone()));
        }
    });
    let target = Arc::new(Target {
        addr,
        domain: "localhost".into(),
        user_prefix: "u".into(),
        password: PASSWORD.into(),
        mechanism: Mechanism::ScramSha1,
        tls: tls::client_config().unwrap(),
        step_timeout: Duration::from_secs(10),
    });
    let cfg = RoundConfig {
        concurrency: 4,
        login_timeout: Duration::from_secs(20),
        keep_early: false,
    };
    let n = 12;

    // Warm-up: every login computes PBKDF2 and the sessions stay held.
    let (ctl, rx) = watch::channel(Command::Idle);
    let shared = Shared::new("localhost", None);
    let r = rounds::run(
        target.clone(),
        0..n,
        Arc::new(vec![None; n]),
        &cfg,
        Sink::Hold(rx, shared.clone()),
    )
    .await;
    assert_eq!(
        (r.ok, r.failed, r.cache_hits),
        (n, 0, 0),
        "{:?}",
        r.first_error
    );
    let keys = Arc::new(r.keys.clone());
    rounds::close_all(&ctl, r.held, Duration::from_secs(10)).await;

    // Measured: every login reuses its key; then every held session answers a check.
    let (ctl, rx) = watch::channel(Command::Idle);
    let shared = Shared::new("localhost", None);
    let r = rounds::run(
        target.clone(),
        0..n,
        keys,
        &cfg,
        Sink::Hold(rx, shared.clone()),
    )
    .await;
    assert_eq!((r.ok, r.cache_hits), (n, n), "{:?}", r.first_error);
    assert_eq!(r.latencies.len(), n);
    ctl.send(Command::Check).unwrap();
    for _ in 0..200 {
        if shared.checked.load(Ordering::Relaxed) == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(shared.checked.load(Ordering::Relaxed), n);
    let outs = rounds::close_all(&ctl, r.held, Duration::from_secs(10)).await;
    assert_eq!(outs.len(), n);
    assert!(outs.iter().all(|o| o.checked && o.error.is_none()));
    assert_eq!(shared.dropped.load(Ordering::Relaxed), 0);

    // A wrong password is reported as a SASL failure, not a hang.
    let bad = Arc::new(Target {
        addr,
        domain: "localhost".into(),
        user_prefix: "u".into(),
        password: "wrong".into(),
        mechanism: Mechanism::ScramSha1,
        tls: tls::client_config().unwrap(),
        step_timeout: Duration::from_secs(10),
    });
    let r = rounds::run(bad, 0..1, Arc::new(vec![None]), &cfg, Sink::Collect).await;
    assert_eq!(r.errors.get("auth-failed"), Some(&1), "{:?}", r.first_error);
}
