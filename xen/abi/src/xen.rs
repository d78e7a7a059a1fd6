//! The core guest interface: `xen.h`.
//!
//! What a PV kernel meets first: [`StartInfo`] (handed over in `rsi` at
//! entry), [`SharedInfo`] with its per-vCPU [`VcpuInfo`] (event-channel
//! bitmaps, the upcall mask that replaces `cli`/`sti`, and the
//! [`VcpuTimeInfo`] system-time record), and the page-table hypercall
//! arguments [`MmuUpdate`] and [`MmuextOp`], batched with
//! [`MulticallEntry`]. Also here: virtual IRQ numbers, special domain ids,
//! `update_va_mapping` flush flags and console-io commands.
//!
//! The x86 tails of these structs ([`ArchVcpuInfo`], [`ArchSharedInfo`]) are
//! in [`crate::arch`].

use crate::arch::{ArchSharedInfo, ArchVcpuInfo};
use crate::{Mfn, Pfn};

// --- Page size and vCPU / event-channel limits -------------------------------

/// `XEN_PAGE_SHIFT` (`io/ring.h`): "The PAGE_SIZE for ring protocols and
/// hypercall interfaces is always 4096 bytes, regardless of the page size
/// of the guest".
pub const XEN_PAGE_SHIFT: u32 = 12;
/// `1 << XEN_PAGE_SHIFT`.
pub const XEN_PAGE_SIZE: usize = 1 << XEN_PAGE_SHIFT;
/// `XEN_LEGACY_MAX_VCPUS` (`arch-x86/xen.h`): length of
/// [`SharedInfo::vcpu_info`].
pub const XEN_LEGACY_MAX_VCPUS: usize = crate::arch::XEN_LEGACY_MAX_VCPUS;
/// `MAX_VIRT_CPUS`: the name `XEN_LEGACY_MAX_VCPUS` had before Xen 4.0 (it
/// is no longer in the headers; kept because guest code still uses it).
pub const MAX_VIRT_CPUS: usize = XEN_LEGACY_MAX_VCPUS;
/// `NR_EVENT_CHANNELS` (`xen.h`, interface versions before 0x00040400) =
/// `EVTCHN_2L_NR_CHANNELS` (`event_channel.h`): ports the 2-level event
/// ABI in [`SharedInfo`] can address, 64 * 64 = 4096 on x86_64.
pub const NR_EVENT_CHANNELS: usize = crate::event_channel::EVTCHN_2L_NR_CHANNELS;

// --- Virtual IRQs (xen.h, enum virq) -----------------------------------------
//
// Bound to ports with EVTCHNOP_bind_virq. "V." = per-vCPU, "G." = global.

/// `VIRQ_TIMER` (V): timebase update and/or requested timeout.
pub const VIRQ_TIMER: u32 = 0;
/// `VIRQ_DEBUG` (V): request to dump debug info.
pub const VIRQ_DEBUG: u32 = 1;
/// `VIRQ_CONSOLE` (G, dom0): bytes received on the emergency console.
pub const VIRQ_CONSOLE: u32 = 2;
/// `VIRQ_DOM_EXC` (G, dom0): exceptional event for some domain (e.g. one
/// shut down).
pub const VIRQ_DOM_EXC: u32 = 3;
/// `VIRQ_TBUF` (G, dom0): trace buffer has records.
pub const VIRQ_TBUF: u32 = 4;
/// `VIRQ_DEBUGGER` (G, dom0): a domain paused for debugging.
pub const VIRQ_DEBUGGER: u32 = 6;
/// `VIRQ_XENOPROF` (V): new profiling sample.
pub const VIRQ_XENOPROF: u32 = 7;
/// `VIRQ_CON_RING` (G, dom0): bytes received on console.
pub const VIRQ_CON_RING: u32 = 8;
/// `VIRQ_PCPU_STATE` (G, dom0): physical CPU state changed.
pub const VIRQ_PCPU_STATE: u32 = 9;
/// `VIRQ_MEM_EVENT` (G, dom0): a memory event occurred.
pub const VIRQ_MEM_EVENT: u32 = 10;
/// `VIRQ_ARGO` (G): Argo message notification.
pub const VIRQ_ARGO: u32 = 11;
/// `VIRQ_ENOMEM` (G, dom0): Xen is low on heap memory.
pub const VIRQ_ENOMEM: u32 = 12;
/// `VIRQ_XENPMU` (V): PMC interrupt.
pub const VIRQ_XENPMU: u32 = 13;
/// `VIRQ_ARCH_0`: first architecture-specific VIRQ (`VIRQ_ARCH_0..7`).
pub const VIRQ_ARCH_0: u32 = 16;
/// `NR_VIRQS`.
pub const NR_VIRQS: u32 = 24;

