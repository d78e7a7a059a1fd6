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

pub mod frames;
pub mod heap;
pub mod paging;

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

/// The p2m list and its length, set once at boot.
static P2M: spin::Once<(u64, u64)> = spin::Once::new();

/// Records where the p2m list lives (start_info.mfn_list, nr_pages).
pub fn init_p2m(mfn_list: u64, nr_pages: u64) {
    P2M.call_once(|| (mfn_list, nr_pages));
}

/// Machine frame backing `pfn`, or `None` if it has none.
pub fn pfn_to_mfn(pfn: Pfn) -> Option<Mfn> {
    let &(list, count) = P2M.get().expect("p2m initialised at boot");
    if pfn.0 >= count {
        return None;
    }
    // SAFETY: the p2m list has `count` u64 entries in Xen's boot mapping,
    // which the kernel never unmaps; pfn < count was checked.
    let mfn = unsafe { core::ptr::read_volatile((list as *const u64).add(pfn.0 as usize)) };
    (mfn != INVALID_MFN).then_some(Mfn(mfn))
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

static MAX_MFN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn max_mfn() -> u64 {
    use core::sync::atomic::Ordering;
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
