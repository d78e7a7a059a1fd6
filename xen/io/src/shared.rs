//! One page shared with a peer, reached only by copies and explicit barriers.
//!
//! [`SharedPage`] is the seam between the protocol logic in this crate and
//! the memory a peer (xenconsoled, xenstored, Xen, a backend domain) can
//! write at any moment. Every access is a copy in or out: nothing hands out
//! a `&` or `&mut` into the page, so the compiler can never assume a value
//! stays put, and a value the crate validated is the value it uses.
//!
//! # What the kernel must implement
//!
//! The page is an array of atomics (say `[AtomicU32; 1024]` over a mapped
//! frame); `core::sync::atomic` fences then order the accesses in the Rust
//! memory model, which is not true of volatile accesses. Per method:
//!
//! | method | must be | x86_64 |
//! |---|---|---|
//! | `load_u32`, `load_u16` | one `Relaxed` atomic load: never torn, never repeated | `mov` |
//! | `store_u32`, `store_u16` | one `Relaxed` atomic store | `mov` |
//! | `compare_exchange_u16` | one `SeqCst` compare-exchange of the `u16` | `lock cmpxchg` |
//! | `read_bytes`, `write_bytes` | `Relaxed` copies, no ordering implied | `mov`s |
//! | `full_barrier` | `mb()`: `fence(SeqCst)`, orders loads and stores against later loads and stores | `mfence` |
//! | `read_barrier` | `rmb()`: `fence(Acquire)`, orders earlier loads before later loads | compiler barrier |
//! | `write_barrier` | `wmb()`: `fence(Release)`, orders earlier stores before later stores | compiler barrier |
//!
//! Those are the `xen_mb()`, `xen_rmb()` and `xen_wmb()` of `io/ring.h`
//! (Linux's `virt_mb()`, `virt_rmb()`, `virt_wmb()`): the peer may run on
//! another CPU at the same time, so SMP barriers are needed even on a
//! uniprocessor guest.
//!
//! # Offsets
//!
//! Offsets are bytes from the start of the page. This crate only passes
//! offsets inside the page, with `u32` accesses 4-aligned and `u16` accesses
//! 2-aligned; every one is derived from an ABI offset (`offset_of!` on the
//! `xen-abi` structs) or a ring index masked to the ring size, never from a
//! value a peer wrote. An implementation may therefore panic on a bad
//! offset: that would be a bug in this crate, not something a peer can
//! trigger.

use alloc::sync::Arc;

/// One page shared with a peer. Offsets in bytes; all accesses are copies:
/// nothing hands out references into memory a peer can write.
///
/// See the [module documentation](self) for the ordering each method must
/// provide.
pub trait SharedPage {
    /// Reads the `u32` at `offset` with one relaxed atomic load.
    fn load_u32(&self, offset: usize) -> u32;
    /// Writes the `u32` at `offset` with one relaxed atomic store.
    fn store_u32(&self, offset: usize, value: u32);
    /// Reads the `u16` at `offset` with one relaxed atomic load.
    fn load_u16(&self, offset: usize) -> u16;
    /// Writes the `u16` at `offset` with one relaxed atomic store.
    fn store_u16(&self, offset: usize, value: u16);
    /// Atomically replaces the `u16` at `offset` with `new` if it equals
    /// `current` (grant entry flags): `Ok(previous)` on success, or
    /// `Err(actual)` with the value found. Sequentially consistent.
    fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16>;
    /// Copies `out.len()` bytes starting at `offset` out of the page.
    fn read_bytes(&self, offset: usize, out: &mut [u8]);
    /// Copies `data` into the page starting at `offset`.
    fn write_bytes(&self, offset: usize, data: &[u8]);
    /// Full memory barrier, `mb()`: every load and store before it is
    /// ordered before every load and store after it.
    fn full_barrier(&self);
    /// Read barrier, `rmb()`: loads before it are ordered before loads after
    /// it.
    fn read_barrier(&self);
    /// Write barrier, `wmb()`: stores before it are ordered before stores
    /// after it.
    fn write_barrier(&self);
}

