//! c2s negotiation and sessions over real TCP: raw XML, STARTTLS, SASL, binding,
//! limits, timeouts and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod c2s_support;

use std::time::Duration;

use c2s_support::*;

#[tokio::test]
async fn scram_sha256_login_bind_session_and_clean_close() {
    let server = start(false, |_| {}).await;
    let mut c = Raw::connect(server.addr).await;
    let features = c.open().await;
    assert!(
        features.contains("<mechanism>SCRAM-SHA-256</mechanism>"),
        "{features}"
    );
    assert!(
        !features.contains("PLAIN"),
        "PLAIN must not be offered without TLS: {features}"
    );
    let out = c.scram(true, "user", "pencil").await;
    assert!(out.contains("<success"), "{out}");
    let jid = c.bind(Some("phone")).await;
    assert_eq!(jid, "user@example.com/phone");
    c.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        .await;
    let reply = c.expect("/>").await;
    assert!(
        reply.contains("id='s1'") && reply.contains("type='result'"),
        "{reply}"
    );
    c.send("<presence/>").await;
    c.send("</stream:stream>").await;
    let rest = c.until_closed().await;
    assert!(rest.ends_with("</stream:stream>"), "{rest}");
}

#[tokio::test]
async fn scram_sha1_and_server_chosen_resource() {
    let server = start(false, |_| {}).await;
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    assert!(
        c.scram(false, "alice", "wonderland")
            .await
            .contains("<success")
    );
    let jid = c.bind(None).await;
    assert!(
        jid.starts_with("alice@example.com/") && jid.len() > "alice@example.com/".len(),
        "{jid}"
    );
}

#[tokio::test]
async fn wrong_password_unknown_user_then_not_authorized() {
    let server = start(false, |c| c.max_auth_failures = 3).await;
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    assert!(
        c.scram(true, "user", "wrong")
            .await
            .contains("<not-authorized/>")
    );
    assert!(
        c.scram(true, "nobody", "pencil")
            .await
            .contains("<not-authorized/>")
    );
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>!!</auth>")
        .await;
    let rest = c.until_closed().await;
    assert!(rest.contains("<incorrect-encoding/>"), "{rest}");
    assert_eq!(stream_error(&rest), "not-authorized");
}

#[tokio::test]
async fn channel_binding_request_and_abort() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let server = start(false, |_| {}).await;
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    c.send(&format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>{}</auth>",
        b64("p=tls-exporter,,n=user,r=abcdef")
    ))
    .await;
    let f = c.expect("</failure>").await;
    assert!(f.contains("<malformed-request/>"), "{f}");
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'/>")
        .await;
    c.expect("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</challenge>")
        .await;
    c.send("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .await;
    assert!(c.expect("</failure>").await.contains("<aborted/>"));
    c.send(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AHVzZXIAcGVuY2ls</auth>",
    )
    .await;
    assert!(
        c.expect("</failure>")
            .await
            .contains("<encryption-required/>")
    );
}

#[tokio::test]
async fn starttls_then_plain_and_scram() {
    let server = start(true, |_| {}).await;
    let cert = server.cert.clone().unwrap();

    let mut c = Raw::connect(server.addr).await;
    let features = c.open().await;
    assert!(
        features
            .contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>")
    );
    assert!(!features.contains("mechanisms"), "{features}");
    let mut c = c.starttls(&cert).await;
    let features = c.open().await;
    assert!(
        features.contains("<mechanism>PLAIN</mechanism>"),
        "{features}"
    );
    // "\0user\0pencil"
    c.send(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AHVzZXIAcGVuY2ls</auth>",
    )
    .await;
    c.expect("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></success>")
        .await;
    assert_eq!(c.bind(Some("laptop")).await, "user@example.com/laptop");

    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    let mut c = c.starttls(&cert).await;
    c.open().await;
    assert!(
        c.scram(true, "alice", "wonderland")
            .await
            .contains("<success")
    );
    assert_eq!(c.bind(Some("x")).await, "alice@example.com/x");
}

#[tokio::test]
async fn sasl_before_tls_is_refused_when_tls_is_required() {
    let server = start(true, |_| {}).await;
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>biwsbj11c2VyLHI9YWJj</auth>").await;
    assert!(
        c.expect("</failure>")
            .await
            .contains("<encryption-required/>")
    );
    c.send("<message to='a@example.com'/>").await;
    assert_eq!(stream_error(&c.until_closed().await), "not-authorized");
}

