//! The xenstore wire codec: a header and a payload, in both directions.
//!
//! Every message is a 16-byte `struct xsd_sockmsg` ([`XsdSockmsg`]: type,
//! req_id, tx_id, len) followed by `len` payload bytes, `len <=
//! XENSTORE_PAYLOAD_MAX` (4096) "in both directions" (`docs/misc/
//! xenstore.txt`). Payload syntax per type, from that document (`|` is a
//! NUL byte):
//!
//! | type | request | reply |
//! |---|---|---|
//! | `READ` | `path\|` | `value` (binary, no NUL) |
//! | `WRITE` | `path\|value` (value binary, no NUL) | `OK\|` |
//! | `MKDIR`, `RM` | `path\|` | `OK\|` |
//! | `DIRECTORY` | `path\|` | `child\|` zero or more times |
//! | `GET_PERMS` | `path\|` | `perm\|` one or more times |
//! | `SET_PERMS` | `path\|perm\|...` | `OK\|` |
//! | `WATCH`, `UNWATCH` | `path\|token\|` | `OK\|` |
//! | `TRANSACTION_START` | `\|` | `id\|` (decimal) |
//! | `TRANSACTION_END` | `T\|` or `F\|` | `OK\|` |
//! | `WATCH_EVENT` | — | `path\|token\|`, unsolicited, req_id 0 |
//! | `ERROR` | — | `ENOENT\|` etc., req_id and tx_id of the request |
//!
//! [`encode_request`] builds a message from its parts; [`ReplyDecoder`]
//! cuts a byte stream (from the ring) back into [`Message`]s, rejecting a
//! header whose type is unknown or whose length is over the limit. A
//! stream cannot be resynchronised after a bad header, so the decoder then
//! stays failed. The same decoder reads requests at the server's end.

use super::error::XsError;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;
use xen_abi::xs_wire::{XsdSockmsg, XsdSockmsgType, XENSTORE_PAYLOAD_MAX};

/// One whole message, copied out of the ring: a validated header and its
/// payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header's `type`, known to be a valid `xsd_sockmsg_type`.
    pub msg_type: XsdSockmsgType,
    /// The header's `req_id`.
    pub req_id: u32,
    /// The header's `tx_id`.
    pub tx_id: u32,
    /// `len` bytes of payload, `len <= XENSTORE_PAYLOAD_MAX`.
    pub payload: Vec<u8>,
}

impl Message {
    /// The message as it goes on the wire; [`XsError::RequestTooLarge`] if
    /// the payload is over the limit.
    pub fn encode(&self) -> Result<Vec<u8>, XsError> {
        encode_message(self.msg_type, self.req_id, self.tx_id, &self.payload)
    }
}

/// Header followed by `payload`, checking the payload limit.
pub fn encode_message(
    msg_type: XsdSockmsgType,
    req_id: u32,
    tx_id: u32,
    payload: &[u8],
) -> Result<Vec<u8>, XsError> {
    if payload.len() > XENSTORE_PAYLOAD_MAX {
        return Err(XsError::RequestTooLarge {
            len_bytes: payload.len(),
            max_bytes: XENSTORE_PAYLOAD_MAX,
        });
    }
    let header = XsdSockmsg {
        type_: msg_type.as_u32(),
        req_id,
        tx_id,
        len: payload.len() as u32,
    };
    let mut bytes = Vec::with_capacity(XsdSockmsg::BYTES + payload.len());
    bytes.extend_from_slice(&header.to_bytes());
    bytes.extend_from_slice(payload);
    Ok(bytes)
}

/// Bytes the payload of [`encode_request`] takes for these parts.
pub(crate) fn request_payload_len(msg_type: XsdSockmsgType, parts: &[&[u8]]) -> usize {
    let terminators = if msg_type == XsdSockmsgType::Write {
        parts.len().saturating_sub(1)
    } else {
        parts.len()
    };
    parts.iter().map(|part| part.len()).sum::<usize>() + terminators
}

