//! The version-1 grant table: hand out references, revoke, quarantine.
//!
//! A domain shares one of its frames with a peer by filling an entry of its
//! grant table (`struct grant_entry_v1`, `grant_table.h`: `flags` u16,
//! `domid` u16, `frame` u32; 512 entries per 4 KiB table frame) and giving
//! the peer the entry's index, the grant reference. [`GrantEntries`] is the
//! table as shared memory (frame `i / 512`, byte `(i % 512) * 8`);
//! [`GrantTable`] adds the bookkeeping: which references are free, which
//! are granted to whom, and which are quarantined.
//!
//! Who writes what (`grant_table.h` tags `[GST]` and `[XEN]`):
//!
//! | field | writer |
//! |---|---|
//! | `domid`, `frame` | this guest |
//! | `flags` type, `GTF_readonly` | this guest |
//! | `flags` `GTF_reading`, `GTF_writing` | Xen, while the peer maps or copies the frame |
//!
//! Granting follows "Introducing a valid entry into the grant table":
//! write `domid` and `frame`, a write barrier, then `flags`. Revoking
//! follows "Invalidating an unused GTF_permit_access entry": read `flags`,
//! check neither `GTF_reading` nor `GTF_writing` is set, and
//! compare-exchange `flags` to 0. While the peer still has the frame mapped
//! that fails, and "invalidating an in-use entry ... cannot be done
//! directly": the entry is *quarantined* ([`GrantError::StillInUse`]). The
//! frame then still belongs to the peer's mapping and must not be reused
//! until [`GrantTable::retry_quarantined`] reports it released.
//!
//! References `0..GNTTAB_NR_RESERVED_ENTRIES` (8) are the toolstack's
//! (`GNTTAB_RESERVED_CONSOLE` 0 and `GNTTAB_RESERVED_XENSTORE` 1 carry the
//! console and xenstore pages) and are never handed out or revoked here.
//! The table frames themselves come from `GNTTABOP_setup_table`, which the
//! kernel calls; this module makes no hypercall.

use crate::shared::SharedPage;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::mem::offset_of;
use xen_abi::grant_table::{
    GrantEntryV1, GNTTAB_NR_RESERVED_ENTRIES, GTF_PERMIT_ACCESS, GTF_READING, GTF_READONLY,
    GTF_WRITING,
};
use xen_abi::{DomId, GrantRef};

/// Entries in one grant-table frame.
pub const ENTRIES_PER_FRAME: u32 = GrantEntryV1::PER_FRAME as u32;

const FLAGS_OFFSET: usize = offset_of!(GrantEntryV1, flags);
const DOMID_OFFSET: usize = offset_of!(GrantEntryV1, domid);
const FRAME_OFFSET: usize = offset_of!(GrantEntryV1, frame);

/// How many times `end_access` retries the compare-exchange when Xen
/// changes `flags` between the read and the exchange, before giving up and
/// quarantining. Each failure means the peer mapped or unmapped in that
/// window; a peer cannot keep us spinning.
const REVOKE_ATTEMPTS: usize = 8;

/// The shared grant-table frames, entry by entry. Every access is a copy.
#[derive(Debug)]
pub struct GrantEntries<P> {
    frames: Vec<P>,
}

impl<P: SharedPage> GrantEntries<P> {
    /// The table made of `frames`, in order (as `GNTTABOP_setup_table`
    /// returned them).
    pub fn new(frames: Vec<P>) -> Self {
        GrantEntries { frames }
    }

    /// Entries in the table: 512 per frame.
    pub fn capacity(&self) -> u32 {
        u32::try_from(self.frames.len())
            .unwrap_or(u32::MAX)
            .saturating_mul(ENTRIES_PER_FRAME)
    }

    /// The frame and byte offset of entry `gref`, if it exists.
    fn slot(&self, gref: GrantRef) -> Option<(&P, usize)> {
        let frame = self.frames.get((gref.0 / ENTRIES_PER_FRAME) as usize)?;
        Some((
            frame,
            (gref.0 % ENTRIES_PER_FRAME) as usize * GrantEntryV1::BYTES,
        ))
    }

