//! Byte rings with free-running indices: the console and xenstore halves.
//!
//! `io/console.h` and `io/xs_wire.h` each put two byte rings on one page.
//! A ring is a power-of-two array plus two free-running `u32` indices: the
//! producer writes bytes at `prod & (size - 1)` and then advances `prod`;
//! the consumer reads bytes at `cons & (size - 1)` and then advances `cons`.
//! `prod - cons` (wrapping) is the number of unread bytes and can never
//! exceed the size. The producer writes the data and `prod`, the consumer
//! writes `cons`; each side reads the other's index.
//!
//! [`Producer`] and [`Consumer`] are those two roles, described by a
//! [`ByteRingLayout`] (where the data and indices are). The guest is the
//! producer of the console's `out` and xenstore's `req` rings and the
//! consumer of `in` and `rsp`; a backend (or a test playing one) uses the
//! same types with the layouts swapped, so one implementation serves both
//! ends.
//!
//! # Trust and ordering
//!
//! Each call loads the peer's index exactly once, checks `prod - cons <=
//! size` (the check Linux's `xenbus_comms.c` calls `check_indexes`), and
//! copies at most that many bytes. The side's own index is read from the
//! page once, when attaching, and kept privately afterwards: a peer that
//! overwrites it cannot make us re-send or skip bytes. The barriers follow
//! Linux's `xb_write`/`xb_read` (`drivers/xen/xenbus/xenbus_comms.c`) and
//! Mini-OS's `xencons_ring.c`; each is commented where it is issued.

use crate::shared::SharedPage;
use core::fmt;

/// Where one byte ring lives on its page, and what to call it in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRingLayout {
    /// The page's protocol, for messages: `"console"` or `"xenstore"`.
    pub interface: &'static str,
    /// The ring's C field name, which also prefixes its index fields
    /// (`out` has `out_prod` and `out_cons`).
    pub ring: &'static str,
    /// Byte offset of the data array.
    pub data_offset: usize,
    /// Bytes in the data array; a power of two.
    pub size: u32,
    /// Byte offset of the producer index (`<ring>_prod`).
    pub prod_offset: usize,
    /// Byte offset of the consumer index (`<ring>_cons`).
    pub cons_offset: usize,
}

impl ByteRingLayout {
    /// Byte offset in the page of free-running index `index`:
    /// `MASK_XENCONS_IDX` / `MASK_XENSTORE_IDX`.
    fn data_at(&self, index: u32) -> usize {
        self.data_offset + (index & (self.size - 1)) as usize
    }

    /// `prod - cons` if it is a possible fill level, else the error that
    /// names both indices and the bound.
    fn check(&self, producer: u32, consumer: u32) -> Result<u32, RingError> {
        let used = producer.wrapping_sub(consumer);
        if used > self.size {
            return Err(RingError::Corrupt {
                interface: self.interface,
                ring: self.ring,
                producer,
                consumer,
                size: self.size,
            });
        }
        Ok(used)
    }

    /// Copies `data` into the ring starting at free-running index `start`,
    /// in at most two pieces (before and after the wrap).
    fn copy_in<P: SharedPage>(&self, page: &P, start: u32, data: &[u8]) {
        let offset = (start & (self.size - 1)) as usize;
        let first = data.len().min(self.size as usize - offset);
        let (head, tail) = data.split_at(first);
        page.write_bytes(self.data_at(start), head);
        if !tail.is_empty() {
            page.write_bytes(self.data_offset, tail);
        }
    }

    /// Copies `out.len()` bytes out of the ring starting at free-running
    /// index `start`, in at most two pieces.
    fn copy_out<P: SharedPage>(&self, page: &P, start: u32, out: &mut [u8]) {
        let offset = (start & (self.size - 1)) as usize;
        let first = out.len().min(self.size as usize - offset);
        let (head, tail) = out.split_at_mut(first);
        page.read_bytes(self.data_at(start), head);
        if !tail.is_empty() {
            page.read_bytes(self.data_offset, tail);
        }
    }
}