// --- mmu_update (xen.h) -------------------------------------------------------
//
// The command is carried in the low bits of `mmu_update.ptr`, which is
// otherwise an 8-byte-aligned machine address.

/// `MMU_NORMAL_PT_UPDATE`: checked `*ptr = val`; `ptr` is the machine
/// address of a PTE.
pub const MMU_NORMAL_PT_UPDATE: u64 = 0;
/// `MMU_MACHPHYS_UPDATE`: `ptr` is the machine address of a frame, `val` the
/// pfn to record for it in the machine-to-phys table.
pub const MMU_MACHPHYS_UPDATE: u64 = 1;
/// `MMU_PT_UPDATE_PRESERVE_AD`: atomically `*ptr = val | (*ptr & (A|D))`.
pub const MMU_PT_UPDATE_PRESERVE_AD: u64 = 2;
/// `MMU_PT_UPDATE_NO_TRANSLATE`: like normal, `val` never translated.
pub const MMU_PT_UPDATE_NO_TRANSLATE: u64 = 3;

/// One page-table (or machine-to-phys) update: `struct mmu_update`
/// (`mmu_update_t`), `xen.h`. Written by the guest, validated by Xen;
/// passed in arrays to `mmu_update`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmuUpdate {
    /// Machine address of the PTE (or frame), ORed with an `MMU_*` command.
    pub ptr: u64,
    /// New contents of the PTE (or the pfn, for `MMU_MACHPHYS_UPDATE`).
    pub val: u64,
}

impl MmuUpdate {
    /// `MMU_NORMAL_PT_UPDATE`: set the PTE at machine address
    /// `pte_machine_address` (8-byte aligned: the low bits carry the
    /// command) to `new_value`.
    pub const fn normal_pt_update(pte_machine_address: u64, new_value: u64) -> Self {
        debug_assert!(pte_machine_address & 7 == 0, "PTE address not 8-aligned");
        MmuUpdate {
            ptr: pte_machine_address | MMU_NORMAL_PT_UPDATE,
            val: new_value,
        }
    }

    /// `MMU_PT_UPDATE_PRESERVE_AD`: like [`MmuUpdate::normal_pt_update`] but
    /// keeps the accessed and dirty bits the CPU may have set meanwhile.
    pub const fn pt_update_preserve_ad(pte_machine_address: u64, new_value: u64) -> Self {
        debug_assert!(pte_machine_address & 7 == 0, "PTE address not 8-aligned");
        MmuUpdate {
            ptr: pte_machine_address | MMU_PT_UPDATE_PRESERVE_AD,
            val: new_value,
        }
    }

    /// `MMU_MACHPHYS_UPDATE`: record that machine frame `mfn` backs `pfn`.
    pub const fn machphys_update(mfn: Mfn, pfn: Pfn) -> Self {
        MmuUpdate {
            ptr: mfn.address() | MMU_MACHPHYS_UPDATE,
            val: pfn.0,
        }
    }
}

// --- mmuext_op (xen.h, enum mmuext_cmd) --------------------------------------

