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

pub fn free(pfn: Pfn) -> Result<(), FrameError> {
    FRAMES.lock().free(pfn)
}

pub fn free_count() -> u64 {
    FRAMES.lock().free_frames()
}
