//! A process's memory map: which user address ranges are valid, with
//! what protection, and where their contents come from.
//!
//! The page tables only hold what has been touched; this map says what
//! *may* be touched, so a page fault can be told apart: inside a region,
//! the kernel fills the page (zeroes, or the program's bytes) and the
//! program goes on; outside every region (a guard page, a wild pointer)
//! it gets SIGSEGV. `mmap`, `munmap`, `mprotect` and `brk` edit the map;
//! ranges are split and merged as Linux's VMAs are. Pages are 4 KiB and
//! every range is page-aligned.
//!
//! The backing is a type parameter (the kernel's is "anonymous" or "this
//! executable image"), cloned when a region is split.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub const PAGE: u64 = 4096;

/// Access a region allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Protection {
    pub const READ_WRITE: Protection = Protection {
        read: true,
        write: true,
        execute: false,
    };
    pub const NONE: Protection = Protection {
        read: false,
        write: false,
        execute: false,
    };

    /// From mmap's `PROT_*` bits.
    pub fn from_bits(bits: u64) -> Protection {
        Protection {
            read: bits & 1 != 0,
            write: bits & 2 != 0,
            execute: bits & 4 != 0,
        }
    }

    /// True if the page may be mapped at all (x86 cannot map write-only
    /// or execute-only: both imply read).
    pub fn accessible(self) -> bool {
        self.read || self.write || self.execute
    }
}

/// One valid range `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region<B> {
    pub start: u64,
    pub end: u64,
    pub protection: Protection,
    pub backing: B,
}

/// Why an edit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Not page-aligned, empty, or wrapping.
    BadRange,
    /// The range overlaps an existing region (and the caller did not
    /// allow replacing it).
    Overlap,
    /// `mprotect` over a range with holes (Linux: ENOMEM).
    Unmapped,
}

/// The memory map.
#[derive(Clone, Debug)]
pub struct MemoryMap<B: Clone> {
    regions: BTreeMap<u64, Region<B>>,
}

impl<B: Clone> Default for MemoryMap<B> {
    fn default() -> Self {
        Self::new()
    }
}

fn check_range(start: u64, end: u64) -> Result<(), MapError> {
    if start % PAGE != 0 || end % PAGE != 0 || start >= end {
        Err(MapError::BadRange)
    } else {
        Ok(())
    }
}

impl<B: Clone> MemoryMap<B> {
    pub fn new() -> Self {
        MemoryMap {
            regions: BTreeMap::new(),
        }
    }

    /// The region containing `address`.
    pub fn find(&self, address: u64) -> Option<&Region<B>> {
        self.regions
            .range(..=address)
            .next_back()
            .map(|(_, region)| region)
            .filter(|region| address < region.end)
    }

