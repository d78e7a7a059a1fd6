//! Page tables: a walker and a mapper whose every write goes through the
//! batching queue.
//!
//! Xen validates every page-table write (DESIGN.md §5), so the kernel never
//! stores into a table: it queues `mmu_update` requests in
//! [`kernel_core::mmu_batch::MmuBatch`] and commits them as one hypercall
//! (a `multicall` when pins, page clears or TLB flushes are mixed in).
//! Callers queue a whole logical operation (map a range, unmap a range)
//! and commit once; the TLB flush that unmapping needs is issued after the
//! PTE writes, inside the same hypercall.
//!
//! New intermediate tables are built top-down inside the batch: take a
//! free frame, make its physmap alias read-only (Xen refuses a table that
//! is mapped writable anywhere), clear it with `MMUEXT_CLEAR_PAGE` (no
//! writable mapping needed), then link it into its parent. Until the batch
//! is committed the walker remembers such tables in small side lists,
//! because their memory does not hold the queued contents yet.
//!
//! Reading tables needs a mapping of them: the bootstrap tables are inside
//! Xen's start-of-day mapping, and every other table inside the physmap,
//! which [`build_physmap`] creates once at boot.

use core::fmt;

use kernel_core::mmu_batch::{BatchFull, Call, MmuBatch, MmuStats};
use spin::Mutex;
use x86_64::structures::paging::PageTableFlags as Flags;
use xen_abi::xen::{MmuextOp, MulticallEntry};
use xen_abi::{Mfn, Pfn};

use super::frames::FRAMES;
use super::{mfn_to_pfn, pfn_to_mfn, physmap_address, PHYSMAP_BASE};
use crate::xen::hypercall::{self, XenError};
use crate::xen::start_info::{BootInfo, VIRT_BASE};

/// Bits of a PTE that hold the machine address.
const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

/// PTE updates one `mmu_update` can carry; more than the 256 per
/// hypercall the design asks for, small enough for a static (16 KiB).
pub const BATCH_UPDATES: usize = 1024;
const BATCH_EXT_OPS: usize = 64;
const BATCH_CALLS: usize = 64;
/// New tables and links one batch can track before it must commit.
const MAX_PENDING_TABLES: usize = 32;

/// Why a mapping operation failed. Each says whose fault it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Our frame allocator is empty.
    OutOfFrames,
    /// The caller asked to map over an existing mapping.
    AlreadyMapped { va: u64 },
    /// The caller asked to unmap or translate a hole.
    NotMapped { va: u64 },
    /// A large page sits where a table was expected (Xen never gives PV
    /// guests large pages; seeing one means corrupted tables).
    LargePage { va: u64 },
    /// The address is not canonical or inside Xen's reserved slots.
    BadAddress { va: u64 },
    /// Xen rejected an operation of the batch.
    Hypercall { call: &'static str, error: XenError },
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::OutOfFrames => f.write_str("out of frames for page tables"),
            MapError::AlreadyMapped { va } => write!(f, "{va:#x} is already mapped"),
            MapError::NotMapped { va } => write!(f, "{va:#x} is not mapped"),
            MapError::LargePage { va } => write!(f, "large page found while walking {va:#x}"),
            MapError::BadAddress { va } => write!(f, "{va:#x} is not a guest kernel address"),
            MapError::Hypercall { call, error } => write!(f, "{call} failed: {error}"),
        }
    }
}

impl core::error::Error for MapError {}

/// Page-table index of `va` at `level` (4 = L4 ... 1 = L1).
fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * (level - 1))) & 511
}

/// Flags of intermediate table entries: present, writable, user (Xen
/// requires kernel mappings of a 64-bit PV guest to be user-accessible at
/// the upper levels), accessed.
fn table_flags() -> u64 {
    (Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE | Flags::ACCESSED).bits()
}

/// Flags of a kernel data page.
pub fn data_flags(writable: bool) -> u64 {
    let mut flags = Flags::PRESENT | Flags::ACCESSED | Flags::DIRTY;
    if writable {
        flags |= Flags::WRITABLE;
    }
    flags.bits()
}

/// The page-table manager. One instance, behind [`MMU`].
pub struct Mmu {
    batch: MmuBatch<BATCH_UPDATES, BATCH_EXT_OPS, BATCH_CALLS>,
    multicall: [MulticallEntry; BATCH_CALLS],
    /// The kernel's L4 table (Xen's bootstrap L4, pinned by Xen).
    l4: Mfn,
    /// Links queued in this batch: (parent table, index, child table).
    links: [(u64, u64, u64); MAX_PENDING_TABLES],
    link_count: usize,
    /// Tables cleared in this batch: their memory is not zero yet.
    fresh: [u64; MAX_PENDING_TABLES],
    fresh_count: usize,
    physmap_ready: bool,
    bootstrap_mapped_end_pfn: u64,
}

