//! x86_64 specifics: `arch-x86/xen.h` and `arch-x86/xen-x86_64.h`.
//!
//! A 64-bit PV kernel runs in ring 3, as do its processes; Xen provides
//! flat ring-3 segments in the reserved part of every GDT ([`FLAT_KERNEL_CS`]
//! and friends), owns the top of the canonical address space
//! ([`HYPERVISOR_VIRT_START`]..[`HYPERVISOR_VIRT_END`], including the
//! read-only machine-to-phys table), and delivers traps through a virtual
//! IDT of [`TrapInfo`] entries. [`CpuUserRegs`] and [`VcpuGuestContext`]
//! describe a vCPU's register state (for `VCPUOP_initialise`);
//! [`IretContext`] is the frame the `iret` hypercall pops; [`ArchVcpuInfo`]
//! and [`ArchSharedInfo`] are the x86 tails of the shared-info structures in
//! [`crate::xen`].

// --- arch-x86/xen-x86_64.h: 64-bit segment selectors -------------------------
//
// "These flat segments are in the Xen-private section of every GDT. Since
// these are also present in the initial GDT, many OSes will be able to avoid
// installing their own GDT."

/// `FLAT_RING3_CS32`: 32-bit ring-3 code (GDT index 260).
pub const FLAT_RING3_CS32: u16 = 0xe023;
/// `FLAT_RING3_CS64`: 64-bit ring-3 code (GDT index 262).
pub const FLAT_RING3_CS64: u16 = 0xe033;
/// `FLAT_RING3_DS32`: 32-bit ring-3 data (GDT index 261).
pub const FLAT_RING3_DS32: u16 = 0xe02b;
/// `FLAT_RING3_DS64`: the NULL selector (64-bit data needs none).
pub const FLAT_RING3_DS64: u16 = 0x0000;
/// `FLAT_RING3_SS32` (GDT index 261).
pub const FLAT_RING3_SS32: u16 = 0xe02b;
/// `FLAT_RING3_SS64` (GDT index 261).
pub const FLAT_RING3_SS64: u16 = 0xe02b;

/// `FLAT_KERNEL_DS64`.
pub const FLAT_KERNEL_DS64: u16 = FLAT_RING3_DS64;
/// `FLAT_KERNEL_DS32`.
pub const FLAT_KERNEL_DS32: u16 = FLAT_RING3_DS32;
/// `FLAT_KERNEL_DS`: the kernel's data selector (NULL in 64-bit mode).
pub const FLAT_KERNEL_DS: u16 = FLAT_KERNEL_DS64;
/// `FLAT_KERNEL_CS64`.
pub const FLAT_KERNEL_CS64: u16 = FLAT_RING3_CS64;
/// `FLAT_KERNEL_CS32`.
pub const FLAT_KERNEL_CS32: u16 = FLAT_RING3_CS32;
/// `FLAT_KERNEL_CS`: the kernel's code selector, used in [`TrapInfo::cs`].
pub const FLAT_KERNEL_CS: u16 = FLAT_KERNEL_CS64;
/// `FLAT_KERNEL_SS64`.
pub const FLAT_KERNEL_SS64: u16 = FLAT_RING3_SS64;
/// `FLAT_KERNEL_SS32`.
pub const FLAT_KERNEL_SS32: u16 = FLAT_RING3_SS32;
/// `FLAT_KERNEL_SS`: the kernel's stack selector (for `stack_switch`).
pub const FLAT_KERNEL_SS: u16 = FLAT_KERNEL_SS64;
/// `FLAT_USER_DS64`.
pub const FLAT_USER_DS64: u16 = FLAT_RING3_DS64;
/// `FLAT_USER_DS32`.
pub const FLAT_USER_DS32: u16 = FLAT_RING3_DS32;
/// `FLAT_USER_DS`.
pub const FLAT_USER_DS: u16 = FLAT_USER_DS64;
/// `FLAT_USER_CS64`.
pub const FLAT_USER_CS64: u16 = FLAT_RING3_CS64;
/// `FLAT_USER_CS32`.
pub const FLAT_USER_CS32: u16 = FLAT_RING3_CS32;
/// `FLAT_USER_CS`: user code; the same selector as the kernel's, since both
/// run in ring 3.
pub const FLAT_USER_CS: u16 = FLAT_USER_CS64;
/// `FLAT_USER_SS64`.
pub const FLAT_USER_SS64: u16 = FLAT_RING3_SS64;
/// `FLAT_USER_SS32`.
pub const FLAT_USER_SS32: u16 = FLAT_RING3_SS32;
/// `FLAT_USER_SS`.
pub const FLAT_USER_SS: u16 = FLAT_USER_SS64;