/// `MMUEXT_PIN_L1_TABLE`: validate an L1 table and pin it (arg1 = mfn).
pub const MMUEXT_PIN_L1_TABLE: u32 = 0;
/// `MMUEXT_PIN_L2_TABLE`.
pub const MMUEXT_PIN_L2_TABLE: u32 = 1;
/// `MMUEXT_PIN_L3_TABLE`.
pub const MMUEXT_PIN_L3_TABLE: u32 = 2;
/// `MMUEXT_PIN_L4_TABLE`: pin a top-level table so it stays validated while
/// not loaded.
pub const MMUEXT_PIN_L4_TABLE: u32 = 3;
/// `MMUEXT_UNPIN_TABLE` (arg1 = mfn).
pub const MMUEXT_UNPIN_TABLE: u32 = 4;
/// `MMUEXT_NEW_BASEPTR`: load a new kernel page table (CR3), arg1 = mfn.
pub const MMUEXT_NEW_BASEPTR: u32 = 5;
/// `MMUEXT_TLB_FLUSH_LOCAL`.
pub const MMUEXT_TLB_FLUSH_LOCAL: u32 = 6;
/// `MMUEXT_INVLPG_LOCAL` (arg1 = linear address).
pub const MMUEXT_INVLPG_LOCAL: u32 = 7;
/// `MMUEXT_TLB_FLUSH_MULTI` (arg2 = vCPU mask handle).
pub const MMUEXT_TLB_FLUSH_MULTI: u32 = 8;
/// `MMUEXT_INVLPG_MULTI` (arg1 = linear address, arg2 = vCPU mask handle).
pub const MMUEXT_INVLPG_MULTI: u32 = 9;
/// `MMUEXT_TLB_FLUSH_ALL`: flush the TLBs of all the domain's vCPUs.
pub const MMUEXT_TLB_FLUSH_ALL: u32 = 10;
/// `MMUEXT_INVLPG_ALL` (arg1 = linear address).
pub const MMUEXT_INVLPG_ALL: u32 = 11;
/// `MMUEXT_FLUSH_CACHE`.
pub const MMUEXT_FLUSH_CACHE: u32 = 12;
/// `MMUEXT_SET_LDT` (arg1 = linear address, arg2 = entries).
pub const MMUEXT_SET_LDT: u32 = 13;
/// `MMUEXT_NEW_USER_BASEPTR` (x86_64): the page table loaded when the guest
/// returns to user mode, arg1 = mfn.
pub const MMUEXT_NEW_USER_BASEPTR: u32 = 15;
/// `MMUEXT_CLEAR_PAGE`: zero a frame (arg1 = mfn).
pub const MMUEXT_CLEAR_PAGE: u32 = 16;
/// `MMUEXT_COPY_PAGE`: copy frame arg2 (`src_mfn`) to frame arg1.
pub const MMUEXT_COPY_PAGE: u32 = 17;
/// `MMUEXT_FLUSH_CACHE_GLOBAL`.
pub const MMUEXT_FLUSH_CACHE_GLOBAL: u32 = 18;
/// `MMUEXT_MARK_SUPER`.
pub const MMUEXT_MARK_SUPER: u32 = 19;
/// `MMUEXT_UNMARK_SUPER`.
pub const MMUEXT_UNMARK_SUPER: u32 = 20;

/// One extended MMU command: `struct mmuext_op` (`mmuext_op_t`), `xen.h`.
/// Written by the guest; passed in arrays to `mmuext_op`.
///
/// In C, `arg1` is a union of `mfn` and `linear_addr`, and `arg2` a union of
/// `nr_ents`, `vcpumask` (a guest handle) and `src_mfn`; here each is the
/// 8-byte integer those share, filled by the constructors below.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmuextOp {
    /// `MMUEXT_*` command.
    pub cmd: u32,
    /// `mfn` or `linear_addr`, depending on `cmd`.
    pub arg1: u64,
    /// `nr_ents`, `vcpumask` or `src_mfn`, depending on `cmd`.
    pub arg2: u64,
}

impl MmuextOp {
    const fn with_mfn(cmd: u32, mfn: Mfn) -> Self {
        MmuextOp {
            cmd,
            arg1: mfn.0,
            arg2: 0,
        }
    }

