//! The xenstore page: `struct xenstore_domain_interface`, from the guest.
//!
//! The page (`start_info.store_mfn`, event channel
//! `start_info.store_evtchn`; [`XenstoreDomainInterface`] in `io/xs_wire.h`)
//! holds two 1024-byte rings. Who writes what:
//!
//! | field | writer |
//! |---|---|
//! | `req[]`, `req_prod` | guest ([`XenstoreRing::write_request`]) |
//! | `req_cons` | xenstored |
//! | `rsp[]`, `rsp_prod` | xenstored |
//! | `rsp_cons` | guest ([`XenstoreRing::read_replies`]) |
//! | `server_features`, `error` | xenstored |
//! | `connection` | guest asks for a reset, xenstored completes it |
//!
//! The rings carry a byte stream, not messages: a 4112-byte request goes
//! through a 1024-byte ring in pieces, so `write_request` takes what fits
//! and returns the count (flow control: when it returns 0, notify and wait
//! for xenstored to consume). `read_replies` moves whatever has arrived into
//! a [`ReplyDecoder`]. Index checks and barriers are those of
//! [`crate::byte_ring`].
//!
//! Neither call notifies: after a non-zero `write_request`, or a
//! `read_replies` that freed space xenstored may be waiting for, the caller
//! sends an event on the store port.

use super::error::XsError;
use super::wire::ReplyDecoder;
use crate::byte_ring::{ByteRingLayout, Consumer, Producer, RingError};
use crate::shared::SharedPage;
use core::mem::offset_of;
use xen_abi::xs_wire::{
    XenstoreDomainInterface, XENSTORE_RING_SIZE, XENSTORE_SERVER_FEATURE_ERROR,
};

/// The `req` ring (guest to xenstored).
pub const REQ_RING: ByteRingLayout = ByteRingLayout {
    interface: "xenstore",
    ring: "req",
    data_offset: offset_of!(XenstoreDomainInterface, req),
    size: XENSTORE_RING_SIZE as u32,
    prod_offset: offset_of!(XenstoreDomainInterface, req_prod),
    cons_offset: offset_of!(XenstoreDomainInterface, req_cons),
};

/// The `rsp` ring (xenstored to guest).
pub const RSP_RING: ByteRingLayout = ByteRingLayout {
    interface: "xenstore",
    ring: "rsp",
    data_offset: offset_of!(XenstoreDomainInterface, rsp),
    size: XENSTORE_RING_SIZE as u32,
    prod_offset: offset_of!(XenstoreDomainInterface, rsp_prod),
    cons_offset: offset_of!(XenstoreDomainInterface, rsp_cons),
};

/// Byte offset of `server_features`.
const SERVER_FEATURES_OFFSET: usize = offset_of!(XenstoreDomainInterface, server_features);
/// Byte offset of `error`.
const ERROR_OFFSET: usize = offset_of!(XenstoreDomainInterface, error);

/// The guest's end of the xenstore page.
#[derive(Debug)]
pub struct XenstoreRing<P> {
    page: P,
    req: Producer,
    rsp: Consumer,
}

impl<P: SharedPage> XenstoreRing<P> {
    /// Attaches to the page, taking up `req_prod` and `rsp_cons` from it.
    pub fn new(page: P) -> Self {
        let req = Producer::attach(&page, REQ_RING);
        let rsp = Consumer::attach(&page, RSP_RING);
        XenstoreRing { page, req, rsp }
    }

    /// Writes as much of `bytes` (the rest of an encoded request) as fits;
    /// returns the count, 0 when the ring is full.
    pub fn write_request(&mut self, bytes: &[u8]) -> Result<usize, RingError> {
        self.req.write(&self.page, bytes)
    }

    /// Moves every byte xenstored has produced (at most one ring's worth:
    /// one load of `rsp_prod`) into `decoder`; returns how many. Take the
    /// whole messages with `decoder.next_message()`.
    ///
    /// Fails on impossible indices ([`XsError::Ring`]) or when the decoder
    /// rejects a header ([`XsError::Malformed`]; the bytes are consumed).
    pub fn read_replies(&mut self, decoder: &mut ReplyDecoder) -> Result<usize, XsError> {
        let mut buffer = [0; XENSTORE_RING_SIZE];
        let count = self.rsp.read(&self.page, &mut buffer)?;
        decoder.push(&buffer[..count])?;
        Ok(count)
    }

    /// Request bytes xenstored has not consumed yet.
    pub fn pending_requests(&self) -> Result<usize, RingError> {
        self.req.pending(&self.page)
    }

    /// Reply bytes waiting to be read.
    pub fn pending_replies(&self) -> Result<usize, RingError> {
        self.rsp.available(&self.page)
    }

    /// The `XENSTORE_ERROR_*` code xenstored reports in `error`, if it
    /// advertises `XENSTORE_SERVER_FEATURE_ERROR` and the code is not
    /// `XENSTORE_ERROR_NONE`. Once set, xenstored has stopped serving the
    /// ring until a reconnection.
    pub fn server_error(&self) -> Option<u32> {
        let features = self.page.load_u32(SERVER_FEATURES_OFFSET);
        if features & XENSTORE_SERVER_FEATURE_ERROR == 0 {
            return None;
        }
        match self.page.load_u32(ERROR_OFFSET) {
            0 => None,
            code => Some(code),
        }
    }

    /// The page.
    pub fn page(&self) -> &P {
        &self.page
    }

