//! Just enough of an XMPP client, over plain TCP, to log in with SCRAM-SHA-256
//! (RFC 7677) and change the roster: for tests of a node started with
//! `require_tls = false`. Matching is by substring; every wait is bounded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(20);

/// A logged-in, bound client.
pub(crate) struct Client {
    tcp: TcpStream,
    seen: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {text}"))
        + open.len();
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

impl Client {
    /// Connect, authenticate `user` (local part) of `domain`, bind a resource.
    pub(crate) fn login(port: u16, domain: &str, user: &str, password: &str) -> Self {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut c = Self {
            tcp,
            seen: String::new(),
        };
        let features = c.open(domain);
        assert!(features.contains("SCRAM-SHA-256"), "{features}");

        let cnonce = "fyko+d2lbbFgONRv9qkxdawL";
        let first_bare = format!("n={user},r={cnonce}");
        c.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>{}</auth>",
            B64.encode(format!("n,,{first_bare}"))
        ));
        let challenge = c.wait_for("</challenge>");
        let inner = between(&challenge, "<challenge", "</challenge>");
        let encoded = inner.rsplit('>').next().unwrap();
        let server_first = String::from_utf8(B64.decode(encoded).unwrap()).unwrap();
        let field = |k: &str| {
            server_first
                .split(',')
                .find_map(|f| f.strip_prefix(k))
                .unwrap()
                .to_owned()
        };
        let (nonce, salt, iterations) = (
            field("r="),
            B64.decode(field("s=")).unwrap(),
            field("i=").parse::<u32>().unwrap(),
        );
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        c.send(&format!(
            "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
            B64.encode(format!("{without_proof},p={}", B64.encode(proof)))
        ));
        c.wait_for("<success");
        c.open(domain);
        c.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        c.wait_for("</iq>");
        c
    }

    /// Open a stream; returns what the server sent up to its features.
    fn open(&mut self, domain: &str) -> String {
        self.send(&format!(
            "<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        ));
        self.wait_for("</stream:features>")
    }

    /// Write raw XML.
    pub(crate) fn send(&mut self, xml: &str) {
        self.tcp.write_all(xml.as_bytes()).unwrap();
    }

    /// Read until `needle` has been received; returns everything read so far.
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 4096];
        while !self.seen.contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in {:?}",
                self.seen
            );
            match self.tcp.read(&mut buf) {
                Ok(0) => panic!("stream closed waiting for {needle:?}: {:?}", self.seen),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        std::mem::take(&mut self.seen)
    }
}
