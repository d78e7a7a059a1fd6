//! The PV console ring: `io/console.h`, from the guest's side.
//!
//! A domU's console is one page (`start_info.console.domU.mfn`, event
//! channel `start_info.console.domU.evtchn`) holding `struct
//! xencons_interface` ([`XenconsInterface`]): a 2048-byte `out` ring from
//! the guest to the console backend (xenconsoled) and a 1024-byte `in` ring
//! back. Who writes what:
//!
//! | field | writer |
//! |---|---|
//! | `out[]`, `out_prod` | guest ([`ConsoleRing::write`]) |
//! | `out_cons` | backend |
//! | `in[]`, `in_prod` | backend |
//! | `in_cons` | guest ([`ConsoleRing::read`]) |
//!
//! [`ConsoleRing`] is a [`Producer`] on `out` and a [`Consumer`] on `in`
//! (see [`crate::byte_ring`] for the index checks and the barriers). It does
//! no notification: after a write that returned more than zero, or a read
//! that freed space, the caller sends an event on the console port; when
//! `write` returns 0 the ring is full and the caller waits for the backend's
//! event. The backend's end is the same two halves with the rings swapped,
//! [`OUT_RING`] consumed and [`IN_RING`] produced, which is what
//! `test_utils::ConsolePeer` does.

use crate::byte_ring::{ByteRingLayout, Consumer, Producer, RingError};
use crate::shared::SharedPage;
use core::mem::offset_of;
use xen_abi::console::{XenconsInterface, XENCONS_IN_RING_BYTES, XENCONS_OUT_RING_BYTES};

/// The `out` ring (guest to backend) of `struct xencons_interface`.
pub const OUT_RING: ByteRingLayout = ByteRingLayout {
    interface: "console",
    ring: "out",
    data_offset: offset_of!(XenconsInterface, out),
    size: XENCONS_OUT_RING_BYTES as u32,
    prod_offset: offset_of!(XenconsInterface, out_prod),
    cons_offset: offset_of!(XenconsInterface, out_cons),
};

/// The `in` ring (backend to guest) of `struct xencons_interface`.
pub const IN_RING: ByteRingLayout = ByteRingLayout {
    interface: "console",
    ring: "in",
    data_offset: offset_of!(XenconsInterface, in_),
    size: XENCONS_IN_RING_BYTES as u32,
    prod_offset: offset_of!(XenconsInterface, in_prod),
    cons_offset: offset_of!(XenconsInterface, in_cons),
};

/// The guest's end of the PV console page.
#[derive(Debug)]
pub struct ConsoleRing<P> {
    page: P,
    out: Producer,
    input: Consumer,
}

impl<P: SharedPage> ConsoleRing<P> {
    /// Attaches to the console page, taking up `out_prod` and `in_cons` from
    /// it (the backend may already have queued input, and a previous kernel
    /// may have left output).
    pub fn new(page: P) -> Self {
        let out = Producer::attach(&page, OUT_RING);
        let input = Consumer::attach(&page, IN_RING);
        ConsoleRing { page, out, input }
    }

    /// Copies as many of `bytes` as fit into `out` and publishes them;
    /// returns the count, 0 when the ring is full. Notify the console port
    /// after a non-zero return.
    pub fn write(&mut self, bytes: &[u8]) -> Result<usize, RingError> {
        self.out.write(&self.page, bytes)
    }

