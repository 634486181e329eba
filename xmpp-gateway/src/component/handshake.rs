//! XEP-0114 §3 (version 1.6): the handshake a component proves its shared secret with, the
//! lowercase hex SHA-1 of the stream id followed by the secret. Pure, tested without sockets.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The handshake value a component with `secret` sends on the stream `stream_id`.
pub(crate) fn expected(stream_id: &str, secret: &str) -> String {
    let digest = Sha1::new()
        .chain_update(stream_id.as_bytes())
        .chain_update(secret.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` (the text of the component's `<handshake/>`) proves `secret` on
/// `stream_id`. Compared in constant time, so the time of a refusal tells nothing of how
/// much of the value was right; hex digits in either case are accepted (the XEP says hex
/// and some libraries send it in upper case).
pub(crate) fn verify(stream_id: &str, secret: &str, given: &str) -> bool {
    let given = given.trim().to_ascii_lowercase();
    bool::from(
        expected(stream_id, secret)
            .as_bytes()
            .ct_eq(given.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_sha1_of_id_then_secret() {
        // Stream id of XEP-0114 §3 Example 2, secret "secret"; the value computed apart with
        // Python's hashlib.sha1(b"3BF96D32secret").hexdigest().
        let id = "3BF96D32";
        let want = "b09ea9b3b7f586be8a08d0a3dd7466f110aeb136";
        assert_eq!(expected(id, "secret"), want);
        assert!(verify(id, "secret", want));
        assert!(verify(id, "secret", &want.to_ascii_uppercase()));
    }

    #[test]
    fn wrong_secret_or_id_or_garbage_is_refused() {
        let good = expected("abc", "s3cret");
        assert!(!verify("abc", "other", &good));
        assert!(!verify("abd", "s3cret", &good));
        assert!(!verify("abc", "s3cret", ""));
        assert!(!verify("abc", "s3cret", &good[..39]));
        assert!(!verify("abc", "s3cret", &format!("{good}0")));
    }
}
