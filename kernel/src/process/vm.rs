//! Virtual memory of a process: the memory map (`kernel_core::vma`) says
//! what may be touched, page faults fill it in.
//!
//! * **Demand paging.** `mmap`, `brk`, the stack and the program's own
//!   segments only add regions; a page gets a frame at its first touch.
//!   A fault fills the whole aligned block of [`FAULT_AROUND_PAGES`]
//!   around it (zeroes, or the program's bytes) in one commit, so a
//!   sequential first touch costs one fault, one `mmu_update` and one
//!   `iret` per block rather than per page.
//! * **Copy-on-write fork.** Writable pages are write-protected in the
//!   parent and mapped read-only in the child, all PTE writes batched in
//!   one commit; the frame is recorded as shared (`mm::shares`). A write
//!   fault copies a shared page, or just makes it writable again if the
//!   other owners are gone.
//! * **Protection.** `mprotect` edits the map and rewrites the PTEs of
//!   present pages in one commit. Outside every region (guard pages
//!   below the stack and between mappings) a fault is SIGSEGV.
//!
//! Everything here goes through `mm::paging::Mmu`, which queues PTE
//! writes in `kernel_core::mmu_batch` and flushes the TLB once per
//! commit.

use kernel_core::vma::{MemoryMap, Protection, Region};
use xen_abi::{Mfn, Pfn};

use super::*;

/// Pages filled by one demand fault (an aligned block, clipped to the
/// region).
pub(super) const FAULT_AROUND_PAGES: u64 = 16;
/// The largest fill of a sequential scan (2 MiB).
const SEQUENTIAL_MAX_PAGES: u64 = 512;
const PAGE: u64 = 4096;
const PTE_ADDRESS: u64 = 0x000f_ffff_ffff_f000;
const PTE_WRITABLE: u64 = 2;
/// The stack region: 8 MiB below [`STACK_TOP`] (Linux's default limit).
pub(super) const STACK_BYTES: u64 = 8 << 20;

/// Where a region's pages come from at first touch.
#[derive(Clone)]
pub(super) enum Backing {
    /// Zeroes.
    Anonymous,
    /// An executable's bytes, page by page as its load plan says.
    Image(Arc<ExecImage>),
    /// A private file mapping: the byte at `start + i` is `data[i]`,
    /// zeroes past the end.
    File { data: Arc<Vec<u8>>, start: u64 },
}

/// A program file and how its pages are laid out.
pub(super) struct ExecImage {
    pub(super) file: Arc<Vec<u8>>,
    pub(super) plan: kernel_core::elf::LoadPlan,
}

pub(super) type Map = MemoryMap<Backing>;

/// Writes page `va`'s initial contents into `bytes` (already zeroed).
fn fill_page(backing: &Backing, va: u64, bytes: &mut [u8]) {
    match backing {
        Backing::Anonymous => {}
        Backing::Image(image) => {
            let pages = &image.plan.pages;
            if let Ok(index) = pages.binary_search_by_key(&va, |page| page.vaddr) {
                for copy in image.plan.copies_for(&pages[index]) {
                    let from = copy.file_offset as usize;
                    let to = copy.page_offset as usize;
                    let len = copy.len as usize;
                    bytes[to..to + len].copy_from_slice(&image.file[from..from + len]);
                }
            }
        }
        Backing::File { data, start } => {
            let offset = (va - start) as usize;
            if offset < data.len() {
                let len = (data.len() - offset).min(PAGE as usize);
                bytes[..len].copy_from_slice(&data[offset..offset + len]);
            }
        }
    }
}

/// A fresh frame holding page `va` of `backing`.
fn new_page(backing: &Backing, va: u64) -> Option<(Pfn, Mfn)> {
    let pfn = frames::allocate_for_user().ok()?;
    // SAFETY: the frame was just allocated: nothing else refers to it,
    // and the physmap maps it writable.
    let bytes = unsafe { core::slice::from_raw_parts_mut(physmap_address(pfn) as *mut u8, 4096) };
    bytes.fill(0);
    fill_page(backing, va, bytes);
    Some((pfn, pfn_to_mfn(pfn).expect("populated")))
}

