//! Memory: p2m/m2p translation, frames, page tables and the kernel heap.
//!
//! A PV guest sees two kinds of frame numbers (DESIGN.md §5): pseudo-
//! physical *pfns* (its own contiguous view, `0..nr_pages`) and machine
//! *mfns* (real RAM, which page-table entries and grants must hold). Xen
//! gives the pfn→mfn list (p2m) in start_info and maps the global mfn→pfn
//! table (m2p) read-only at MACH2PHYS_VIRT_START.
//!
//! Virtual layout (one 512 GiB L4 slot each; 256-271 belong to Xen):
//!
//! | L4 slot | base                  | what                                  |
//! |---------|-----------------------|---------------------------------------|
//! | 273     | 0xffff_8880_0000_0000 | physmap: every pfn, page tables RO    |
//! | 274     | 0xffff_8900_0000_0000 | kernel heap, grown on demand          |
//! | 275     | 0xffff_8980_0000_0000 | scratch window for tests, benchmarks  |
//! | 511     | 0xffff_ffff_8000_0000 | kernel image (Xen's boot mapping)     |

pub mod balloon;
pub mod frames;
pub mod heap;
pub mod paging;
pub mod shares;

use core::sync::atomic::{AtomicU64, Ordering};

use xen_abi::{Mfn, Pfn};

/// Base of the direct map of all pseudo-physical memory.
pub const PHYSMAP_BASE: u64 = 0xffff_8880_0000_0000;
/// Base of the kernel heap.
pub const HEAP_BASE: u64 = 0xffff_8900_0000_0000;
/// Base of the scratch window used by self-checks and benchmarks.
pub const SCRATCH_BASE: u64 = 0xffff_8980_0000_0000;
/// Xen's read-only machine-to-physical table (`arch-x86/xen-x86_64.h`,
/// MACH2PHYS_VIRT_START).
pub const MACH2PHYS_VIRT_START: u64 = 0xffff_8000_0000_0000;
/// A p2m entry for a pfn without backing memory (ballooned out).
pub const INVALID_MFN: u64 = !0;

/// The p2m list: Xen's at boot, then the kernel's own copy sized for
/// `maxmem` (so ballooning up past the boot size has entries to fill).
static P2M_BASE: AtomicU64 = AtomicU64::new(0);
static P2M_LEN: AtomicU64 = AtomicU64::new(0);

/// Starts using Xen's p2m list (start_info.mfn_list, nr_pages).
pub fn init_p2m(mfn_list: u64, nr_pages: u64) {
    P2M_BASE.store(mfn_list, Ordering::SeqCst);
    P2M_LEN.store(nr_pages, Ordering::SeqCst);
}

/// Moves the p2m into a heap array of `capacity` entries (at least the
/// current length); entries past the boot size start invalid.
pub fn grow_p2m(capacity: u64) {
    let len = P2M_LEN.load(Ordering::SeqCst);
    if capacity <= len {
        return;
    }
    let mut list: alloc::vec::Vec<u64> = alloc::vec![INVALID_MFN; capacity as usize];
    for (pfn, slot) in list.iter_mut().enumerate().take(len as usize) {
        *slot = pfn_to_mfn(Pfn(pfn as u64)).map_or(INVALID_MFN, |mfn| mfn.0);
    }
    // Lives for the rest of the kernel's life: the p2m is never freed.
    let list = alloc::boxed::Box::leak(list.into_boxed_slice());
    P2M_BASE.store(list.as_mut_ptr() as u64, Ordering::SeqCst);
    P2M_LEN.store(capacity, Ordering::SeqCst);
}

/// Entries the p2m has room for.
pub fn p2m_capacity() -> u64 {
    P2M_LEN.load(Ordering::SeqCst)
}

/// Machine frame backing `pfn`, or `None` if it has none.
pub fn pfn_to_mfn(pfn: Pfn) -> Option<Mfn> {
    let (list, count) = (
        P2M_BASE.load(Ordering::SeqCst),
        P2M_LEN.load(Ordering::SeqCst),
    );
    if pfn.0 >= count {
        return None;
    }
    // SAFETY: the p2m list has `count` u64 entries, in Xen's boot mapping
    // or in a leaked heap array, neither ever unmapped; pfn < count.
    let mfn = unsafe { core::ptr::read_volatile((list as *const u64).add(pfn.0 as usize)) };
    (mfn != INVALID_MFN).then_some(Mfn(mfn))
}

/// Records that `pfn` is now backed by `mfn` (or by nothing).
pub fn set_p2m(pfn: Pfn, mfn: Option<Mfn>) {
    let (list, count) = (
        P2M_BASE.load(Ordering::SeqCst),
        P2M_LEN.load(Ordering::SeqCst),
    );
    assert!(
        pfn.0 < count,
        "pfn {:#x} beyond the p2m ({count} entries)",
        pfn.0
    );
    // SAFETY: as in pfn_to_mfn; both p2m homes are writable kernel memory
    // (Xen's list is in the read-write boot mapping) and pfn < count.
    unsafe {
        core::ptr::write_volatile(
            (list as *mut u64).add(pfn.0 as usize),
            mfn.map_or(INVALID_MFN, |mfn| mfn.0),
        )
    };
}

/// Pseudo-physical frame of machine frame `mfn`, if it is ours.
pub fn mfn_to_pfn(mfn: Mfn) -> Option<Pfn> {
    if mfn.0 >= max_mfn() {
        return None;
    }
    // SAFETY: Xen maps the m2p table read-only for every PV guest at
    // MACH2PHYS_VIRT_START with one u64 per machine frame up to the
    // maximum RAM page (checked above).
    let pfn = unsafe {
        core::ptr::read_volatile((MACH2PHYS_VIRT_START as *const u64).add(mfn.0 as usize))
    };
    // The m2p entry is only trustworthy if the p2m agrees (another
    // domain's frames map to its own pfns).
    (pfn_to_mfn(Pfn(pfn)) == Some(mfn)).then_some(Pfn(pfn))
}

static MAX_MFN: AtomicU64 = AtomicU64::new(0);

fn max_mfn() -> u64 {
    let cached = MAX_MFN.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let max = crate::xen::hypercall::maximum_ram_page().unwrap_or(0) + 1;
    MAX_MFN.store(max, Ordering::Relaxed);
    max
}

/// Virtual address of `pfn` in the physmap.
pub fn physmap_address(pfn: Pfn) -> u64 {
    PHYSMAP_BASE + pfn.0 * 4096
}