    /// `MMUEXT_PIN_L1_TABLE` on `mfn`.
    pub const fn pin_l1_table(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_PIN_L1_TABLE, mfn)
    }

    /// `MMUEXT_PIN_L2_TABLE` on `mfn`.
    pub const fn pin_l2_table(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_PIN_L2_TABLE, mfn)
    }

    /// `MMUEXT_PIN_L3_TABLE` on `mfn`.
    pub const fn pin_l3_table(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_PIN_L3_TABLE, mfn)
    }

    /// `MMUEXT_PIN_L4_TABLE` on `mfn`.
    pub const fn pin_l4_table(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_PIN_L4_TABLE, mfn)
    }

    /// `MMUEXT_UNPIN_TABLE` on `mfn`.
    pub const fn unpin_table(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_UNPIN_TABLE, mfn)
    }

    /// `MMUEXT_NEW_BASEPTR`: switch the kernel page table to `mfn`.
    pub const fn new_baseptr(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_NEW_BASEPTR, mfn)
    }

    /// `MMUEXT_NEW_USER_BASEPTR`: set the user-mode page table to `mfn`.
    pub const fn new_user_baseptr(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_NEW_USER_BASEPTR, mfn)
    }

    /// `MMUEXT_TLB_FLUSH_LOCAL`.
    pub const fn tlb_flush_local() -> Self {
        MmuextOp {
            cmd: MMUEXT_TLB_FLUSH_LOCAL,
            arg1: 0,
            arg2: 0,
        }
    }

    /// `MMUEXT_TLB_FLUSH_ALL`.
    pub const fn tlb_flush_all() -> Self {
        MmuextOp {
            cmd: MMUEXT_TLB_FLUSH_ALL,
            arg1: 0,
            arg2: 0,
        }
    }

    /// `MMUEXT_INVLPG_LOCAL` for virtual address `linear_addr`.
    pub const fn invlpg_local(linear_addr: u64) -> Self {
        MmuextOp {
            cmd: MMUEXT_INVLPG_LOCAL,
            arg1: linear_addr,
            arg2: 0,
        }
    }

    /// `MMUEXT_INVLPG_ALL` for virtual address `linear_addr` on all vCPUs.
    pub const fn invlpg_all(linear_addr: u64) -> Self {
        MmuextOp {
            cmd: MMUEXT_INVLPG_ALL,
            arg1: linear_addr,
            arg2: 0,
        }
    }

    /// `MMUEXT_TLB_FLUSH_MULTI`: flush the vCPUs in the bitmap at guest
    /// virtual address `vcpumask`.
    pub const fn tlb_flush_multi(vcpumask: u64) -> Self {
        MmuextOp {
            cmd: MMUEXT_TLB_FLUSH_MULTI,
            arg1: 0,
            arg2: vcpumask,
        }
    }

    /// `MMUEXT_SET_LDT`: an LDT of `nr_ents` entries at `linear_addr`.
    pub const fn set_ldt(linear_addr: u64, nr_ents: u32) -> Self {
        MmuextOp {
            cmd: MMUEXT_SET_LDT,
            arg1: linear_addr,
            arg2: nr_ents as u64,
        }
    }

    /// `MMUEXT_CLEAR_PAGE`: zero frame `mfn`.
    pub const fn clear_page(mfn: Mfn) -> Self {
        Self::with_mfn(MMUEXT_CLEAR_PAGE, mfn)
    }

    /// `MMUEXT_COPY_PAGE`: copy frame `src_mfn` into frame `dst_mfn`.
    pub const fn copy_page(dst_mfn: Mfn, src_mfn: Mfn) -> Self {
        MmuextOp {
            cmd: MMUEXT_COPY_PAGE,
            arg1: dst_mfn.0,
            arg2: src_mfn.0,
        }
    }
}

// --- update_va_mapping flags (xen.h, enum uvm_flags) -------------------------

/// `UVMF_NONE`: no flushing at all.
pub const UVMF_NONE: u64 = 0;
/// `UVMF_TLB_FLUSH`: flush entire TLB(s).
pub const UVMF_TLB_FLUSH: u64 = 1;
/// `UVMF_INVLPG`: flush only one entry.
pub const UVMF_INVLPG: u64 = 2;
/// `UVMF_FLUSHTYPE_MASK`.
pub const UVMF_FLUSHTYPE_MASK: u64 = 3;
/// `UVMF_MULTI`: flush a subset of TLBs; OR in a pointer to a vCPU bitmap.
pub const UVMF_MULTI: u64 = 0;
/// `UVMF_LOCAL`: flush the local TLB (`UVMF_MULTI` with a NULL bitmap).
pub const UVMF_LOCAL: u64 = 0;
/// `UVMF_ALL`: flush all TLBs.
pub const UVMF_ALL: u64 = 1 << 2;

// --- console_io (xen.h) -------------------------------------------------------

/// `CONSOLEIO_write`: write bytes to Xen's console.
pub const CONSOLEIO_WRITE: u32 = 0;
/// `CONSOLEIO_read`: read bytes from Xen's console (dom0).
pub const CONSOLEIO_READ: u32 = 1;

// --- vm_assist (xen.h) --------------------------------------------------------

/// `VMASST_CMD_enable`.
pub const VMASST_CMD_ENABLE: u32 = 0;
/// `VMASST_CMD_disable`.
pub const VMASST_CMD_DISABLE: u32 = 1;
/// `VMASST_TYPE_4gb_segments` (x86/32 only).
pub const VMASST_TYPE_4GB_SEGMENTS: u32 = 0;
/// `VMASST_TYPE_4gb_segments_notify` (x86/32 only).
pub const VMASST_TYPE_4GB_SEGMENTS_NOTIFY: u32 = 1;
/// `VMASST_TYPE_writable_pagetables`: Xen emulates writes to page tables.
pub const VMASST_TYPE_WRITABLE_PAGETABLES: u32 = 2;
/// `VMASST_TYPE_pae_extended_cr3`.
pub const VMASST_TYPE_PAE_EXTENDED_CR3: u32 = 3;
/// `VMASST_TYPE_architectural_iopl`.
pub const VMASST_TYPE_ARCHITECTURAL_IOPL: u32 = 4;
/// `VMASST_TYPE_runstate_update_flag`: Xen sets `XEN_RUNSTATE_UPDATE` in
/// the runstate area while updating it.
pub const VMASST_TYPE_RUNSTATE_UPDATE_FLAG: u32 = 5;
/// `VMASST_TYPE_m2p_strict`.
pub const VMASST_TYPE_M2P_STRICT: u32 = 32;

