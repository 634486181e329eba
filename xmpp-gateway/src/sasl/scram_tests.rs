use super::*;
use crate::sasl::derive_credentials;

/// Run the server side of a full exchange and return the server-first and
/// server-final messages.
fn exchange(
    hash: ScramHash,
    salt_b64: &str,
    client_first: &str,
    server_nonce: &str,
    client_final: &str,
) -> (String, Result<Vec<u8>, SaslError>) {
    let salt = B64.decode(salt_b64).unwrap();
    let creds = derive_credentials("pencil", hash, &salt, 4096);
    let first = ClientFirst::parse(hash, client_first.as_bytes()).unwrap();
    assert_eq!(first.username(), "user");
    let (server_first, next) = first.challenge_with_nonce(&creds, true, server_nonce);
    (
        String::from_utf8(server_first).unwrap(),
        next.finish(client_final.as_bytes()),
    )
}

#[test]
fn rfc5802_sha1_example() {
    let (server_first, fin) = exchange(
        ScramHash::Sha1,
        "QSXCR+Q6sek8bf92",
        "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
        "3rfcNHYJY1ZVvWVs7j",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    assert_eq!(
        server_first,
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
    );
    assert_eq!(fin.unwrap(), b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

const SHA256_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const SHA256_SNONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const SHA256_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

#[test]
fn rfc7677_sha256_example() {
    let (server_first, fin) = exchange(
        ScramHash::Sha256,
        "W22ZaJ0SNY7soEsUEjb6gQ==",
        SHA256_FIRST,
        SHA256_SNONCE,
        SHA256_FINAL,
    );
    assert_eq!(
        server_first,
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    );
    assert_eq!(
        fin.unwrap(),
        b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    );
}

#[test]
fn wrong_password_and_fake_keys_fail_the_same_way() {
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let wrong = derive_credentials("pencil2", ScramHash::Sha256, &salt, 4096);
    let first = ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes()).unwrap();
    let (_, next) = first.challenge_with_nonce(&wrong, true, SHA256_SNONCE);
    assert_eq!(
        next.finish(SHA256_FINAL.as_bytes()),
        Err(SaslError::NotAuthorized)
    );

    // Right keys, but flagged as fake: still refused.
    let right = derive_credentials("pencil", ScramHash::Sha256, &salt, 4096);
    let first = ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes()).unwrap();
    let (_, next) = first.challenge_with_nonce(&right, false, SHA256_SNONCE);
    assert_eq!(
        next.finish(SHA256_FINAL.as_bytes()),
        Err(SaslError::NotAuthorized)
    );
}

#[test]
fn tampered_nonce_or_binding_is_refused() {
    let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
    let creds = derive_credentials("pencil", ScramHash::Sha256, &salt, 4096);
    for bad in [
        SHA256_FINAL.replace("r=rOpr", "r=XOpr"),
        SHA256_FINAL.replace("c=biws", "c=eSws"),
        SHA256_FINAL.replace(",p=", ",x="),
        "c=biws".to_owned(),
    ] {
        let first = ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes()).unwrap();
        let (_, next) = first.challenge_with_nonce(&creds, true, SHA256_SNONCE);
        assert_eq!(
            next.finish(bad.as_bytes()),
            Err(SaslError::MalformedRequest),
            "{bad}"
        );
    }
}

#[test]
fn gs2_headers() {
    let y = ClientFirst::parse(ScramHash::Sha256, b"y,,n=user,r=abc").unwrap();
    assert_eq!(y.gs2_header, "y,,");
    let a = ClientFirst::parse(ScramHash::Sha256, b"n,a=user@example.com,n=user,r=abc").unwrap();
    assert_eq!(a.authzid(), Some("user@example.com"));
    assert_eq!(
        ClientFirst::parse(ScramHash::Sha256, b"p=tls-exporter,,n=user,r=abc").unwrap_err(),
        SaslError::ChannelBindingNotSupported
    );
    for bad in [
        &b"x,,n=user,r=abc"[..],
        b"n,,r=abc",
        b"n,,n=user",
        b"n,,n=,r=a",
        b"n,,n=u=41,r=a",
        b"n,,m=x,n=u,r=a",
    ] {
        assert!(ClientFirst::parse(ScramHash::Sha256, bad).is_err());
    }
    let esc = ClientFirst::parse(ScramHash::Sha1, b"n,,n=a=2Cb=3Dc,r=abc").unwrap();
    assert_eq!(esc.username(), "a,b=c");
}