pub static MMU: Mutex<Mmu> = Mutex::new(Mmu::new());

impl Mmu {
    const fn new() -> Mmu {
        Mmu {
            batch: MmuBatch::new(),
            multicall: [MulticallEntry {
                op: 0,
                result: 0,
                args: [0; 6],
            }; BATCH_CALLS],
            l4: Mfn(0),
            links: [(0, 0, 0); MAX_PENDING_TABLES],
            link_count: 0,
            fresh: [0; MAX_PENDING_TABLES],
            fresh_count: 0,
            physmap_ready: false,
            bootstrap_mapped_end_pfn: 0,
        }
    }

    /// Counters of everything committed so far.
    pub fn stats(&self) -> MmuStats {
        self.batch.stats()
    }

    fn queue(
        &mut self,
        mut push: impl FnMut(
            &mut MmuBatch<BATCH_UPDATES, BATCH_EXT_OPS, BATCH_CALLS>,
        ) -> Result<(), BatchFull>,
    ) -> Result<(), MapError> {
        if push(&mut self.batch).is_ok() {
            return Ok(());
        }
        self.commit()?;
        push(&mut self.batch).map_err(|BatchFull| MapError::Hypercall {
            call: "queue",
            error: XenError(xen_abi::errno::ENOMEM),
        })
    }

    fn queue_pte(&mut self, pte_machine_address: u64, value: u64) -> Result<(), MapError> {
        self.queue(|batch| batch.push_pte(pte_machine_address, value))
    }

    fn queue_ext(&mut self, op: MmuextOp) -> Result<(), MapError> {
        self.queue(|batch| batch.push_ext(op))
    }

    /// Queues any `mmu_update` request (e.g. an m2p entry).
    pub fn queue_update(&mut self, update: xen_abi::xen::MmuUpdate) -> Result<(), MapError> {
        self.queue(|batch| batch.push_update(update))
    }

    /// Sends everything queued to Xen in one hypercall.
    pub fn commit(&mut self) -> Result<(), MapError> {
        let Mmu {
            batch, multicall, ..
        } = self;
        let calls = batch.seal().len();
        let result = match calls {
            0 => Ok(()),
            1 => Self::issue_single(batch),
            _ => Self::issue_multicall(batch, multicall),
        };
        batch.complete();
        self.link_count = 0;
        self.fresh_count = 0;
        result
    }

    fn issue_single(
        batch: &MmuBatch<BATCH_UPDATES, BATCH_EXT_OPS, BATCH_CALLS>,
    ) -> Result<(), MapError> {
        match batch.calls()[0] {
            Call::MmuUpdate { first, count } => {
                // SAFETY: the batch holds only updates this module built,
                // which keep its invariants: page tables stay read-only,
                // and the kernel image, stack and statics are never remapped.
                unsafe { hypercall::mmu_update(&batch.updates()[first..first + count]) }
                    .map(drop)
                    .map_err(|(_, error)| MapError::Hypercall {
                        call: "mmu_update",
                        error,
                    })
            }
            Call::MmuextOp { first, count } => {
                // SAFETY: as above; the ops are clears, pins and flushes of
                // frames this module manages.
                unsafe { hypercall::mmuext_op(&batch.ext_ops()[first..first + count]) }
                    .map(drop)
                    .map_err(|(_, error)| MapError::Hypercall {
                        call: "mmuext_op",
                        error,
                    })
            }
            Call::UpdateVaMapping { va, new_pte, flags } => {
                // SAFETY: as above.
                unsafe { hypercall::update_va_mapping(va, new_pte, flags) }
                    .map(drop)
                    .map_err(|error| MapError::Hypercall {
                        call: "update_va_mapping",
                        error,
                    })
            }
            Call::StackSwitch { ss, sp } => {
                // SAFETY: queued by `switch_process` with a live process's
                // kernel stack (see there).
                unsafe { hypercall::stack_switch(ss as u16, sp) }
                    .map(drop)
                    .map_err(|error| MapError::Hypercall {
                        call: "stack_switch",
                        error,
                    })
            }
            Call::SetSegmentBase { which, base } => hypercall::set_segment_base(which as u32, base)
                .map(drop)
                .map_err(|error| MapError::Hypercall {
                    call: "set_segment_base",
                    error,
                }),
        }
    }