// --- Domain ids (xen.h) -------------------------------------------------------

/// `DOMID_FIRST_RESERVED`: ids at or above this are not ordinary domains.
pub const DOMID_FIRST_RESERVED: u16 = 0x7FF0;
/// `DOMID_SELF`: the calling domain.
pub const DOMID_SELF: u16 = 0x7FF0;
/// `DOMID_IO`: owner of I/O memory.
pub const DOMID_IO: u16 = 0x7FF1;
/// `DOMID_XEN`: owner of Xen's own pages.
pub const DOMID_XEN: u16 = 0x7FF2;
/// `DOMID_COW`: owner of shared copy-on-write pages.
pub const DOMID_COW: u16 = 0x7FF3;
/// `DOMID_INVALID`: unknown owner.
pub const DOMID_INVALID: u16 = 0x7FF4;
/// `DOMID_IDLE`: the idle domain.
pub const DOMID_IDLE: u16 = 0x7FFF;
/// `DOMID_MASK`: mask of valid domain id values.
pub const DOMID_MASK: u16 = 0x7FFF;

// --- multicall (xen.h) --------------------------------------------------------

/// One hypercall of a batch: `struct multicall_entry`
/// (`multicall_entry_t`), `xen.h`. The guest writes `op` and `args`; Xen
/// writes `result`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MulticallEntry {
    /// Hypercall number (`crate::hypercall`).
    pub op: u64,
    /// Return value of the call (Xen).
    pub result: u64,
    /// Up to six arguments.
    pub args: [u64; 6],
}

impl MulticallEntry {
    /// A call of hypercall `op` with `args` (unused ones zero).
    pub const fn new(op: u32, args: [u64; 6]) -> Self {
        MulticallEntry {
            op: op as u64,
            result: 0,
            args,
        }
    }
}

// --- Time (xen.h) -------------------------------------------------------------

/// `XEN_PVCLOCK_TSC_STABLE_BIT`: in [`VcpuTimeInfo::flags`], the TSC is
/// stable across CPUs.
pub const XEN_PVCLOCK_TSC_STABLE_BIT: u8 = 1 << 0;
/// `XEN_PVCLOCK_GUEST_STOPPED`: in [`VcpuTimeInfo::flags`], the guest was
/// stopped.
pub const XEN_PVCLOCK_GUEST_STOPPED: u8 = 1 << 1;

/// Xen system time for one vCPU: `struct vcpu_time_info`
/// (`vcpu_time_info_t`), `xen.h`. 32 bytes, written by Xen, read by the
/// guest.
///
/// Xen increments `version` before and after each update, so an odd value
/// means an update is in progress: read `version`, the fields, then
/// `version` again, and retry if it was odd or changed (a seqlock).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuTimeInfo {
    /// Update counter, odd while Xen is writing.
    pub version: u32,
    /// Padding.
    pub pad0: u32,
    /// TSC at the last update of the time values.
    pub tsc_timestamp: u64,
    /// Nanoseconds since boot at `tsc_timestamp`.
    pub system_time: u64,
    /// TSC-to-nanoseconds multiplier, a 32.32 fixed-point fraction.
    pub tsc_to_system_mul: u32,
    /// Binary shift applied to TSC deltas before the multiply (may be
    /// negative).
    pub tsc_shift: i8,
    /// `XEN_PVCLOCK_*` flags (interface version > 0x040600).
    pub flags: u8,
    /// Padding.
    pub pad1: [u8; 2],
}

impl VcpuTimeInfo {
    /// Nanoseconds `tsc_delta` TSC ticks represent, by the header's formula
    /// `((tsc_delta << tsc_shift) * tsc_to_system_mul) >> 32` (a negative
    /// shift shifts right).
    pub const fn scale_tsc_delta(&self, tsc_delta: u64) -> u64 {
        let shifted = if self.tsc_shift >= 0 {
            tsc_delta << (self.tsc_shift as u32 & 63)
        } else {
            tsc_delta >> (self.tsc_shift.unsigned_abs() as u32 & 63)
        };
        ((shifted as u128 * self.tsc_to_system_mul as u128) >> 32) as u64
    }

    /// Current system time in ns for TSC value `tsc`: "system_time +
    /// ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)".
    /// Only meaningful on a consistent copy (see the type's docs).
    pub const fn system_time_at(&self, tsc: u64) -> u64 {
        self.system_time
            .wrapping_add(self.scale_tsc_delta(tsc.wrapping_sub(self.tsc_timestamp)))
    }
}