macro_rules! forward_shared_page {
    () => {
        fn load_u32(&self, offset: usize) -> u32 {
            (**self).load_u32(offset)
        }
        fn store_u32(&self, offset: usize, value: u32) {
            (**self).store_u32(offset, value)
        }
        fn load_u16(&self, offset: usize) -> u16 {
            (**self).load_u16(offset)
        }
        fn store_u16(&self, offset: usize, value: u16) {
            (**self).store_u16(offset, value)
        }
        fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16> {
            (**self).compare_exchange_u16(offset, current, new)
        }
        fn read_bytes(&self, offset: usize, out: &mut [u8]) {
            (**self).read_bytes(offset, out)
        }
        fn write_bytes(&self, offset: usize, data: &[u8]) {
            (**self).write_bytes(offset, data)
        }
        fn full_barrier(&self) {
            (**self).full_barrier()
        }
        fn read_barrier(&self) {
            (**self).read_barrier()
        }
        fn write_barrier(&self) {
            (**self).write_barrier()
        }
    };
}

/// A borrowed page is a page: lets a test hold the peer's end of the same
/// memory while a ring owns `&page`.
impl<T: SharedPage + ?Sized> SharedPage for &T {
    forward_shared_page!();
}

/// A shared handle is a page: lets two threads (or the kernel's driver and
/// its interrupt path) reach the same memory.
impl<T: SharedPage + ?Sized> SharedPage for Arc<T> {
    forward_shared_page!();
}

/// Host doubles of [`SharedPage`]: plain memory and an access recorder.
#[cfg(any(test, feature = "test-utils"))]
pub mod test_page {
    use super::SharedPage;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::sync::atomic::{fence, AtomicU32, Ordering};

    /// A page of host memory: a `Vec` of `AtomicU32` words, little-endian
    /// like x86, so byte, `u16` and `u32` views of the same bytes agree.
    ///
    /// Accesses are relaxed atomics and the barriers are real fences, as the
    /// kernel's implementation should be, so two threads may use one page.
    /// Narrow stores are compare-exchange loops on the containing word, so
    /// they never disturb neighbouring bytes. Out-of-range or misaligned
    /// offsets panic: this crate never produces them.
    #[derive(Debug)]
    pub struct MemoryPage {
        words: Vec<AtomicU32>,
    }

    impl MemoryPage {
        /// Bytes in a Xen page.
        pub const PAGE_BYTES: usize = xen_abi::xen::XEN_PAGE_SIZE;

        /// A zeroed 4 KiB page.
        pub fn new() -> Self {
            Self::with_len(Self::PAGE_BYTES)
        }

        /// A zeroed region of `len_bytes` bytes (rounded up to whole words).
        pub fn with_len(len_bytes: usize) -> Self {
            let words = len_bytes.div_ceil(4);
            MemoryPage {
                words: (0..words).map(|_| AtomicU32::new(0)).collect(),
            }
        }

        /// Length in bytes.
        pub fn len_bytes(&self) -> usize {
            self.words.len() * 4
        }

        /// The word holding byte `offset` and the bit shift of that byte.
        fn word(&self, offset: usize) -> (&AtomicU32, u32) {
            let word = self.words.get(offset / 4).unwrap_or_else(|| {
                panic!("offset {offset} outside a {}-byte page", self.len_bytes())
            });
            (word, (offset % 4) as u32 * 8)
        }

