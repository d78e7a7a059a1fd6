//! Ballooning: giving memory back to Xen and taking it again.
//!
//! The toolstack writes the domain's target (`memory/target`, KiB) and the
//! guest follows. Going down, the kernel takes free frames from its
//! allocator, removes their physmap alias (no mapping may remain),
//! invalidates their p2m entries and hands the machine frames to Xen
//! (`XENMEM_decrease_reservation`). Going up, it asks Xen to populate pfns
//! (`XENMEM_populate_physmap`), records the new machine frames in the p2m
//! and the m2p (`MMU_MACHPHYS_UPDATE`), maps them in the physmap and frees
//! them into the allocator. Pfns between the boot size and `maxmem` start
//! out ballooned, so a domain started with `memory < maxmem` can grow.

use alloc::vec::Vec;
use core::fmt;

use spin::Mutex;
use xen_abi::xen::MmuUpdate;
use xen_abi::{Mfn, Pfn};

use super::frames::FRAMES;
use super::paging::{MapError, MMU};
use super::{p2m_capacity, pfn_to_mfn, physmap_address, set_p2m};
use crate::xen::hypercall::{self, XenError};

/// Pages the kernel keeps free beyond what is in use, so it can still
/// allocate after shrinking (1 MiB).
const MIN_FREE_PAGES: u64 = 256;
/// Pages moved per hypercall step (bounds the temporary lists).
const STEP_PAGES: usize = 512;

struct Balloon {
    /// Pfns given back to Xen, to repopulate first.
    ballooned: Vec<Pfn>,
    /// Pfns from here up to the p2m's capacity were never populated.
    never_populated_from: u64,
}

static BALLOON: Mutex<Balloon> = Mutex::new(Balloon {
    ballooned: Vec::new(),
    never_populated_from: u64::MAX,
});

/// Why the target could not be (fully) reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalloonError {
    /// The target is below what the kernel needs; it went down to `floor`.
    BelowMinimum { target_pages: u64, floor_pages: u64 },
    /// The target is above `maxmem`; it went up to `ceiling`.
    AboveMaximum {
        target_pages: u64,
        ceiling_pages: u64,
    },
    /// Xen refused (or could not satisfy) a reservation change.
    Xen(XenError),
    /// A page-table update failed.
    Map(MapError),
}

impl fmt::Display for BalloonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BalloonError::BelowMinimum {
                target_pages,
                floor_pages,
            } => write!(
                f,
                "target {} KiB is below the {} KiB the kernel needs; stopped there",
                target_pages * 4,
                floor_pages * 4
            ),
            BalloonError::AboveMaximum {
                target_pages,
                ceiling_pages,
            } => write!(
                f,
                "target {} KiB is above maxmem {} KiB; stopped there",
                target_pages * 4,
                ceiling_pages * 4
            ),
            BalloonError::Xen(error) => write!(f, "reservation change failed: {error}"),
            BalloonError::Map(error) => write!(f, "page tables: {error}"),
        }
    }
}

/// Notes that pfns `boot_pages..` have no memory yet (pre-ballooned).
pub fn init(boot_pages: u64) {
    BALLOON.lock().never_populated_from = boot_pages;
}

/// Pages the domain owns now, as Xen counts them.
pub fn current_pages() -> u64 {
    hypercall::current_reservation().unwrap_or(0)
}

/// Moves toward `target_pages`; returns the pages owned afterwards.
pub fn set_target(target_pages: u64) -> Result<u64, BalloonError> {
    let current = current_pages();
    let ceiling = p2m_capacity();
    let free = FRAMES.lock().free_frames();
    let in_use = current.saturating_sub(free);
    let floor = in_use + MIN_FREE_PAGES;
    let mut limit = None;
    let goal = if target_pages < floor {
        limit = Some(BalloonError::BelowMinimum {
            target_pages,
            floor_pages: floor,
        });
        floor
    } else if target_pages > ceiling {
        limit = Some(BalloonError::AboveMaximum {
            target_pages,
            ceiling_pages: ceiling,
        });
        ceiling
    } else {
        target_pages
    };
    if goal < current {
        shrink(current - goal)?;
    } else if goal > current {
        grow(goal - current)?;
    }
    match limit {
        Some(error) => Err(error),
        None => Ok(current_pages()),
    }
}