    /// A copy of entry `gref` (three separate loads: a snapshot for
    /// inspection, not for decisions that need one consistent view).
    pub fn read(&self, gref: GrantRef) -> Option<GrantEntryV1> {
        let (frame, base) = self.slot(gref)?;
        Some(GrantEntryV1 {
            flags: frame.load_u16(base + FLAGS_OFFSET),
            domid: frame.load_u16(base + DOMID_OFFSET),
            frame: frame.load_u32(base + FRAME_OFFSET),
        })
    }

    /// Entry `gref`'s `flags`, loaded once.
    pub fn flags(&self, gref: GrantRef) -> Option<u16> {
        let (frame, base) = self.slot(gref)?;
        Some(frame.load_u16(base + FLAGS_OFFSET))
    }

    /// Fills entry `gref` in the order `grant_table.h` requires.
    fn publish(&self, gref: GrantRef, domid: DomId, gfn: u32, flags: u16) {
        let (frame, base) = self
            .slot(gref)
            .expect("only free references inside the table are granted");
        frame.store_u16(base + DOMID_OFFSET, domid.0);
        frame.store_u32(base + FRAME_OFFSET, gfn);
        // wmb(): Xen must see domid and frame before the flags that make
        // the entry valid ("Introducing a valid entry into the grant
        // table", steps 1-4, grant_table.h), or a peer could map the frame
        // of the entry's previous use.
        frame.write_barrier();
        frame.store_u16(base + FLAGS_OFFSET, flags);
    }

    /// Tries to clear entry `gref`'s flags while neither `GTF_reading` nor
    /// `GTF_writing` is set ("Invalidating an unused GTF_permit_access
    /// entry", grant_table.h). `Err(flags)` with the busy flags otherwise.
    fn revoke(&self, gref: GrantRef) -> Result<(), u16> {
        let (frame, base) = self
            .slot(gref)
            .expect("only granted or quarantined references inside the table are revoked");
        // Step 1: one load; later values come only from the exchange.
        let mut flags = frame.load_u16(base + FLAGS_OFFSET);
        for _ in 0..REVOKE_ATTEMPTS {
            // Step 2: the peer still maps or copies the frame.
            if flags & (GTF_READING | GTF_WRITING) != 0 {
                return Err(flags);
            }
            // Step 3: a locked compare-exchange, so Xen cannot set
            // GTF_reading/writing between our check and the clear. "No need
            // for WMB as reuse of entry is control-dependent on success".
            match frame.compare_exchange_u16(base + FLAGS_OFFSET, flags, 0) {
                Ok(_) => return Ok(()),
                Err(actual) => flags = actual,
            }
        }
        Err(flags)
    }
}

/// A grant that [`GrantTable::retry_quarantined`] finally revoked: its
/// frame may now be reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasedGrant {
    /// The reference, back on the free list.
    pub gref: GrantRef,
    /// The domain it was granted to.
    pub domid: DomId,
    /// The frame (gfn) it granted.
    pub frame: u64,
}

/// What the table knows about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryState {
    /// One of the toolstack's references.
    Reserved,
    Free,
    Granted {
        domid: DomId,
        frame: u32,
    },
    /// Revoking failed because the peer still used it.
    Quarantined {
        domid: DomId,
        frame: u32,
    },
}

/// Why a grant operation failed, and whose fault it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantError {
    /// Every reference is in use or quarantined (our resources ran out).
    NoFreeEntries {
        /// Entries in the table.
        capacity: u32,
    },
    /// A v1 entry holds a 32-bit frame number (the caller's frame is too
    /// high to grant with version 1).
    FrameTooLarge {
        /// The frame asked for.
        frame: u64,
    },
    /// Granting to a special domain id (`DOMID_SELF` and above) is a
    /// caller bug: no peer can present that id.
    InvalidDomain {
        /// The id asked for.
        domid: DomId,
    },
    /// The reference is past the end of the table (caller bug).
    OutOfRange {
        /// The reference.
        gref: GrantRef,
        /// Entries in the table.
        capacity: u32,
    },
    /// The reference is one of the toolstack's (caller bug).
    Reserved {
        /// The reference.
        gref: GrantRef,
    },
    /// The reference is not currently granted (caller bug: a double end or
    /// a stale reference).
    NotGranted {
        /// The reference.
        gref: GrantRef,
    },
    /// The reference was already quarantined by an earlier `end_access`;
    /// the table owns it now (caller bug).
    AlreadyQuarantined {
        /// The reference.
        gref: GrantRef,
    },
    /// The peer still has the frame mapped (`GTF_reading`/`GTF_writing`),
    /// so access could not be revoked. The entry is quarantined: do not
    /// reuse the frame until `retry_quarantined` releases it.
    StillInUse {
        /// The reference.
        gref: GrantRef,
        /// The flags seen last.
        flags: u16,
    },
}

