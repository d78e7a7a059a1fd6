//! The kernel heap: a first-fit allocator over pages mapped on demand.
//!
//! `linked_list_allocator` does the bookkeeping; this module feeds it
//! memory. The heap occupies [`super::HEAP_BASE`] upwards; when an
//! allocation does not fit, it maps more frames there (one batched commit
//! per growth step) and extends the allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{null_mut, NonNull};

use linked_list_allocator::Heap;
use spin::Mutex;

use super::frames::FRAMES;
use super::paging::{MapError, MMU};
use super::{pfn_to_mfn, HEAP_BASE};

/// Pages mapped per growth step (256 KiB), amortising the commit.
const GROW_PAGES: u64 = 64;
/// The heap never grows past this (1 GiB of the 512 GiB slot).
const HEAP_MAX_BYTES: u64 = 1 << 30;

pub struct KernelHeap {
    heap: Mutex<Heap>,
    /// Bytes mapped at HEAP_BASE so far.
    mapped_bytes: Mutex<u64>,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap {
    heap: Mutex::new(Heap::empty()),
    mapped_bytes: Mutex::new(0),
};

impl KernelHeap {
    /// Maps at least `bytes` more and hands them to the allocator.
    fn grow(&self, bytes: u64) -> Result<(), MapError> {
        let mut mapped = self.mapped_bytes.lock();
        let pages = bytes.div_ceil(4096).max(GROW_PAGES);
        if *mapped + pages * 4096 > HEAP_MAX_BYTES {
            return Err(MapError::OutOfFrames);
        }
        let start = HEAP_BASE + *mapped;
        {
            // One VCPU: a locked MMU means the allocation comes from inside
            // a page-table operation. Growing now would re-enter it, so
            // fail loudly instead of spinning forever; callers that build
            // big lists under the MMU lock reserve heap room first
            // (`ensure_headroom`).
            let Some(mut mmu) = MMU.try_lock() else {
                return Err(MapError::Hypercall {
                    call: "heap growth inside a page-table operation",
                    error: crate::xen::hypercall::XenError(xen_abi::errno::EDEADLK),
                });
            };
            for page in 0..pages {
                let pfn = FRAMES
                    .lock()
                    .allocate()
                    .map_err(|_| MapError::OutOfFrames)?;
                let mfn = pfn_to_mfn(pfn).expect("free frames are populated");
                mmu.map(start + page * 4096, mfn, true)?;
            }
            mmu.commit()?;
        }
        let mut heap = self.heap.lock();
        if *mapped == 0 {
            // SAFETY: [HEAP_BASE, +pages*4096) was just mapped writable and
            // is used by nothing else; the allocator owns it from now on.
            unsafe { heap.init(start as *mut u8, (pages * 4096) as usize) };
        } else {
            // SAFETY: the new pages directly follow the heap's current end
            // (HEAP_BASE + mapped) and were just mapped writable.
            unsafe { heap.extend((pages * 4096) as usize) };
        }
        *mapped += pages * 4096;
        Ok(())
    }
}

// SAFETY: allocations come from mapped, otherwise unused heap pages handed
// out by linked_list_allocator, which never returns overlapping blocks;
// dealloc returns exactly what alloc gave with the same layout.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        loop {
            if let Ok(block) = self.heap.lock().allocate_first_fit(layout) {
                return block.as_ptr();
            }
            let wanted = (layout.size() + layout.align()) as u64;
            if let Err(error) = self.grow(wanted) {
                log::error!("heap: cannot grow by {wanted} bytes: {error}");
                return null_mut();
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let block = NonNull::new(ptr).expect("GlobalAlloc never frees null");
        // SAFETY: the caller returns a block alloc() gave with this layout.
        unsafe { self.heap.lock().deallocate(block, layout) };
    }
}

/// Makes sure at least `bytes` are free in the heap, growing it now (with
/// the MMU lock free) rather than in the middle of a page-table operation.
pub fn ensure_headroom(bytes: u64) {
    let free = {
        let heap = HEAP.heap.lock();
        (heap.size() - heap.used()) as u64
    };
    if free < bytes {
        if let Err(error) = HEAP.grow(bytes - free) {
            log::warn!("heap: cannot reserve {bytes} bytes of headroom: {error}");
        }
    }
}

/// Maps the first heap pages, so early allocations do not pay for growth.
pub fn init() -> Result<(), MapError> {
    HEAP.grow(GROW_PAGES * 4096)
}

/// (bytes mapped, bytes in use).
pub fn usage() -> (u64, u64) {
    let mapped = *HEAP.mapped_bytes.lock();
    let used = HEAP.heap.lock().used() as u64;
    (mapped, used)
}
