//! Reading from a transport into a buffer that exists only while it holds bytes, for the
//! XML reader and the TLS stream alike.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Largest read [`poll_read_appending`] makes; a larger request is capped to it.
const MAX_READ: usize = 16 * 1024;

/// Read at most `max` bytes from `io` and append them to `out`; 0 means end of file. The
/// bytes land on the stack first and reach the heap only when some arrived: a poll that
/// finds nothing to read allocates nothing, and thousands of idle sessions hold no read
/// buffer. Cancel-safe, since a pending `poll_read` consumed nothing.
pub(super) fn poll_read_appending<R: AsyncRead + Unpin>(
    io: &mut R,
    cx: &mut Context<'_>,
    max: usize,
    out: &mut Vec<u8>,
) -> Poll<io::Result<usize>> {
    let mut stack = [std::mem::MaybeUninit::<u8>::uninit(); MAX_READ];
    let mut buf = ReadBuf::uninit(&mut stack[..max.clamp(1, MAX_READ)]);
    match Pin::new(io).poll_read(cx, &mut buf) {
        Poll::Ready(Ok(())) => {
            out.extend_from_slice(buf.filled());
            Poll::Ready(Ok(buf.filled().len()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}