/// A ring's indices are impossible: the peer broke the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RingError {
    /// `producer - consumer` (wrapping) exceeds the ring size. One of the
    /// two was written by the peer; nothing was copied. The ring cannot be
    /// trusted any more: count it, log it, and disconnect.
    Corrupt {
        /// `"console"` or `"xenstore"`.
        interface: &'static str,
        /// The ring: `"in"`, `"out"`, `"req"` or `"rsp"`.
        ring: &'static str,
        /// `<ring>_prod` as read.
        producer: u32,
        /// `<ring>_cons` as read.
        consumer: u32,
        /// Bytes in the ring.
        size: u32,
    },
}

impl fmt::Display for RingError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingError::Corrupt {
                interface,
                ring,
                producer,
                consumer,
                size,
            } => write!(
                formatter,
                "{interface} {ring} ring indices corrupt: {ring}_prod {producer} - \
                 {ring}_cons {consumer} > {size}"
            ),
        }
    }
}

impl core::error::Error for RingError {}

/// The writing end of a byte ring: owns `<ring>_prod` and the data, reads
/// the peer's `<ring>_cons`.
#[derive(Clone, Debug)]
pub struct Producer {
    layout: ByteRingLayout,
    /// Our producer index; the page's copy is only ever written from this.
    prod: u32,
}

impl Producer {
    /// Attaches to the ring on `page`, taking up our producer index from
    /// the page (zero on a fresh page; whatever the previous user of the
    /// page left, after a kexec or a driver restart).
    pub fn attach<P: SharedPage>(page: &P, layout: ByteRingLayout) -> Self {
        let prod = page.load_u32(layout.prod_offset);
        Producer { layout, prod }
    }

    /// The layout this end works on.
    pub fn layout(&self) -> &ByteRingLayout {
        &self.layout
    }

    /// Our producer index (what the page's `<ring>_prod` was last set to).
    pub fn producer_index(&self) -> u32 {
        self.prod
    }

    /// Copies as much of `bytes` as fits into the ring and publishes it;
    /// returns the number of bytes written, 0 when the ring is full (then
    /// notify the peer and wait for it to consume). The caller notifies
    /// the peer's event channel after a non-zero write.
    pub fn write<P: SharedPage>(&mut self, page: &P, bytes: &[u8]) -> Result<usize, RingError> {
        // The peer's consumer index, read once and validated before use.
        let cons = page.load_u32(self.layout.cons_offset);
        let used = self.layout.check(self.prod, cons)?;
        let free = (self.layout.size - used) as usize;
        let count = free.min(bytes.len());
        if count == 0 {
            return Ok(0);
        }
        // mb(): the data stores below must not happen before the load of
        // `cons` above, or we could overwrite bytes the peer has not read
        // yet. That is a load-then-store order, which rmb() and wmb() do
        // not give (Linux xb_write: virt_mb(), "Must write data /after/
        // reading the consumer index"; Mini-OS xencons_ring.c: mb()).
        page.full_barrier();
        self.layout.copy_in(page, self.prod, &bytes[..count]);
        // wmb(): the peer must see the data before the producer index that
        // covers it (Linux xb_write: virt_wmb(), "Other side must not see
        // new producer until data is there"; `io/ring.h` RING_PUSH_*).
        page.write_barrier();
        self.prod = self.prod.wrapping_add(count as u32);
        page.store_u32(self.layout.prod_offset, self.prod);
        Ok(count)
    }

    /// Bytes written but not yet consumed by the peer: `prod - cons`.
    pub fn pending<P: SharedPage>(&self, page: &P) -> Result<usize, RingError> {
        let cons = page.load_u32(self.layout.cons_offset);
        Ok(self.layout.check(self.prod, cons)? as usize)
    }
}

