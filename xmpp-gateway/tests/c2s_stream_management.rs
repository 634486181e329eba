//! XEP-0198 stream management over real TCP with raw XML: counting and acks both ways, the
//! bounded queue of unacknowledged stanzas, and resumption (who may resume what).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod c2s_support;

use c2s_support::*;

const SM: &str = "urn:xmpp:sm:3";

/// Enable stream management with resumption; returns the id to resume by.
async fn enable(c: &mut Raw) -> String {
    c.send(&format!("<enable xmlns='{SM}' resume='true'/>"))
        .await;
    let enabled = c.expect("/>").await;
    assert!(
        enabled.contains("<enabled") && enabled.contains("resume='true' max='300'"),
        "{enabled}"
    );
    between(&enabled, "id='", "' resume").to_owned()
}

/// A connection authenticated as `user`, its stream restarted: ready to resume or bind;
/// returns it and the features offered.
async fn authenticated(server: &Server, user: &str, password: &str) -> (Raw, String) {
    let mut c = Raw::connect(server.addr).await;
    c.open().await;
    assert!(c.scram(true, user, password).await.contains("<success"));
    let features = c.open().await;
    (c, features)
}

/// Alice, bound as `home`, with stream management enabled, reachable by `user` (directed
/// presence, RFC 6121 §4.6); returns her and the resumption id.
async fn alice_reachable(server: &Server) -> (Raw, String) {
    let mut alice = Raw::login(server.addr, None, "alice", "wonderland", "home").await;
    let id = enable(&mut alice).await;
    alice
        .send("<presence/><presence to='user@example.com'/><iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    alice.expect("id='sync'").await;
    (alice, id)
}

#[tokio::test]
async fn stanzas_are_counted_and_acknowledged_both_ways() {
    let server = start(false, |_| {}).await;
    let mut c = Raw::login(server.addr, None, "user", "pencil", "r").await;
    c.send(&format!("<r xmlns='{SM}'/>")).await;
    assert!(
        c.expect("</failed>").await.contains("unexpected-request"),
        "a request before enabling"
    );
    enable(&mut c).await;
    c.send(&format!("<r xmlns='{SM}'/>")).await;
    c.expect(&format!("<a xmlns='{SM}' h='0'/>")).await;
    c.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><presence/>")
        .await;
    c.expect("id='p1'").await;
    // The server asks for an acknowledgement of what it wrote.
    c.expect(&format!("<r xmlns='{SM}'/>")).await;
    c.send(&format!("<a xmlns='{SM}' h='1'/><r xmlns='{SM}'/>"))
        .await;
    c.expect(&format!("<a xmlns='{SM}' h='2'/>")).await;
    c.send(&format!("<enable xmlns='{SM}'/>")).await;
    assert!(
        c.expect("</failed>").await.contains("unexpected-request"),
        "a second enable"
    );
    // Acknowledging more than was sent is a stream error (XEP-0198 §4).
    c.send(&format!("<a xmlns='{SM}' h='99'/>")).await;
    assert_eq!(stream_error(&c.until_closed().await), "undefined-condition");
}

#[tokio::test]
async fn a_client_that_never_acknowledges_is_stopped_at_the_bound() {
    let server = start(false, |c| c.sm_max_unacked_stanzas = 3).await;
    let (mut alice, _) = alice_reachable(&server).await;
    let mut user = Raw::login(server.addr, None, "user", "pencil", "desk").await;
    for i in 0..6 {
        user.send(&format!(
            "<message to='alice@example.com/home' type='chat' id='m{i}'><body>n{i}</body></message>"
        ))
        .await;
    }
    assert_eq!(
        stream_error(&alice.until_closed().await),
        "policy-violation"
    );
}

#[tokio::test]
async fn a_dropped_session_is_resumed_only_by_its_user_and_gets_what_it_missed() {
    let server = start(false, |_| {}).await;
    let (alice, id) = alice_reachable(&server).await;
    drop(alice); // the TCP connection drops, no closing tag
    let mut user = Raw::login(server.addr, None, "user", "pencil", "desk").await;
    user.send(
        "<message to='alice@example.com/home' type='chat' id='m1'><body>missed</body></message>",
    )
    .await;

    // Another user cannot take it, and an unknown id resumes nothing.
    let (mut mallory, _) = authenticated(&server, "user", "pencil").await;
    for previd in [id.as_str(), "no-such-id"] {
        mallory
            .send(&format!("<resume xmlns='{SM}' previd='{previd}' h='0'/>"))
            .await;
        let failed = mallory.expect("</failed>").await;
        assert!(failed.contains("item-not-found"), "{failed}");
    }
    // ... and binds as usual after the refusal.
    mallory
        .send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        .await;
    mallory.expect("</iq>").await;

    let (mut back, features) = authenticated(&server, "alice", "wonderland").await;
    assert!(
        features.contains(&format!("<sm xmlns='{SM}'/>")),
        "{features}"
    );
    back.send(&format!("<resume xmlns='{SM}' previd='{id}' h='0'/>"))
        .await;
    // Alice's two presences and her ping were handled.
    let resumed = back.expect("/>").await;
    assert!(
        resumed.contains(&format!("<resumed xmlns='{SM}' previd='{id}' h='3'/>")),
        "{resumed}"
    );
    back.expect("<body>missed</body>").await;
    // Same full JID: a message to it arrives on the new connection.
    user.send(
        "<message to='alice@example.com/home' type='chat' id='m2'><body>again</body></message>",
    )
    .await;
    back.expect("<body>again</body>").await;
    // The id was used: a second resume of it from a third connection takes the session over.
    let (mut third, _) = authenticated(&server, "alice", "wonderland").await;
    third
        .send(&format!("<resume xmlns='{SM}' previd='{id}' h='0'/>"))
        .await;
    third.expect("<resumed").await;
    assert_eq!(stream_error(&back.until_closed().await), "conflict");
}
