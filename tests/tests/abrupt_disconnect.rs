//! RFC 6121 §4.6: a session whose TCP connection drops without `</stream:stream>` is
//! broadcast as unavailable to its subscribers, once it can no longer be resumed (tokio-xmpp
//! enables XEP-0198 resumption; the window is short here, and the client never comes back).

use lampfield_tests::client::from_is;
use lampfield_tests::start_node_with;
use tokio_xmpp::parsers::presence::Type;

#[tokio::test]
async fn dropped_connection_is_seen_as_unavailable() {
    let node = start_node_with(|c| c.c2s.resume_window_s = 1).await;
    // A colleague at business sees the person, from the node's resource.
    let (alice, mut bob, aj) = node.alice_and_bob().await;

    alice.kill(); // the socket is closed under the client: no closing stream tag
    bob.expect_presence("alice unavailable after her TCP connection dropped", |p| {
        p.type_ == Type::Unavailable && from_is(p, &aj)
    })
    .await;
    bob.close().await;
    node.stop().await;
}