// --- vcpu_info and shared_info (xen.h) ---------------------------------------

/// Per-vCPU event and time state: `struct vcpu_info` (`vcpu_info_t`),
/// `xen.h`. 64 bytes, in [`SharedInfo`] or registered with
/// `VCPUOP_register_vcpu_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuInfo {
    /// Set non-zero by Xen when an event is pending for this vCPU; the guest
    /// clears it *before* scanning for work, to avoid a set-and-check race.
    pub evtchn_upcall_pending: u8,
    /// Written by the guest: non-zero masks event upcalls (the PV `cli`).
    /// Xen clears it when the vCPU blocks.
    pub evtchn_upcall_mask: u8,
    /// Selector: bit `i` set by Xen means word `i` of
    /// [`SharedInfo::evtchn_pending`] may have pending bits; the guest
    /// clears it (atomically exchange with 0).
    pub evtchn_pending_sel: u64,
    /// x86 part: the page-fault address.
    pub arch: ArchVcpuInfo,
    /// System time (Xen).
    pub time: VcpuTimeInfo,
}

/// The shared-info page: `struct shared_info` (`shared_info_t`), `xen.h`.
/// One page per domain, at the machine address `start_info.shared_info`,
/// mapped by the guest and written concurrently by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedInfo {
    /// Event and time state of vCPUs `0..XEN_LEGACY_MAX_VCPUS`.
    pub vcpu_info: [VcpuInfo; XEN_LEGACY_MAX_VCPUS],
    /// 2-level event ABI: one PENDING bit per port. Xen sets bits; the
    /// guest clears them (atomically) when it handles the event.
    pub evtchn_pending: [u64; 64],
    /// One MASK bit per port, written only by the guest: a masked port's
    /// 0->1 pending edge raises no upcall.
    pub evtchn_mask: [u64; 64],
    /// Wall-clock version counter; same protocol as
    /// [`VcpuTimeInfo::version`] (Xen).
    pub wc_version: u32,
    /// Wall-clock seconds since the Unix epoch at system time 0, low 32 bits
    /// (Xen).
    pub wc_sec: u32,
    /// Wall-clock nanoseconds (Xen).
    pub wc_nsec: u32,
    /// High 32 bits of `wc_sec` (Xen; present on x86_64).
    pub wc_sec_hi: u32,
    /// x86 part.
    pub arch: ArchSharedInfo,
}

impl SharedInfo {
    /// Wall-clock seconds at system time 0: `wc_sec_hi:wc_sec`.
    pub const fn wall_clock_sec(&self) -> u64 {
        ((self.wc_sec_hi as u64) << 32) | self.wc_sec as u64
    }
}

impl Default for SharedInfo {
    fn default() -> Self {
        SharedInfo {
            vcpu_info: [VcpuInfo::default(); XEN_LEGACY_MAX_VCPUS],
            evtchn_pending: [0; 64],
            evtchn_mask: [0; 64],
            wc_version: 0,
            wc_sec: 0,
            wc_nsec: 0,
            wc_sec_hi: 0,
            arch: ArchSharedInfo::default(),
        }
    }
}

// --- start_info (xen.h) -------------------------------------------------------

/// `SIF_PRIVILEGED`: the domain is privileged.
pub const SIF_PRIVILEGED: u32 = 1 << 0;
/// `SIF_INITDOMAIN`: this is the initial control domain (dom0).
pub const SIF_INITDOMAIN: u32 = 1 << 1;
/// `SIF_MULTIBOOT_MOD`: `mod_start` is a list of
/// [`XenMultibootModList`].
pub const SIF_MULTIBOOT_MOD: u32 = 1 << 2;
/// `SIF_MOD_START_PFN`: `mod_start` is a pfn, not a virtual address.
pub const SIF_MOD_START_PFN: u32 = 1 << 3;
/// `SIF_VIRT_P2M_4TOOLS`: the tools understand a virtually mapped p2m.
pub const SIF_VIRT_P2M_4TOOLS: u32 = 1 << 4;
/// `SIF_PM_MASK`: reserved for xen-pm options.
pub const SIF_PM_MASK: u32 = 0xFF << 8;
/// `MAX_GUEST_CMDLINE`: size of [`StartInfo::cmd_line`].
pub const MAX_GUEST_CMDLINE: usize = 1024;
/// What every `start_info.magic` begins with (`"xen-<version>-<platform>"`).
pub const XEN_START_INFO_MAGIC_PREFIX: &[u8] = b"xen-";