/// The reading end of a byte ring: owns `<ring>_cons`, reads the peer's
/// `<ring>_prod` and the data.
#[derive(Clone, Debug)]
pub struct Consumer {
    layout: ByteRingLayout,
    /// Our consumer index; the page's copy is only ever written from this.
    cons: u32,
}

impl Consumer {
    /// Attaches to the ring on `page`, taking up our consumer index from
    /// the page (see [`Producer::attach`]).
    pub fn attach<P: SharedPage>(page: &P, layout: ByteRingLayout) -> Self {
        let cons = page.load_u32(layout.cons_offset);
        Consumer { layout, cons }
    }

    /// The layout this end works on.
    pub fn layout(&self) -> &ByteRingLayout {
        &self.layout
    }

    /// Our consumer index (what the page's `<ring>_cons` was last set to).
    pub fn consumer_index(&self) -> u32 {
        self.cons
    }

    /// Copies up to `out.len()` unread bytes out of the ring and frees
    /// their space; returns the number copied, 0 when the ring is empty.
    /// The caller notifies the peer after a non-zero read if the peer may
    /// be waiting for space.
    pub fn read<P: SharedPage>(&mut self, page: &P, out: &mut [u8]) -> Result<usize, RingError> {
        // The peer's producer index, read once and validated before use.
        let prod = page.load_u32(self.layout.prod_offset);
        let unread = self.layout.check(prod, self.cons)? as usize;
        let count = unread.min(out.len());
        if count == 0 {
            return Ok(0);
        }
        // rmb(): the data loads below must not be satisfied before the load
        // of `prod` above, or we could read bytes the peer has not written
        // yet (Linux xb_read: virt_rmb(), "Must read data /after/ reading
        // the producer index").
        page.read_barrier();
        self.layout.copy_out(page, self.cons, &mut out[..count]);
        // mb(): our loads of the data must complete before the peer can see
        // the space freed and overwrite it; a load-then-store order (Linux
        // xb_read: virt_mb(), "Other side must not see free space until
        // we've copied out"; Mini-OS xencons_ring.c: mb()).
        page.full_barrier();
        self.cons = self.cons.wrapping_add(count as u32);
        page.store_u32(self.layout.cons_offset, self.cons);
        Ok(count)
    }

    /// Bytes the peer has produced that we have not read: `prod - cons`.
    pub fn available<P: SharedPage>(&self, page: &P) -> Result<usize, RingError> {
        let prod = page.load_u32(self.layout.prod_offset);
        Ok(self.layout.check(prod, self.cons)? as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::test_page::{Access, MemoryPage, TracingPage};
    use std::string::ToString;
    use std::vec::Vec;

    /// A small ring so wrap-around is easy to reach: 16 bytes at 64,
    /// prod at 0, cons at 4.
    const LAYOUT: ByteRingLayout = ByteRingLayout {
        interface: "test",
        ring: "data",
        data_offset: 64,
        size: 16,
        prod_offset: 0,
        cons_offset: 4,
    };

    fn set_indices(page: &MemoryPage, prod: u32, cons: u32) {
        page.store_u32(LAYOUT.prod_offset, prod);
        page.store_u32(LAYOUT.cons_offset, cons);
    }

    #[test]
    fn bytes_flow_through_and_wrap() {
        let page = MemoryPage::new();
        let mut producer = Producer::attach(&page, LAYOUT);
        let mut consumer = Consumer::attach(&page, LAYOUT);
        let mut sent = Vec::new();
        let mut received = Vec::new();
        for round in 0..40u8 {
            let chunk: Vec<u8> = (0..(round % 11 + 1))
                .map(|i| round.wrapping_mul(7) ^ i)
                .collect();
            let written = producer.write(&page, &chunk).unwrap();
            sent.extend_from_slice(&chunk[..written]);
            let mut buffer = [0; 5];
            let read = consumer.read(&page, &mut buffer).unwrap();
            received.extend_from_slice(&buffer[..read]);
        }
        let mut buffer = [0; 16];
        loop {
            let read = consumer.read(&page, &mut buffer).unwrap();
            if read == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..read]);
        }
        assert_eq!(received, sent);
        assert!(sent.len() > 3 * 16, "the test must wrap several times");
    }