impl fmt::Display for GrantError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = GNTTAB_NR_RESERVED_ENTRIES;
        match *self {
            GrantError::NoFreeEntries { capacity } => write!(
                formatter,
                "grant table full: all {} usable entries are granted or quarantined",
                capacity.saturating_sub(first)
            ),
            GrantError::FrameTooLarge { frame } => write!(
                formatter,
                "frame {frame:#x} cannot be granted: expected a gfn <= {:#x} (v1 entries hold 32 bits)",
                u32::MAX
            ),
            GrantError::InvalidDomain { domid } => write!(
                formatter,
                "cannot grant to {domid}: expected an ordinary domain id below 0x7ff0"
            ),
            GrantError::OutOfRange { gref, capacity } => write!(
                formatter,
                "{gref} is out of range: expected {first} <= gref < {capacity}"
            ),
            GrantError::Reserved { gref } => write!(
                formatter,
                "{gref} is reserved for the toolstack: expected gref >= {first}"
            ),
            GrantError::NotGranted { gref } => write!(formatter, "{gref} is not granted"),
            GrantError::AlreadyQuarantined { gref } => {
                write!(formatter, "{gref} is already quarantined")
            }
            GrantError::StillInUse { gref, flags } => write!(
                formatter,
                "{gref} still in use by the peer (flags {flags:#06x}); quarantined"
            ),
        }
    }
}

impl core::error::Error for GrantError {}

/// The guest's grant table: free list, grants and quarantine over
/// [`GrantEntries`].
#[derive(Debug)]
pub struct GrantTable<P> {
    entries: GrantEntries<P>,
    states: Vec<EntryState>,
    /// Free references, oldest first, so a just-revoked reference is reused
    /// last (a peer holding a stale reference then hits an invalid entry,
    /// not someone else's page).
    free: VecDeque<u32>,
    quarantined: Vec<u32>,
}

impl<P: SharedPage> GrantTable<P> {
    /// A table over `frames`, fresh from `GNTTABOP_setup_table` (all
    /// entries zero). References 8 and up are free.
    pub fn new(frames: Vec<P>) -> Self {
        let entries = GrantEntries::new(frames);
        let capacity = entries.capacity();
        let states = (0..capacity)
            .map(|index| {
                if index < GNTTAB_NR_RESERVED_ENTRIES {
                    EntryState::Reserved
                } else {
                    EntryState::Free
                }
            })
            .collect();
        GrantTable {
            entries,
            states,
            free: (GNTTAB_NR_RESERVED_ENTRIES..capacity).collect(),
            quarantined: Vec::new(),
        }
    }

    /// Grants `domid` access to frame `frame` (a gfn; for a PV guest, the
    /// mfn), read-only if `readonly`; returns the reference to give the
    /// peer.
    pub fn grant_access(
        &mut self,
        domid: DomId,
        frame: u64,
        readonly: bool,
    ) -> Result<GrantRef, GrantError> {
        let gfn = u32::try_from(frame).map_err(|_| GrantError::FrameTooLarge { frame })?;
        if domid.is_reserved() {
            return Err(GrantError::InvalidDomain { domid });
        }
        while let Some(index) = self.free.pop_front() {
            let gref = GrantRef(index);
            // A free entry must read as invalid before we reuse it. One that
            // does not (left valid by a previous kernel on this table) may
            // be mapped by a peer right now: quarantine it instead.
            let flags = self.entries.flags(gref).unwrap_or(0);
            if flags != 0 {
                let stale = self.entries.read(gref).unwrap_or_default();
                self.states[index as usize] = EntryState::Quarantined {
                    domid: DomId(stale.domid),
                    frame: stale.frame,
                };
                self.quarantined.push(index);
                continue;
            }
            let mut flags = GTF_PERMIT_ACCESS;
            if readonly {
                flags |= GTF_READONLY;
            }
            self.entries.publish(gref, domid, gfn, flags);
            self.states[index as usize] = EntryState::Granted { domid, frame: gfn };
            return Ok(gref);
        }
        Err(GrantError::NoFreeEntries {
            capacity: self.capacity(),
        })
    }

