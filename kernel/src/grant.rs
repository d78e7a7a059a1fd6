//! Grant tables: the kernel's table frames, mapped, with xen-io's bookkeeping.
//!
//! `GNTTABOP_setup_table` gives the machine frames of our grant table; we
//! map them at [`GRANT_BASE`] and hand them to `xen_io::grant_table`, which
//! implements the v1 grant/revoke protocol (and quarantines a grant the
//! peer still uses instead of reusing its page). Split drivers will grant
//! their ring and data pages through here.

use alloc::vec::Vec;
use core::fmt;

use spin::Mutex;
use xen_abi::{DomId, GrantRef, Mfn};
use xen_io::grant_table::{GrantError, GrantTable};

use crate::mm::paging::{MapError, MMU};
use crate::xen::hypercall::{self, XenError};
use crate::xen::shared_page::MappedPage;

/// Where the grant table frames are mapped (L4 slot 276).
pub const GRANT_BASE: u64 = 0xffff_8a00_0000_0000;
/// Table frames we ask for: 4 frames = 2048 entries.
const WANTED_FRAMES: u32 = 4;

static TABLE: Mutex<Option<GrantTable<MappedPage>>> = Mutex::new(None);

/// Why setting up or using the grant table failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantSetupError {
    Xen(XenError),
    Map(MapError),
    Grant(GrantError),
    NotSetUp,
}

impl fmt::Display for GrantSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantSetupError::Xen(error) => write!(f, "grant table hypercall: {error}"),
            GrantSetupError::Map(error) => write!(f, "mapping the grant table: {error}"),
            GrantSetupError::Grant(error) => write!(f, "{error}"),
            GrantSetupError::NotSetUp => f.write_str("grant table not set up"),
        }
    }
}

/// Sets up and maps our grant table; returns the number of entries.
pub fn init() -> Result<u32, GrantSetupError> {
    let (_, max_frames) = hypercall::grant_query_size().map_err(GrantSetupError::Xen)?;
    let frames = WANTED_FRAMES.min(max_frames).max(1);
    let mut list: Vec<u64> = alloc::vec![0; frames as usize];
    hypercall::grant_setup_table(&mut list).map_err(GrantSetupError::Xen)?;
    let mut mmu = MMU.lock();
    for (i, &frame) in list.iter().enumerate() {
        mmu.map(GRANT_BASE + i as u64 * 4096, Mfn(frame), true)
            .map_err(GrantSetupError::Map)?;
    }
    mmu.commit().map_err(GrantSetupError::Map)?;
    drop(mmu);
    let pages = (0..frames as u64)
        // SAFETY: each page was just mapped writable at GRANT_BASE + i * 4096
        // and stays mapped for the kernel's life; nothing else refers to it.
        .map(|i| unsafe { MappedPage::new(GRANT_BASE + i * 4096) })
        .collect();
    let table = GrantTable::new(pages);
    let capacity = table.capacity();
    *TABLE.lock() = Some(table);
    Ok(capacity)
}

/// Lets `domid` access machine frame `mfn` (read-only if `readonly`).
pub fn grant_access(domid: DomId, mfn: Mfn, readonly: bool) -> Result<GrantRef, GrantSetupError> {
    TABLE
        .lock()
        .as_mut()
        .ok_or(GrantSetupError::NotSetUp)?
        .grant_access(domid, mfn.0, readonly)
        .map_err(GrantSetupError::Grant)
}

/// Revokes a grant; if the peer still uses it, it is quarantined and the
/// error says so (the frame must then not be reused).
pub fn end_access(gref: GrantRef) -> Result<(), GrantSetupError> {
    TABLE
        .lock()
        .as_mut()
        .ok_or(GrantSetupError::NotSetUp)?
        .end_access(gref)
        .map_err(GrantSetupError::Grant)
}

/// (free references, quarantined references).
pub fn usage() -> (usize, usize) {
    TABLE
        .lock()
        .as_ref()
        .map_or((0, 0), |t| (t.free_count(), t.quarantined().count()))
}