    fn issue_multicall(
        batch: &MmuBatch<BATCH_UPDATES, BATCH_EXT_OPS, BATCH_CALLS>,
        entries: &mut [MulticallEntry; BATCH_CALLS],
    ) -> Result<(), MapError> {
        use xen_abi::hypercall as nr;
        let calls = batch.calls();
        let domid_self = xen_abi::DomId::SELF.0 as u64;
        for (entry, call) in entries.iter_mut().zip(calls) {
            *entry = match *call {
                Call::MmuUpdate { first, count } => MulticallEntry {
                    op: nr::MMU_UPDATE as u64,
                    result: 0,
                    args: [
                        batch.updates()[first..].as_ptr() as u64,
                        count as u64,
                        0,
                        domid_self,
                        0,
                        0,
                    ],
                },
                Call::MmuextOp { first, count } => MulticallEntry {
                    op: nr::MMUEXT_OP as u64,
                    result: 0,
                    args: [
                        batch.ext_ops()[first..].as_ptr() as u64,
                        count as u64,
                        0,
                        domid_self,
                        0,
                        0,
                    ],
                },
                Call::UpdateVaMapping { va, new_pte, flags } => MulticallEntry {
                    op: nr::UPDATE_VA_MAPPING as u64,
                    result: 0,
                    args: [va, new_pte, flags, 0, 0, 0],
                },
                Call::StackSwitch { ss, sp } => MulticallEntry {
                    op: nr::STACK_SWITCH as u64,
                    result: 0,
                    args: [ss, sp, 0, 0, 0, 0],
                },
                Call::SetSegmentBase { which, base } => MulticallEntry {
                    op: nr::SET_SEGMENT_BASE as u64,
                    result: 0,
                    args: [which, base, 0, 0, 0, 0],
                },
            };
        }
        let entries = &mut entries[..calls.len()];
        // SAFETY: every entry points into the batch's arrays, which live in
        // the locked MMU static for the whole call; the operations keep
        // this module's invariants (see issue_single).
        unsafe { hypercall::multicall(entries) }.map_err(|error| MapError::Hypercall {
            call: "multicall",
            error,
        })?;
        for (entry, call) in entries.iter().zip(calls) {
            let result = entry.result as i64;
            if result < 0 {
                return Err(MapError::Hypercall {
                    call: match call {
                        Call::MmuUpdate { .. } => "mmu_update (in multicall)",
                        Call::MmuextOp { .. } => "mmuext_op (in multicall)",
                        Call::UpdateVaMapping { .. } => "update_va_mapping (in multicall)",
                        Call::StackSwitch { .. } => "stack_switch (in multicall)",
                        Call::SetSegmentBase { .. } => "set_segment_base (in multicall)",
                    },
                    error: XenError((-result) as i32),
                });
            }
        }
        Ok(())
    }

    /// Virtual address through which table `mfn` can be read.
    fn table_address(&self, mfn: Mfn) -> u64 {
        let pfn = mfn_to_pfn(mfn).expect("page-table frames belong to this domain");
        if self.physmap_ready {
            physmap_address(pfn)
        } else {
            assert!(
                pfn.0 < self.bootstrap_mapped_end_pfn,
                "table outside the boot mapping before the physmap exists"
            );
            VIRT_BASE + pfn.0 * 4096
        }
    }

    /// Entry `index` of table `table`, as it will be once the batch commits.
    fn entry(&self, table: Mfn, index: u64) -> u64 {
        if let Some(&(_, _, child)) = self.links[..self.link_count]
            .iter()
            .find(|&&(parent, i, _)| parent == table.0 && i == index)
        {
            return child << 12 | table_flags();
        }
        if self.fresh[..self.fresh_count].contains(&table.0) {
            return 0;
        }
        let address = self.table_address(table) + index * 8;
        // SAFETY: table_address maps the whole table page (read-only), and
        // index < 512 keeps the read inside it.
        unsafe { core::ptr::read_volatile(address as *const u64) }
    }

    fn check_address(va: u64) -> Result<(), MapError> {
        let canonical = (va as i64) << 16 >> 16 == va as i64;
        let slot = index(va, 4);
        if !canonical || (256..272).contains(&slot) || va < 0xffff_8000_0000_0000 {
            return Err(MapError::BadAddress { va });
        }
        Ok(())
    }

    /// Machine address of the L1 entry for `va`, creating missing tables
    /// when `create` is set.
    fn pte_address(&mut self, va: u64, create: bool) -> Result<u64, MapError> {
        Self::check_address(va)?;
        self.pte_address_from(self.l4, va, create)
    }

