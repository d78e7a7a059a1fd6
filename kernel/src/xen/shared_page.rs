//! A page shared with a peer, accessed only by copies: the kernel's
//! implementation of `xen_io::shared::SharedPage`.
//!
//! The protocol code in `xen-io` (console ring, xenstore ring, grant
//! entries) is written against that trait and tested on the host; here it
//! meets real memory. Every access is a volatile or atomic operation on the
//! mapped page, and no Rust reference into it is ever created, because the
//! peer (Xen, xenconsoled, xenstored, a backend) may write any byte at any
//! time.

use core::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};

/// A page mapped at `base` for the rest of the kernel's life.
#[derive(Clone, Copy, Debug)]
pub struct MappedPage {
    base: u64,
}

impl MappedPage {
    /// # Safety
    ///
    /// `base` must be the page-aligned address of a 4 KiB page that stays
    /// mapped writable for the rest of the kernel's life and that no Rust
    /// reference points into.
    pub unsafe fn new(base: u64) -> MappedPage {
        assert_eq!(base % 4096, 0, "shared pages are page-aligned");
        MappedPage { base }
    }

    fn address(&self, offset: usize, len: usize) -> u64 {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= 4096),
            "access {offset}+{len} outside the shared page"
        );
        self.base + offset as u64
    }
}

impl xen_io::shared::SharedPage for MappedPage {
    fn load_u32(&self, offset: usize) -> u32 {
        let address = self.address(offset, 4);
        assert_eq!(address % 4, 0, "aligned u32");
        // SAFETY: in bounds and aligned (checked); the page is mapped for
        // the kernel's life (constructor contract); atomics are how both
        // sides access shared indices.
        unsafe { AtomicU32::from_ptr(address as *mut u32) }.load(Ordering::Relaxed)
    }

    fn store_u32(&self, offset: usize, value: u32) {
        let address = self.address(offset, 4);
        assert_eq!(address % 4, 0, "aligned u32");
        // SAFETY: as load_u32.
        unsafe { AtomicU32::from_ptr(address as *mut u32) }.store(value, Ordering::Relaxed)
    }

    fn load_u16(&self, offset: usize) -> u16 {
        let address = self.address(offset, 2);
        assert_eq!(address % 2, 0, "aligned u16");
        // SAFETY: as load_u32.
        unsafe { AtomicU16::from_ptr(address as *mut u16) }.load(Ordering::Relaxed)
    }

    fn store_u16(&self, offset: usize, value: u16) {
        let address = self.address(offset, 2);
        assert_eq!(address % 2, 0, "aligned u16");
        // SAFETY: as load_u32.
        unsafe { AtomicU16::from_ptr(address as *mut u16) }.store(value, Ordering::Relaxed)
    }

    fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16> {
        let address = self.address(offset, 2);
        assert_eq!(address % 2, 0, "aligned u16");
        // SAFETY: as load_u32; `lock cmpxchg` is what the grant-table
        // protocol requires of both sides (grant_table.h).
        unsafe { AtomicU16::from_ptr(address as *mut u16) }.compare_exchange(
            current,
            new,
            Ordering::SeqCst,
            Ordering::SeqCst,
        )
    }

    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        let address = self.address(offset, out.len());
        for (i, byte) in out.iter_mut().enumerate() {
            // SAFETY: in bounds (checked); byte reads need no alignment;
            // volatile so the copy really reads shared memory once.
            *byte = unsafe { core::ptr::read_volatile((address + i as u64) as *const u8) };
        }
    }

    fn write_bytes(&self, offset: usize, data: &[u8]) {
        let address = self.address(offset, data.len());
        for (i, byte) in data.iter().enumerate() {
            // SAFETY: as read_bytes.
            unsafe { core::ptr::write_volatile((address + i as u64) as *mut u8, *byte) };
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
