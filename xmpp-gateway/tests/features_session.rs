//! Resource binding, ping and unknown iqs through the router.

mod features_support;

use features_support::*;
use lampfield_xmpp::router::Outgoing;

#[tokio::test]
async fn bind_generates_and_conflict_takes_over() {
    let (router, _) = router(&["alice"]);
    let a = Client::login(&router, "alice", None).await;
    assert!(!a.jid.resource().as_str().is_empty());
    let mut r1 = Client::login(&router, "alice", Some("phone")).await;
    let mut r2 = Client::login(&router, "alice", Some("phone")).await;
    assert_eq!(r1.jid, r2.jid);
    assert!(matches!(r1.next().await, Outgoing::Close("conflict")));
    // The old session's unbind leaves the new one in place.
    router.unbind(&r1.jid).await;
    r2.send("<iq type='get' id='p' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    let got = r2.drain();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attr("type"), Some("result"));
}

#[tokio::test]
async fn ping_server_and_unknown_iq() {
    let (router, _) = router(&["alice"]);
    let mut a = Client::login(&router, "alice", Some("r")).await;
    a.send("<iq type='get' id='p1' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await;
    a.send("<iq type='get' id='u1' to='example.org'><query xmlns='urn:unknown'/></iq>")
        .await;
    a.send("<iq type='result' id='r1' to='example.org'/>").await;
    a.send("<iq type='get' id='bad'><a xmlns='x'/><b xmlns='y'/></iq>")
        .await;
    let got = a.drain();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].attr("id"), Some("p1"));
    assert_eq!(got[0].attr("type"), Some("result"));
    assert_eq!(got[0].attr("from"), Some("example.org"));
    assert_eq!(got[1].attr("id"), Some("u1"));
    assert_eq!(
        error_condition(&got[1]).as_deref(),
        Some("service-unavailable")
    );
    assert_eq!(got[2].attr("id"), Some("bad"));
    assert_eq!(error_condition(&got[2]).as_deref(), Some("bad-request"));
}