// --- arch-x86/xen-x86_64.h: Xen's part of the address space ------------------

/// `HYPERVISOR_VIRT_START`: first virtual address reserved for Xen in every
/// address space; a PV guest may not map anything in
/// `HYPERVISOR_VIRT_START..HYPERVISOR_VIRT_END`.
pub const HYPERVISOR_VIRT_START: u64 = 0xFFFF_8000_0000_0000;
/// `HYPERVISOR_VIRT_END`.
pub const HYPERVISOR_VIRT_END: u64 = 0xFFFF_8800_0000_0000;
/// `MACH2PHYS_VIRT_START`: the read-only machine-to-phys table, one `u64`
/// pfn per machine frame, mapped by Xen into every guest.
pub const MACH2PHYS_VIRT_START: u64 = 0xFFFF_8000_0000_0000;
/// `MACH2PHYS_VIRT_END`.
pub const MACH2PHYS_VIRT_END: u64 = 0xFFFF_8040_0000_0000;
/// `MACH2PHYS_NR_ENTRIES`: entries in the machine-to-phys table.
pub const MACH2PHYS_NR_ENTRIES: u64 = (MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3;

// --- arch-x86/xen-x86_64.h: set_segment_base ---------------------------------

/// `SEGBASE_FS`: set the FS base.
pub const SEGBASE_FS: u32 = 0;
/// `SEGBASE_GS_USER`: set the user GS base (the one `swapgs` swaps in).
pub const SEGBASE_GS_USER: u32 = 1;
/// `SEGBASE_GS_KERNEL`: set the kernel GS base.
pub const SEGBASE_GS_KERNEL: u32 = 2;
/// `SEGBASE_GS_USER_SEL`: set the user GS selector given in `base[15:0]`.
pub const SEGBASE_GS_USER_SEL: u32 = 3;

// --- arch-x86/xen.h and xen-x86_64.h: VGCF_* flags ---------------------------
//
// Flags of `vcpu_guest_context.flags`, and of `iret_context.flags`
// (VGCF_in_syscall).

/// `VGCF_I387_VALID` / `VGCF_i387_valid`: `fpu_ctxt` holds valid state.
pub const VGCF_I387_VALID: u64 = 1 << 0;
/// `VGCF_IN_KERNEL` / `VGCF_in_kernel`: the vCPU starts in kernel mode.
pub const VGCF_IN_KERNEL: u64 = 1 << 2;
/// `VGCF_failsafe_disables_events`: entering the failsafe callback masks
/// event delivery.
pub const VGCF_FAILSAFE_DISABLES_EVENTS: u64 = 1 << 3;
/// `VGCF_syscall_disables_events`: entering the syscall callback masks event
/// delivery.
pub const VGCF_SYSCALL_DISABLES_EVENTS: u64 = 1 << 4;
/// `VGCF_online`: the vCPU is up.
pub const VGCF_ONLINE: u64 = 1 << 5;
/// `VGCF_IN_SYSCALL` / `VGCF_in_syscall` (x86_64): in [`IretContext::flags`],
/// "Guest exited in SYSCALL context? Return to guest with SYSRET?". Xen then
/// does not restore RCX and R11 from the frame (SYSRET clobbers them).
pub const VGCF_IN_SYSCALL: u64 = 1 << 8;

// --- arch-x86/xen.h: GDT and vCPU limits -------------------------------------

/// `FIRST_RESERVED_GDT_PAGE`: GDT frames from this index on belong to Xen.
pub const FIRST_RESERVED_GDT_PAGE: usize = 14;
/// `FIRST_RESERVED_GDT_BYTE`.
pub const FIRST_RESERVED_GDT_BYTE: usize = FIRST_RESERVED_GDT_PAGE * 4096;
/// `FIRST_RESERVED_GDT_ENTRY`: the guest's GDT may use entries below this.
pub const FIRST_RESERVED_GDT_ENTRY: usize = FIRST_RESERVED_GDT_BYTE / 8;
/// `XEN_LEGACY_MAX_VCPUS`: vCPUs whose `vcpu_info` lives in `shared_info`;
/// more need `VCPUOP_register_vcpu_info`.
pub const XEN_LEGACY_MAX_VCPUS: usize = 32;

/// `xen_pfn_to_cr3`: the CR3 value (as Xen reports it, e.g. in
/// `vcpu_guest_context.ctrlreg[3]`) for a top-level page-table frame.
pub const fn xen_pfn_to_cr3(pfn: u64) -> u64 {
    pfn << 12
}

/// `xen_cr3_to_pfn`: the inverse of [`xen_pfn_to_cr3`].
pub const fn xen_cr3_to_pfn(cr3: u64) -> u64 {
    cr3 >> 12
}

// --- arch-x86/xen.h: struct trap_info ----------------------------------------

/// `TI_GET_DPL`'s mask: bits 0-1 of [`TrapInfo::flags`] are the privilege
/// level allowed to raise the vector with `int n` (3 lets user code do it).
pub const TI_DPL_MASK: u8 = 3;
/// `TI_GET_IF`'s bit: bit 2 of [`TrapInfo::flags`]. When set, Xen masks event
/// delivery (sets `evtchn_upcall_mask`) on entry, like an x86 interrupt gate
/// clearing IF.
pub const TI_IF: u8 = 4;

/// One virtual IDT entry: `struct trap_info` (`trap_info_t`),
/// `arch-x86/xen.h`. Written by the guest, passed to `set_trap_table` as an
/// array ended by an all-zero entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapInfo {
    /// Exception vector.
    pub vector: u8,
    /// Bits 0-1: DPL ([`TI_DPL_MASK`]); bit 2: mask events on entry
    /// ([`TI_IF`]).
    pub flags: u8,
    /// Code selector of the handler, normally [`FLAT_KERNEL_CS`].
    pub cs: u16,
    /// Handler address.
    pub address: u64,
}