/// Encodes a request: the header, then each part followed by a NUL, as
/// `docs/misc/xenstore.txt` specifies for every request, except that the
/// last part of an `XS_WRITE` (the value, binary data) has no NUL after it.
///
/// `TRANSACTION_START`'s payload is one empty part (a lone NUL);
/// `TRANSACTION_END`'s is `b"T"` or `b"F"`. Errors: a part other than a
/// write's value containing a NUL, an `XS_WRITE` without exactly a path
/// and a value ([`XsError::InvalidArgument`]), or a payload over 4096 bytes
/// ([`XsError::RequestTooLarge`]).
pub fn encode_request(
    msg_type: XsdSockmsgType,
    req_id: u32,
    tx_id: u32,
    payload: &[&[u8]],
) -> Result<Vec<u8>, XsError> {
    let is_write = msg_type == XsdSockmsgType::Write;
    if is_write && payload.len() != 2 {
        return Err(XsError::InvalidArgument {
            what: "XS_WRITE payload",
            detail: format!("expected 2 parts (path, value) but got {}", payload.len()),
        });
    }
    let strings = if is_write { &payload[..1] } else { payload };
    if let Some(index) = strings.iter().position(|part| part.contains(&0)) {
        return Err(XsError::InvalidArgument {
            what: "payload part",
            detail: format!("part {index} of {msg_type} contains a NUL byte"),
        });
    }
    let len_bytes = request_payload_len(msg_type, payload);
    if len_bytes > XENSTORE_PAYLOAD_MAX {
        return Err(XsError::RequestTooLarge {
            len_bytes,
            max_bytes: XENSTORE_PAYLOAD_MAX,
        });
    }
    let mut body = Vec::with_capacity(len_bytes);
    for (index, part) in payload.iter().enumerate() {
        body.extend_from_slice(part);
        if !(is_write && index == 1) {
            body.push(0);
        }
    }
    encode_message(msg_type, req_id, tx_id, &body)
}

/// Cuts a byte stream into [`Message`]s, validating each header.
///
/// Feed it whatever arrives ([`ReplyDecoder::push`], or
/// `XenstoreRing::read_replies`), then take whole messages with
/// [`ReplyDecoder::next_message`]. Memory is bounded by one message in
/// progress (16 + 4096 bytes) plus the whole messages the caller has not
/// taken yet.
#[derive(Debug, Default)]
pub struct ReplyDecoder {
    header: [u8; XsdSockmsg::BYTES],
    header_len: usize,
    /// The validated header of the message in progress.
    current: Option<(XsdSockmsgType, XsdSockmsg)>,
    payload: Vec<u8>,
    ready: VecDeque<Message>,
    /// Set by the first bad header; the stream is unusable after it.
    failed: Option<XsError>,
}

