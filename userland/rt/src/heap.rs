//! The heap: size classes with free lists, carved from `brk` memory.
//!
//! Small programs allocate little and briefly, so the allocator is the
//! simplest one that reuses memory:
//!
//! - Requests up to 64 KiB are rounded up to a power of two (at least 16
//!   bytes), a *class*. Each class has a singly linked free list threaded
//!   through the free blocks themselves. A block is aligned to its size
//!   (capped at 4096), so any alignment up to that is met.
//! - A class with an empty list takes a new block from the *arena*, a
//!   bump region grown with `brk` in 256 KiB steps. If `brk` fails (or the
//!   break is not ours to move), arena chunks come from `mmap` instead.
//! - Larger requests get their own anonymous mapping, unmapped on free.
//!
//! Memory of small blocks is never returned to the kernel; a process that
//! frees everything keeps its high-water mark, which suits short-lived
//! tools. The allocator is not reentrant: a flag detects reentry (there
//! are no threads or signal handlers to cause it) and fails the request.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::sys;

/// log2 of the smallest class (16 bytes: room for the list link, and the
/// alignment `malloc` guarantees).
const MIN_CLASS_SHIFT: u32 = 4;
/// log2 of the largest class (64 KiB).
const MAX_CLASS_SHIFT: u32 = 16;
const CLASSES: usize = (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1) as usize;
/// How much the arena grows at a time.
const ARENA_STEP: usize = 256 * 1024;
const PAGE_SIZE: usize = 4096;

/// Where arena memory comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArenaSource {
    /// The program break, falling back to `mmap` if it cannot grow.
    Break,
    /// Only `mmap` (for host tests, where libc owns the break).
    Map,
}

/// The allocator's state. Addresses are plain `usize`s: the heap hands
/// out memory, it never holds references into it.
pub struct Heap {
    /// Head of each class's free list (0: empty).
    free: [usize; CLASSES],
    /// Next unused byte of the arena and its end.
    bump: usize,
    end: usize,
    /// The program break as we last set it (0: not asked yet).
    break_end: usize,
    source: ArenaSource,
}

/// The class of `layout`: its index and block size, or `None` for a
/// large allocation.
fn class_of(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS_SHIFT);
    if size > 1 << MAX_CLASS_SHIFT {
        return None;
    }
    let block = size.next_power_of_two();
    Some(((block.trailing_zeros() - MIN_CLASS_SHIFT) as usize, block))
}

fn align_up(value: usize, align: usize) -> usize {
    (value + align - 1) & !(align - 1)
}

impl Heap {
    /// An empty heap; memory is requested on first use.
    pub const fn new(source: ArenaSource) -> Heap {
        Heap {
            free: [0; CLASSES],
            bump: 0,
            end: 0,
            break_end: 0,
            source,
        }
    }

    /// Memory for `layout`, or null if the kernel has none (or the
    /// alignment is above a page).
    pub fn allocate(&mut self, layout: Layout) -> *mut u8 {
        if layout.align() > PAGE_SIZE {
            return core::ptr::null_mut();
        }
        let Some((class, block)) = class_of(layout) else {
            let len = align_up(layout.size(), PAGE_SIZE);
            return sys::mmap_anonymous(len)
                .map_or(core::ptr::null_mut(), |address| address as *mut u8);
        };
        let head = self.free[class];
        if head != 0 {
            // SAFETY: head is a free block of this class (at least 16
            // bytes, 16-aligned) that the heap owns; its first word holds
            // the next free block, written by `deallocate`.
            self.free[class] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let align = block.min(PAGE_SIZE);
        let mut start = align_up(self.bump, align);
        if self.bump == 0 || start + block > self.end {
            if !self.grow(block + align) {
                return core::ptr::null_mut();
            }
            start = align_up(self.bump, align);
        }
        self.bump = start + block;
        start as *mut u8
    }

    /// Takes back memory from [`Heap::allocate`].
    ///
    /// # Safety
    ///
    /// `pointer` came from `allocate` on this heap with this `layout` and is
    /// not used afterwards.
    pub unsafe fn deallocate(&mut self, pointer: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some((class, _)) => {
                // SAFETY: the block is ours again (caller's guarantee), at
                // least 16 bytes and 16-aligned: its first word becomes the
                // list link.
                unsafe { *(pointer as *mut usize) = self.free[class] };
                self.free[class] = pointer as usize;
            }
            None => {
                let len = align_up(layout.size(), PAGE_SIZE);
                // SAFETY: a large block is a mapping of its own that the
                // caller no longer uses.
                let _ = unsafe { sys::munmap(pointer as usize, len) };
            }
        }
    }

    /// Whether a block for `old` can serve `new` unchanged.
    pub fn fits_in_place(old: Layout, new: Layout) -> bool {
        matches!((class_of(old), class_of(new)), (Some(a), Some(b)) if a == b)
    }

    /// Makes at least `needed` bytes available after `bump`.
    fn grow(&mut self, needed: usize) -> bool {
        let step = align_up(needed.max(ARENA_STEP), PAGE_SIZE);
        if self.source == ArenaSource::Break {
            if self.break_end == 0 {
                // SAFETY: brk(0) only asks for the current break.
                self.break_end = unsafe { sys::brk(0) };
            }
            let wanted = self.break_end + step;
            // SAFETY: the break only grows; memory below it is untouched.
            let got = unsafe { sys::brk(wanted) };
            if got >= wanted {
                if self.end != self.break_end || self.bump == 0 {
                    // Not contiguous with the current arena (or none yet).
                    self.bump = self.break_end;
                }
                self.end = got;
                self.break_end = got;
                return true;
            }
            // The break cannot grow (no brk support, or a limit): map.
        }
        match sys::mmap_anonymous(step) {
            Ok(address) => {
                self.bump = address;
                self.end = address + step;
                true
            }
            Err(_) => false,
        }
    }
}

