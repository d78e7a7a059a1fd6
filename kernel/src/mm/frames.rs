//! The kernel's frame allocator: which pfns are free, which are tables.
//!
//! A thin lock around [`kernel_core::frames::FrameAllocator`].

use kernel_core::frames::{FrameAllocator, FrameError};
use spin::Mutex;
use xen_abi::Pfn;

/// 8192 words of 64 bits: up to 2 GiB of guest memory. Frames beyond
/// that are reported at boot and left unused.
pub type Allocator = FrameAllocator<8192>;

pub static FRAMES: Mutex<Allocator> = Mutex::new(Allocator::new());

pub fn allocate() -> Result<Pfn, FrameError> {
    FRAMES.lock().allocate()
}

/// Frames user memory never takes: the kernel's heap and page tables
/// must be able to finish what they are doing (tear a process down, grow
/// a pipe, build a page table) when a program has used all the rest.
pub const KERNEL_RESERVE_FRAMES: u64 = 1024;

/// A frame for user memory: refused once only the kernel's reserve is
/// left, so running out of memory stays a process's problem.
pub fn allocate_for_user() -> Result<Pfn, FrameError> {
    let mut frames = FRAMES.lock();
    if frames.free_frames() <= KERNEL_RESERVE_FRAMES {
        return Err(FrameError::OutOfFrames);
    }
    frames.allocate()
}

pub fn free(pfn: Pfn) -> Result<(), FrameError> {
    FRAMES.lock().free(pfn)
}

pub fn free_count() -> u64 {
    FRAMES.lock().free_frames()
}