/// Makes the present page at `va` (mapped to `mfn`) writable for `space`
/// alone: a private copy if the frame is shared. Queued; the caller
/// commits.
fn break_sharing(
    mmu: &mut crate::mm::paging::Mmu,
    space: &UserTables,
    va: u64,
    mfn: Mfn,
) -> Option<Pfn> {
    let pfn = mfn_to_pfn(mfn)?;
    if !crate::mm::shares::is_shared(pfn) {
        mmu.remap_user(space, va, mfn, true).ok()?;
        return Some(pfn);
    }
    let copy = frames::allocate_for_user().ok()?;
    // SAFETY: `copy` is a fresh frame; `pfn` is a live user frame mapped
    // in the physmap; 4096 bytes each, distinct frames.
    unsafe {
        core::ptr::copy_nonoverlapping(
            physmap_address(pfn) as *const u8,
            physmap_address(copy) as *mut u8,
            4096,
        )
    };
    if mmu
        .remap_user(space, va, pfn_to_mfn(copy).expect("populated"), true)
        .is_err()
    {
        let _ = frames::free(copy);
        return None;
    }
    // Not the last owner (it is shared): nothing to free.
    crate::mm::shares::release(pfn);
    Some(copy)
}

/// How a page fault was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resolution {
    /// The page is there now: the access can be retried.
    Filled,
    /// Outside the memory map, or not allowed by its protection: SIGSEGV.
    Denied,
    /// Allowed, but no free frame: the process is killed (Linux's OOM
    /// killer sends SIGKILL).
    OutOfMemory,
}

/// Resolves a fault at `address` in the current process (`write`: the
/// access was a write).
pub(super) fn resolve_fault(address: u64, write: bool) -> Resolution {
    match fill_fault(address, write) {
        Ok(()) => Resolution::Filled,
        Err(resolution) => resolution,
    }
}

fn fill_fault(address: u64, write: bool) -> Result<(), Resolution> {
    use Resolution::{Denied, OutOfMemory};
    let page = address & !(PAGE - 1);
    if !(USER_START..USER_END).contains(&page) {
        return Err(Denied);
    }
    let mut processes = PROCESSES.lock();
    let process = processes.get(&current_pid()).ok_or(Denied)?;
    let (Some(space), Some(region)) = (process.tables.as_ref(), process.map.find(page)) else {
        return Err(Denied);
    };
    let (expected_next, last_window) = process.fault_window;
    let protection = region.protection;
    if !protection.accessible() || (write && !protection.write) {
        return Err(Denied);
    }
    let mut mmu = MMU.lock();
    if let Some(pte) = mmu.translate_user(space, page) {
        if !write || pte & PTE_WRITABLE != 0 {
            return Ok(()); // already there (the fault raced a fill)
        }
        crate::counters::bump(&crate::counters::COW_FAULTS);
        break_sharing(&mut mmu, space, page, Mfn((pte & PTE_ADDRESS) >> 12)).ok_or(OutOfMemory)?;
        return mmu.commit().map_err(|_| OutOfMemory);
    }
    // A fault right where the last fill ended is a sequential scan: the
    // window doubles (up to SEQUENTIAL_MAX_PAGES) and runs forward from
    // the fault, as read-ahead does; any other fault fills the aligned
    // 16-page block around it.
    let (window, first, end) = if page == expected_next {
        let window = (last_window * 2).min(SEQUENTIAL_MAX_PAGES);
        (window, page, (page + window * PAGE).min(region.end))
    } else {
        let block = FAULT_AROUND_PAGES * PAGE;
        let first = (page & !(block - 1)).max(region.start);
        (
            FAULT_AROUND_PAGES,
            first,
            ((page & !(block - 1)) + block).min(region.end),
        )
    };
    let va = fill_missing(&mut mmu, space, region, first, end);
    let mapped_faulting_page = va > page;
    crate::counters::bump(&crate::counters::DEMAND_FAULTS);
    log::trace!("demand fault {address:#x}: block {first:#x}..{end:#x} filled to {va:#x}");
    mmu.commit().map_err(|_| OutOfMemory)?;
    drop(mmu);
    if let Some(process) = processes.get_mut(&current_pid()) {
        process.fault_window = (va, window);
    }
    if mapped_faulting_page {
        Ok(())
    } else {
        Err(OutOfMemory)
    }
}

