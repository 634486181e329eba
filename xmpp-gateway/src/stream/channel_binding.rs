//! RFC 9266: channel binding data of type `tls-exporter` for the server side of TLS 1.3,
//! for SCRAM-*-PLUS (RFC 5802 §6).
//!
//! rustls' unbuffered connection, which [`super::ServerTls`] drives to keep idle sessions
//! small, has no keying-material exporter. The one place rustls hands the exporter master
//! secret out is its key log, which names the handshake by its client random. So every
//! server configuration gets [`ExporterLog`], which keeps that one secret per handshake;
//! the connection takes its own right after the handshake, by the client random it read
//! in the ClientHello, and computes the RFC 8446 §7.5 exporter from it here. Nothing else
//! of the key schedule is ever logged.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use rustls::crypto::tls13::{HkdfExpander, OkmBlock};
use rustls::{ProtocolVersion, SupportedCipherSuite, Tls13CipherSuite};

/// Bytes of a TLS client random.
const RANDOM_LEN: usize = 32;
/// Bytes of `tls-exporter` channel binding data (RFC 9266 §2).
pub const TLS_EXPORTER_LEN: usize = 32;
/// The exporter label RFC 9266 §2 fixes.
const LABEL: &[u8] = b"EXPORTER-Channel-Binding";
/// The rustls key log label of the exporter master secret (NSS key log format).
const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
/// Secrets kept for handshakes that have not taken theirs yet. A handshake takes its
/// secret as soon as it completes, so only handshakes in flight (or ones that failed after
/// the server's Finished) are here; past this many, the oldest are forgotten and those
/// connections simply offer no -PLUS mechanism.
const CAPTURED_MAX: usize = 4096;

/// Exporter master secrets by client random, between rustls logging them and the
/// connection taking its own.
#[derive(Default)]
struct Captured {
    by_random: HashMap<[u8; RANDOM_LEN], Vec<u8>>,
    order: VecDeque<[u8; RANDOM_LEN]>,
}

/// Process-wide because rustls' key log is a trait object in the shared configuration,
/// which the connection cannot get back as our type; client randoms are unique per
/// handshake, so connections never see each other's entries.
static CAPTURED: Mutex<Option<Captured>> = Mutex::new(None);

/// The rustls key log that keeps the exporter master secret of each TLS 1.3 handshake.
#[derive(Debug, Default)]
pub struct ExporterLog;

impl rustls::KeyLog for ExporterLog {
    fn will_log(&self, label: &str) -> bool {
        label == EXPORTER_SECRET
    }

    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let Ok(random) = <[u8; RANDOM_LEN]>::try_from(client_random) else {
            return;
        };
        if label != EXPORTER_SECRET {
            return;
        }
        let mut guard = CAPTURED.lock().unwrap_or_else(PoisonError::into_inner);
        let captured = guard.get_or_insert_with(Captured::default);
        while captured.order.len() >= CAPTURED_MAX {
            if let Some(old) = captured.order.pop_front() {
                captured.by_random.remove(&old);
            }
        }
        if captured.by_random.insert(random, secret.to_vec()).is_none() {
            captured.order.push_back(random);
        }
    }
}

/// Take the exporter master secret logged for the handshake with `random`.
fn take(random: &[u8; RANDOM_LEN]) -> Option<Vec<u8>> {
    let mut guard = CAPTURED.lock().unwrap_or_else(PoisonError::into_inner);
    let captured = guard.as_mut()?;
    let secret = captured.by_random.remove(random)?;
    captured.order.retain(|r| r != random);
    Some(secret)
}

/// The client random of a ClientHello at the start of `received` (RFC 8446 §4.1.2): a
/// handshake record (type 22) holding a ClientHello (type 1), whose random follows the
/// 5-byte record header, the 4-byte handshake header and the 2-byte legacy version. A
/// HelloRetryRequest's second ClientHello repeats the same random.
pub fn client_random(received: &[u8]) -> Option<[u8; RANDOM_LEN]> {
    const START: usize = 5 + 4 + 2;
    if received.first() != Some(&22) || received.get(5) != Some(&1) {
        return None;
    }
    received.get(START..START + RANDOM_LEN)?.try_into().ok()
}