fn shrink(mut pages: u64) -> Result<(), BalloonError> {
    while pages > 0 {
        let step = pages.min(STEP_PAGES as u64) as usize;
        let mut pfns = Vec::with_capacity(step);
        {
            let mut frames = FRAMES.lock();
            for _ in 0..step {
                match frames.allocate() {
                    Ok(pfn) => pfns.push(pfn),
                    Err(_) => break,
                }
            }
        }
        if pfns.is_empty() {
            return Ok(());
        }
        let mut mfns: Vec<u64> = Vec::with_capacity(pfns.len());
        {
            let mut mmu = MMU.lock();
            for &pfn in &pfns {
                mfns.push(
                    mmu.unmap(physmap_address(pfn))
                        .map_err(BalloonError::Map)?
                        .0,
                );
            }
            mmu.commit().map_err(BalloonError::Map)?;
        }
        for &pfn in &pfns {
            set_p2m(pfn, None);
        }
        // SAFETY: the frames came from the free list (nothing uses them),
        // their only mapping, the physmap alias, was removed and flushed
        // above, and their p2m entries are invalid.
        let given = unsafe { hypercall::decrease_reservation(&mut mfns) }
            .map_err(BalloonError::Xen)? as usize;
        if given < pfns.len() {
            // Xen kept the rest with us: put them back as they were.
            let mut mmu = MMU.lock();
            for (&pfn, &mfn) in pfns[given..].iter().zip(&mfns[given..]) {
                set_p2m(pfn, Some(Mfn(mfn)));
                mmu.map(physmap_address(pfn), Mfn(mfn), true)
                    .map_err(BalloonError::Map)?;
            }
            mmu.commit().map_err(BalloonError::Map)?;
            drop(mmu);
            let mut frames = FRAMES.lock();
            for &pfn in &pfns[given..] {
                let _ = frames.free(pfn);
            }
        }
        BALLOON.lock().ballooned.extend_from_slice(&pfns[..given]);
        if given < pfns.len() {
            return Err(BalloonError::Xen(XenError(xen_abi::errno::EBUSY)));
        }
        pages -= given as u64;
    }
    Ok(())
}

fn grow(mut pages: u64) -> Result<(), BalloonError> {
    while pages > 0 {
        let step = pages.min(STEP_PAGES as u64) as usize;
        let mut pfns: Vec<Pfn> = Vec::with_capacity(step);
        {
            let mut balloon = BALLOON.lock();
            while pfns.len() < step {
                if let Some(pfn) = balloon.ballooned.pop() {
                    pfns.push(pfn);
                } else if balloon.never_populated_from < p2m_capacity() {
                    pfns.push(Pfn(balloon.never_populated_from));
                    balloon.never_populated_from += 1;
                } else {
                    break;
                }
            }
        }
        if pfns.is_empty() {
            return Ok(());
        }
        let mut frames_list: Vec<u64> = pfns.iter().map(|pfn| pfn.0).collect();
        let populated = hypercall::populate_physmap(&mut frames_list);
        let populated = match populated {
            Ok(count) => count as usize,
            Err(error) => {
                BALLOON.lock().ballooned.extend_from_slice(&pfns);
                return Err(BalloonError::Xen(error));
            }
        };
        {
            let mut mmu = MMU.lock();
            for (&pfn, &mfn) in pfns.iter().zip(&frames_list).take(populated) {
                debug_assert!(pfn_to_mfn(pfn).is_none());
                set_p2m(pfn, Some(Mfn(mfn)));
                mmu.queue_update(MmuUpdate::machphys_update(Mfn(mfn), pfn))
                    .map_err(BalloonError::Map)?;
                mmu.map(physmap_address(pfn), Mfn(mfn), true)
                    .map_err(BalloonError::Map)?;
            }
            mmu.commit().map_err(BalloonError::Map)?;
        }
        {
            let mut frames = FRAMES.lock();
            for &pfn in &pfns[..populated] {
                let _ = frames.free(pfn);
            }
        }
        if populated < pfns.len() {
            BALLOON
                .lock()
                .ballooned
                .extend_from_slice(&pfns[populated..]);
            return Err(BalloonError::Xen(XenError(xen_abi::errno::ENOMEM)));
        }
        pages -= populated as u64;
    }
    Ok(())
}