/// Queues a fresh page (zeroes, or the backing's bytes) at every unmapped
/// page of `[first, end)` in `region`; stops early when memory runs out.
/// Returns where it stopped: every page below is present once committed.
fn fill_missing(
    mmu: &mut crate::mm::paging::Mmu,
    space: &UserTables,
    region: &Region<Backing>,
    first: u64,
    end: u64,
) -> u64 {
    let mut va = first;
    while va < end {
        if mmu.translate_user(space, va).is_none() {
            let Some((pfn, mfn)) = new_page(&region.backing, va) else {
                break;
            };
            if mmu
                .map_user(space, va, mfn, region.protection.write)
                .is_err()
            {
                let _ = frames::free(pfn);
                break;
            }
        }
        va += PAGE;
    }
    va
}

/// Before the kernel touches `[address, end)` of user memory: every page
/// present (and writable, if `write`), faulting pages in as the program
/// itself would. False if some page may not be accessed.
pub(super) fn populate(address: u64, end: u64, write: bool) -> bool {
    let mut page = address & !(PAGE - 1);
    while page < end {
        let present = {
            let processes = PROCESSES.lock();
            let Some(space) = processes
                .get(&current_pid())
                .and_then(|p| p.tables.as_ref())
            else {
                return false;
            };
            MMU.lock()
                .translate_user(space, page)
                .is_some_and(|pte| !write || pte & PTE_WRITABLE != 0)
        };
        if !present && resolve_fault(page, write) != Resolution::Filled {
            return false;
        }
        page += PAGE;
    }
    true
}

/// Unmaps the current process's pages in `[start, end)` and frees those
/// it alone owned, in one commit.
pub(super) fn unmap_pages(start: u64, end: u64) -> Result<(), i64> {
    let mut freed = Vec::new();
    {
        let processes = PROCESSES.lock();
        let space = processes
            .get(&current_pid())
            .and_then(|p| p.tables.as_ref())
            .ok_or(EFAULT)?;
        let mut mmu = MMU.lock();
        let mut va = start;
        while va < end {
            if let Some(mfn) = mmu.unmap_user(space, va).map_err(|_| EINVAL)? {
                freed.push(mfn);
            }
            va += PAGE;
        }
        mmu.commit().map_err(|_| ENOMEM)?;
    }
    for mfn in freed {
        if let Some(pfn) = mfn_to_pfn(mfn) {
            if crate::mm::shares::release(pfn) {
                let _ = frames::free(pfn);
            }
        }
    }
    Ok(())
}