/// The process's `#[global_allocator]`: a [`Heap`] behind a reentry flag.
pub struct RuntimeAllocator {
    heap: UnsafeCell<Heap>,
    busy: AtomicBool,
}

// SAFETY: every access to `heap` happens between a successful
// `busy.swap(true)` and `busy.store(false)`, so at most one caller uses it
// at a time whatever the threads.
unsafe impl Sync for RuntimeAllocator {}

impl RuntimeAllocator {
    /// An allocator over `source`.
    pub const fn new(source: ArenaSource) -> Self {
        RuntimeAllocator {
            heap: UnsafeCell::new(Heap::new(source)),
            busy: AtomicBool::new(false),
        }
    }

    /// Runs `action` on the heap, or returns `None` on reentry.
    fn with_heap<T>(&self, action: impl FnOnce(&mut Heap) -> T) -> Option<T> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: the flag was clear and is now ours: no other reference
        // to the heap exists until we clear it.
        let result = action(unsafe { &mut *self.heap.get() });
        self.busy.store(false, Ordering::Release);
        Some(result)
    }
}

// SAFETY: `allocate` returns blocks of at least `layout.size()` bytes with
// `layout.align()` (or null), never handing out a block twice until it is
// freed; `deallocate` receives exactly the pointers and layouts
// `GlobalAlloc` promises.
unsafe impl GlobalAlloc for RuntimeAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with_heap(|heap| heap.allocate(layout))
            .unwrap_or(core::ptr::null_mut())
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's contract is deallocate's.
        let _ = self.with_heap(|heap| unsafe { heap.deallocate(pointer, layout) });
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        if Heap::fits_in_place(layout, new_layout) {
            return pointer;
        }
        // SAFETY: new_layout has a non-zero size (realloc's contract).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and are
            // distinct allocations; the old one is freed only after.
            unsafe {
                core::ptr::copy_nonoverlapping(pointer, new, layout.size().min(new_size));
                self.dealloc(pointer, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_round_up_to_powers_of_two() {
        assert_eq!(class_of(layout(1, 1)), Some((0, 16)));
        assert_eq!(class_of(layout(17, 8)), Some((1, 32)));
        assert_eq!(class_of(layout(8, 64)), Some((2, 64)));
        assert_eq!(class_of(layout(65536, 8)), Some((12, 65536)));
        assert_eq!(class_of(layout(65537, 8)), None);
        assert!(Heap::fits_in_place(layout(20, 8), layout(32, 8)));
        assert!(!Heap::fits_in_place(layout(20, 8), layout(33, 8)));
        assert!(!Heap::fits_in_place(layout(70000, 8), layout(70000, 8)));
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_reused() {
        let mut heap = Heap::new(ArenaSource::Map);
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for (index, size) in [1, 16, 24, 100, 4000, 4096, 5000, 65536, 70000, 1 << 20]
            .into_iter()
            .cycle()
            .take(200)
            .enumerate()
        {
            let align = 1 << (index % 7);
            let pointer = heap.allocate(layout(size, align));
            assert!(!pointer.is_null());
            assert_eq!(pointer as usize % align, 0);
            // SAFETY: the block is ours and at least `size` bytes long.
            unsafe { core::ptr::write_bytes(pointer, index as u8, size) };
            blocks.push((pointer as usize, size));
        }
        let mut sorted = blocks.clone();
        sorted.sort();
        for pair in sorted.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {pair:?}");
        }
        for (index, (address, size)) in blocks.iter().enumerate() {
            // SAFETY: still allocated; the contents we wrote must survive.
            let first = unsafe { *(*address as *const u8) };
            assert_eq!(first, index as u8);
            let align = 1 << (index % 7);
            // SAFETY: allocated above with this layout, not used again.
            unsafe { heap.deallocate(*address as *mut u8, layout(*size, align)) };
        }
        // A freed block of the class comes back first (last in, first out).
        let again = heap.allocate(layout(24, 8));
        let wanted = class_of(layout(24, 8));
        let last_of_class = blocks
            .iter()
            .enumerate()
            .rev()
            .find(|(index, (_, size))| class_of(layout(*size, 1 << (index % 7))) == wanted)
            .unwrap()
            .1
             .0;
        assert_eq!(again as usize, last_of_class);
        assert!(heap.allocate(layout(8, 8192)).is_null());
    }

    #[test]
    fn the_global_allocator_reallocates_in_place_within_a_class() {
        let allocator = RuntimeAllocator::new(ArenaSource::Map);
        let small = layout(20, 8);
        // SAFETY: the GlobalAlloc contract is followed: non-zero sizes,
        // pointers freed once with their layouts.
        unsafe {
            let pointer = allocator.alloc(small);
            *pointer = 9;
            assert_eq!(allocator.realloc(pointer, small, 30), pointer);
            let moved = allocator.realloc(pointer, layout(30, 8), 100);
            assert_ne!(moved, pointer);
            assert_eq!(*moved, 9);
            allocator.dealloc(moved, layout(100, 8));
        }
    }
}
