//! Frames shared copy-on-write between processes after fork.
//!
//! A frame absent from the table has one owner. `add` records another
//! owner; `release` drops one and says whether the caller was the last,
//! so only then is the frame freed. A write fault on a shared page copies
//! it; on a page whose other owners are gone it just becomes writable.
//!
//! Callers hold the MMU lock: the table may allocate, which is safe
//! because system calls and faults reserve heap headroom on entry.

use alloc::collections::BTreeMap;

use spin::Mutex;
use xen_abi::Pfn;

/// Extra owners per shared frame (so 1 means two processes map it).
static EXTRA_OWNERS: Mutex<BTreeMap<u64, u32>> = Mutex::new(BTreeMap::new());

/// Records one more owner of `pfn`.
pub fn add(pfn: Pfn) {
    *EXTRA_OWNERS.lock().entry(pfn.0).or_insert(0) += 1;
}

/// Drops one owner of `pfn`; true if there is none left (free it).
pub fn release(pfn: Pfn) -> bool {
    let mut table = EXTRA_OWNERS.lock();
    match table.get_mut(&pfn.0) {
        None => true,
        Some(1) => {
            table.remove(&pfn.0);
            false
        }
        Some(count) => {
            *count -= 1;
            false
        }
    }
}

/// True if another process also maps `pfn`.
pub fn is_shared(pfn: Pfn) -> bool {
    EXTRA_OWNERS.lock().contains_key(&pfn.0)
}

/// Frames currently shared (for /proc/meminfo-style reports).
pub fn shared_frames() -> usize {
    EXTRA_OWNERS.lock().len()
}