    #[test]
    fn write_stops_when_full_and_read_when_empty() {
        let page = MemoryPage::new();
        let mut producer = Producer::attach(&page, LAYOUT);
        let mut consumer = Consumer::attach(&page, LAYOUT);
        assert_eq!(producer.write(&page, &[1; 20]).unwrap(), 16);
        assert_eq!(producer.write(&page, &[2; 4]).unwrap(), 0);
        assert_eq!(producer.pending(&page).unwrap(), 16);
        assert_eq!(consumer.available(&page).unwrap(), 16);
        let mut out = [0; 32];
        assert_eq!(consumer.read(&page, &mut out).unwrap(), 16);
        assert_eq!(consumer.read(&page, &mut out).unwrap(), 0);
        assert_eq!(producer.pending(&page).unwrap(), 0);
    }

    #[test]
    fn indices_wrap_past_u32_max() {
        let page = MemoryPage::new();
        set_indices(&page, u32::MAX - 5, u32::MAX - 5);
        let mut producer = Producer::attach(&page, LAYOUT);
        let mut consumer = Consumer::attach(&page, LAYOUT);
        let data: Vec<u8> = (0..16).collect();
        assert_eq!(producer.write(&page, &data).unwrap(), 16);
        assert_eq!(page.load_u32(LAYOUT.prod_offset), 10);
        let mut out = [0; 16];
        assert_eq!(consumer.read(&page, &mut out).unwrap(), 16);
        assert_eq!(out[..], data[..]);
        assert_eq!(page.load_u32(LAYOUT.cons_offset), 10);
    }

    #[test]
    fn consumer_rejects_overproduction() {
        let page = MemoryPage::new();
        let mut consumer = Consumer::attach(&page, LAYOUT);
        page.store_u32(LAYOUT.prod_offset, 17);
        let mut out = [0; 64];
        let error = consumer.read(&page, &mut out).unwrap_err();
        assert_eq!(
            error,
            RingError::Corrupt {
                interface: "test",
                ring: "data",
                producer: 17,
                consumer: 0,
                size: 16
            }
        );
        assert_eq!(
            error.to_string(),
            "test data ring indices corrupt: data_prod 17 - data_cons 0 > 16"
        );
        // Nothing was consumed or published.
        assert_eq!(out, [0; 64]);
        assert_eq!(page.load_u32(LAYOUT.cons_offset), 0);
        // Exactly the size is legal.
        page.store_u32(LAYOUT.prod_offset, 16);
        assert_eq!(consumer.read(&page, &mut out).unwrap(), 16);
    }

    #[test]
    fn consumer_rejects_producer_behind_consumer() {
        let page = MemoryPage::new();
        set_indices(&page, 100, 100);
        let mut consumer = Consumer::attach(&page, LAYOUT);
        page.store_u32(LAYOUT.prod_offset, 99);
        assert!(matches!(
            consumer.read(&page, &mut [0; 4]),
            Err(RingError::Corrupt {
                producer: 99,
                consumer: 100,
                ..
            })
        ));
        assert!(consumer.available(&page).is_err());
    }

    #[test]
    fn producer_rejects_consumer_ahead_of_producer() {
        let page = MemoryPage::new();
        let mut producer = Producer::attach(&page, LAYOUT);
        page.store_u32(LAYOUT.cons_offset, 1);
        let error = producer.write(&page, b"x").unwrap_err();
        assert!(matches!(
            error,
            RingError::Corrupt {
                producer: 0,
                consumer: 1,
                ..
            }
        ));
        assert!(producer.pending(&page).is_err());
        // Nothing was written or published.
        assert_eq!(page.load_u32(LAYOUT.prod_offset), 0);
        let mut data = [9; 16];
        page.read_bytes(LAYOUT.data_offset, &mut data);
        assert_eq!(data, [0; 16]);
    }

