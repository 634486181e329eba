use super::*;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_rustls::client::TlsStream as ClientTls;

fn server_config() -> (Arc<ServerConfig>, CertificateDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec!["example.com".to_owned()]).unwrap();
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config = crate::tls::server_config(vec![cert.clone()], key).unwrap();
    (config, cert)
}

fn client_config(
    cert: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

/// A connected pair over an in-memory pipe of `pipe` bytes (small pipes force partial
/// reads and writes).
async fn pair(
    versions: &[&'static rustls::SupportedProtocolVersion],
    pipe: usize,
) -> (ServerTls<DuplexStream>, ClientTls<DuplexStream>) {
    let (config, cert) = server_config();
    let (client_io, server_io) = tokio::io::duplex(pipe);
    let connector = tokio_rustls::TlsConnector::from(client_config(&cert, versions));
    let name = ServerName::try_from("example.com").unwrap();
    let (server, client) = tokio::join!(
        ServerTls::accept(server_io, config),
        connector.connect(name, client_io)
    );
    (server.unwrap(), client.unwrap())
}

fn holds_no_buffers(tls: &ServerTls<DuplexStream>) -> bool {
    tls.incoming.capacity() == 0 && tls.plaintext.capacity() == 0 && tls.outgoing.capacity() == 0
}

/// Bytes that are not all alike, so a reordering or a lost chunk shows.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Write `out` while reading `expect` bytes, as both ends of a session do.
async fn send_while_receiving<T: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut T,
    out: &[u8],
    expect: usize,
) -> Vec<u8> {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let send = async {
        wr.write_all(out).await.unwrap();
        wr.flush().await.unwrap();
    };
    let mut got = vec![0u8; expect];
    let (_, received) = tokio::join!(send, rd.read_exact(&mut got));
    received.unwrap();
    got
}

async fn exchange_both_ways(versions: &[&'static rustls::SupportedProtocolVersion]) {
    let (mut server, mut client) = pair(versions, 1024).await;
    let to_server = payload(200_000);
    let to_client = payload(150_000);
    let client_side = send_while_receiving(&mut client, &to_server, to_client.len());
    let server_side = send_while_receiving(&mut server, &to_client, to_server.len());
    let (client_got, server_got) = tokio::join!(client_side, server_side);
    assert!(
        client_got == to_client,
        "the client got other bytes than were sent"
    );
    assert!(
        server_got == to_server,
        "the server got other bytes than were sent"
    );
    assert!(
        holds_no_buffers(&server),
        "an idle connection still holds buffers"
    );
}

#[tokio::test]
async fn tls13_carries_data_both_ways_and_idles_without_buffers() {
    exchange_both_ways(&[&rustls::version::TLS13]).await;
}

#[tokio::test]
async fn tls12_carries_data_both_ways_and_idles_without_buffers() {
    exchange_both_ways(&[&rustls::version::TLS12]).await;
}

#[tokio::test]
async fn close_notify_ends_the_stream_on_both_sides() {
    let (mut server, mut client) = pair(&[&rustls::version::TLS13], 4096).await;
    client.write_all(b"last words").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"last words");

    server.write_all(b"goodbye").await.unwrap();
    server.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"goodbye");
    assert!(
        server.write_all(b"more").await.is_err(),
        "wrote after close_notify"
    );
}

#[tokio::test]
async fn a_dropped_transport_reads_as_end_of_stream() {
    let (mut server, client) = pair(&[&rustls::version::TLS13], 4096).await;
    drop(client);
    let mut buf = [0u8; 16];
    assert_eq!(server.read(&mut buf).await.unwrap(), 0);
}

#[tokio::test]
async fn plain_bytes_instead_of_a_client_hello_fail_the_handshake() {
    let (config, _) = server_config();
    let (mut peer, server_io) = tokio::io::duplex(4096);
    peer.write_all(b"<stream:stream xmlns='jabber:client'>")
        .await
        .unwrap();
    let err = ServerTls::accept(server_io, config)
        .await
        .err()
        .expect("handshake succeeded");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    // The peer is told with an alert record (content type 21) before we let go.
    let mut alert = [0u8; 1];
    peer.read_exact(&mut alert).await.unwrap();
    assert_eq!(alert[0], 21);
}

