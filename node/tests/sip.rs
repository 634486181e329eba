//! SIP against a real node over real UDP and TCP: a PBX's PUBLISH of dialog-info moves a user's
//! line (ringing, on the phone, idle) as the integration API shows it; entity-tags, removal and
//! expiry; a busy lamp SUBSCRIBE gets NOTIFYs of what the trusted level may see; hostile input
//! gets SIP errors and leaves the listener serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use api_support::{Api, token};
use lampfield_domain::access::Level;
use lampfield_node::{Config, RunningNode, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const ALICE: &str = "alice@localhost";
const NS: &str = "urn:ietf:params:xml:ns:dialog-info";

fn config(dir: &Path) -> Config {
    let mut config = Config::builtin().unwrap();
    config.data_dir = dir.to_owned();
    config.c2s.listen = "127.0.0.1:0".parse().unwrap();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.sip.enabled = true;
    config.sip.listen = "127.0.0.1:0".parse().unwrap();
    // 127.0.0.1 is the PBX; 127.0.0.2 (also loopback) is a stranger.
    config.sip.trusted = vec!["127.0.0.1".parse().unwrap()];
    config.sip.min_expires_s = 1;
    config
}

/// A node with alice, extension 201 mapped to her, and a team token's API.
async fn node(config: Config, dir: &Path) -> (RunningNode, Api, SocketAddr) {
    let node = start(config).await.unwrap();
    node.add_user(ALICE, "pw").await.unwrap();
    let base = format!("http://{}", node.http_addr().unwrap());
    let api = Api::new(&base, &token(dir, "pbx", Level::Team).await);
    let (s, v) = api
        .put(&format!("/v1/users/{ALICE}/extensions/201"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let sip = node.sip_addr().unwrap();
    (node, api, sip)
}

fn dialog_info(state: &str, direction: &str) -> String {
    let dialog = match state {
        "" => String::new(),
        s => format!(
            "<dialog id=\"d1\" direction=\"{direction}\"><state>{s}</state>\
             <remote><identity>sip:0301234@pbx</identity></remote></dialog>"
        ),
    };
    format!(
        "<?xml version=\"1.0\"?>\n<dialog-info xmlns=\"{NS}\" version=\"1\" state=\"full\" \
         entity=\"sip:201@pbx\">{dialog}</dialog-info>"
    )
}

/// A request with the headers every request carries, `extra` and `body`.
fn request(method: &str, uri: &str, call: &str, extra: &[&str], body: &str) -> Vec<u8> {
    let mut out = format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK{call}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:pbx@127.0.0.1>;tag=pbx{call}\r\nTo: <{uri}>\r\n\
         Call-ID: {call}@test\r\nCSeq: 1 {method}\r\n"
    );
    for h in extra {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn publish(call: &str, extra: &[&str], body: &str) -> Vec<u8> {
    let mut headers = vec!["Event: dialog"];
    if !body.is_empty() {
        headers.push("Content-Type: application/dialog-info+xml");
    }
    headers.extend_from_slice(extra);
    request("PUBLISH", "sip:201@localhost", call, &headers, body)
}

/// The next message from the node, as text.
async fn recv(socket: &UdpSocket) -> String {
    let mut buf = vec![0u8; 70_000];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn ask(socket: &UdpSocket, to: SocketAddr, message: &[u8]) -> String {
    socket.send_to(message, to).await.unwrap();
    recv(socket).await
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// Alice's line 201 as the team token sees it.
async fn line(api: &Api) -> Value {
    let (s, v) = api.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["view"]["presence"]["lines"]["201"]["state"].clone()
}

#[tokio::test]
async fn published_dialog_state_moves_the_line_and_expires() {
    let dir = tempfile::tempdir().unwrap();
    let (node, api, sip) = node(config(dir.path()), dir.path()).await;
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();

    let answer = ask(
        &pbx,
        sip,
        &publish("p1", &["Expires: 120"], &dialog_info("early", "recipient")),
    )
    .await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(header(&answer, "Expires"), Some("120"));
    let etag = header(&answer, "SIP-ETag").unwrap().to_owned();
    assert_eq!(line(&api).await, "ringing");

    let if_match = format!("SIP-If-Match: {etag}");
    let answer = ask(
        &pbx,
        sip,
        &publish("p2", &[&if_match], &dialog_info("confirmed", "recipient")),
    )
    .await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(line(&api).await, "on_call");
    let (_, v) = api.get(&format!("/v1/users/{ALICE}/presence")).await;
    assert_eq!(v["view"]["presence"]["status_line"], "On the phone", "{v}");
    let etag2 = header(&answer, "SIP-ETag").unwrap().to_owned();
    assert_ne!(etag, etag2);

    // The spent entity-tag and an invented one: 412, nothing changes.
    for stale in [etag.as_str(), "nope"] {
        let h = format!("SIP-If-Match: {stale}");
        let answer = ask(
            &pbx,
            sip,
            &publish("p3", &[&h], &dialog_info("terminated", "")),
        )
        .await;
        assert_eq!(status(&answer), 412, "{answer}");
    }
    assert_eq!(line(&api).await, "on_call");

    // A refresh without a body keeps the state; Expires: 0 removes it: idle.
    let h = format!("SIP-If-Match: {etag2}");
    let answer = ask(&pbx, sip, &publish("p4", &[&h, "Expires: 60"], "")).await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(line(&api).await, "on_call");
    let etag3 = header(&answer, "SIP-ETag").unwrap().to_owned();
    let h = format!("SIP-If-Match: {etag3}");
    let answer = ask(&pbx, sip, &publish("p5", &[&h, "Expires: 0"], "")).await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(line(&api).await, "idle");

    // A PBX that stops refreshing: the call it reported goes away when the publication expires.
    let answer = ask(
        &pbx,
        sip,
        &publish(
            "p6",
            &["Expires: 1"],
            &dialog_info("confirmed", "initiator"),
        ),
    )
    .await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(line(&api).await, "on_call");
    let deadline = Instant::now() + Duration::from_secs(10);
    while line(&api).await != "idle" {
        assert!(
            Instant::now() < deadline,
            "the expired publication still shows a call"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_busy_lamp_follows_the_view_of_the_trusted_level() {
    let dir = tempfile::tempdir().unwrap();
    let (node, api, sip) = node(config(dir.path()), dir.path()).await;
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("Contact: <sip:blf@{}>", phone.local_addr().unwrap());
    let subscribe = request(
        "SUBSCRIBE",
        "sip:201@localhost",
        "s1",
        &[
            "Event: dialog",
            "Expires: 300",
            "Accept: application/dialog-info+xml",
            &contact,
        ],
        "",
    );
    let ok = ask(&phone, sip, &subscribe).await;
    assert_eq!(status(&ok), 200, "{ok}");
    let to_tag = header(&ok, "To")
        .unwrap()
        .split("tag=")
        .nth(1)
        .unwrap()
        .to_owned();
    let first = recv(&phone).await;
    assert!(first.starts_with("NOTIFY sip:blf@"), "{first}");
    assert!(
        header(&first, "Subscription-State")
            .unwrap()
            .starts_with("active"),
        "{first}"
    );
    assert!(first.contains("version='0'"), "{first}");
    assert!(!first.contains("<dialog "), "no line state yet: {first}");

    // Ringing is team detail: at business (the default trusted level) the lamp stays dark.
    let answer = ask(
        &pbx,
        sip,
        &publish("p1", &[], &dialog_info("early", "recipient")),
    )
    .await;
    assert_eq!(status(&answer), 200);
    let etag = header(&answer, "SIP-ETag").unwrap().to_owned();
    assert_eq!(line(&api).await, "ringing");
    let h = format!("SIP-If-Match: {etag}");
    ask(
        &pbx,
        sip,
        &publish("p2", &[&h], &dialog_info("confirmed", "recipient")),
    )
    .await;
    let notify = recv(&phone).await;
    assert!(notify.contains("<state>confirmed</state>"), "{notify}");
    assert!(
        notify.contains("version='1'"),
        "no NOTIFY for ringing in between: {notify}"
    );
    assert!(
        !notify.contains("0301234"),
        "no remote party at business: {notify}"
    );

    // "Appear offline" hides the call from the lamp too.
    let (s, v) = api
        .put(
            &format!("/v1/users/{ALICE}/manual"),
            json!({"availability": "appear_offline"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let notify = recv(&phone).await;
    assert!(!notify.contains("<dialog "), "{notify}");

    // A refresh gets a NOTIFY; Expires: 0 ends the subscription with a terminated one.
    let refresh = String::from_utf8(subscribe.clone()).unwrap().replace(
        "To: <sip:201@localhost>",
        &format!("To: <sip:201@localhost>;tag={to_tag}"),
    );
    let ok = ask(&phone, sip, refresh.as_bytes()).await;
    assert_eq!(status(&ok), 200, "{ok}");
    let notify = recv(&phone).await;
    assert!(notify.contains("version='3'"), "{notify}");
    let bye = refresh.replace("Expires: 300", "Expires: 0");
    let ok = ask(&phone, sip, bye.as_bytes()).await;
    assert_eq!(status(&ok), 200, "{ok}");
    let last = recv(&phone).await;
    assert_eq!(
        header(&last, "Subscription-State"),
        Some("terminated"),
        "{last}"
    );
    let again = ask(&phone, sip, bye.as_bytes()).await;
    assert_eq!(status(&again), 481, "{again}");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn hostile_input_gets_sip_errors_and_the_listener_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.sip.max_message_bytes = 4096;
    let (node, api, sip) = node(config, dir.path()).await;
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let body = dialog_info("confirmed", "");

    // Garbage and a header-less datagram: dropped without an answer.
    pbx.send_to(b"\x00\xff garbage \r\n\r\n", sip)
        .await
        .unwrap();
    pbx.send_to(&[0u8; 3000], sip).await.unwrap();
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (request("FROB", "sip:201@localhost", "c1", &[], ""), 501),
        (request("INVITE", "sip:201@localhost", "c2", &[], ""), 405),
        (
            request(
                "PUBLISH",
                "sip:201@localhost",
                "c3",
                &["Event: presence"],
                "",
            ),
            489,
        ),
        (request("PUBLISH", "sip:201@localhost", "c4", &[], ""), 489),
        (publish("c5", &[], "<dialog-info"), 400),
        (publish("c6", &["Expires: soon"], &body), 400),
        (
            request(
                "PUBLISH",
                "sip:201@localhost",
                "c7",
                &["Event: dialog", "Content-Type: text/plain"],
                "x",
            ),
            415,
        ),
        (
            request("PUBLISH", "sip:999@localhost", "c8", &["Event: dialog"], ""),
            404,
        ),
        (publish("c9", &[], &"x".repeat(5000)), 513),
        (
            request("PUBLISH sip:201@localhost SIP/2.0 x", "", "c10", &[], ""),
            400,
        ),
        (request("OPTIONS", "sip:localhost", "c11", &[], ""), 200),
    ];
    for (message, code) in cases {
        let answer = ask(&pbx, sip, &message).await;
        assert_eq!(
            status(&answer),
            code,
            "{}\n---\n{answer}",
            String::from_utf8_lossy(&message)
        );
    }

    // A stranger may not publish or subscribe.
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    for _ in 0..3 {
        let answer = ask(&stranger, sip, &publish("x1", &[], &body)).await;
        assert_eq!(status(&answer), 403, "{answer}");
    }
    let sub = request(
        "SUBSCRIBE",
        "sip:201@localhost",
        "x2",
        &["Event: dialog"],
        "",
    );
    assert_eq!(status(&ask(&stranger, sip, &sub).await), 403);

    // TCP: a message without Content-Length, and one announcing too much, end the connection
    // with an answer.
    for (message, code) in [
        (b"OPTIONS sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: t1\r\nCSeq: 1 OPTIONS\r\n\r\n".to_vec(), 400),
        (b"OPTIONS sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: t2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 100000\r\n\r\n".to_vec(), 513),
    ] {
        let mut tcp = TcpStream::connect(sip).await.unwrap();
        tcp.write_all(&message).await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status(&answer), code, "{answer}");
    }
    // ... and a well-framed PUBLISH over TCP still works, as does UDP.
    let mut tcp = TcpStream::connect(sip).await.unwrap();
    tcp.write_all(&publish("t3", &[], &body)).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(&String::from_utf8_lossy(&buf[..n])), 200);
    assert_eq!(line(&api).await, "on_call");
    let answer = ask(
        &pbx,
        sip,
        &request("OPTIONS", "sip:localhost", "c12", &[], ""),
    )
    .await;
    assert_eq!(status(&answer), 200);
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_presence_subscriber_gets_pidf_with_the_call_as_rpid_activity() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _api, sip) = node(config(dir.path()), dir.path()).await;
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let softphone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let contact = format!("Contact: <sip:sp@{}>", softphone.local_addr().unwrap());
    let subscribe = request(
        "SUBSCRIBE",
        "sip:201@localhost",
        "pr1",
        &["Event: presence", "Expires: 300", &contact],
        "",
    );
    let ok = ask(&softphone, sip, &subscribe).await;
    assert_eq!(status(&ok), 200, "{ok}");
    let first = recv(&softphone).await;
    assert_eq!(header(&first, "Event"), Some("presence"), "{first}");
    assert_eq!(header(&first, "Content-Type"), Some("application/pidf+xml"));
    assert!(
        first.contains("<basic>closed</basic>"),
        "nobody online: {first}"
    );

    // A call makes the person live and on the phone (RPID), with the status line as note.
    let answer = ask(
        &pbx,
        sip,
        &publish("pr2", &[], &dialog_info("confirmed", "")),
    )
    .await;
    assert_eq!(status(&answer), 200);
    let notify = recv(&softphone).await;
    assert!(notify.contains("<basic>open</basic>"), "{notify}");
    assert!(notify.contains("on-the-phone"), "{notify}");
    assert!(notify.contains(">On the phone</note>"), "{notify}");
    node.shutdown().await.unwrap();
}