/// mmap(address, len, prot, flags, fd, offset).
pub(super) fn mmap(
    hint: u64,
    len: u64,
    prot: u64,
    flags: u64,
    fd: i32,
    offset: u64,
) -> Result<u64, i64> {
    use linux_abi::mman::{MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED};
    let anonymous = flags & MAP_ANONYMOUS as u64 != 0;
    let fixed = flags & MAP_FIXED as u64 != 0;
    let size = len.checked_add(PAGE - 1).ok_or(ENOMEM)? & !(PAGE - 1);
    if len == 0 || size > 1 << 36 || offset % PAGE != 0 {
        return Err(EINVAL);
    }
    if flags & (MAP_PRIVATE | MAP_SHARED) as u64 == 0 {
        return Err(EINVAL);
    }
    let backing = if anonymous {
        Backing::Anonymous
    } else {
        if flags & MAP_SHARED as u64 != 0 && prot & 2 != 0 {
            return Err(ENODEV); // writable shared file mappings: not supported
        }
        let File::Node(node) = with_current(|p| p.file(fd as u64).cloned())? else {
            return Err(EACCES);
        };
        let id = node.lock().0;
        let mut data = alloc::vec![0u8; size as usize];
        let read = VFS
            .lock()
            .as_ref()
            .ok_or(EBADF)?
            .read(
                id,
                offset,
                &mut data,
                &kernel_core::vfs::Caller { pid: current_pid() },
            )
            .map_err(errno)?;
        data.truncate(read);
        Backing::File {
            data: Arc::new(data),
            start: 0, // set below, once the address is known
        }
    };
    let start = if fixed {
        if hint % PAGE != 0
            || hint < USER_START
            || hint.checked_add(size).is_none_or(|e| e > USER_END)
        {
            return Err(EINVAL);
        }
        munmap(hint, size)?;
        hint
    } else {
        with_current(|p| p.map.find_gap(MMAP_BASE, USER_END, size)).ok_or(ENOMEM)?
    };
    let backing = match backing {
        Backing::File { data, .. } => Backing::File { data, start },
        other => other,
    };
    with_current(|p| {
        p.map.insert(Region {
            start,
            end: start + size,
            protection: Protection::from_bits(prot),
            backing,
        })
    })
    .map_err(|_| ENOMEM)?;
    if flags & linux_abi::mman::MAP_POPULATE as u64 != 0 {
        // Best effort, as on Linux: what memory allows is filled now.
        fill_range(start, start + size);
    }
    Ok(start)
}

/// Fills every missing page of `[start, end)` (inside one region of the
/// current process) at once: `MAP_POPULATE`. The PTE writes go through
/// the batch, up to 1024 per `mmu_update`, in as few commits as that
/// allows.
fn fill_range(start: u64, end: u64) {
    let processes = PROCESSES.lock();
    let Some(process) = processes.get(&current_pid()) else {
        return;
    };
    let (Some(space), Some(region)) = (process.tables.as_ref(), process.map.find(start)) else {
        return;
    };
    let mut mmu = MMU.lock();
    fill_missing(&mut mmu, space, region, start, end.min(region.end));
    let _ = mmu.commit();
}

/// munmap: the range leaves the map and its pages are freed.
pub(super) fn munmap(start: u64, len: u64) -> Result<u64, i64> {
    let end = start
        .checked_add(len)
        .and_then(|end| end.checked_add(PAGE - 1))
        .ok_or(EINVAL)?
        & !(PAGE - 1);
    if start % PAGE != 0 || len == 0 || end > USER_END {
        return Err(EINVAL);
    }
    with_current(|p| p.map.remove(start, end)).map_err(|_| EINVAL)?;
    unmap_pages(start, end).map(|()| 0)
}