    /// Gives the page back.
    pub fn into_page(self) -> P {
        self.page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::test_page::MemoryPage;
    use crate::xenstore::wire::encode_message;
    use std::string::ToString;
    use std::vec::Vec;
    use xen_abi::xs_wire::{XsdSockmsg, XsdSockmsgType, XENSTORE_ERROR_RINGIDX};

    #[test]
    fn layout_matches_xs_wire_h() {
        assert_eq!(REQ_RING.data_offset, 0);
        assert_eq!(RSP_RING.data_offset, 1024);
        assert_eq!(REQ_RING.cons_offset, 2048);
        assert_eq!(REQ_RING.prod_offset, 2052);
        assert_eq!(RSP_RING.cons_offset, 2056);
        assert_eq!(RSP_RING.prod_offset, 2060);
        assert_eq!(SERVER_FEATURES_OFFSET, 2064);
        assert_eq!(ERROR_OFFSET, 2072);
    }

    /// Plays xenstored's producer side: writes `bytes` into `rsp`.
    fn server_reply(page: &MemoryPage, bytes: &[u8]) -> usize {
        Producer::attach(page, RSP_RING).write(page, bytes).unwrap()
    }

    #[test]
    fn a_large_request_goes_through_in_pieces() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        let request = encode_message(XsdSockmsgType::Write, 1, 0, &[b'x'; 3000]).unwrap();
        let mut server = Consumer::attach(&page, REQ_RING);
        let (mut sent, mut received) = (0, Vec::new());
        while sent < request.len() {
            let count = ring.write_request(&request[sent..]).unwrap();
            assert!(count <= 1024);
            sent += count;
            let mut buffer = [0; 700];
            let got = server.read(&page, &mut buffer).unwrap();
            received.extend_from_slice(&buffer[..got]);
        }
        let mut buffer = [0; 1024];
        let got = server.read(&page, &mut buffer).unwrap();
        received.extend_from_slice(&buffer[..got]);
        assert_eq!(received, request);
        assert_eq!(ring.pending_requests().unwrap(), 0);
    }

    #[test]
    fn full_ring_takes_nothing() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        assert_eq!(ring.write_request(&[1; 2000]).unwrap(), 1024);
        assert_eq!(ring.write_request(&[1; 10]).unwrap(), 0);
        assert_eq!(ring.pending_requests().unwrap(), 1024);
    }

    #[test]
    fn replies_reach_the_decoder() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        let mut decoder = ReplyDecoder::new();
        let reply = encode_message(XsdSockmsgType::Read, 3, 0, b"value").unwrap();
        server_reply(&page, &reply[..10]);
        assert_eq!(ring.pending_replies().unwrap(), 10);
        assert_eq!(ring.read_replies(&mut decoder).unwrap(), 10);
        assert_eq!(decoder.next_message(), None);
        Producer::attach(&page, RSP_RING)
            .write(&page, &reply[10..])
            .unwrap();
        assert_eq!(ring.read_replies(&mut decoder).unwrap(), reply.len() - 10);
        let message = decoder.next_message().unwrap();
        assert_eq!(
            (message.req_id, message.payload.as_slice()),
            (3, &b"value"[..])
        );
        assert_eq!(ring.read_replies(&mut decoder).unwrap(), 0);
    }

    #[test]
    fn corrupt_rsp_prod_is_a_ring_error() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        page.store_u32(RSP_RING.prod_offset, 1025);
        let error = ring.read_replies(&mut ReplyDecoder::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "xenstore rsp ring indices corrupt: rsp_prod 1025 - rsp_cons 0 > 1024"
        );
        assert_eq!(page.load_u32(RSP_RING.cons_offset), 0);
    }

    #[test]
    fn corrupt_req_cons_is_a_ring_error() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        ring.write_request(b"abcd").unwrap();
        // u32::MAX would be legal (5 bytes behind); 5 is one byte ahead of
        // what was produced.
        page.store_u32(REQ_RING.cons_offset, u32::MAX);
        assert_eq!(ring.pending_requests(), Ok(5));
        page.store_u32(REQ_RING.cons_offset, 5);
        assert!(matches!(
            ring.write_request(b"efgh"),
            Err(RingError::Corrupt {
                ring: "req",
                producer: 4,
                consumer: 5,
                size: 1024,
                ..
            })
        ));
    }

    #[test]
    fn an_oversized_reply_header_is_malformed() {
        let page = MemoryPage::new();
        let mut ring = XenstoreRing::new(&page);
        let header = XsdSockmsg {
            type_: XsdSockmsgType::Read.as_u32(),
            req_id: 1,
            tx_id: 0,
            len: 100_000,
        };
        server_reply(&page, &header.to_bytes());
        let mut decoder = ReplyDecoder::new();
        assert!(matches!(
            ring.read_replies(&mut decoder),
            Err(XsError::Malformed {
                what: "payload length",
                ..
            })
        ));
        // The bytes were consumed; the decoder stays failed.
        assert_eq!(ring.pending_replies().unwrap(), 0);
        assert!(decoder.failure().is_some());
    }

    #[test]
    fn server_error_needs_the_feature_bit() {
        let page = MemoryPage::new();
        let ring = XenstoreRing::new(&page);
        page.store_u32(ERROR_OFFSET, XENSTORE_ERROR_RINGIDX);
        assert_eq!(ring.server_error(), None);
        page.store_u32(SERVER_FEATURES_OFFSET, XENSTORE_SERVER_FEATURE_ERROR);
        assert_eq!(ring.server_error(), Some(XENSTORE_ERROR_RINGIDX));
        page.store_u32(ERROR_OFFSET, 0);
        assert_eq!(ring.server_error(), None);
        assert!(core::ptr::eq(*ring.page(), &page));
        assert!(core::ptr::eq(ring.into_page(), &page));
    }
}