impl TrapInfo {
    /// An entry for `vector` handled at `address` in the kernel code
    /// segment, callable from privilege level `dpl` (masked to 0-3), masking
    /// events on entry if `mask_events` (`TI_SET_DPL` and `TI_SET_IF`).
    pub const fn new(vector: u8, dpl: u8, mask_events: bool, address: u64) -> Self {
        let if_flag = if mask_events { TI_IF } else { 0 };
        TrapInfo {
            vector,
            flags: (dpl & TI_DPL_MASK) | if_flag,
            cs: FLAT_KERNEL_CS,
            address,
        }
    }

    /// `TI_GET_DPL`.
    pub const fn dpl(&self) -> u8 {
        self.flags & TI_DPL_MASK
    }

    /// `TI_GET_IF`: whether Xen masks events when delivering this vector.
    pub const fn masks_events(&self) -> bool {
        self.flags & TI_IF != 0
    }
}

// --- arch-x86/xen-x86_64.h: struct iret_context ------------------------------

/// The frame popped by `HYPERVISOR_iret`: `struct iret_context`,
/// `arch-x86/xen-x86_64.h`. Written by the guest on its stack ("Top of stack
/// (%rsp at point of hypercall)"), read by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IretContext {
    /// Value restored into RAX.
    pub rax: u64,
    /// Value restored into R11 (unless [`VGCF_IN_SYSCALL`]).
    pub r11: u64,
    /// Value restored into RCX (unless [`VGCF_IN_SYSCALL`]).
    pub rcx: u64,
    /// [`VGCF_IN_SYSCALL`] or 0.
    pub flags: u64,
    /// Return RIP.
    pub rip: u64,
    /// Return CS.
    pub cs: u64,
    /// Return RFLAGS; IF here sets the event mask to `!IF`.
    pub rflags: u64,
    /// Return RSP.
    pub rsp: u64,
    /// Return SS.
    pub ss: u64,
}