    /// Copies up to `out.len()` bytes of input from `in` and frees their
    /// space; returns the count, 0 when there is none.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, RingError> {
        self.input.read(&self.page, out)
    }

    /// Output bytes the backend has not consumed yet (0 once it has drained
    /// everything: useful before a shutdown).
    pub fn pending_output(&self) -> Result<usize, RingError> {
        self.out.pending(&self.page)
    }

    /// Input bytes waiting to be read.
    pub fn pending_input(&self) -> Result<usize, RingError> {
        self.input.available(&self.page)
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
    use crate::shared::test_page::{Access, MemoryPage, TracingPage};
    use crate::test_utils::ConsolePeer;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn layout_matches_console_h() {
        // struct xencons_interface: in[1024], out[2048], in_cons, in_prod,
        // out_cons, out_prod.
        assert_eq!(IN_RING.data_offset, 0);
        assert_eq!(OUT_RING.data_offset, 1024);
        assert_eq!(IN_RING.cons_offset, 3072);
        assert_eq!(IN_RING.prod_offset, 3076);
        assert_eq!(OUT_RING.cons_offset, 3080);
        assert_eq!(OUT_RING.prod_offset, 3084);
    }

    #[test]
    fn output_reaches_the_backend() {
        let page = MemoryPage::new();
        let mut console = ConsoleRing::new(&page);
        let mut peer = ConsolePeer::new(&page);
        assert_eq!(console.write(b"hello, xenconsoled\n").unwrap(), 19);
        assert_eq!(console.pending_output().unwrap(), 19);
        assert_eq!(peer.drain_output().unwrap(), b"hello, xenconsoled\n");
        assert_eq!(console.pending_output().unwrap(), 0);
    }

    #[test]
    fn input_reaches_the_guest() {
        let page = MemoryPage::new();
        let mut console = ConsoleRing::new(&page);
        let mut peer = ConsolePeer::new(&page);
        assert_eq!(peer.feed_input(b"ls\r").unwrap(), 3);
        assert_eq!(console.pending_input().unwrap(), 3);
        let mut buffer = [0; 2];
        assert_eq!(console.read(&mut buffer).unwrap(), 2);
        assert_eq!(&buffer, b"ls");
        assert_eq!(console.read(&mut buffer).unwrap(), 1);
        assert_eq!(buffer[0], b'\r');
        assert_eq!(console.read(&mut buffer).unwrap(), 0);
    }

    #[test]
    fn a_full_ring_takes_nothing_until_the_backend_drains() {
        let page = MemoryPage::new();
        let mut console = ConsoleRing::new(&page);
        let mut peer = ConsolePeer::new(&page);
        let big: Vec<u8> = (0..3000u32).map(|i| (i % 256) as u8).collect();
        assert_eq!(console.write(&big).unwrap(), 2048);
        assert_eq!(console.write(&big[2048..]).unwrap(), 0);
        assert_eq!(peer.drain_output().unwrap(), &big[..2048]);
        assert_eq!(console.write(&big[2048..]).unwrap(), 952);
        assert_eq!(peer.drain_output().unwrap(), &big[2048..]);
    }

    #[test]
    fn long_streams_wrap_both_rings_from_near_u32_max() {
        let page = MemoryPage::new();
        for offset in [
            IN_RING.prod_offset,
            IN_RING.cons_offset,
            OUT_RING.prod_offset,
            OUT_RING.cons_offset,
        ] {
            page.store_u32(offset, u32::MAX - 100);
        }
        let mut console = ConsoleRing::new(&page);
        let mut peer = ConsolePeer::new(&page);
        let text: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let (mut sent, mut echoed) = (0, Vec::new());
        let mut output = Vec::new();
        while sent < text.len() || output.len() < text.len() {
            sent += console
                .write(&text[sent..(sent + 700).min(text.len())])
                .unwrap();
            let drained = peer.drain_output().unwrap();
            // The backend echoes what it got, as a terminal would.
            let mut fed = 0;
            while fed < drained.len() {
                fed += peer.feed_input(&drained[fed..]).unwrap();
                let mut buffer = [0; 333];
                loop {
                    let count = console.read(&mut buffer).unwrap();
                    if count == 0 {
                        break;
                    }
                    echoed.extend_from_slice(&buffer[..count]);
                }
            }
            output.extend_from_slice(&drained);
        }
        assert_eq!(output, text);
        assert_eq!(echoed, text);
        assert!(
            page.load_u32(OUT_RING.prod_offset) < 20_000,
            "indices wrapped"
        );
    }

    #[test]
    fn bogus_out_cons_is_reported_and_nothing_is_written() {
        let page = MemoryPage::new();
        let mut console = ConsoleRing::new(&page);
        console.write(b"abc").unwrap();
        // The backend claims to have consumed more than was produced.
        page.store_u32(OUT_RING.cons_offset, 5000);
        let error = console.write(b"more").unwrap_err();
        assert_eq!(
            error,
            RingError::Corrupt {
                interface: "console",
                ring: "out",
                producer: 3,
                consumer: 5000,
                size: 2048
            }
        );
        assert_eq!(
            error.to_string(),
            "console out ring indices corrupt: out_prod 3 - out_cons 5000 > 2048"
        );
        assert_eq!(page.load_u32(OUT_RING.prod_offset), 3);
        assert!(console.pending_output().is_err());
    }

    #[test]
    fn out_prod_from_a_previous_user_is_checked_against_out_cons() {
        // As in the brief's example: a page left with out_prod 5000 and
        // out_cons 1 is not a possible state.
        let page = MemoryPage::new();
        page.store_u32(OUT_RING.prod_offset, 5000);
        page.store_u32(OUT_RING.cons_offset, 1);
        let mut console = ConsoleRing::new(&page);
        assert_eq!(
            console.write(b"x").unwrap_err().to_string(),
            "console out ring indices corrupt: out_prod 5000 - out_cons 1 > 2048"
        );
    }

    #[test]
    fn bogus_in_prod_is_reported_and_nothing_is_read() {
        let page = MemoryPage::new();
        let mut console = ConsoleRing::new(&page);
        page.write_bytes(IN_RING.data_offset, &[b'!'; 1024]);
        page.store_u32(IN_RING.prod_offset, 1025);
        let mut buffer = [0; 2048];
        let error = console.read(&mut buffer).unwrap_err();
        assert_eq!(
            error.to_string(),
            "console in ring indices corrupt: in_prod 1025 - in_cons 0 > 1024"
        );
        assert_eq!(buffer, [0; 2048]);
        assert_eq!(page.load_u32(IN_RING.cons_offset), 0);
        assert!(console.pending_input().is_err());
    }

    #[test]
    fn in_prod_wrapping_behind_in_cons_is_corrupt() {
        let page = MemoryPage::new();
        page.store_u32(IN_RING.prod_offset, 2);
        page.store_u32(IN_RING.cons_offset, 2);
        let mut console = ConsoleRing::new(&page);
        page.store_u32(IN_RING.prod_offset, 1);
        assert!(matches!(
            console.read(&mut [0; 8]),
            Err(RingError::Corrupt {
                ring: "in",
                producer: 1,
                consumer: 2,
                ..
            })
        ));
    }

    #[test]
    fn each_call_reads_the_peer_index_exactly_once() {
        let page = TracingPage::new(MemoryPage::new());
        let mut console = ConsoleRing::new(&page);
        page.inner().store_u32(IN_RING.prod_offset, 10);
        page.take();
        console.write(b"0123456789").unwrap();
        console.read(&mut [0; 64]).unwrap();
        let log = page.take();
        let loads = |offset| {
            log.iter()
                .filter(|access| **access == Access::Load32(offset))
                .count()
        };
        assert_eq!(loads(OUT_RING.cons_offset), 1);
        assert_eq!(loads(IN_RING.prod_offset), 1);
        // Our own indices are never read back.
        assert_eq!(loads(OUT_RING.prod_offset), 0);
        assert_eq!(loads(IN_RING.cons_offset), 0);
    }

    #[test]
    fn into_page_returns_the_page() {
        let page = MemoryPage::new();
        let console = ConsoleRing::new(&page);
        assert!(core::ptr::eq(*console.page(), &page));
        assert!(core::ptr::eq(console.into_page(), &page));
    }
}