    /// Revokes the peer's access to `gref`. On success the reference is
    /// free again and the frame may be reused. [`GrantError::StillInUse`]
    /// means the peer still maps it: the reference is quarantined and the
    /// frame must stay untouched until [`Self::retry_quarantined`] releases
    /// it.
    pub fn end_access(&mut self, gref: GrantRef) -> Result<(), GrantError> {
        let (domid, frame) = match self.state(gref)? {
            EntryState::Granted { domid, frame } => (domid, frame),
            EntryState::Quarantined { .. } => return Err(GrantError::AlreadyQuarantined { gref }),
            EntryState::Free => return Err(GrantError::NotGranted { gref }),
            EntryState::Reserved => return Err(GrantError::Reserved { gref }),
        };
        match self.entries.revoke(gref) {
            Ok(()) => {
                self.states[gref.0 as usize] = EntryState::Free;
                self.free.push_back(gref.0);
                Ok(())
            }
            Err(flags) => {
                self.states[gref.0 as usize] = EntryState::Quarantined { domid, frame };
                self.quarantined.push(gref.0);
                Err(GrantError::StillInUse { gref, flags })
            }
        }
    }

    /// Tries again to revoke every quarantined entry; returns those that
    /// are now released (free again, their frames reusable).
    pub fn retry_quarantined(&mut self) -> Vec<ReleasedGrant> {
        let mut released = Vec::new();
        let mut still = Vec::new();
        for index in core::mem::take(&mut self.quarantined) {
            let gref = GrantRef(index);
            let EntryState::Quarantined { domid, frame } = self.states[index as usize] else {
                continue;
            };
            if self.entries.revoke(gref).is_ok() {
                self.states[index as usize] = EntryState::Free;
                self.free.push_back(index);
                released.push(ReleasedGrant {
                    gref,
                    domid,
                    frame: u64::from(frame),
                });
            } else {
                still.push(index);
            }
        }
        self.quarantined = still;
        released
    }

    /// The state of `gref`, or why the reference is not one of ours.
    fn state(&self, gref: GrantRef) -> Result<EntryState, GrantError> {
        self.states
            .get(gref.0 as usize)
            .copied()
            .ok_or(GrantError::OutOfRange {
                gref,
                capacity: self.capacity(),
            })
    }

    /// The domain and frame `gref` is granted to, if it is granted.
    pub fn granted(&self, gref: GrantRef) -> Option<(DomId, u64)> {
        match self.state(gref) {
            Ok(EntryState::Granted { domid, frame }) => Some((domid, u64::from(frame))),
            _ => None,
        }
    }

