//! Which pseudo-physical frames are free: a bitmap allocator.
//!
//! A PV guest owns `nr_pages` pseudo-physical frames (pfns `0..nr_pages`);
//! Xen's start-of-day layout (`xen.h`, "Start-of-day memory layout") uses
//! the first ones for the kernel image, the p2m list, `start_info` and the
//! bootstrap page tables. The kernel marks the rest free here. The bitmap
//! has a fixed capacity so it lives in a static; frames beyond it are
//! reported and left unused rather than silently dropped.
//!
//! The allocator also remembers which frames are page tables, because Xen
//! refuses to install a table that is mapped writable anywhere: the
//! kernel's direct map must map those frames read-only.

use xen_abi::Pfn;

/// Why an allocator operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No free frame is left.
    OutOfFrames,
    /// The pfn is outside the frames this allocator manages.
    OutOfRange(Pfn),
    /// Freeing a frame that is already free: a double free in the kernel.
    DoubleFree(Pfn),
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::OutOfFrames => f.write_str("out of free frames"),
            FrameError::OutOfRange(pfn) => write!(f, "pfn {:#x} outside managed range", pfn.0),
            FrameError::DoubleFree(pfn) => write!(f, "pfn {:#x} freed twice", pfn.0),
        }
    }
}

impl core::error::Error for FrameError {}

/// Bitmap allocator for up to `WORDS * 64` frames.
pub struct FrameAllocator<const WORDS: usize> {
    free: [u64; WORDS],
    page_table: [u64; WORDS],
    /// Frames `0..limit` are managed (`min(nr_pages, capacity)`).
    limit: u64,
    free_count: u64,
    /// Word index to start the next search from.
    hint: usize,
}

impl<const WORDS: usize> Default for FrameAllocator<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WORDS: usize> FrameAllocator<WORDS> {
    /// Frames a bitmap of this size can describe.
    pub const CAPACITY: u64 = WORDS as u64 * 64;

    /// An allocator with every frame in use.
    pub const fn new() -> Self {
        FrameAllocator {
            free: [0; WORDS],
            page_table: [0; WORDS],
            limit: 0,
            free_count: 0,
            hint: 0,
        }
    }

    /// Manages pfns `0..nr_pages` (clamped to capacity), all in use.
    /// Returns how many frames exceed the capacity and will never be used.
    pub fn reset(&mut self, nr_pages: u64) -> u64 {
        *self = Self::new();
        self.limit = nr_pages.min(Self::CAPACITY);
        nr_pages - self.limit
    }

    /// Manages pfns up to `nr_pages` (clamped to capacity) from now on, the
    /// new ones in use; never shrinks. Returns the frames left unmanaged.
    pub fn extend_limit(&mut self, nr_pages: u64) -> u64 {
        let new_limit = nr_pages.min(Self::CAPACITY);
        self.limit = self.limit.max(new_limit);
        nr_pages.saturating_sub(self.limit)
    }

    pub fn managed_frames(&self) -> u64 {
        self.limit
    }

    pub fn free_frames(&self) -> u64 {
        self.free_count
    }

    fn index(&self, pfn: Pfn) -> Result<(usize, u64), FrameError> {
        if pfn.0 >= self.limit {
            return Err(FrameError::OutOfRange(pfn));
        }
        Ok(((pfn.0 / 64) as usize, 1u64 << (pfn.0 % 64)))
    }

    /// Marks `start..end` free (clamped to the managed range).
    pub fn add_free_range(&mut self, start: Pfn, end: Pfn) {
        for pfn in start.0..end.0.min(self.limit) {
            let (word, bit) = self.index(Pfn(pfn)).expect("clamped to limit");
            if self.free[word] & bit == 0 {
                self.free[word] |= bit;
                self.free_count += 1;
            }
        }
    }