    #[test]
    fn producer_ignores_a_peer_scribbling_on_its_index() {
        let page = MemoryPage::new();
        let mut producer = Producer::attach(&page, LAYOUT);
        producer.write(&page, b"abc").unwrap();
        // The peer rewrites our producer index; we keep our own.
        page.store_u32(LAYOUT.prod_offset, 1000);
        producer.write(&page, b"d").unwrap();
        assert_eq!(page.load_u32(LAYOUT.prod_offset), 4);
    }

    #[test]
    fn producer_loads_the_peer_index_once_and_orders_its_stores() {
        let page = TracingPage::new(MemoryPage::new());
        let mut producer = Producer::attach(&page, LAYOUT);
        page.take();
        producer.write(&page, &[7; 20]).unwrap();
        assert_eq!(
            page.take(),
            [
                Access::Load32(LAYOUT.cons_offset),
                Access::FullBarrier,
                Access::WriteBytes(64, 16),
                Access::WriteBarrier,
                Access::Store32(LAYOUT.prod_offset, 16),
            ]
        );
    }

    #[test]
    fn producer_write_splits_at_the_wrap() {
        let page = TracingPage::new(MemoryPage::new());
        page.inner().store_u32(LAYOUT.prod_offset, 12);
        page.inner().store_u32(LAYOUT.cons_offset, 12);
        let mut producer = Producer::attach(&page, LAYOUT);
        page.take();
        producer.write(&page, &[1; 6]).unwrap();
        let log = page.take();
        assert_eq!(log[2], Access::WriteBytes(64 + 12, 4));
        assert_eq!(log[3], Access::WriteBytes(64, 2));
    }

    #[test]
    fn consumer_loads_the_peer_index_once_and_orders_its_loads() {
        let page = TracingPage::new(MemoryPage::new());
        let mut consumer = Consumer::attach(&page, LAYOUT);
        page.inner().store_u32(LAYOUT.prod_offset, 3);
        page.take();
        consumer.read(&page, &mut [0; 8]).unwrap();
        assert_eq!(
            page.take(),
            [
                Access::Load32(LAYOUT.prod_offset),
                Access::ReadBarrier,
                Access::ReadBytes(64, 3),
                Access::FullBarrier,
                Access::Store32(LAYOUT.cons_offset, 3),
            ]
        );
    }

    #[test]
    fn empty_calls_touch_only_the_peer_index() {
        let page = TracingPage::new(MemoryPage::new());
        let mut producer = Producer::attach(&page, LAYOUT);
        let mut consumer = Consumer::attach(&page, LAYOUT);
        page.take();
        assert_eq!(producer.write(&page, &[]).unwrap(), 0);
        assert_eq!(consumer.read(&page, &mut []).unwrap(), 0);
        assert_eq!(
            page.take(),
            [
                Access::Load32(LAYOUT.cons_offset),
                Access::Load32(LAYOUT.prod_offset)
            ]
        );
    }

    #[test]
    fn two_threads_stream_through_a_ring() {
        use std::sync::Arc;
        let page = Arc::new(MemoryPage::new());
        let total = 100_000usize;
        let writer_page = Arc::clone(&page);
        let writer = std::thread::spawn(move || {
            let mut producer = Producer::attach(&writer_page, LAYOUT);
            let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
            let mut sent = 0;
            while sent < total {
                sent += producer.write(&writer_page, &data[sent..]).unwrap();
                std::thread::yield_now();
            }
        });
        let mut consumer = Consumer::attach(&page, LAYOUT);
        let mut received = 0usize;
        let mut buffer = [0; 7];
        while received < total {
            let count = consumer.read(&page, &mut buffer).unwrap();
            for (offset, byte) in buffer[..count].iter().enumerate() {
                assert_eq!(*byte, ((received + offset) % 251) as u8);
            }
            received += count;
            if count == 0 {
                std::thread::yield_now();
            }
        }
        writer.join().unwrap();
    }
}