    /// Regions in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Region<B>> {
        self.regions.values()
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// True if any region overlaps `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.regions
            .range(..end)
            .next_back()
            .is_some_and(|(_, region)| region.end > start)
    }

    /// Adds a region; it must not overlap an existing one.
    pub fn insert(&mut self, region: Region<B>) -> Result<(), MapError> {
        check_range(region.start, region.end)?;
        if self.overlaps(region.start, region.end) {
            return Err(MapError::Overlap);
        }
        self.regions.insert(region.start, region);
        Ok(())
    }

    /// Cuts a region boundary at `address` (if a region spans it).
    fn split_at(&mut self, address: u64) {
        let Some(region) = self.find(address).cloned() else {
            return;
        };
        if region.start == address {
            return;
        }
        let upper = Region {
            start: address,
            ..region.clone()
        };
        self.regions
            .get_mut(&region.start)
            .expect("found above")
            .end = address;
        self.regions.insert(address, upper);
    }

    /// Removes `[start, end)` from the map (munmap); returns the pieces
    /// removed, so their pages can be freed. Holes are fine.
    pub fn remove(&mut self, start: u64, end: u64) -> Result<Vec<Region<B>>, MapError> {
        check_range(start, end)?;
        self.split_at(start);
        self.split_at(end);
        let starts: Vec<u64> = self.regions.range(start..end).map(|(&s, _)| s).collect();
        Ok(starts
            .into_iter()
            .filter_map(|s| self.regions.remove(&s))
            .collect())
    }

    /// Changes the protection of `[start, end)` (mprotect); every page of
    /// the range must be mapped.
    pub fn protect(
        &mut self,
        start: u64,
        end: u64,
        protection: Protection,
    ) -> Result<(), MapError> {
        check_range(start, end)?;
        let mut cursor = start;
        for region in self.regions.range(..end).map(|(_, r)| r) {
            if region.end <= cursor {
                continue;
            }
            if region.start > cursor {
                return Err(MapError::Unmapped);
            }
            cursor = region.end;
        }
        if cursor < end {
            return Err(MapError::Unmapped);
        }
        self.split_at(start);
        self.split_at(end);
        for (_, region) in self.regions.range_mut(start..end) {
            region.protection = protection;
        }
        Ok(())
    }

    /// Moves the end of the region that ends at `old_end` to `new_end`
    /// (brk). Growing must not run into another region.
    pub fn resize_end(&mut self, start: u64, new_end: u64) -> Result<(), MapError> {
        let region = self.regions.get(&start).ok_or(MapError::Unmapped)?;
        check_range(start, new_end)?;
        if new_end > region.end && self.overlaps(region.end, new_end) {
            return Err(MapError::Overlap);
        }
        self.regions.get_mut(&start).expect("just found").end = new_end;
        Ok(())
    }

    /// The lowest free, page-aligned gap of `len` bytes at or above
    /// `floor` and below `ceiling`, leaving one guard page after each
    /// existing region (so overruns fault instead of corrupting a
    /// neighbour).
    pub fn find_gap(&self, floor: u64, ceiling: u64, len: u64) -> Option<u64> {
        let mut candidate = floor;
        for region in self.regions.values() {
            if region.end + PAGE <= candidate {
                continue;
            }
            if region.start >= candidate.checked_add(len)?.checked_add(PAGE)? {
                break;
            }
            candidate = candidate.max(region.end + PAGE);
        }
        (candidate.checked_add(len)? <= ceiling).then_some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start: u64, end: u64, backing: char) -> Region<char> {
        Region {
            start: start * PAGE,
            end: end * PAGE,
            protection: Protection::READ_WRITE,
            backing,
        }
    }

    fn spans(map: &MemoryMap<char>) -> Vec<(u64, u64, char)> {
        map.iter()
            .map(|r| (r.start / PAGE, r.end / PAGE, r.backing))
            .collect()
    }

    #[test]
    fn find_answers_inside_and_not_at_the_edges() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 20, 'a')).unwrap();
        assert_eq!(map.find(10 * PAGE).unwrap().backing, 'a');
        assert_eq!(map.find(20 * PAGE - 1).unwrap().backing, 'a');
        assert!(map.find(20 * PAGE).is_none(), "end is exclusive");
        assert!(map.find(10 * PAGE - 1).is_none());
    }

    #[test]
    fn overlapping_or_unaligned_inserts_are_refused() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 20, 'a')).unwrap();
        assert_eq!(map.insert(region(19, 25, 'b')), Err(MapError::Overlap));
        assert_eq!(map.insert(region(5, 11, 'b')), Err(MapError::Overlap));
        assert_eq!(map.insert(region(12, 12, 'b')), Err(MapError::BadRange));
        let mut odd = region(30, 31, 'b');
        odd.start += 1;
        assert_eq!(map.insert(odd), Err(MapError::BadRange));
        map.insert(region(20, 25, 'b')).unwrap();
    }

    #[test]
    fn remove_splits_regions_and_returns_what_it_cut() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 20, 'a')).unwrap();
        map.insert(region(30, 40, 'b')).unwrap();
        let cut = map.remove(15 * PAGE, 35 * PAGE).unwrap();
        assert_eq!(
            cut.iter()
                .map(|r| (r.start / PAGE, r.end / PAGE))
                .collect::<Vec<_>>(),
            [(15, 20), (30, 35)]
        );
        assert_eq!(spans(&map), [(10, 15, 'a'), (35, 40, 'b')]);
        assert!(
            map.remove(0, 5 * PAGE).unwrap().is_empty(),
            "holes are fine"
        );
    }

    #[test]
    fn protect_splits_and_refuses_holes() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 20, 'a')).unwrap();
        map.protect(12 * PAGE, 14 * PAGE, Protection::from_bits(1))
            .unwrap();
        assert_eq!(spans(&map), [(10, 12, 'a'), (12, 14, 'a'), (14, 20, 'a')]);
        assert!(!map.find(13 * PAGE).unwrap().protection.write);
        assert!(map.find(15 * PAGE).unwrap().protection.write);
        assert_eq!(
            map.protect(18 * PAGE, 22 * PAGE, Protection::NONE),
            Err(MapError::Unmapped)
        );
        assert!(
            map.find(19 * PAGE).unwrap().protection.write,
            "unchanged on error"
        );
    }

    #[test]
    fn gaps_leave_a_guard_page_and_respect_the_ceiling() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 20, 'a')).unwrap();
        map.insert(region(24, 30, 'b')).unwrap();
        assert_eq!(
            map.find_gap(10 * PAGE, 100 * PAGE, 3 * PAGE),
            Some(31 * PAGE)
        );
        assert_eq!(
            map.find_gap(10 * PAGE, 100 * PAGE, 2 * PAGE),
            Some(21 * PAGE)
        );
        assert_eq!(map.find_gap(0, 100 * PAGE, 5 * PAGE), Some(0));
        assert_eq!(map.find_gap(31 * PAGE, 33 * PAGE, 3 * PAGE), None);
    }

    #[test]
    fn brk_grows_until_the_next_region() {
        let mut map = MemoryMap::new();
        map.insert(region(10, 11, 'h')).unwrap();
        map.insert(region(20, 21, 'x')).unwrap();
        map.resize_end(10 * PAGE, 15 * PAGE).unwrap();
        assert_eq!(map.resize_end(10 * PAGE, 21 * PAGE), Err(MapError::Overlap));
        map.resize_end(10 * PAGE, 12 * PAGE).unwrap();
        assert_eq!(spans(&map)[0], (10, 12, 'h'));
    }
}
