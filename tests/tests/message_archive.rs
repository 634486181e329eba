//! XEP-0313 (Message Archive Management) with a second client library, tokio-xmpp and its
//! xmpp-parsers `mam` and `rsm` types: a MAM query's results and `<fin/>` parse as the
//! specification says, and page with XEP-0059.

use lampfield_tests::client::{TestClient, body};
use lampfield_tests::start_node;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::mam::{Fin, Query, QueryId, Result_};
use tokio_xmpp::parsers::rsm::SetQuery;
use tokio_xmpp::parsers::stanza_id::StanzaId;
use tokio_xmpp::{IqRequest, IqResponse, Stanza};

/// One page of the asker's own archive: each result's body, and the `<fin/>`.
async fn page(
    client: &mut TestClient,
    queryid: &str,
    max: usize,
    after: Option<String>,
) -> (Vec<String>, Fin) {
    let query = Query {
        queryid: Some(QueryId(queryid.to_owned())),
        node: None,
        form: None,
        set: Some(SetQuery {
            max: Some(max),
            after,
            before: None,
            index: None,
        }),
        flip_page: false,
    };
    let fin = match client.iq(IqRequest::Set(Element::from(query))).await {
        IqResponse::Result(Some(el)) => match Fin::try_from(el) {
            Ok(fin) => fin,
            Err(e) => panic!("fin does not parse as XEP-0313 says: {e:?}"),
        },
        other => panic!("MAM query failed: {other:?}"),
    };
    // A forward page holds `max` results, or what is left after its first one.
    let n = match (&fin.set.first, fin.set.count) {
        (Some(first), Some(count)) => max.min(count - first.index.unwrap_or(0)),
        _ => 0,
    };
    let mut bodies = Vec::new();
    for _ in 0..n {
        let result = client
            .expect("a MAM result", |s| match s {
                Stanza::Message(m) => m
                    .payloads
                    .iter()
                    .find_map(|p| Result_::try_from(p.clone()).ok())
                    .filter(|r| r.queryid.as_ref().is_some_and(|q| q.0 == queryid)),
                _ => None,
            })
            .await;
        assert!(
            result.forwarded.delay.is_some(),
            "the archive time is there"
        );
        bodies.push(body(&result.forwarded.message).to_owned());
    }
    (bodies, fin)
}

#[tokio::test]
async fn a_mam_query_pages_through_the_archive() {
    let node = start_node().await;
    let alice = node.online("alice@localhost", "desk", 0).await;
    let mut bob = node.online("bob@localhost", "laptop", 0).await;
    for text in ["one", "two"] {
        alice.chat(bob.bare(), text).await;
        let m = bob
            .expect_message("alice's message", |m| body(m) == text)
            .await;
        let Some(id) = m
            .payloads
            .iter()
            .find_map(|p| StanzaId::try_from(p.clone()).ok())
        else {
            panic!("the delivered copy carries no archive id: {m:?}");
        };
        assert_eq!(id.by, bob.bare());
    }

    let (first, fin) = page(&mut bob, "q1", 1, None).await;
    assert_eq!(first, ["one"]);
    assert!(!fin.complete);
    assert_eq!(fin.set.count, Some(2));
    let (second, fin) = page(&mut bob, "q2", 1, fin.set.last).await;
    assert_eq!(second, ["two"]);
    assert!(fin.complete);
    assert_eq!(fin.set.first.map(|f| f.index), Some(Some(1)));

    alice.close().await;
    bob.close().await;
    node.stop().await;
}
