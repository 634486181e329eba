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
    let first = ClientFirst::parse(hash, client_first.as_bytes(), NO_PLUS).unwrap();
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
    let first = ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes(), NO_PLUS).unwrap();
    let (_, next) = first.challenge_with_nonce(&wrong, true, SHA256_SNONCE);
    assert_eq!(
        next.finish(SHA256_FINAL.as_bytes()),
        Err(SaslError::NotAuthorized)
    );

    // Right keys, but flagged as fake: still refused.
    let right = derive_credentials("pencil", ScramHash::Sha256, &salt, 4096);
    let first = ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes(), NO_PLUS).unwrap();
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
        let first =
            ClientFirst::parse(ScramHash::Sha256, SHA256_FIRST.as_bytes(), NO_PLUS).unwrap();
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
    let y = ClientFirst::parse(ScramHash::Sha256, b"y,,n=user,r=abc", NO_PLUS).unwrap();
    assert_eq!(y.gs2_header, "y,,");
    let a = ClientFirst::parse(
        ScramHash::Sha256,
        b"n,a=user@example.com,n=user,r=abc",
        NO_PLUS,
    )
    .unwrap();
    assert_eq!(a.authzid(), Some("user@example.com"));
    assert_eq!(
        ClientFirst::parse(ScramHash::Sha256, b"p=tls-exporter,,n=user,r=abc", NO_PLUS)
            .unwrap_err(),
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
        assert!(ClientFirst::parse(ScramHash::Sha256, bad, NO_PLUS).is_err());
    }
    let esc = ClientFirst::parse(ScramHash::Sha1, b"n,,n=a=2Cb=3Dc,r=abc", NO_PLUS).unwrap();
    assert_eq!(esc.username(), "a,b=c");
}

/// No -PLUS mechanism on the stream.
const NO_PLUS: Binding<'static> = Binding::Without {
    plus_offered: false,
};

/// One exchange driven by the `sasl` crate's client with `client_binding`, against our
/// server expecting `server_binding`.
fn with_client(
    client_binding: sasl::common::ChannelBinding,
    server_binding: Binding<'_>,
) -> Result<(), SaslError> {
    use sasl::client::Mechanism as _;
    use sasl::client::mechanisms::Scram;
    let mut client =
        Scram::<sasl::common::scram::Sha256>::new("user", "pencil", client_binding).unwrap();
    let creds = derive_credentials("pencil", ScramHash::Sha256, b"salt-salt-salt-1", 4096);
    let first = ClientFirst::parse(ScramHash::Sha256, &client.initial(), server_binding)?;
    let (server_first, next) = first.challenge(&creds, true);
    let client_final = client.response(&server_first).unwrap();
    let server_final = next.finish(&client_final)?;
    client.success(&server_final).unwrap();
    Ok(())
}

#[test]
fn plus_binds_to_the_tls_exporter_data() {
    use sasl::common::ChannelBinding;
    let data = [9u8; 32];
    assert_eq!(
        with_client(
            ChannelBinding::TlsExporter(data.to_vec()),
            Binding::Plus(&data)
        ),
        Ok(())
    );
    // The client's TLS connection is not ours (a relay in between): other data.
    assert_eq!(
        with_client(
            ChannelBinding::TlsExporter(vec![1u8; 32]),
            Binding::Plus(&data)
        ),
        Err(SaslError::NotAuthorized)
    );
    // tls-unique is not a type we bind to.
    assert_eq!(
        with_client(
            ChannelBinding::TlsUnique(vec![1u8; 12]),
            Binding::Plus(&data)
        ),
        Err(SaslError::UnsupportedBindingType)
    );
    // A -PLUS mechanism with a client that does not bind.
    assert_eq!(
        with_client(ChannelBinding::None, Binding::Plus(&data)),
        Err(SaslError::MalformedRequest)
    );
}

#[test]
fn a_client_that_could_bind_is_refused_when_plus_was_advertised() {
    use sasl::common::ChannelBinding;
    // `y`: the client supports binding and believes the server does not.
    let downgrade = with_client(
        ChannelBinding::Unsupported,
        Binding::Without { plus_offered: true },
    );
    assert_eq!(downgrade, Err(SaslError::BindingDowngrade));
    assert_eq!(with_client(ChannelBinding::Unsupported, NO_PLUS), Ok(()));
    assert_eq!(
        with_client(
            ChannelBinding::None,
            Binding::Without { plus_offered: true }
        ),
        Ok(())
    );
}