/// The `tls-exporter` data of a completed handshake, or `None` when it cannot be had
/// (TLS 1.2, or the secret was not logged): then no -PLUS mechanism is offered.
pub fn tls_exporter(
    random: &[u8; RANDOM_LEN],
    version: Option<ProtocolVersion>,
    suite: Option<SupportedCipherSuite>,
) -> Option<[u8; TLS_EXPORTER_LEN]> {
    // Taken in any case, so nothing stays behind for a TLS 1.2 handshake either.
    let secret = take(random)?;
    // RFC 9266 §3: tls-exporter needs TLS 1.3 (or 1.2 with extended master secret, which
    // rustls' key log does not report); we offer it on TLS 1.3 alone.
    match (version, suite) {
        (Some(ProtocolVersion::TLSv1_3), Some(SupportedCipherSuite::Tls13(suite))) => {
            export(suite, &secret)
        }
        _ => None,
    }
}

/// RFC 8446 §7.5 with the RFC 9266 label and an empty context:
/// `HKDF-Expand-Label(Derive-Secret(secret, label, ""), "exporter", Hash(""), 32)`.
fn export(suite: &Tls13CipherSuite, exporter_master: &[u8]) -> Option<[u8; TLS_EXPORTER_LEN]> {
    let hash = suite.common.hash_provider;
    let empty = hash.hash(&[]);
    let mut derived = vec![0u8; hash.output_len()];
    let master = suite
        .hkdf_provider
        .expander_for_okm(&OkmBlock::new(exporter_master));
    expand_label(master.as_ref(), LABEL, empty.as_ref(), &mut derived)?;
    let mut out = [0u8; TLS_EXPORTER_LEN];
    let derived = suite
        .hkdf_provider
        .expander_for_okm(&OkmBlock::new(&derived));
    expand_label(derived.as_ref(), b"exporter", empty.as_ref(), &mut out)?;
    Some(out)
}

/// HKDF-Expand-Label (RFC 8446 §7.1).
fn expand_label(
    expander: &dyn HkdfExpander,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Option<()> {
    let length = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(b"tls13 ".len() + label.len()).ok()?];
    let context_len = [u8::try_from(context.len()).ok()?];
    expander
        .expand_slice(
            &[&length, &label_len, b"tls13 ", label, &context_len, context],
            out,
        )
        .ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn client_random_is_read_from_a_client_hello_only() {
        let mut hello = vec![22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3];
        hello.extend(1..=32u8);
        hello.extend([0; 10]);
        let random = client_random(&hello).unwrap();
        assert_eq!(random[0], 1);
        assert_eq!(random[31], 32);
        assert_eq!(client_random(&hello[..20]), None);
        hello[5] = 2;
        assert_eq!(client_random(&hello), None);
        assert_eq!(client_random(b""), None);
    }

    #[test]
    fn a_secret_is_taken_once_and_the_table_is_bounded() {
        let log = ExporterLog;
        assert!(log.will_log(EXPORTER_SECRET));
        assert!(!log.will_log("CLIENT_TRAFFIC_SECRET_0"));
        let random = [7u8; 32];
        log.log(EXPORTER_SECRET, &random, b"secret");
        log.log("CLIENT_TRAFFIC_SECRET_0", &[8u8; 32], b"never kept");
        assert_eq!(take(&random).as_deref(), Some(&b"secret"[..]));
        assert_eq!(take(&random), None);
        assert_eq!(take(&[8u8; 32]), None);
        for i in 0..(CAPTURED_MAX + 10) {
            let mut r = [0u8; 32];
            r[..8].copy_from_slice(&(i as u64).to_be_bytes());
            r[31] = 0xEE;
            log.log(EXPORTER_SECRET, &r, b"s");
        }
        let len = CAPTURED.lock().unwrap().as_ref().unwrap().by_random.len();
        assert!(len <= CAPTURED_MAX, "{len} secrets kept");
    }
}