/// mprotect: new protection for the range's regions and present pages
/// (shared pages stay read-only: their first write copies them).
pub(super) fn mprotect(start: u64, len: u64, prot: u64) -> Result<u64, i64> {
    let end = start
        .checked_add(len)
        .and_then(|end| end.checked_add(PAGE - 1))
        .ok_or(ENOMEM)?
        & !(PAGE - 1);
    if start % PAGE != 0 {
        return Err(EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let protection = Protection::from_bits(prot);
    with_current(|p| p.map.protect(start, end, protection)).map_err(|_| ENOMEM)?;
    let processes = PROCESSES.lock();
    let space = processes
        .get(&current_pid())
        .and_then(|p| p.tables.as_ref())
        .ok_or(EFAULT)?;
    let mut mmu = MMU.lock();
    let mut va = start;
    while va < end {
        if let Some(pte) = mmu.translate_user(space, va) {
            let mfn = Mfn((pte & PTE_ADDRESS) >> 12);
            let shared = mfn_to_pfn(mfn).is_some_and(crate::mm::shares::is_shared);
            let writable = protection.write && !shared;
            if writable != (pte & PTE_WRITABLE != 0) {
                mmu.remap_user(space, va, mfn, writable)
                    .map_err(|_| ENOMEM)?;
            }
        }
        va += PAGE;
    }
    mmu.commit().map_err(|_| ENOMEM).map(|()| 0)
}

/// brk: moves the end of the heap region (pages come at first touch;
/// shrinking frees them).
pub(super) fn brk(requested: u64) -> u64 {
    let (start, current) = with_current(|p| (p.brk_start, p.brk));
    if requested < start || requested > start + (1 << 32) {
        return current;
    }
    let old_end = (current + PAGE - 1) & !(PAGE - 1);
    let new_end = (requested + PAGE - 1) & !(PAGE - 1);
    let resized = with_current(|p| {
        if new_end == old_end {
            return Ok(());
        }
        if old_end == start {
            return p.map.insert(Region {
                start,
                end: new_end,
                protection: Protection::READ_WRITE,
                backing: Backing::Anonymous,
            });
        }
        if new_end == start {
            return p.map.remove(start, old_end).map(drop);
        }
        p.map.resize_end(start, new_end)
    });
    if resized.is_err() {
        return current;
    }
    if new_end < old_end {
        let _ = unmap_pages(new_end, old_end);
    }
    with_current(|p| {
        p.brk = requested;
        p.brk
    })
}

/// fork's copy of the address space: every page shared copy-on-write.
/// Writable pages are write-protected in the parent; the child maps
/// every page read-only. All PTE writes go in one commit.
///
/// Except the page under the parent's stack pointer (`stack_pointer`):
/// both processes write it at once (the return from fork), so it is
/// copied now (`MMUEXT_COPY_PAGE`, in the same commit) instead of costing
/// each of them a copy-on-write fault: two faults, two commits and two
/// irets saved per fork for one page copy.
pub(super) fn share_address_space(child: &UserTables, stack_pointer: u64) -> Result<(), i64> {
    let processes = PROCESSES.lock();
    let source = processes
        .get(&current_pid())
        .and_then(|p| p.tables.as_ref())
        .ok_or(EFAULT)?;
    let stack_page = stack_pointer & !(PAGE - 1);
    let mut mmu = MMU.lock();
    let pages = mmu.user_pages(source);
    for (va, mfn, writable) in pages {
        let pfn = mfn_to_pfn(mfn).ok_or(EFAULT)?;
        if writable && va == stack_page {
            if let Ok(copy) = frames::allocate_for_user() {
                let copy_mfn = pfn_to_mfn(copy).expect("populated");
                mmu.copy_page(copy_mfn, mfn).map_err(|_| ENOMEM)?;
                if mmu.map_user(child, va, copy_mfn, true).is_err() {
                    let _ = frames::free(copy);
                    return Err(ENOMEM);
                }
                continue;
            }
        }
        if writable {
            mmu.remap_user(source, va, mfn, false).map_err(|_| ENOMEM)?;
        }
        mmu.map_user(child, va, mfn, false).map_err(|_| ENOMEM)?;
        crate::mm::shares::add(pfn);
    }
    mmu.commit().map_err(|_| ENOMEM)
}

/// Writes `value` at `address` in another process's space (the child's
/// CLONE_CHILD_SETTID), copying the page first if it is shared.
pub(super) fn write_u32_in(space: &UserTables, address: u64, value: u32) -> bool {
    if address % 4 != 0 {
        return false;
    }
    let page = address & !(PAGE - 1);
    let mut mmu = MMU.lock();
    let Some(pte) = mmu.translate_user(space, page) else {
        return false;
    };
    let Some(pfn) = break_sharing(&mut mmu, space, page, Mfn((pte & PTE_ADDRESS) >> 12)) else {
        return false;
    };
    if mmu.commit().is_err() {
        return false;
    }
    let target = physmap_address(pfn) + (address & (PAGE - 1));
    // SAFETY: the frame is now private to `space` (above), mapped in the
    // physmap; the address is 4-aligned inside one page.
    unsafe { core::ptr::write_volatile(target as *mut u32, value) };
    true
}