// --- arch-x86/xen-x86_64.h: struct cpu_user_regs -----------------------------

/// A vCPU's general registers: `struct cpu_user_regs` (`cpu_user_regs_t`),
/// `arch-x86/xen-x86_64.h`.
///
/// The C header declares each register as a union of its 64-, 32-, 16- and
/// 8-bit names; here only the 64-bit name (`rax`, `rbx`, ..., `rflags`)
/// exists, as in the header's non-GNU variant. Filled by the guest for
/// `VCPUOP_initialise`, by Xen when it reports a vCPU's state.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuUserRegs {
    /// R15.
    pub r15: u64,
    /// R14.
    pub r14: u64,
    /// R13.
    pub r13: u64,
    /// R12.
    pub r12: u64,
    /// RBP.
    pub rbp: u64,
    /// RBX.
    pub rbx: u64,
    /// R11.
    pub r11: u64,
    /// R10.
    pub r10: u64,
    /// R9.
    pub r9: u64,
    /// R8.
    pub r8: u64,
    /// RAX.
    pub rax: u64,
    /// RCX.
    pub rcx: u64,
    /// RDX.
    pub rdx: u64,
    /// RSI.
    pub rsi: u64,
    /// RDI.
    pub rdi: u64,
    /// Private to Xen.
    pub error_code: u32,
    /// Private to Xen.
    pub entry_vector: u32,
    /// RIP.
    pub rip: u64,
    /// CS.
    pub cs: u16,
    /// Padding.
    pub _pad0: [u16; 1],
    /// Event mask saved on entry (`rflags.IF == !saved_upcall_mask`).
    pub saved_upcall_mask: u8,
    /// Padding.
    pub _pad1: [u8; 3],
    /// RFLAGS.
    pub rflags: u64,
    /// RSP.
    pub rsp: u64,
    /// SS.
    pub ss: u16,
    /// Padding.
    pub _pad2: [u16; 3],
    /// ES.
    pub es: u16,
    /// Padding.
    pub _pad3: [u16; 3],
    /// DS.
    pub ds: u16,
    /// Padding.
    pub _pad4: [u16; 3],
    /// FS.
    pub fs: u16,
    /// Padding.
    pub _pad5: [u16; 3],
    /// GS.
    pub gs: u16,
    /// Padding.
    pub _pad6: [u16; 3],
}

// --- arch-x86/xen.h: struct vcpu_guest_context -------------------------------

/// A vCPU's full state: `struct vcpu_guest_context`
/// (`vcpu_guest_context_t`), `arch-x86/xen.h`, 64-bit layout.
///
/// Written by the guest and passed to `VCPUOP_initialise` to start a
/// secondary vCPU. (The `__XEN__`-only view of `syscall_callback_eip` as two
/// compat CS values does not apply to guests.)
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuGuestContext {
    /// FXSAVE image of the user-level FPU registers (C: `struct { char
    /// x[512]; } fpu_ctxt`).
    pub fpu_ctxt: [u8; 512],
    /// `VGCF_*` flags.
    pub flags: u64,
    /// General registers.
    pub user_regs: CpuUserRegs,
    /// The virtual IDT.
    pub trap_ctxt: [TrapInfo; 256],
    /// LDT linear address.
    pub ldt_base: u64,
    /// LDT entries.
    pub ldt_ents: u64,
    /// GDT machine frames.
    pub gdt_frames: [u64; 16],
    /// GDT entries.
    pub gdt_ents: u64,
    /// Kernel stack segment (virtual TSS SS1; unused on x86_64).
    pub kernel_ss: u64,
    /// Kernel stack pointer (virtual TSS SP1).
    pub kernel_sp: u64,
    /// CR0-CR7; CR3 holds the kernel page table and, on x86_64,
    /// `ctrlreg[1]` the user page table (both via [`xen_pfn_to_cr3`]).
    pub ctrlreg: [u64; 8],
    /// DR0-DR7.
    pub debugreg: [u64; 8],
    /// Event upcall entry point.
    pub event_callback_eip: u64,
    /// Failsafe callback entry point.
    pub failsafe_callback_eip: u64,
    /// Syscall callback entry point.
    pub syscall_callback_eip: u64,
    /// `VMASST_TYPE_*` bitmap.
    pub vm_assist: u64,
    /// FS base.
    pub fs_base: u64,
    /// Kernel GS base.
    pub gs_base_kernel: u64,
    /// User GS base.
    pub gs_base_user: u64,
}