    /// As [`Self::pte_address`], walking from table `root` at level 4.
    fn pte_address_from(&mut self, root: Mfn, va: u64, create: bool) -> Result<u64, MapError> {
        let mut table = root;
        for level in [4, 3, 2] {
            let i = index(va, level);
            let entry = self.entry(table, i);
            table = if entry & Flags::PRESENT.bits() != 0 {
                if entry & Flags::HUGE_PAGE.bits() != 0 {
                    return Err(MapError::LargePage { va });
                }
                Mfn((entry & ADDRESS_MASK) >> 12)
            } else if create {
                self.new_table(table, i)?
            } else {
                return Err(MapError::NotMapped { va });
            };
        }
        Ok(table.address() + index(va, 1) * 8)
    }

    /// Takes a free frame for a page table and queues what makes it one:
    /// its physmap alias becomes read-only (Xen refuses a table mapped
    /// writable anywhere) and `MMUEXT_CLEAR_PAGE` zeroes it without any
    /// mapping.
    fn fresh_table_frame(&mut self) -> Result<(Pfn, Mfn), MapError> {
        let pfn = FRAMES
            .lock()
            .allocate()
            .map_err(|_| MapError::OutOfFrames)?;
        FRAMES
            .lock()
            .set_page_table(pfn, true)
            .expect("allocated frames are in range");
        let mfn = pfn_to_mfn(pfn).expect("free frames are populated");
        let alias = self.pte_address(physmap_address(pfn), false)?;
        self.queue_pte(alias, mfn.address() | data_flags(false))?;
        self.batch.flush_page_after(physmap_address(pfn));
        self.queue_ext(MmuextOp::clear_page(mfn))?;
        Ok((pfn, mfn))
    }

    /// Queues creation of an empty table linked at `parent[index]`.
    fn new_table(&mut self, parent: Mfn, index: u64) -> Result<Mfn, MapError> {
        if self.link_count == MAX_PENDING_TABLES || self.fresh_count == MAX_PENDING_TABLES {
            self.commit()?;
        }
        let (_, mfn) = self.fresh_table_frame()?;
        // Link it.
        self.queue_pte(parent.address() + index * 8, mfn.address() | table_flags())?;
        self.links[self.link_count] = (parent.0, index, mfn.0);
        self.link_count += 1;
        self.fresh[self.fresh_count] = mfn.0;
        self.fresh_count += 1;
        Ok(mfn)
    }

    /// Queues a user-accessible mapping of `mfn` at user address `va` in
    /// `space`. A new L3 table is linked into both of the space's L4s (the
    /// kernel-mode one, so the kernel can reach user memory, and the
    /// user-mode one Xen loads when the process runs).
    pub fn map_user(
        &mut self,
        space: &UserTables,
        va: u64,
        mfn: Mfn,
        writable: bool,
    ) -> Result<(), MapError> {
        check_user_address(va)?;
        let slot = index(va, 4);
        if self.entry(space.user.mfn, slot) & Flags::PRESENT.bits() == 0 {
            let l3 = self.new_table(space.user.mfn, slot)?;
            self.queue_pte(
                space.kernel.mfn.address() + slot * 8,
                l3.address() | table_flags(),
            )?;
        }
        let pte = self.pte_address_from(space.user.mfn, va, true)?;
        if self.entry(Mfn(pte >> 12), (pte & 0xfff) / 8) & Flags::PRESENT.bits() != 0 {
            return Err(MapError::AlreadyMapped { va });
        }
        let flags = data_flags(writable) | Flags::USER_ACCESSIBLE.bits();
        self.queue_pte(pte, mfn.address() | flags)
    }

    /// Queues removal of user page `va` from `space` (both views share the
    /// tables); returns its frame, or None if nothing was mapped there.
    pub fn unmap_user(&mut self, space: &UserTables, va: u64) -> Result<Option<Mfn>, MapError> {
        check_user_address(va)?;
        let Ok(pte) = self.pte_address_from(space.user.mfn, va, false) else {
            return Ok(None);
        };
        let old = self.entry(Mfn(pte >> 12), (pte & 0xfff) / 8);
        if old & Flags::PRESENT.bits() == 0 {
            return Ok(None);
        }
        self.queue_pte(pte, 0)?;
        self.batch.flush_page_after(va);
        Ok(Some(Mfn((old & ADDRESS_MASK) >> 12)))
    }