    /// Takes one free frame.
    pub fn allocate(&mut self) -> Result<Pfn, FrameError> {
        let words = self.limit.div_ceil(64) as usize;
        for step in 0..words {
            let word = (self.hint + step) % words;
            let bits = self.free[word];
            if bits != 0 {
                let bit = bits.trailing_zeros() as u64;
                self.free[word] &= !(1 << bit);
                self.free_count -= 1;
                self.hint = word;
                return Ok(Pfn(word as u64 * 64 + bit));
            }
        }
        Err(FrameError::OutOfFrames)
    }

    /// Returns a frame; it stops being a page table.
    pub fn free(&mut self, pfn: Pfn) -> Result<(), FrameError> {
        let (word, bit) = self.index(pfn)?;
        if self.free[word] & bit != 0 {
            return Err(FrameError::DoubleFree(pfn));
        }
        self.free[word] |= bit;
        self.page_table[word] &= !bit;
        self.free_count += 1;
        Ok(())
    }

    pub fn is_free(&self, pfn: Pfn) -> bool {
        self.index(pfn)
            .map(|(word, bit)| self.free[word] & bit != 0)
            .unwrap_or(false)
    }

    /// Records whether `pfn` holds a page table (so it must stay read-only).
    pub fn set_page_table(&mut self, pfn: Pfn, is_table: bool) -> Result<(), FrameError> {
        let (word, bit) = self.index(pfn)?;
        if is_table {
            self.page_table[word] |= bit;
        } else {
            self.page_table[word] &= !bit;
        }
        Ok(())
    }

    pub fn is_page_table(&self, pfn: Pfn) -> bool {
        self.index(pfn)
            .map(|(word, bit)| self.page_table[word] & bit != 0)
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn allocates_each_free_frame_once() {
        let mut frames: FrameAllocator<4> = FrameAllocator::new();
        assert_eq!(frames.reset(200), 0);
        frames.add_free_range(Pfn(10), Pfn(150));
        assert_eq!(frames.free_frames(), 140);
        let mut seen = BTreeSet::new();
        while let Ok(pfn) = frames.allocate() {
            assert!((10..150).contains(&pfn.0));
            assert!(seen.insert(pfn));
        }
        assert_eq!(seen.len(), 140);
        assert_eq!(frames.allocate(), Err(FrameError::OutOfFrames));
    }

    #[test]
    fn frames_beyond_capacity_are_reported() {
        let mut frames: FrameAllocator<1> = FrameAllocator::new();
        assert_eq!(frames.reset(100), 36);
        frames.add_free_range(Pfn(0), Pfn(100));
        assert_eq!(frames.free_frames(), 64);
    }

    #[test]
    fn limit_extends_but_never_shrinks() {
        let mut frames: FrameAllocator<2> = FrameAllocator::new();
        frames.reset(10);
        assert_eq!(frames.extend_limit(100), 0);
        assert_eq!(frames.managed_frames(), 100);
        assert!(!frames.is_free(Pfn(50)), "new frames start in use");
        frames.free(Pfn(50)).unwrap();
        assert_eq!(frames.extend_limit(20), 0);
        assert_eq!(frames.managed_frames(), 100);
        assert_eq!(frames.extend_limit(200), 72);
    }

    #[test]
    fn double_free_and_out_of_range_are_errors() {
        let mut frames: FrameAllocator<1> = FrameAllocator::new();
        frames.reset(64);
        frames.add_free_range(Pfn(0), Pfn(1));
        let pfn = frames.allocate().unwrap();
        frames.set_page_table(pfn, true).unwrap();
        assert!(frames.is_page_table(pfn));
        frames.free(pfn).unwrap();
        assert!(!frames.is_page_table(pfn), "freeing clears the table mark");
        assert_eq!(frames.free(pfn), Err(FrameError::DoubleFree(pfn)));
        assert_eq!(frames.free(Pfn(64)), Err(FrameError::OutOfRange(Pfn(64))));
    }
}