/// The console part of [`StartInfo`]: the `console` union of
/// `struct start_info`, `xen.h`, in its domU view `console.domU`.
///
/// For dom0 the same 16 bytes are `console.dom0 { info_off, info_size }`
/// (both `uint32_t`): read them with [`StartInfoConsole::dom0_info_off`] and
/// [`StartInfoConsole::dom0_info_size`]. Written by Xen (or the domain
/// builder).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartInfoConsole {
    /// domU: machine frame of the console ring page (`xencons_interface`).
    pub mfn: u64,
    /// domU: event channel of the console ring.
    pub evtchn: u32,
}

impl StartInfoConsole {
    /// dom0 view: offset from `start_info` of the `dom0_vga_console_info`
    /// (the first 4 bytes of the union, the low half of `mfn`).
    pub const fn dom0_info_off(&self) -> u32 {
        self.mfn as u32
    }

    /// dom0 view: size of that `dom0_vga_console_info` (the next 4 bytes,
    /// the high half of `mfn`).
    pub const fn dom0_info_size(&self) -> u32 {
        (self.mfn >> 32) as u32
    }
}

/// Boot information: `struct start_info` (`start_info_t`), `xen.h`.
/// Written by Xen (or the domain builder), read by the guest; `rsi` holds
/// its virtual address at the kernel's entry. The fields up to `console` are
/// also refilled on resume; the rest only at initial boot.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// `"xen-<version>-<platform>"`, e.g. `"xen-3.0-x86_64"`, NUL-padded.
    pub magic: [u8; 32],
    /// Total pages allocated to this domain.
    pub nr_pages: u64,
    /// MACHINE address of the shared-info page.
    pub shared_info: u64,
    /// `SIF_*` flags.
    pub flags: u32,
    /// MACHINE frame of the xenstore ring page.
    pub store_mfn: u64,
    /// Event channel for xenstore.
    pub store_evtchn: u32,
    /// Console ring (domU) or VGA console info location (dom0).
    pub console: StartInfoConsole,
    /// VIRTUAL address of the top-level page table Xen built.
    pub pt_base: u64,
    /// Number of bootstrap page-table frames.
    pub nr_pt_frames: u64,
    /// VIRTUAL address of the p2m list (`nr_pages` mfns, indexed by pfn).
    pub mfn_list: u64,
    /// VIRTUAL address of the pre-loaded module (initrd), or its pfn if
    /// `SIF_MOD_START_PFN`.
    pub mod_start: u64,
    /// Size in bytes of the pre-loaded module.
    pub mod_len: u64,
    /// Kernel command line, NUL-terminated (C `int8_t[1024]`).
    pub cmd_line: [u8; MAX_GUEST_CMDLINE],
    /// First pfn of the initial p2m table (covers page-table frames too).
    pub first_p2m_pfn: u64,
    /// Number of pfns forming the initial p2m table.
    pub nr_p2m_frames: u64,
}

impl StartInfo {
    /// The `magic` text up to its NUL, e.g. "xen-3.0-x86_64" (a malformed
    /// UTF-8 tail is dropped).
    pub fn magic_str(&self) -> &str {
        crate::utf8_prefix(crate::c_string_bytes(&self.magic))
    }

    /// Whether `magic` starts with [`XEN_START_INFO_MAGIC_PREFIX`].
    pub fn has_xen_magic(&self) -> bool {
        self.magic.starts_with(XEN_START_INFO_MAGIC_PREFIX)
    }

    /// The command line bytes up to the first NUL.
    pub fn cmd_line_bytes(&self) -> &[u8] {
        crate::c_string_bytes(&self.cmd_line)
    }

    /// Whether this domain is dom0 (`SIF_INITDOMAIN`).
    pub const fn is_initial_domain(&self) -> bool {
        self.flags & SIF_INITDOMAIN != 0
    }
}

impl Default for StartInfo {
    fn default() -> Self {
        StartInfo {
            magic: [0; 32],
            nr_pages: 0,
            shared_info: 0,
            flags: 0,
            store_mfn: 0,
            store_evtchn: 0,
            console: StartInfoConsole::default(),
            pt_base: 0,
            nr_pt_frames: 0,
            mfn_list: 0,
            mod_start: 0,
            mod_len: 0,
            cmd_line: [0; MAX_GUEST_CMDLINE],
            first_p2m_pfn: 0,
            nr_p2m_frames: 0,
        }
    }
}