impl Default for VcpuGuestContext {
    fn default() -> Self {
        VcpuGuestContext {
            fpu_ctxt: [0; 512],
            flags: 0,
            user_regs: CpuUserRegs::default(),
            trap_ctxt: [TrapInfo::default(); 256],
            ldt_base: 0,
            ldt_ents: 0,
            gdt_frames: [0; 16],
            gdt_ents: 0,
            kernel_ss: 0,
            kernel_sp: 0,
            ctrlreg: [0; 8],
            debugreg: [0; 8],
            event_callback_eip: 0,
            failsafe_callback_eip: 0,
            syscall_callback_eip: 0,
            vm_assist: 0,
            fs_base: 0,
            gs_base_kernel: 0,
            gs_base_user: 0,
        }
    }
}

// --- arch-x86/xen.h and xen-x86_64.h: shared-info tails ----------------------

/// The x86 tail of `shared_info`: `struct arch_shared_info`
/// (`arch_shared_info_t`), `arch-x86/xen.h`.
///
/// Written by the guest (it publishes its p2m here for the toolstack, e.g.
/// for save/restore) except `nmi_reason`, which Xen writes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchSharedInfo {
    /// Number of valid entries in the p2m (guest).
    pub max_pfn: u64,
    /// Frame of the list of frames of the list of p2m frames; 0 = not set
    /// up, `!0` = use `p2m_vaddr` instead (guest).
    pub pfn_to_mfn_frame_list_list: u64,
    /// NMI reason bits (Xen).
    pub nmi_reason: u64,
    /// CR3 of the address space where `p2m_vaddr` is valid, 0 if the fields
    /// below are unused (guest).
    pub p2m_cr3: u64,
    /// Virtual address of the linear p2m list (guest).
    pub p2m_vaddr: u64,
    /// Incremented by the guest before and after each change of the p2m
    /// mappings; odd while an update is in progress (guest).
    pub p2m_generation: u64,
}

/// The x86_64 tail of `vcpu_info`: `struct arch_vcpu_info`
/// (`arch_vcpu_info_t`), `arch-x86/xen-x86_64.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchVcpuInfo {
    /// The faulting address of the last page fault (Xen writes it before
    /// delivering vector 14; a PV guest cannot read CR2 itself).
    pub cr2: u64,
    /// Padding ("sizeof(vcpu_info_t) == 64").
    pub pad: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_info_flags_follow_ti_macros() {
        let entry = TrapInfo::new(14, 0, true, 0xffff_ffff_8000_1000);
        assert_eq!(entry.flags, 4);
        assert_eq!(entry.dpl(), 0);
        assert!(entry.masks_events());
        assert_eq!(entry.cs, FLAT_KERNEL_CS);
        let user = TrapInfo::new(3, 3, false, 1);
        assert_eq!(user.flags, 3);
        assert!(!user.masks_events());
        // A DPL above 3 cannot leak into the IF bit.
        assert_eq!(TrapInfo::new(0, 7, false, 1).flags, 3);
    }

    #[test]
    fn cr3_conversion_round_trips() {
        assert_eq!(xen_pfn_to_cr3(0x1234), 0x123_4000);
        assert_eq!(xen_cr3_to_pfn(xen_pfn_to_cr3(0x1234)), 0x1234);
    }
}