#[tokio::test]
async fn a_peer_gone_in_the_middle_of_the_handshake_is_an_unexpected_eof() {
    let (config, _) = server_config();
    let (peer, server_io) = tokio::io::duplex(4096);
    drop(peer);
    let err = ServerTls::accept(server_io, config)
        .await
        .err()
        .expect("handshake succeeded");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn an_oversized_record_is_refused() {
    let (mut server, client) = pair(&[&rustls::version::TLS13], 4096).await;
    let (mut raw, _) = client.into_inner();
    // An application-data record header claiming 60,000 bytes, more than TLS allows.
    raw.write_all(&[23, 3, 3, 0xea, 0x60]).await.unwrap();
    raw.write_all(&[0u8; 1024]).await.unwrap();
    let mut buf = [0u8; 16];
    let err = server.read(&mut buf).await.expect_err("read succeeded");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn direct_writes_land_between_the_sessions_own_writes() {
    use crate::stream::{Direct, MaybeTls};
    let (server, mut client) = pair(&[&rustls::version::TLS13], 64 * 1024).await;
    let mut io = MaybeTls::Tls(Box::new(server));
    let direct = io.share().unwrap();
    assert_eq!(direct.write_now(b"<a/>"), Direct::Written);
    // The session's own write, handed over and not flushed yet: a direct write now could
    // land inside its element.
    std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, b"<b/>"))
        .await
        .unwrap();
    assert_eq!(direct.write_now(b"<x/>"), Direct::Refused);
    io.flush().await.unwrap();
    assert_eq!(direct.write_now(b"<c/>"), Direct::Written);
    // The session closes its stream: nothing may follow.
    io.end_direct();
    assert_eq!(direct.write_now(b"<y/>"), Direct::Refused);
    let mut got = vec![0u8; 12];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(got, b"<a/><b/><c/>");
}

#[tokio::test]
async fn what_the_socket_does_not_take_from_a_direct_write_the_session_flushes() {
    use crate::stream::{Direct, MaybeTls};
    let (server, mut client) = pair(&[&rustls::version::TLS13], 512).await;
    let mut io = MaybeTls::Tls(Box::new(server));
    let direct = io.share().unwrap();
    let big = payload(5_000);
    assert_eq!(direct.write_now(&big), Direct::Started);
    // The rest waits in the transport: later writes queue behind it.
    assert_eq!(direct.write_now(b"<x/>"), Direct::Refused);
    let mut got = vec![0u8; big.len()];
    let (flushed, read) = tokio::join!(io.flush(), client.read_exact(&mut got));
    flushed.unwrap();
    read.unwrap();
    assert_eq!(got, big);
    assert_eq!(direct.write_now(b"<z/>"), Direct::Written);
}

#[tokio::test]
async fn tls13_channel_binding_matches_the_clients_exporter() {
    // Both cipher suite hashes: SHA-256 (AES-128) and SHA-384 (AES-256).
    for suite in [
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
    ] {
        let (config, cert) = server_config();
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites.retain(|s| s.suite() == suite);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let name = ServerName::try_from("example.com").unwrap();
        let (server, client) = tokio::join!(
            ServerTls::accept(server_io, config),
            connector.connect(name, client_io)
        );
        let (mut server, client) = (server.unwrap(), client.unwrap());
        let expected = client
            .get_ref()
            .1
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", None)
            .unwrap();
        assert_eq!(server.tls_exporter(), Some(&expected), "{suite:?}");
        server.forget_channel_binding();
        assert_eq!(server.tls_exporter(), None);
    }
}

#[tokio::test]
async fn tls12_has_no_channel_binding() {
    let (server, _client) = pair(&[&rustls::version::TLS12], 64 * 1024).await;
    assert_eq!(server.tls_exporter(), None);
}