/// One boot module when `SIF_MULTIBOOT_MOD` is set: `struct
/// xen_multiboot_mod_list`, `xen.h`. Written by Xen; an array at
/// `mod_start`, ended by an entry with `mod_end == 0`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XenMultibootModList {
    /// Address of the first byte of the module.
    pub mod_start: u32,
    /// Address of the last byte of the module (inclusive).
    pub mod_end: u32,
    /// Address of the NUL-terminated module command line.
    pub cmdline: u32,
    /// Unused, zero.
    pub pad: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmu_update_puts_command_in_low_bits() {
        let update = MmuUpdate::normal_pt_update(0x1234_5678, 0xabc);
        assert_eq!(update.ptr, 0x1234_5678);
        assert_eq!(update.val, 0xabc);
        let preserve = MmuUpdate::pt_update_preserve_ad(0x1000, 7);
        assert_eq!(preserve.ptr, 0x1002);
        let machphys = MmuUpdate::machphys_update(Mfn(0x42), Pfn(7));
        assert_eq!(machphys.ptr, 0x42_000 | 1);
        assert_eq!(machphys.val, 7);
    }

    #[test]
    fn mmuext_constructors_fill_the_right_union_member() {
        assert_eq!(
            MmuextOp::pin_l4_table(Mfn(9)),
            MmuextOp {
                cmd: 3,
                arg1: 9,
                arg2: 0
            }
        );
        assert_eq!(MmuextOp::unpin_table(Mfn(9)).cmd, MMUEXT_UNPIN_TABLE);
        assert_eq!(MmuextOp::new_baseptr(Mfn(5)).arg1, 5);
        assert_eq!(MmuextOp::new_user_baseptr(Mfn(6)).cmd, 15);
        assert_eq!(MmuextOp::tlb_flush_local().cmd, 6);
        assert_eq!(MmuextOp::tlb_flush_all().cmd, 10);
        assert_eq!(
            MmuextOp::invlpg_local(0xdead_0000),
            MmuextOp {
                cmd: 7,
                arg1: 0xdead_0000,
                arg2: 0
            }
        );
        assert_eq!(MmuextOp::clear_page(Mfn(3)).cmd, 16);
        assert_eq!(
            MmuextOp::copy_page(Mfn(1), Mfn(2)),
            MmuextOp {
                cmd: 17,
                arg1: 1,
                arg2: 2
            }
        );
        assert_eq!(MmuextOp::set_ldt(0x1000, 8).arg2, 8);
    }

    #[test]
    fn start_info_text_helpers() {
        let mut info = StartInfo::default();
        info.magic[..14].copy_from_slice(b"xen-3.0-x86_64");
        info.cmd_line[..5].copy_from_slice(b"quiet");
        assert_eq!(info.magic_str(), "xen-3.0-x86_64");
        assert!(info.has_xen_magic());
        assert_eq!(info.cmd_line_bytes(), b"quiet");
        info.magic = [0xff; 32];
        assert_eq!(info.magic_str(), "");
        assert!(!info.has_xen_magic());
    }

    #[test]
    fn dom0_console_view_reinterprets_the_union() {
        let console = StartInfoConsole {
            mfn: (0x80 << 32) | 0x900,
            evtchn: 0,
        };
        assert_eq!(console.dom0_info_off(), 0x900);
        assert_eq!(console.dom0_info_size(), 0x80);
    }

    #[test]
    fn system_time_follows_the_header_formula() {
        // 2 GHz TSC: 0.5 ns per tick = mul 2^31 with shift 0.
        let time = VcpuTimeInfo {
            tsc_timestamp: 1000,
            system_time: 5_000,
            tsc_to_system_mul: 1 << 31,
            tsc_shift: 0,
            ..VcpuTimeInfo::default()
        };
        assert_eq!(time.system_time_at(3000), 6_000);
        let shifted = VcpuTimeInfo {
            tsc_shift: -1,
            tsc_to_system_mul: u32::MAX,
            ..time
        };
        // 2000 ticks >> 1 = 1000, times (2^32 - 1) / 2^32 rounds down to 999.
        assert_eq!(shifted.system_time_at(3000), 5_999);
        let up = VcpuTimeInfo {
            tsc_shift: 2,
            ..time
        };
        assert_eq!(up.system_time_at(3000), 9_000);
    }

    #[test]
    fn wall_clock_joins_high_and_low_seconds() {
        let info = SharedInfo {
            wc_sec: 5,
            wc_sec_hi: 1,
            ..SharedInfo::default()
        };
        assert_eq!(info.wall_clock_sec(), (1 << 32) | 5);
    }

    #[test]
    fn nr_event_channels_is_4096() {
        assert_eq!(NR_EVENT_CHANNELS, 4096);
        assert_eq!(MAX_VIRT_CPUS, 32);
    }
}