    /// Queues a new PTE for an already-mapped user page `va`: the same
    /// or another frame, writable or not (copy-on-write, mprotect). The
    /// TLB entry is flushed after the commit.
    pub fn remap_user(
        &mut self,
        space: &UserTables,
        va: u64,
        mfn: Mfn,
        writable: bool,
    ) -> Result<(), MapError> {
        check_user_address(va)?;
        let pte = self.pte_address_from(space.user.mfn, va, false)?;
        let flags = data_flags(writable) | Flags::USER_ACCESSIBLE.bits();
        self.queue_pte(pte, mfn.address() | flags)?;
        self.batch.flush_page_after(va);
        Ok(())
    }

    /// Queues `MMUEXT_COPY_PAGE`: Xen copies frame `source` into `target`
    /// (fork's eager copy of the stack page), in order with the batch.
    pub fn copy_page(&mut self, target: Mfn, source: Mfn) -> Result<(), MapError> {
        self.queue_ext(MmuextOp::copy_page(target, source))
    }

    /// The PTE mapping user address `va` in `space`, if any.
    pub fn translate_user(&mut self, space: &UserTables, va: u64) -> Option<u64> {
        check_user_address(va).ok()?;
        let pte = self.pte_address_from(space.user.mfn, va, false).ok()?;
        let entry = self.entry(Mfn(pte >> 12), (pte & 0xfff) / 8);
        (entry & Flags::PRESENT.bits() != 0).then_some(entry)
    }

    /// Every mapped user page of `space`: (address, frame, writable).
    pub fn user_pages(&mut self, space: &UserTables) -> alloc::vec::Vec<(u64, Mfn, bool)> {
        self.user_tree(space).1
    }

    /// Walks the user half of `space`: the L3, L2 and L1 tables it uses,
    /// and every mapped page as (address, frame, writable).
    #[allow(clippy::type_complexity, reason = "a private pair of plain lists")]
    fn user_tree(
        &mut self,
        space: &UserTables,
    ) -> (alloc::vec::Vec<Mfn>, alloc::vec::Vec<(u64, Mfn, bool)>) {
        let mut tables = alloc::vec::Vec::new();
        let mut pages = alloc::vec::Vec::new();
        let present = Flags::PRESENT.bits();
        let child =
            |entry: u64| (entry & present != 0).then_some(Mfn((entry & ADDRESS_MASK) >> 12));
        for slot in 0..256u64 {
            let Some(l3) = child(self.entry(space.user.mfn, slot)) else {
                continue;
            };
            tables.push(l3);
            for i in 0..512u64 {
                let Some(l2) = child(self.entry(l3, i)) else {
                    continue;
                };
                tables.push(l2);
                for j in 0..512u64 {
                    let Some(l1) = child(self.entry(l2, j)) else {
                        continue;
                    };
                    tables.push(l1);
                    for k in 0..512u64 {
                        let leaf = self.entry(l1, k);
                        if let Some(frame) = child(leaf) {
                            let va = slot << 39 | i << 30 | j << 21 | k << 12;
                            pages.push((va, frame, leaf & Flags::WRITABLE.bits() != 0));
                        }
                    }
                }
            }
        }
        (tables, pages)
    }

    /// Creates the two pinned L4s of a new, empty user address space.
    ///
    /// The second L4 is left queued: the caller's next commit (fork's
    /// sharing, a loader's pages) carries it, one hypercall fewer.
    pub fn create_user_tables(&mut self) -> Result<UserTables, MapError> {
        let kernel = self.create_pinned_l4()?;
        let user = self.create_l4(false)?;
        Ok(UserTables { kernel, user })
    }

    /// Loads `space` (or the boot tables with `None`) as the current
    /// kernel-mode and user-mode base pointers, in one hypercall.
    pub fn switch_address_space(&mut self, space: Option<&UserTables>) -> Result<(), MapError> {
        self.queue_address_space(space)?;
        self.commit()
    }

    /// Queues loading `space` (or the boot tables): a following
    /// `destroy_user_tables` commits it with the teardown, in order.
    pub fn queue_address_space(&mut self, space: Option<&UserTables>) -> Result<(), MapError> {
        let (kernel, user) = match space {
            Some(space) => (space.kernel.mfn, space.user.mfn),
            None => (self.l4, Mfn(0)),
        };
        self.queue_ext(MmuextOp::new_baseptr(kernel))?;
        self.queue_ext(MmuextOp::new_user_baseptr(user))
    }