        /// Replaces the `bits`-wide field at `offset` with `value`.
        fn store_field(&self, offset: usize, bits: u32, value: u32) {
            let (word, shift) = self.word(offset);
            let mask = if bits == 32 {
                u32::MAX
            } else {
                ((1u32 << bits) - 1) << shift
            };
            let _ = word.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some((old & !mask) | ((value << shift) & mask))
            });
        }

        fn load_field(&self, offset: usize, bits: u32) -> u32 {
            let (word, shift) = self.word(offset);
            let value = word.load(Ordering::Relaxed) >> shift;
            if bits == 32 {
                value
            } else {
                value & ((1u32 << bits) - 1)
            }
        }
    }

    impl Default for MemoryPage {
        fn default() -> Self {
            Self::new()
        }
    }

    impl SharedPage for MemoryPage {
        fn load_u32(&self, offset: usize) -> u32 {
            assert!(offset % 4 == 0, "misaligned u32 offset {offset}");
            self.load_field(offset, 32)
        }

        fn store_u32(&self, offset: usize, value: u32) {
            assert!(offset % 4 == 0, "misaligned u32 offset {offset}");
            self.store_field(offset, 32, value);
        }

        fn load_u16(&self, offset: usize) -> u16 {
            assert!(offset % 2 == 0, "misaligned u16 offset {offset}");
            self.load_field(offset, 16) as u16
        }

        fn store_u16(&self, offset: usize, value: u16) {
            assert!(offset % 2 == 0, "misaligned u16 offset {offset}");
            self.store_field(offset, 16, u32::from(value));
        }

        fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16> {
            assert!(offset % 2 == 0, "misaligned u16 offset {offset}");
            let (word, shift) = self.word(offset);
            let mask = 0xffff_u32 << shift;
            word.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |old| {
                if ((old & mask) >> shift) as u16 == current {
                    Some((old & !mask) | (u32::from(new) << shift))
                } else {
                    None
                }
            })
            .map(|old| ((old & mask) >> shift) as u16)
            .map_err(|old| ((old & mask) >> shift) as u16)
        }

        fn read_bytes(&self, offset: usize, out: &mut [u8]) {
            for (index, byte) in out.iter_mut().enumerate() {
                *byte = self.load_field(offset + index, 8) as u8;
            }
        }

        fn write_bytes(&self, offset: usize, data: &[u8]) {
            for (index, &byte) in data.iter().enumerate() {
                self.store_field(offset + index, 8, u32::from(byte));
            }
        }

        fn full_barrier(&self) {
            fence(Ordering::SeqCst);
        }

        fn read_barrier(&self) {
            fence(Ordering::Acquire);
        }

        fn write_barrier(&self) {
            fence(Ordering::Release);
        }
    }

    /// One access made through a [`TracingPage`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Access {
        /// `load_u32(offset)`.
        Load32(usize),
        /// `store_u32(offset, value)`.
        Store32(usize, u32),
        /// `load_u16(offset)`.
        Load16(usize),
        /// `store_u16(offset, value)`.
        Store16(usize, u16),
        /// `compare_exchange_u16(offset, current, new)`.
        CompareExchange16(usize, u16, u16),
        /// `read_bytes(offset, len)`.
        ReadBytes(usize, usize),
        /// `write_bytes(offset, len)`.
        WriteBytes(usize, usize),
        /// `full_barrier()`.
        FullBarrier,
        /// `read_barrier()`.
        ReadBarrier,
        /// `write_barrier()`.
        WriteBarrier,
    }

    /// A page that records every access, in order, before forwarding it:
    /// lets tests check barrier placement and that each peer-written field
    /// is loaded exactly once per call. Single-threaded (`RefCell`).
    #[derive(Debug)]
    pub struct TracingPage<P> {
        inner: P,
        log: RefCell<Vec<Access>>,
    }

    impl<P: SharedPage> TracingPage<P> {
        /// Wraps `inner`.
        pub fn new(inner: P) -> Self {
            TracingPage {
                inner,
                log: RefCell::new(Vec::new()),
            }
        }

        /// The accesses so far, leaving the log empty.
        pub fn take(&self) -> Vec<Access> {
            self.log.take()
        }

        /// The wrapped page.
        pub fn inner(&self) -> &P {
            &self.inner
        }

        fn record(&self, access: Access) {
            self.log.borrow_mut().push(access);
        }
    }

    impl<P: SharedPage> SharedPage for TracingPage<P> {
        fn load_u32(&self, offset: usize) -> u32 {
            self.record(Access::Load32(offset));
            self.inner.load_u32(offset)
        }
        fn store_u32(&self, offset: usize, value: u32) {
            self.record(Access::Store32(offset, value));
            self.inner.store_u32(offset, value)
        }
        fn load_u16(&self, offset: usize) -> u16 {
            self.record(Access::Load16(offset));
            self.inner.load_u16(offset)
        }
        fn store_u16(&self, offset: usize, value: u16) {
            self.record(Access::Store16(offset, value));
            self.inner.store_u16(offset, value)
        }
        fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16> {
            self.record(Access::CompareExchange16(offset, current, new));
            self.inner.compare_exchange_u16(offset, current, new)
        }
        fn read_bytes(&self, offset: usize, out: &mut [u8]) {
            self.record(Access::ReadBytes(offset, out.len()));
            self.inner.read_bytes(offset, out)
        }
        fn write_bytes(&self, offset: usize, data: &[u8]) {
            self.record(Access::WriteBytes(offset, data.len()));
            self.inner.write_bytes(offset, data)
        }
        fn full_barrier(&self) {
            self.record(Access::FullBarrier);
            self.inner.full_barrier()
        }
        fn read_barrier(&self) {
            self.record(Access::ReadBarrier);
            self.inner.read_barrier()
        }
        fn write_barrier(&self) {
            self.record(Access::WriteBarrier);
            self.inner.write_barrier()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_page::{Access, MemoryPage, TracingPage};
    use super::SharedPage;
    use alloc::sync::Arc;

    #[test]
    fn views_of_the_same_bytes_agree_little_endian() {
        let page = MemoryPage::new();
        page.store_u32(8, 0x4433_2211);
        let mut bytes = [0; 4];
        page.read_bytes(8, &mut bytes);
        assert_eq!(bytes, [0x11, 0x22, 0x33, 0x44]);
        assert_eq!(page.load_u16(8), 0x2211);
        assert_eq!(page.load_u16(10), 0x4433);
        page.write_bytes(9, &[0xaa, 0xbb]);
        assert_eq!(page.load_u32(8), 0x44bb_aa11);
        page.store_u16(10, 0x1234);
        assert_eq!(page.load_u32(8), 0x1234_aa11);
    }

    #[test]
    fn unaligned_byte_runs_cross_words() {
        let page = MemoryPage::new();
        let data: std::vec::Vec<u8> = (1..=11).collect();
        // Bytes 4081..=4091: the tail of one word, two whole words, and
        // the head of another; neighbours untouched.
        page.write_bytes(4081, &data);
        let mut out = [0; 11];
        page.read_bytes(4081, &mut out);
        assert_eq!(&out[..], &data[..]);
        assert_eq!(page.load_u32(4092), 0);
        assert_eq!(page.load_u32(4080), 0x0302_0100);
    }

    #[test]
    fn compare_exchange_reports_the_actual_value() {
        let page = MemoryPage::new();
        page.store_u16(0, 5);
        page.store_u16(2, 0x7777);
        assert_eq!(page.compare_exchange_u16(0, 4, 0), Err(5));
        assert_eq!(page.compare_exchange_u16(0, 5, 0), Ok(5));
        assert_eq!(page.load_u16(0), 0);
        // The neighbouring half-word is untouched.
        assert_eq!(page.load_u16(2), 0x7777);
        assert_eq!(page.compare_exchange_u16(2, 0x7777, 1), Ok(0x7777));
        assert_eq!(page.load_u32(0), 0x0001_0000);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn out_of_range_offset_panics_in_the_double() {
        MemoryPage::new().load_u32(4096);
    }

    #[test]
    #[should_panic(expected = "misaligned")]
    fn misaligned_offset_panics_in_the_double() {
        MemoryPage::new().load_u32(2);
    }

    #[test]
    fn references_and_arcs_reach_the_same_memory() {
        let page = Arc::new(MemoryPage::new());
        let by_arc: Arc<MemoryPage> = Arc::clone(&page);
        by_arc.store_u32(0, 9);
        let by_ref: &MemoryPage = &page;
        assert_eq!(SharedPage::load_u32(&by_ref, 0), 9);
    }

    #[test]
    fn tracing_page_records_in_order() {
        let page = TracingPage::new(MemoryPage::new());
        page.store_u32(4, 1);
        page.write_barrier();
        let _ = page.load_u16(6);
        assert_eq!(
            page.take(),
            [
                Access::Store32(4, 1),
                Access::WriteBarrier,
                Access::Load16(6)
            ]
        );
        assert!(page.take().is_empty());
    }
}