impl ReplyDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `bytes`; returns how many messages they completed. After a
    /// bad header every call returns that error (the byte stream has lost
    /// its framing; reconnect).
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<usize, XsError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut completed = 0;
        while !bytes.is_empty() {
            match self.current {
                None => {
                    let take = (XsdSockmsg::BYTES - self.header_len).min(bytes.len());
                    self.header[self.header_len..self.header_len + take]
                        .copy_from_slice(&bytes[..take]);
                    self.header_len += take;
                    bytes = &bytes[take..];
                    if self.header_len == XsdSockmsg::BYTES {
                        self.header_len = 0;
                        match Self::validate(&XsdSockmsg::from_bytes(&self.header)) {
                            Ok(valid) => self.current = Some(valid),
                            Err(error) => {
                                self.failed = Some(error.clone());
                                return Err(error);
                            }
                        }
                    }
                }
                Some((_, header)) => {
                    let want = header.len as usize - self.payload.len();
                    let take = want.min(bytes.len());
                    self.payload.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                }
            }
            // A header with len 0 is complete as soon as it is read.
            if let Some((msg_type, header)) = self.current {
                if self.payload.len() == header.len as usize {
                    self.ready.push_back(Message {
                        msg_type,
                        req_id: header.req_id,
                        tx_id: header.tx_id,
                        payload: core::mem::take(&mut self.payload),
                    });
                    self.current = None;
                    completed += 1;
                }
            }
        }
        Ok(completed)
    }

    /// Checks the allegations in a header: a known type, a length within
    /// `XENSTORE_PAYLOAD_MAX`.
    fn validate(header: &XsdSockmsg) -> Result<(XsdSockmsgType, XsdSockmsg), XsError> {
        let msg_type = XsdSockmsgType::try_from(header.type_)
            .map_err(|unknown| XsError::malformed("message type", format!("{unknown}")))?;
        if header.len as usize > XENSTORE_PAYLOAD_MAX {
            return Err(XsError::malformed(
                "payload length",
                format!(
                    "expected len <= {XENSTORE_PAYLOAD_MAX} but got {} ({msg_type}, req_id {})",
                    header.len, header.req_id
                ),
            ));
        }
        Ok((msg_type, *header))
    }

    /// The oldest whole message not yet taken.
    pub fn next_message(&mut self) -> Option<Message> {
        self.ready.pop_front()
    }

    /// Whole messages waiting to be taken.
    pub fn ready(&self) -> usize {
        self.ready.len()
    }

    /// Whether bytes of an unfinished message are buffered.
    pub fn is_mid_message(&self) -> bool {
        self.header_len != 0 || self.current.is_some()
    }

    /// The error that stopped the stream, if any.
    pub fn failure(&self) -> Option<&XsError> {
        self.failed.as_ref()
    }

    /// Forgets everything, for a fresh connection.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec;
    use xen_abi::xs_wire::{XS_INVALID, XS_READ};

    fn header(type_: u32, req_id: u32, len: u32) -> [u8; 16] {
        XsdSockmsg {
            type_,
            req_id,
            tx_id: 0,
            len,
        }
        .to_bytes()
    }

    #[test]
    fn write_value_has_no_trailing_nul() {
        let bytes =
            encode_request(XsdSockmsgType::Write, 7, 3, &[b"device/vif/0/state", b"4"]).unwrap();
        let header = XsdSockmsg::from_bytes(bytes[..16].try_into().unwrap());
        assert_eq!(header.type_, 11);
        assert_eq!((header.req_id, header.tx_id), (7, 3));
        assert_eq!(&bytes[16..], b"device/vif/0/state\x004");
        assert_eq!(header.len as usize, bytes.len() - 16);
        // The value may be binary, NULs included.
        let binary = encode_request(XsdSockmsgType::Write, 1, 0, &[b"a", b"x\0y"]).unwrap();
        assert_eq!(&binary[16..], b"a\0x\0y");
    }

    #[test]
    fn other_requests_terminate_every_part() {
        let watch = encode_request(XsdSockmsgType::Watch, 1, 0, &[b"backend", b"tok"]).unwrap();
        assert_eq!(&watch[16..], b"backend\0tok\0");
        let read = encode_request(XsdSockmsgType::Read, 2, 0, &[b"name"]).unwrap();
        assert_eq!(&read[16..], b"name\0");
        let start = encode_request(XsdSockmsgType::TransactionStart, 3, 0, &[b""]).unwrap();
        assert_eq!(&start[16..], b"\0");
        let end = encode_request(XsdSockmsgType::TransactionEnd, 4, 9, &[b"T"]).unwrap();
        assert_eq!(&end[16..], b"T\0");
        let perms = encode_request(XsdSockmsgType::SetPerms, 5, 0, &[b"p", b"n0", b"r1"]).unwrap();
        assert_eq!(&perms[16..], b"p\0n0\0r1\0");
        let empty = encode_request(XsdSockmsgType::ResetWatches, 6, 0, &[]).unwrap();
        assert_eq!(empty.len(), 16);
    }

    #[test]
    fn requests_that_cannot_be_expressed_are_refused() {
        assert!(matches!(
            encode_request(XsdSockmsgType::Read, 1, 0, &[b"a\0b"]),
            Err(XsError::InvalidArgument {
                what: "payload part",
                ..
            })
        ));
        assert!(matches!(
            encode_request(XsdSockmsgType::Write, 1, 0, &[b"a"]),
            Err(XsError::InvalidArgument {
                what: "XS_WRITE payload",
                ..
            })
        ));
        assert!(matches!(
            encode_request(XsdSockmsgType::Write, 1, 0, &[b"a\0", b"v"]),
            Err(XsError::InvalidArgument { .. })
        ));
    }

    #[test]
    fn payload_limit_is_4096_exactly() {
        let path = vec![b'a'; 100];
        let value = vec![b'v'; XENSTORE_PAYLOAD_MAX - 101];
        let ok = encode_request(XsdSockmsgType::Write, 1, 0, &[&path, &value]).unwrap();
        assert_eq!(ok.len(), 16 + 4096);
        let value = vec![b'v'; XENSTORE_PAYLOAD_MAX - 100];
        assert_eq!(
            encode_request(XsdSockmsgType::Write, 1, 0, &[&path, &value]),
            Err(XsError::RequestTooLarge {
                len_bytes: 4097,
                max_bytes: 4096
            })
        );
        // The NUL counts: a 4096-byte path is one too many.
        let long = vec![b'a'; 4096];
        assert!(matches!(
            encode_request(XsdSockmsgType::Read, 1, 0, &[&long]),
            Err(XsError::RequestTooLarge {
                len_bytes: 4097,
                ..
            })
        ));
        assert!(encode_message(XsdSockmsgType::Read, 1, 0, &long).is_ok());
    }

    #[test]
    fn decoder_round_trips_messages_split_anywhere() {
        let messages = [
            Message {
                msg_type: XsdSockmsgType::Read,
                req_id: 1,
                tx_id: 0,
                payload: b"value".to_vec(),
            },
            Message {
                msg_type: XsdSockmsgType::WatchEvent,
                req_id: 0,
                tx_id: 0,
                payload: b"a/b\0tok\0".to_vec(),
            },
            Message {
                msg_type: XsdSockmsgType::Directory,
                req_id: 2,
                tx_id: 5,
                payload: vec![],
            },
            Message {
                msg_type: XsdSockmsgType::Read,
                req_id: 3,
                tx_id: 0,
                payload: vec![0xab; 4096],
            },
        ];
        let stream: Vec<u8> = messages
            .iter()
            .flat_map(|message| message.encode().unwrap())
            .collect();
        for chunk in [1, 3, 15, 16, 17, 1000, stream.len()] {
            let mut decoder = ReplyDecoder::new();
            let mut completed = 0;
            for piece in stream.chunks(chunk) {
                completed += decoder.push(piece).unwrap();
            }
            assert_eq!(completed, messages.len(), "chunk {chunk}");
            assert!(!decoder.is_mid_message());
            assert_eq!(decoder.ready(), messages.len());
            for expected in &messages {
                assert_eq!(decoder.next_message().as_ref(), Some(expected));
            }
            assert_eq!(decoder.next_message(), None);
        }
    }

    #[test]
    fn partial_messages_wait_for_the_rest() {
        let bytes = encode_message(XsdSockmsgType::Read, 1, 0, b"abc").unwrap();
        let mut decoder = ReplyDecoder::new();
        assert_eq!(decoder.push(&bytes[..10]).unwrap(), 0);
        assert!(decoder.is_mid_message());
        assert_eq!(decoder.push(&bytes[10..17]).unwrap(), 0);
        assert_eq!(decoder.next_message(), None);
        assert_eq!(decoder.push(&bytes[17..]).unwrap(), 1);
        assert_eq!(decoder.next_message().unwrap().payload, b"abc");
    }

    #[test]
    fn oversized_length_is_rejected_and_sticks() {
        let mut decoder = ReplyDecoder::new();
        let error = decoder.push(&header(XS_READ, 4, 4097)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "xenstore peer sent a malformed payload length: expected len <= 4096 but got 4097 \
             (XS_READ, req_id 4)"
        );
        assert_eq!(decoder.failure(), Some(&error));
        // Later bytes, even good ones, are refused: the framing is lost.
        let good = encode_message(XsdSockmsgType::Read, 1, 0, b"").unwrap();
        assert_eq!(decoder.push(&good), Err(error));
        assert_eq!(decoder.next_message(), None);
        decoder.reset();
        assert_eq!(decoder.push(&good), Ok(1));
    }

    #[test]
    fn unknown_types_are_rejected() {
        for bad in [20, 23, XS_INVALID, u32::MAX] {
            let mut decoder = ReplyDecoder::new();
            match decoder.push(&header(bad, 1, 0)) {
                Err(XsError::Malformed {
                    what: "message type",
                    detail,
                }) => {
                    assert!(detail.ends_with(&std::format!("but got {bad}")), "{detail}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn messages_before_a_bad_header_are_still_delivered() {
        let mut stream = encode_message(XsdSockmsgType::Read, 1, 0, b"ok").unwrap();
        stream.extend_from_slice(&header(99, 2, 0));
        let mut decoder = ReplyDecoder::new();
        assert!(decoder.push(&stream).is_err());
        assert_eq!(decoder.next_message().unwrap().req_id, 1);
    }

    #[test]
    fn fuzzed_streams_never_panic() {
        // A small deterministic generator: random bytes, and random headers
        // with plausible types and lengths, in random chunks.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut stream = Vec::new();
            for _ in 0..(next() % 6) {
                if next() % 3 == 0 {
                    stream.extend((0..next() % 40).map(|_| next() as u8));
                } else {
                    let len = (next() % 5000) as u32;
                    stream.extend_from_slice(&header((next() % 25) as u32, next() as u32, len));
                    stream.extend((0..len.min(300)).map(|_| next() as u8));
                }
            }
            let mut decoder = ReplyDecoder::new();
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let take = ((next() % 64) as usize + 1).min(rest.len());
                if decoder.push(&rest[..take]).is_err() {
                    break;
                }
                rest = &rest[take..];
            }
            while let Some(message) = decoder.next_message() {
                assert!(message.payload.len() <= XENSTORE_PAYLOAD_MAX);
            }
        }
    }
}