    /// A context switch in one hypercall: both base pointers of `space`,
    /// the kernel stack Xen switches to on entries from user mode, and
    /// the FS base (if it changes).
    ///
    /// # Safety
    ///
    /// `kernel_stack_top` must be the top of a kernel stack that stays
    /// allocated while `space`'s process can run, used by nothing else.
    pub unsafe fn switch_process(
        &mut self,
        space: &UserTables,
        kernel_stack_top: u64,
        fs_base: Option<u64>,
    ) -> Result<(), MapError> {
        self.queue_ext(MmuextOp::new_baseptr(space.kernel.mfn))?;
        self.queue_ext(MmuextOp::new_user_baseptr(space.user.mfn))?;
        let ss = u64::from(xen_abi::arch::FLAT_KERNEL_SS64);
        self.queue(|batch| batch.push_stack_switch(ss, kernel_stack_top))?;
        if let Some(base) = fs_base {
            let which = u64::from(xen_abi::arch::SEGBASE_FS);
            self.queue(|batch| batch.push_segment_base(which, base))?;
        }
        self.commit()
    }

    /// Tears `space` down: frees every user page and table, unpins both
    /// L4s. It must not be loaded (switch away first).
    pub fn destroy_user_tables(&mut self, space: UserTables) -> Result<usize, MapError> {
        let (tables, pages) = self.user_tree(&space);
        let pages: alloc::vec::Vec<Mfn> = pages.into_iter().map(|(_, frame, _)| frame).collect();
        // Unpinning drops Xen's type references down the tree; the tables
        // become plain pages again and may get writable aliases back.
        self.queue_ext(MmuextOp::unpin_table(space.user.mfn))?;
        self.queue_ext(MmuextOp::unpin_table(space.kernel.mfn))?;
        // The aliases go writable in the same batch: Xen runs it in order,
        // so the unpins have dropped the table types by then.
        let freed = pages.len();
        for table in tables.iter().chain([&space.user.mfn, &space.kernel.mfn]) {
            let pfn = super::mfn_to_pfn(*table).expect("our tables are our frames");
            let alias = self.pte_address(physmap_address(pfn), false)?;
            self.queue_pte(alias, table.address() | data_flags(true))?;
            self.batch.flush_all_after();
        }
        self.commit()?;
        let mut frames = FRAMES.lock();
        for mfn in tables.iter().chain([&space.user.mfn, &space.kernel.mfn]) {
            if let Some(pfn) = super::mfn_to_pfn(*mfn) {
                let _ = frames.free(pfn);
            }
        }
        for mfn in &pages {
            // A page shared copy-on-write with another process stays.
            if let Some(pfn) = super::mfn_to_pfn(*mfn) {
                if super::shares::release(pfn) {
                    let _ = frames.free(pfn);
                }
            }
        }
        Ok(freed)
    }

    /// Queues a mapping of `mfn` at `va`.
    pub fn map(&mut self, va: u64, mfn: Mfn, writable: bool) -> Result<(), MapError> {
        let pte = self.pte_address(va, true)?;
        let table = Mfn(pte >> 12);
        if self.entry(table, (pte & 0xfff) / 8) & Flags::PRESENT.bits() != 0 {
            return Err(MapError::AlreadyMapped { va });
        }
        self.queue_pte(pte, mfn.address() | data_flags(writable))
    }

    /// Queues removal of the mapping at `va`; the TLB flush follows the
    /// batch. Returns the frame that was mapped.
    pub fn unmap(&mut self, va: u64) -> Result<Mfn, MapError> {
        let pte = self.pte_address(va, false)?;
        let old = self.entry(Mfn(pte >> 12), (pte & 0xfff) / 8);
        if old & Flags::PRESENT.bits() == 0 {
            return Err(MapError::NotMapped { va });
        }
        self.queue_pte(pte, 0)?;
        self.batch.flush_page_after(va);
        Ok(Mfn((old & ADDRESS_MASK) >> 12))
    }

    /// The PTE mapping `va`, if any (committed state).
    pub fn translate(&mut self, va: u64) -> Option<u64> {
        let pte = self.pte_address(va, false).ok()?;
        let entry = self.entry(Mfn(pte >> 12), (pte & 0xfff) / 8);
        (entry & Flags::PRESENT.bits() != 0).then_some(entry)
    }
}

/// A top-level table other than the kernel's boot L4, pinned by Xen.
///
/// Made by [`Mmu::create_pinned_l4`] with the kernel's upper-half entries
/// copied in, so the kernel keeps running when it becomes the base pointer;
/// processes will get one each. Must be given back with
/// [`Mmu::destroy_pinned_l4`] (the frame stays a pinned table until then).
#[derive(Debug)]
pub struct PinnedL4 {
    pfn: Pfn,
    mfn: Mfn,
}

