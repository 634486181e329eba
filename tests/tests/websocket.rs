//! RFC 7395 XMPP over WebSocket on the HTTP listener, driven by tokio-tungstenite as an
//! independent WebSocket client: the `xmpp` subprotocol is required, the stream opens with
//! `<open/>`, SASL and binding work as on TCP, every message the node sends is one element
//! that parses on its own (namespaces declared), and chat flows both ways with a TCP client.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures::{SinkExt, StreamExt};
use lampfield_tests::start_node;
use minidom::Element;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const WAIT: std::time::Duration = lampfield_tests::client::WAIT;
const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, subprotocol: Option<&str>) -> Result<Ws, String> {
    let mut request = url.into_client_request().expect("request");
    if let Some(p) = subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, response)) => {
            assert_eq!(
                response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok()),
                Some("xmpp"),
                "the node must agree on the xmpp subprotocol"
            );
            Ok(ws)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The next text message, parsed on its own: it must be one element with its namespaces.
async fn next(ws: &mut Ws) -> Element {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message within the wait")
            .expect("the socket stays open")
            .expect("a WebSocket message");
        match message {
            Message::Text(text) => {
                return text
                    .as_str()
                    .parse()
                    .unwrap_or_else(|e| panic!("{text:?} is not one element on its own: {e}"));
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

async fn send(ws: &mut Ws, xml: &str) {
    ws.send(Message::Text(xml.into())).await.expect("sent");
}

async fn open(ws: &mut Ws) -> Element {
    send(
        ws,
        &format!("<open xmlns='{FRAMING}' to='localhost' version='1.0'/>"),
    )
    .await;
    let open = next(ws).await;
    assert!(open.is("open", FRAMING), "{open:?}");
    assert_eq!(open.attr("from"), Some("localhost"));
    assert!(open.attr("id").is_some());
    let features = next(ws).await;
    assert!(
        features.is("features", "http://etherx.jabber.org/streams"),
        "{features:?}"
    );
    features
}

/// SASL PLAIN (offered at once: the WebSocket counts as encrypted as the HTTP listener).
async fn send_plain(ws: &mut Ws, local: &str, password: &str) {
    let auth = B64.encode(format!("\0{local}\0{password}"));
    send(
        ws,
        &format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>"),
    )
    .await;
}

/// Log in as `user` over the WebSocket and bind; returns the socket and the full JID.
async fn login(url: &str, user: &str, password: &str) -> (Ws, String) {
    let mut ws = connect(url, Some("xmpp")).await.expect("upgrade");
    let features = open(&mut ws).await;
    let mechanisms: Vec<String> = features
        .get_child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")
        .expect("SASL offered")
        .children()
        .map(|m| m.text())
        .collect();
    assert!(
        mechanisms.iter().any(|m| m == "SCRAM-SHA-256") && mechanisms.iter().any(|m| m == "PLAIN"),
        "{mechanisms:?}"
    );
    assert!(
        features
            .get_child("starttls", "urn:ietf:params:xml:ns:xmpp-tls")
            .is_none(),
        "no STARTTLS inside a WebSocket (RFC 7395 §3.9)"
    );
    send_plain(&mut ws, user.split('@').next().unwrap(), password).await;
    let success = next(&mut ws).await;
    assert!(
        success.is("success", "urn:ietf:params:xml:ns:xmpp-sasl"),
        "{success:?}"
    );
    let features = open(&mut ws).await;
    assert!(features.has_child("bind", "urn:ietf:params:xml:ns:xmpp-bind"));
    send(
        &mut ws,
        "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>browser</resource></bind></iq>",
    )
    .await;
    let bound = next(&mut ws).await;
    assert!(bound.is("iq", "jabber:client"), "{bound:?}");
    let jid = bound
        .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .and_then(|b| b.get_child("jid", "urn:ietf:params:xml:ns:xmpp-bind"))
        .map(|j| j.text())
        .expect("bound JID");
    (ws, jid)
}

#[tokio::test]
async fn a_browser_logs_in_and_chats_with_a_tcp_client() {
    let node = start_node().await;
    let http = node.node().http_addr().expect("HTTP listener");
    let url = format!("ws://{http}/xmpp-websocket");
    let (mut ws, jid) = login(&url, "bob@localhost", "bob-secret-2").await;
    assert_eq!(jid, "bob@localhost/browser");
    // Available, so that chat to bob reaches this client (RFC 6121 §8.5).
    send(&mut ws, "<presence xmlns='jabber:client'/>").await;

    let mut alice = node.online("alice@localhost", "desk", 0).await;
    alice
        .chat(jid.parse::<jid::Jid>().unwrap(), "hello browser")
        .await;
    let message = loop {
        let el = next(&mut ws).await;
        if el.is("message", "jabber:client") {
            break el;
        }
    };
    assert_eq!(
        message
            .get_child("body", "jabber:client")
            .map(|b| b.text())
            .as_deref(),
        Some("hello browser")
    );

    send(
        &mut ws,
        "<message xmlns='jabber:client' type='chat' to='alice@localhost/desk'><body>hello desk</body></message>",
    )
    .await;
    alice
        .expect_message("the browser's chat", |m| {
            m.bodies.values().any(|b| b == "hello desk")
        })
        .await;

    // The roster answers like on TCP.
    send(
        &mut ws,
        "<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>",
    )
    .await;
    let roster = loop {
        let el = next(&mut ws).await;
        if el.is("iq", "jabber:client") && el.attr("id") == Some("r1") {
            break el;
        }
    };
    assert_eq!(roster.attr("type"), Some("result"));

    // <close/> ends the stream with <close/>.
    send(&mut ws, &format!("<close xmlns='{FRAMING}'/>")).await;
    let close = next(&mut ws).await;
    assert!(close.is("close", FRAMING), "{close:?}");
    alice.close().await;
    node.stop().await;
}

#[tokio::test]
async fn the_xmpp_subprotocol_is_required_and_bad_framing_is_an_error() {
    let node = start_node().await;
    let http = node.node().http_addr().expect("HTTP listener");
    let url = format!("ws://{http}/xmpp-websocket");
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    assert!(refused.is_err(), "an upgrade without the xmpp subprotocol");

    let mut ws = connect(&url, Some("xmpp")).await.expect("upgrade");
    // The RFC 6120 stream header is not how a WebSocket stream opens.
    send(
        &mut ws,
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
    )
    .await;
    let error = next(&mut ws).await;
    assert!(
        error.is("error", "http://etherx.jabber.org/streams")
            && error.has_child("bad-format", "urn:ietf:params:xml:ns:xmpp-streams"),
        "{error:?}"
    );
    let close = next(&mut ws).await;
    assert!(close.is("close", FRAMING), "{close:?}");

    // A wrong password fails like on TCP, and the node keeps serving.
    let mut ws = connect(&url, Some("xmpp")).await.expect("upgrade");
    open(&mut ws).await;
    send_plain(&mut ws, "bob", "wrong").await;
    let failure = next(&mut ws).await;
    assert!(
        failure.is("failure", "urn:ietf:params:xml:ns:xmpp-sasl")
            && failure.has_child("not-authorized", "urn:ietf:params:xml:ns:xmpp-sasl"),
        "{failure:?}"
    );
    let (_ws, jid) = login(&url, "carol@localhost", "carol-secret-3").await;
    assert_eq!(jid, "carol@localhost/browser");
    node.stop().await;
}
