//! The byte layout of an envelope: a fixed magic, then length-prefixed fields.
//!
//! Every variable field is preceded by its length as a big-endian u32, so no two
//! different field lists can produce the same bytes (the classic concatenation
//! ambiguity of naive signing schemes). The reader checks every length against the
//! bytes actually left and against a per-field maximum before allocating.

use crate::error::EnvelopeError;

/// Appends `field` with its length prefix.
pub(crate) fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    // Callers bound every field far below u32::MAX before encoding.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

/// A cursor over received bytes that never reads past the end.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EnvelopeError> {
        if self.rest.len() < n {
            return Err(EnvelopeError::Malformed(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, EnvelopeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, EnvelopeError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A length-prefixed field of at most `max` bytes.
    pub(crate) fn field(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], EnvelopeError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(EnvelopeError::TooLarge(what));
        }
        self.take(len, what)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn field_round_trip() {
        let mut out = Vec::new();
        put_field(&mut out, b"abc");
        put_field(&mut out, b"");
        let mut r = Reader::new(&out);
        assert_eq!(r.field(10, "a").unwrap(), b"abc");
        assert_eq!(r.field(10, "b").unwrap(), b"");
        assert!(r.is_empty());
    }

    #[test]
    fn length_beyond_input_is_malformed_not_a_panic() {
        let mut r = Reader::new(&[0, 0, 0, 200, 1, 2]);
        assert_eq!(r.field(1000, "x"), Err(EnvelopeError::Malformed("x")));
    }

    #[test]
    fn length_beyond_maximum_is_refused_before_reading() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.field(16, "x"), Err(EnvelopeError::TooLarge("x")));
    }
}