impl Mmu {
    /// Queues, as one batch: the new table's physmap alias made read-only,
    /// `MMUEXT_CLEAR_PAGE`, the kernel's L4 entries 272-511 copied in (plain
    /// writes: the page is not a table yet), and `MMUEXT_PIN_L4_TABLE`, at
    /// which Xen validates the whole tree and adds its own slots 256-271.
    pub fn create_pinned_l4(&mut self) -> Result<PinnedL4, MapError> {
        self.create_l4(true)
    }

    /// As [`Self::create_pinned_l4`]; with `copy_kernel` false the table
    /// stays empty (a user-mode L4: Xen adds only its own slots).
    fn create_l4(&mut self, copy_kernel: bool) -> Result<PinnedL4, MapError> {
        self.commit()?;
        let (pfn, mfn) = self.fresh_table_frame()?;
        if copy_kernel {
            for slot in 272..512 {
                let entry = self.entry(self.l4, slot);
                if entry & Flags::PRESENT.bits() != 0 {
                    self.queue_pte(mfn.address() + slot * 8, entry)?;
                }
            }
        }
        self.queue_ext(MmuextOp::pin_l4_table(mfn))?;
        // Until the batch commits, the frame still holds what it held
        // before MMUEXT_CLEAR_PAGE: readers must see an empty table.
        self.fresh[self.fresh_count] = mfn.0;
        self.fresh_count += 1;
        Ok(PinnedL4 { pfn, mfn })
    }

    /// Queues unpinning `table` and making its physmap alias writable
    /// again, commits, and frees the frame. It must not be the current
    /// base pointer.
    pub fn destroy_pinned_l4(&mut self, table: PinnedL4) -> Result<(), MapError> {
        self.queue_ext(MmuextOp::unpin_table(table.mfn))?;
        let alias = self.pte_address(physmap_address(table.pfn), false)?;
        self.queue_pte(alias, table.mfn.address() | data_flags(true))?;
        self.batch.flush_page_after(physmap_address(table.pfn));
        self.commit()?;
        FRAMES
            .lock()
            .free(table.pfn)
            .expect("the table's frame was allocated here");
        Ok(())
    }

    /// Switches the kernel's base pointer to `table` (or back to the boot
    /// L4 with `None`) and commits. Sound because every table handed in was
    /// made by `create_pinned_l4`, which copies the kernel's upper half, so
    /// code, stack, statics and heap stay mapped at the same addresses.
    pub fn switch_kernel_base(&mut self, table: Option<&PinnedL4>) -> Result<(), MapError> {
        let target = table.map_or(self.l4, |t| t.mfn);
        self.queue_ext(MmuextOp::new_baseptr(target))?;
        self.commit()
    }
}

/// The page tables of a user address space: a kernel-mode L4 (the
/// kernel's own slots plus the user slots) and a user-mode L4 (user slots
/// only), sharing the user L3 tables. x86_64 PV runs user code on its own
/// L4 (`MMUEXT_NEW_USER_BASEPTR`), switched by Xen on every kernel entry.
#[derive(Debug)]
pub struct UserTables {
    kernel: PinnedL4,
    user: PinnedL4,
}

/// Lowest and end of the user half a process may map.
pub const USER_START: u64 = 0x1000;
pub const USER_END: u64 = 0x0000_7fff_ffff_f000;

fn check_user_address(va: u64) -> Result<(), MapError> {
    if (USER_START..USER_END).contains(&va) {
        Ok(())
    } else {
        Err(MapError::BadAddress { va })
    }
}