/// Each hostile input gets its stream error, and the server keeps serving others.
#[tokio::test]
async fn hostile_inputs_get_stream_errors_and_others_keep_working() {
    let server = start(false, |c| c.max_preauth_stanza_bytes = 4096).await;
    let mut bystander = Raw::login(server.addr, None, "alice", "wonderland", "calm").await;
    let hdr = header();
    let cases: Vec<(String, &str)> = vec![
        (
            "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".into(),
            "not-well-formed",
        ),
        (hdr.replace("example.com", "other.org"), "host-unknown"),
        (hdr.replace(" version='1.0'>", ">"), "unsupported-version"),
        (
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>".into(),
            "restricted-xml",
        ),
        (format!("{hdr}<!-- comment -->"), "restricted-xml"),
        (
            format!("{hdr}<iq type='get' id='1'>{}", "x".repeat(8000)),
            "policy-violation",
        ),
        (format!("{hdr}{}", "<a>".repeat(100)), "policy-violation"),
        (format!("{hdr}<message></presence>"), "not-well-formed"),
        (
            hdr.replace(
                "xmlns:stream='http://etherx.jabber.org/streams'",
                "xmlns:stream='urn:wrong'",
            ),
            "invalid-namespace",
        ),
        (
            format!("{hdr}<foo xmlns='urn:unknown'/>"),
            "unsupported-stanza-type",
        ),
        (format!("{hdr}hello"), "bad-format"),
    ];
    for (input, condition) in cases {
        let mut c = Raw::connect(server.addr).await;
        c.send(&input).await;
        let out = c.until_closed().await;
        assert_eq!(stream_error(&out), condition, "input {input:?} got {out:?}");
        assert!(
            out.starts_with("<?xml version='1.0'?><stream:stream "),
            "header first: {out}"
        );
        assert!(out.ends_with("</stream:stream>"), "{out}");
    }
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    assert!(c.scram(true, "user", "pencil").await.contains("<success"));
    // The session opened before the attacks is still served.
    bystander
        .send("<iq type='set' id='s9'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
        .await;
    assert!(bystander.expect("/>").await.contains("id='s9'"));
}

#[tokio::test]
async fn slow_negotiation_times_out() {
    let server = start(false, |c| {
        c.negotiation_timeout = Duration::from_millis(300)
    })
    .await;
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    assert_eq!(stream_error(&c.until_closed().await), "connection-timeout");
}

#[tokio::test]
async fn silent_session_is_pinged_then_closed() {
    let server = start(false, |c| {
        c.idle_timeout = Duration::from_millis(300);
        c.ping_timeout = Duration::from_millis(300);
    })
    .await;
    let mut c = Raw::login(server.addr, None, "user", "pencil", "r").await;
    let ping = c.expect("</iq>").await;
    assert!(
        ping.contains("urn:xmpp:ping") && ping.contains("id='c2s-ping-1'"),
        "{ping}"
    );
    // Answer the first ping, stay silent after the second.
    c.send("<iq type='result' id='c2s-ping-1'/>").await;
    c.expect("id='c2s-ping-2'").await;
    assert_eq!(stream_error(&c.until_closed().await), "connection-timeout");
}

#[tokio::test]
async fn keepalives_postpone_the_ping() {
    let server = start(false, |c| {
        c.idle_timeout = Duration::from_millis(1000);
        c.ping_timeout = Duration::from_millis(1000);
    })
    .await;
    let mut c = Raw::login(server.addr, None, "user", "pencil", "r").await;
    // Whitespace keepalives (RFC 6120 §4.6.1) for two and a half idle periods.
    for _ in 0..25 {
        c.send(" ").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let early = tokio::time::timeout(Duration::from_millis(50), c.expect("<iq")).await;
    assert!(early.is_err(), "pinged a client that kept its stream alive");
    // Silence from now on: the first ping follows.
    let ping = c.expect("</iq>").await;
    assert!(ping.contains("id='c2s-ping-1'"), "{ping}");
}

#[tokio::test]
async fn shutdown_says_goodbye_to_every_session() {
    let server = start(false, |_| {}).await;
    let mut bound = Raw::login(server.addr, None, "user", "pencil", "r").await;
    let mut pending = Raw::connect(server.addr).await;
    pending.open().await;
    server.shutdown.cancel();
    assert_eq!(stream_error(&bound.until_closed().await), "system-shutdown");
    assert_eq!(
        stream_error(&pending.until_closed().await),
        "system-shutdown"
    );
    let done = tokio::time::timeout(TIMEOUT, server.task)
        .await
        .unwrap()
        .unwrap();
    assert!(done.is_ok());
}

#[tokio::test]
async fn forged_from_is_a_stream_error() {
    let server = start(false, |_| {}).await;
    let mut c = Raw::login(server.addr, None, "user", "pencil", "r").await;
    c.send("<message from='alice@example.com/x' to='user@example.com'/>")
        .await;
    assert_eq!(stream_error(&c.until_closed().await), "invalid-from");
}

#[tokio::test]
async fn message_between_two_sessions() {
    let server = start(false, |_| {}).await;
    let mut alice = Raw::login(server.addr, None, "alice", "wonderland", "home").await;
    // Alice tells the user she is there, so the user may address her resource (RFC 6121 §4.6).
    alice
        .send("<presence/><presence to='user@example.com'/><iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    alice.expect("id='sync'").await;
    let mut user = Raw::connect(server.addr).await;
    user.open().await;
    user.scram(false, "user", "pencil").await;
    user.bind(Some("phone")).await;
    user.send("<message to='alice@example.com/home' type='chat' id='m1'><body>hi</body></message>")
        .await;
    let got = alice.expect("</message>").await;
    assert!(
        got.contains("from=\"user@example.com/phone\"")
            || got.contains("from='user@example.com/phone'"),
        "{got}"
    );
    assert!(got.contains("<body>hi</body>"), "{got}");
}

/// A burst far larger than one flush (the writer writes up to 64 stanzas per flush) reaches the
/// recipient whole and in order.
#[tokio::test]
async fn a_burst_of_stanzas_arrives_whole_and_in_order() {
    const BURST: usize = 500;
    let server = start(false, |_| {}).await;
    let mut to = Raw::connect(server.addr).await;
    to.open().await;
    to.scram(true, "alice", "wonderland").await;
    let alice = to.bind(Some("desk")).await;
    // Alice tells the user she is there, so the user may address her resource (RFC 6121 §4.6).
    to.send("<presence/><presence to='user@example.com'/><iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    to.expect("id='sync'").await;
    let mut from = Raw::login(server.addr, None, "user", "pencil", "phone").await;
    let burst: String = (0..BURST)
        .map(|i| format!("<message to='{alice}' id='b{i}'><body>{i}</body></message>"))
        .collect();
    from.send(&burst).await;
    let last = format!("id='b{}'", BURST - 1);
    let got = to.expect(&last).await;
    let ids: Vec<usize> = got
        .match_indices("id='b")
        .filter_map(|(at, _)| {
            let rest = &got[at + 5..];
            rest[..rest.find('\'')?].parse().ok()
        })
        .collect();
    assert_eq!(ids, (0..BURST).collect::<Vec<_>>());
}

/// A presence change reaches every available session of every subscriber, whole and in order,
/// also among other stanzas. Over TLS the fan-out writes straight into the transports of idle
/// sessions, from two runtime workers, and queues for a session that still has stanzas to
/// write (here: a message to each session before each change, which must stay before it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_reaches_every_session_whole_and_in_order() {
    const FANS: [&str; 3] = ["bob", "carol", "dave"];
    const RESOURCES: usize = 24;
    const CHANGES: usize = 12;
    let accounts = [
        ("alice", "wonderland"),
        ("bob", "pw"),
        ("carol", "pw"),
        ("dave", "pw"),
    ];
    let server = start_with(true, Accounts::with(&accounts), |_| {}).await;
    let cert = server.cert.clone().unwrap();
    let mut alice = Raw::login(server.addr, Some(&cert), "alice", "wonderland", "desk").await;
    alice.send("<presence/>").await;
    let mut sessions = Vec::new();
    for fan in FANS {
        for r in 0..RESOURCES {
            let mut s = Raw::login(server.addr, Some(&cert), fan, "pw", &format!("r{r}")).await;
            // Available, and telling alice so: she may address this resource (RFC 6121 §4.6).
            s.send("<presence/><presence to='alice@example.com'/>")
                .await;
            if r == 0 {
                s.send("<presence to='alice@example.com' type='subscribe'/>")
                    .await;
                alice.expect(&format!("{fan}@example.com")).await;
                alice
                    .send(&format!(
                        "<presence to='{fan}@example.com' type='subscribed'/>"
                    ))
                    .await;
            }
            // Its presence is handled once the ping after it is answered.
            s.send("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
                .await;
            s.expect("id='sync'").await;
            sessions.push((format!("{fan}@example.com/r{r}"), s));
        }
    }
    let mut burst = String::new();
    for i in 0..CHANGES {
        for (jid, _) in &sessions {
            burst += &format!("<message to='{jid}'><body>m-{i}</body></message>");
        }
        burst += &format!("<presence><status>c-{i}</status></presence>");
    }
    alice.send(&burst).await;
    let expected: Vec<String> = (0..CHANGES)
        .flat_map(|i| [format!("m-{i}"), format!("c-{i}")])
        .collect();
    let last = format!("c-{}</status></presence>", CHANGES - 1);
    for (jid, s) in &mut sessions {
        let got = s.expect(&last).await;
        let seen: Vec<String> = got
            .match_indices(['m', 'c'])
            .filter_map(|(at, _)| {
                let token = &got[at..];
                let end = token.find('<')?;
                let (kind, n) = token[..end].split_once('-')?;
                n.parse::<usize>().ok()?;
                matches!(kind, "m" | "c").then(|| token[..end].to_owned())
            })
            .collect();
        assert_eq!(seen, expected, "{jid}: {got}");
        let bare = jid.split('/').next().unwrap();
        for i in 0..CHANGES {
            let stanza = format!(
                "<presence to='{bare}' xmlns='jabber:client' from='alice@example.com/desk'>\
                 <status>c-{i}</status></presence>"
            );
            assert!(got.contains(&stanza), "{jid}: {got}");
        }
    }
}