    /// The quarantined references.
    pub fn quarantined(&self) -> impl Iterator<Item = GrantRef> + '_ {
        self.quarantined.iter().map(|&index| GrantRef(index))
    }

    /// References that can be granted now.
    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// Entries in the table, reserved ones included.
    pub fn capacity(&self) -> u32 {
        self.entries.capacity()
    }

    /// The shared entries (to inspect, or for the kernel's dump).
    pub fn entries(&self) -> &GrantEntries<P> {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::test_page::{Access, MemoryPage, TracingPage};
    use core::cell::Cell;
    use std::string::ToString;
    use std::vec;
    use xen_abi::grant_table::{GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE};

    fn table(frames: usize) -> GrantTable<MemoryPage> {
        GrantTable::new((0..frames).map(|_| MemoryPage::new()).collect())
    }

    /// Plays Xen: the peer maps (sets `bits`) or unmaps (clears them).
    fn peer_sets(table: &GrantTable<MemoryPage>, gref: GrantRef, bits: u16, on: bool) {
        let (frame, base) = table.entries.slot(gref).unwrap();
        let flags = frame.load_u16(base);
        frame.store_u16(base, if on { flags | bits } else { flags & !bits });
    }

    #[test]
    fn entry_layout_matches_grant_table_h() {
        assert_eq!((FLAGS_OFFSET, DOMID_OFFSET, FRAME_OFFSET), (0, 2, 4));
        assert_eq!(ENTRIES_PER_FRAME, 512);
        assert_eq!(GNTTAB_RESERVED_CONSOLE, 0);
        assert_eq!(GNTTAB_RESERVED_XENSTORE, 1);
    }

    #[test]
    fn a_grant_fills_the_entry() {
        let mut table = table(1);
        let gref = table.grant_access(DomId(0), 0x1234_5678, false).unwrap();
        assert_eq!(gref, GrantRef(8));
        assert_eq!(
            table.entries().read(gref),
            Some(GrantEntryV1 {
                flags: GTF_PERMIT_ACCESS,
                domid: 0,
                frame: 0x1234_5678
            })
        );
        let readonly = table.grant_access(DomId(7), 42, true).unwrap();
        assert_eq!(
            table.entries().read(readonly),
            Some(GrantEntryV1 {
                flags: GTF_PERMIT_ACCESS | GTF_READONLY,
                domid: 7,
                frame: 42
            })
        );
        assert_eq!(table.granted(readonly), Some((DomId(7), 42)));
        assert_eq!(table.granted(GrantRef(100)), None);
    }

    #[test]
    fn grant_writes_domid_and_frame_then_barrier_then_flags() {
        let mut table = GrantTable::new(vec![TracingPage::new(MemoryPage::new())]);
        table.entries.frames[0].take();
        let gref = table.grant_access(DomId(1), 5, false).unwrap();
        let base = gref.0 as usize * 8;
        assert_eq!(
            table.entries.frames[0].take(),
            [
                Access::Load16(base),
                Access::Store16(base + 2, 1),
                Access::Store32(base + 4, 5),
                Access::WriteBarrier,
                Access::Store16(base, GTF_PERMIT_ACCESS),
            ]
        );
        table.end_access(gref).unwrap();
        assert_eq!(
            table.entries.frames[0].take(),
            [
                Access::Load16(base),
                Access::CompareExchange16(base, GTF_PERMIT_ACCESS, 0)
            ]
        );
    }

    #[test]
    fn reserved_references_are_never_handed_out() {
        let mut table = table(1);
        let mut seen = std::collections::BTreeSet::new();
        while let Ok(gref) = table.grant_access(DomId(1), 1, false) {
            assert!(gref.0 >= GNTTAB_NR_RESERVED_ENTRIES);
            assert!(seen.insert(gref));
        }
        assert_eq!(seen.len(), 512 - 8);
        assert_eq!(
            table.grant_access(DomId(1), 1, false),
            Err(GrantError::NoFreeEntries { capacity: 512 })
        );
        assert_eq!(
            GrantError::NoFreeEntries { capacity: 512 }.to_string(),
            "grant table full: all 504 usable entries are granted or quarantined"
        );
        // Nothing touched the toolstack's entries.
        for index in 0..8 {
            assert_eq!(
                table.entries().read(GrantRef(index)),
                Some(GrantEntryV1::default())
            );
        }
    }

    #[test]
    fn entries_span_frames() {
        let mut table = table(2);
        assert_eq!(table.capacity(), 1024);
        let mut last = GrantRef(0);
        for _ in 0..(1024 - 8) {
            last = table
                .grant_access(DomId(2), u64::from(last.0), false)
                .unwrap();
        }
        assert_eq!(last, GrantRef(1023));
        // Entry 1023 is the last 8 bytes of the second frame.
        assert_eq!(table.entries.frames[1].load_u32(4088 + 4), 1022);
        assert_eq!(table.entries.frames[1].load_u16(4088), GTF_PERMIT_ACCESS);
        // Entry 512 is the first of the second frame.
        assert_eq!(table.entries.frames[1].load_u16(0), GTF_PERMIT_ACCESS);
        assert_eq!(table.entries().read(GrantRef(1024)), None);
    }

    #[test]
    fn end_access_frees_and_the_reference_is_reused_last() {
        let mut table = table(1);
        let first = table.grant_access(DomId(1), 10, false).unwrap();
        let free_before = table.free_count();
        table.end_access(first).unwrap();
        assert_eq!(table.free_count(), free_before + 1);
        assert_eq!(table.entries().flags(first), Some(0));
        assert_eq!(table.granted(first), None);
        let next = table.grant_access(DomId(1), 11, false).unwrap();
        assert_ne!(next, first, "a just-freed reference goes to the back");
    }

    #[test]
    fn bad_references_are_typed_errors() {
        let mut table = table(1);
        assert_eq!(
            table.end_access(GrantRef(512)),
            Err(GrantError::OutOfRange {
                gref: GrantRef(512),
                capacity: 512
            })
        );
        assert_eq!(
            GrantError::OutOfRange {
                gref: GrantRef(512),
                capacity: 512
            }
            .to_string(),
            "gref 512 is out of range: expected 8 <= gref < 512"
        );
        assert!(matches!(
            table.end_access(GrantRef(u32::MAX)),
            Err(GrantError::OutOfRange { .. })
        ));
        for reserved in [0, 1, 7] {
            assert_eq!(
                table.end_access(GrantRef(reserved)),
                Err(GrantError::Reserved {
                    gref: GrantRef(reserved)
                })
            );
        }
        assert_eq!(
            table.end_access(GrantRef(8)),
            Err(GrantError::NotGranted { gref: GrantRef(8) })
        );
        let gref = table.grant_access(DomId(1), 1, false).unwrap();
        table.end_access(gref).unwrap();
        assert_eq!(table.end_access(gref), Err(GrantError::NotGranted { gref }));
    }

    #[test]
    fn bad_grant_arguments_are_refused() {
        let mut table = table(1);
        assert_eq!(
            table.grant_access(DomId(1), 1 << 32, false),
            Err(GrantError::FrameTooLarge { frame: 1 << 32 })
        );
        assert!(table
            .grant_access(DomId(1), u64::from(u32::MAX), false)
            .is_ok());
        for domid in [DomId::SELF, DomId::IO, DomId::INVALID] {
            assert_eq!(
                table.grant_access(domid, 1, false),
                Err(GrantError::InvalidDomain { domid })
            );
        }
        // No entry was consumed by the refusals.
        assert_eq!(table.free_count(), 512 - 8 - 1);
    }

    #[test]
    fn a_mapped_grant_is_quarantined_until_the_peer_lets_go() {
        for bit in [GTF_READING, GTF_WRITING, GTF_READING | GTF_WRITING] {
            let mut table = table(1);
            let gref = table
                .grant_access(DomId(3), 99, bit == GTF_READING)
                .unwrap();
            let free = table.free_count();
            peer_sets(&table, gref, bit, true);
            let error = table.end_access(gref).unwrap_err();
            assert!(
                matches!(error, GrantError::StillInUse { gref: got, flags } if got == gref && flags & bit == bit)
            );
            assert!(error.to_string().contains("still in use by the peer"));
            // Access was not revoked: the entry still grants.
            assert_eq!(
                table.entries().flags(gref).unwrap() & GTF_PERMIT_ACCESS,
                GTF_PERMIT_ACCESS
            );
            assert_eq!(table.quarantined().collect::<Vec<_>>(), [gref]);
            assert_eq!(
                table.end_access(gref),
                Err(GrantError::AlreadyQuarantined { gref })
            );
            assert_eq!(table.free_count(), free);
            // Still mapped: nothing released.
            assert!(table.retry_quarantined().is_empty());
            // The peer unmaps; the retry revokes.
            peer_sets(&table, gref, bit, false);
            assert_eq!(
                table.retry_quarantined(),
                [ReleasedGrant {
                    gref,
                    domid: DomId(3),
                    frame: 99
                }]
            );
            assert_eq!(table.entries().flags(gref), Some(0));
            assert_eq!(table.quarantined().count(), 0);
            assert_eq!(table.free_count(), free + 1);
            assert!(table.retry_quarantined().is_empty());
        }
    }

    /// A frame whose compare-exchange first sees Xen change the flags
    /// `races` times (the peer mapping and unmapping in the window).
    struct RacingFrame {
        inner: MemoryPage,
        races: Cell<usize>,
        map_during_race: bool,
    }

    impl SharedPage for RacingFrame {
        fn load_u32(&self, offset: usize) -> u32 {
            self.inner.load_u32(offset)
        }
        fn store_u32(&self, offset: usize, value: u32) {
            self.inner.store_u32(offset, value)
        }
        fn load_u16(&self, offset: usize) -> u16 {
            self.inner.load_u16(offset)
        }
        fn store_u16(&self, offset: usize, value: u16) {
            self.inner.store_u16(offset, value)
        }
        fn compare_exchange_u16(&self, offset: usize, current: u16, new: u16) -> Result<u16, u16> {
            if self.races.get() > 0 {
                self.races.set(self.races.get() - 1);
                let flags = self.inner.load_u16(offset);
                // Xen toggles a cache bit (or maps the frame) meanwhile.
                let changed = if self.map_during_race {
                    flags | GTF_READING
                } else {
                    flags ^ 1 << 5
                };
                self.inner.store_u16(offset, changed);
            }
            self.inner.compare_exchange_u16(offset, current, new)
        }
        fn read_bytes(&self, offset: usize, out: &mut [u8]) {
            self.inner.read_bytes(offset, out)
        }
        fn write_bytes(&self, offset: usize, data: &[u8]) {
            self.inner.write_bytes(offset, data)
        }
        fn full_barrier(&self) {}
        fn read_barrier(&self) {}
        fn write_barrier(&self) {}
    }

    fn racing_table(map_during_race: bool) -> GrantTable<RacingFrame> {
        GrantTable::new(vec![RacingFrame {
            inner: MemoryPage::new(),
            races: Cell::new(0),
            map_during_race,
        }])
    }

    #[test]
    fn revoke_retries_when_the_flags_change_under_it() {
        let mut table = racing_table(false);
        let gref = table.grant_access(DomId(1), 1, false).unwrap();
        table.entries.frames[0].races.set(3);
        assert_eq!(table.end_access(gref), Ok(()));
        assert_eq!(table.entries().flags(gref), Some(0));
    }

    #[test]
    fn revoke_gives_up_on_endless_races() {
        let mut table = racing_table(false);
        let gref = table.grant_access(DomId(1), 1, false).unwrap();
        table.entries.frames[0].races.set(usize::MAX);
        assert!(matches!(
            table.end_access(gref),
            Err(GrantError::StillInUse { .. })
        ));
        assert_eq!(table.quarantined().count(), 1);
        table.entries.frames[0].races.set(0);
        assert_eq!(table.retry_quarantined().len(), 1);
    }

    #[test]
    fn a_peer_mapping_between_check_and_exchange_is_caught() {
        let mut table = racing_table(true);
        let gref = table.grant_access(DomId(1), 1, false).unwrap();
        table.entries.frames[0].races.set(1);
        assert!(matches!(
            table.end_access(gref),
            Err(GrantError::StillInUse { flags, .. }) if flags & GTF_READING != 0
        ));
        assert_eq!(
            table.entries().flags(gref).unwrap() & GTF_PERMIT_ACCESS,
            GTF_PERMIT_ACCESS
        );
    }

    #[test]
    fn stale_valid_entries_are_quarantined_not_reused() {
        let frame = MemoryPage::new();
        // A previous kernel left entry 8 granted to dom0 and mapped.
        frame.store_u16(64 + 2, 0);
        frame.store_u32(64 + 4, 777);
        frame.store_u16(64, GTF_PERMIT_ACCESS | GTF_READING);
        let mut table = GrantTable::new(vec![frame]);
        let gref = table.grant_access(DomId(5), 1, false).unwrap();
        assert_eq!(gref, GrantRef(9));
        assert_eq!(table.quarantined().collect::<Vec<_>>(), [GrantRef(8)]);
        assert!(table.retry_quarantined().is_empty());
        table.entries.frames[0].store_u16(64, GTF_PERMIT_ACCESS);
        assert_eq!(
            table.retry_quarantined(),
            [ReleasedGrant {
                gref: GrantRef(8),
                domid: DomId(0),
                frame: 777
            }]
        );
    }

    #[test]
    fn an_empty_table_grants_nothing() {
        let mut table = GrantTable::<MemoryPage>::new(vec![]);
        assert_eq!(table.capacity(), 0);
        assert_eq!(
            table.grant_access(DomId(1), 1, false),
            Err(GrantError::NoFreeEntries { capacity: 0 })
        );
        assert!(matches!(
            table.end_access(GrantRef(0)),
            Err(GrantError::OutOfRange { .. })
        ));
    }
}