/// Maps every pfn at [`PHYSMAP_BASE`] (page tables read-only) as one
/// batched operation, so the kernel can reach any frame afterwards.
///
/// Runs once at boot, before the general walker can read new tables: it
/// allocates every table it needs first (so their own physmap entries are
/// written read-only from the start), then queues, top-down, the clears,
/// the links and the leaf entries.
pub fn build_physmap(boot: &BootInfo) -> Result<(), MapError> {
    let mut mmu = MMU.lock();
    mmu.bootstrap_mapped_end_pfn = boot.bootstrap_mapped_end_pfn();
    mmu.l4 = {
        let l4_pfn = Pfn((boot.pt_base - VIRT_BASE) / 4096);
        pfn_to_mfn(l4_pfn).expect("the bootstrap L4 is populated")
    };
    // Only pfns with backing memory now; ballooning maps the rest later.
    let nr_pages = FRAMES.lock().managed_frames().min(super::p2m_capacity());
    let l1_count = nr_pages.div_ceil(512) as usize;
    let l2_count = l1_count.div_ceil(512);
    assert!(l2_count <= 512, "physmap fits one L4 slot");
    // Table frames, as (pfn, mfn): [L3, L2s..., L1s...].
    let mut tables = [(Pfn(0), Mfn(0)); 1 + 2 + 8192 / 8];
    let table_count = 1 + l2_count + l1_count;
    assert!(
        table_count <= tables.len(),
        "frame allocator capacity bounds the tables"
    );
    for slot in &mut tables[..table_count] {
        let mut frames = FRAMES.lock();
        let pfn = frames.allocate().map_err(|_| MapError::OutOfFrames)?;
        frames
            .set_page_table(pfn, true)
            .expect("allocated frames are in range");
        *slot = (pfn, pfn_to_mfn(pfn).expect("free frames are populated"));
    }
    let (l3, rest) = tables[..table_count]
        .split_first()
        .expect("at least the L3");
    let (l2s, l1s) = rest.split_at(l2_count);
    if mmu.entry(mmu.l4, index(PHYSMAP_BASE, 4)) != 0 {
        return Err(MapError::AlreadyMapped { va: PHYSMAP_BASE });
    }
    for &(_, mfn) in &tables[..table_count] {
        mmu.queue_ext(MmuextOp::clear_page(mfn))?;
    }
    let l4 = mmu.l4;
    mmu.queue_pte(
        l4.address() + index(PHYSMAP_BASE, 4) * 8,
        l3.1.address() | table_flags(),
    )?;
    for (i, &(_, l2)) in l2s.iter().enumerate() {
        mmu.queue_pte(l3.1.address() + i as u64 * 8, l2.address() | table_flags())?;
    }
    for (i, &(_, l1)) in l1s.iter().enumerate() {
        let l2 = l2s[i / 512].1;
        mmu.queue_pte(
            l2.address() + (i % 512) as u64 * 8,
            l1.address() | table_flags(),
        )?;
    }
    for pfn in 0..nr_pages {
        let Some(mfn) = pfn_to_mfn(Pfn(pfn)) else {
            continue;
        };
        let is_table = FRAMES.lock().is_page_table(Pfn(pfn));
        let l1 = l1s[(pfn / 512) as usize].1;
        mmu.queue_pte(
            l1.address() + (pfn % 512) * 8,
            mfn.address() | data_flags(!is_table),
        )?;
    }
    mmu.commit()?;
    mmu.physmap_ready = true;
    Ok(())
}

/// Unmaps the padding at the end of Xen's start-of-day mapping (after the
/// bootstrap stack, up to the 4 MiB boundary) in one batch, and returns the
/// pfn range now free to use: in a small domain that is most of 4 MiB.
pub fn reclaim_boot_padding(boot: &BootInfo) -> Result<core::ops::Range<u64>, MapError> {
    // The page after the tables is Xen's bootstrap stack, which we left.
    let start = boot.bootstrap_tables_end_pfn() + 1;
    let end = boot.bootstrap_mapped_end_pfn().min(boot.nr_pages);
    let mut mmu = MMU.lock();
    // Runs before the physmap exists: tables are read through the boot
    // mapping, which covers all of them.
    mmu.bootstrap_mapped_end_pfn = boot.bootstrap_mapped_end_pfn();
    mmu.l4 = {
        let l4_pfn = Pfn((boot.pt_base - VIRT_BASE) / 4096);
        pfn_to_mfn(l4_pfn).expect("the bootstrap L4 is populated")
    };
    let mut first_unmapped = end;
    for pfn in start..end {
        let va = VIRT_BASE + pfn * 4096;
        if mmu.translate(va).is_none() {
            // The mapping ends earlier than the rules promise: keep the
            // rest reserved rather than guess.
            first_unmapped = pfn;
            break;
        }
        mmu.unmap(va)?;
    }
    mmu.commit()?;
    Ok(start..first_unmapped)
}

/// Records the bootstrap page tables as tables (their physmap aliases must
/// be read-only) before the physmap is built.
pub fn mark_bootstrap_tables(boot: &BootInfo) {
    let first = (boot.pt_base - VIRT_BASE) / 4096;
    let mut frames = FRAMES.lock();
    for pfn in first..first + boot.nr_pt_frames {
        frames
            .set_page_table(Pfn(pfn), true)
            .expect("bootstrap tables lie inside the domain");
    }
}
