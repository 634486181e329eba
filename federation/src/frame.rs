//! The request/response protocol `/lampfield/federation/1` (spec: docs/PROTOCOL.md,
//! "Federation wire"): one length-prefixed frame each way per stream.
//!
//! A frame is a tag byte followed by a signed envelope (hello, ask, answer) or a
//! one-byte refusal reason. The length prefix is checked against the configured
//! maximum before anything is allocated, so a peer cannot make us buffer more than
//! one envelope's worth per stream.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// The protocol name negotiated on each stream.
pub(crate) const PROTOCOL: StreamProtocol = StreamProtocol::new("/lampfield/federation/1");

const TAG_HELLO: u8 = 1;
const TAG_ASK: u8 = 2;
const TAG_ANSWER: u8 = 3;
const TAG_REFUSED: u8 = 4;

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests in flight or too fast.
    Busy,
    /// The asker has not proven its organization on this connection, or its envelope
    /// failed verification.
    NotAllowed,
    /// The payload type is not served here.
    Unsupported,
    /// The node had no answer in time.
    NoAnswer,
}

impl Refusal {
    fn code(self) -> u8 {
        match self {
            Self::Busy => 1,
            Self::NotAllowed => 2,
            Self::Unsupported => 3,
            Self::NoAnswer => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Busy,
            2 => Self::NotAllowed,
            3 => Self::Unsupported,
            4 => Self::NoAnswer,
            _ => return None,
        })
    }
}

/// One message of the protocol. Envelope bytes are kept encoded: they are parsed and
/// verified by the service, not by the codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// The sender's organization, bound to its peer id.
    Hello(Vec<u8>),
    /// A request.
    Ask(Vec<u8>),
    /// The answer to a request.
    Answer(Vec<u8>),
    /// No answer, and why.
    Refused(Refusal),
}

impl Frame {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let (tag, body): (u8, &[u8]) = match self {
            Self::Hello(b) => (TAG_HELLO, b),
            Self::Ask(b) => (TAG_ASK, b),
            Self::Answer(b) => (TAG_ANSWER, b),
            Self::Refused(r) => return vec![TAG_REFUSED, r.code()],
        };
        let mut out = Vec::with_capacity(1 + body.len());
        out.push(tag);
        out.extend_from_slice(body);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> io::Result<Self> {
        let Some((&tag, body)) = bytes.split_first() else {
            return Err(invalid("empty frame"));
        };
        match tag {
            TAG_HELLO => Ok(Self::Hello(body.to_vec())),
            TAG_ASK => Ok(Self::Ask(body.to_vec())),
            TAG_ANSWER => Ok(Self::Answer(body.to_vec())),
            TAG_REFUSED => match body {
                [code] => Refusal::from_code(*code)
                    .map(Self::Refused)
                    .ok_or_else(|| invalid("unknown refusal")),
                _ => Err(invalid("refusal length")),
            },
            _ => Err(invalid("unknown frame tag")),
        }
    }
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Length-prefixed frames of at most `max_frame` bytes.
#[derive(Debug, Clone)]
pub(crate) struct FrameCodec {
    pub(crate) max_frame: usize,
}

impl FrameCodec {
    async fn read<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Frame> {
        let mut len = [0u8; 4];
        io.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len) as usize;
        if len > self.max_frame {
            return Err(invalid("frame too large"));
        }
        let mut buf = vec![0u8; len];
        io.read_exact(&mut buf).await?;
        Frame::decode(&buf)
    }

    async fn write<T: AsyncWrite + Unpin + Send>(
        &self,
        io: &mut T,
        frame: Frame,
    ) -> io::Result<()> {
        let bytes = frame.encode();
        if bytes.len() > self.max_frame {
            return Err(invalid("frame too large"));
        }
        let len = u32::try_from(bytes.len()).map_err(|_| invalid("frame too large"))?;
        io.write_all(&len.to_be_bytes()).await?;
        io.write_all(&bytes).await?;
        io.flush().await
    }
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Frame;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        self.read(io).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        self.read(io).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Frame,
    ) -> io::Result<()> {
        self.write(io, req).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Frame,
    ) -> io::Result<()> {
        self.write(io, res).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn codec() -> FrameCodec {
        FrameCodec { max_frame: 64 }
    }

    #[test]
    fn frames_round_trip() {
        for f in [
            Frame::Hello(b"h".to_vec()),
            Frame::Ask(vec![]),
            Frame::Answer(b"abc".to_vec()),
            Frame::Refused(Refusal::Busy),
            Frame::Refused(Refusal::NoAnswer),
        ] {
            assert_eq!(Frame::decode(&f.encode()).unwrap(), f);
        }
    }

    #[test]
    fn unknown_tags_and_bad_refusals_are_errors() {
        assert!(Frame::decode(&[]).is_err());
        assert!(Frame::decode(&[9, 1]).is_err());
        assert!(Frame::decode(&[TAG_REFUSED]).is_err());
        assert!(Frame::decode(&[TAG_REFUSED, 77]).is_err());
    }

    #[test]
    fn codec_round_trip_over_a_stream() {
        futures::executor::block_on(async {
            let mut buf = Vec::new();
            codec()
                .write(&mut buf, Frame::Ask(b"x".to_vec()))
                .await
                .unwrap();
            let mut rd = futures::io::Cursor::new(buf);
            assert_eq!(
                codec().read(&mut rd).await.unwrap(),
                Frame::Ask(b"x".to_vec())
            );
        });
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        futures::executor::block_on(async {
            let mut rd = futures::io::Cursor::new(vec![0xff, 0xff, 0xff, 0xff]);
            let err = codec().read(&mut rd).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let mut out = Vec::new();
            assert!(
                codec()
                    .write(&mut out, Frame::Ask(vec![0; 100]))
                    .await
                    .is_err()
            );
        });
    }

    #[test]
    fn a_truncated_frame_is_an_error_not_a_hang() {
        futures::executor::block_on(async {
            let mut rd = futures::io::Cursor::new(vec![0, 0, 0, 10, TAG_ASK, 1]);
            assert!(codec().read(&mut rd).await.is_err());
        });
    }
}
