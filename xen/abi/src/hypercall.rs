//! Hypercall numbers: the `__HYPERVISOR_*` list from `xen.h`.
//!
//! Names drop the `__HYPERVISOR_` prefix (`__HYPERVISOR_mmu_update` is
//! [`MMU_UPDATE`]). On x86_64 a guest makes hypercall `N` by calling
//! `hypercall_page + N * 32` with arguments 1-5 in `rdi, rsi, rdx, r10, r8`
//! and the result in `rax` (`arch-x86/xen-x86_64.h`, "Hypercall
//! interface"); [`entry_offset`] computes the offset.
//!
//! The `_compat` entries are the pre-3.0.2 forms that later hypercalls
//! replaced (`xen.h`: "compat since 0x00030101" / "0x00030202"); new guests
//! use [`SCHED_OP`], [`EVENT_CHANNEL_OP`] and [`PHYSDEV_OP`].

/// `__HYPERVISOR_set_trap_table`: install the virtual IDT (a list of
/// `arch::TrapInfo` ended by an entry with `address == 0`).
pub const SET_TRAP_TABLE: u32 = 0;
/// `__HYPERVISOR_mmu_update`: a batch of `xen::MmuUpdate`.
pub const MMU_UPDATE: u32 = 1;
/// `__HYPERVISOR_set_gdt`: install a GDT from a list of machine frames.
pub const SET_GDT: u32 = 2;
/// `__HYPERVISOR_stack_switch`: set the kernel stack (SS, RSP) for traps.
pub const STACK_SWITCH: u32 = 3;
/// `__HYPERVISOR_set_callbacks`: the older form of `callback_op`.
pub const SET_CALLBACKS: u32 = 4;
/// `__HYPERVISOR_fpu_taskswitch`: set or clear the virtual CR0.TS.
pub const FPU_TASKSWITCH: u32 = 5;
/// `__HYPERVISOR_sched_op_compat`: legacy `sched_op` (compat since 0x00030101).
pub const SCHED_OP_COMPAT: u32 = 6;
/// `__HYPERVISOR_platform_op`: dom0 platform control.
pub const PLATFORM_OP: u32 = 7;
/// `__HYPERVISOR_set_debugreg`.
pub const SET_DEBUGREG: u32 = 8;
/// `__HYPERVISOR_get_debugreg`.
pub const GET_DEBUGREG: u32 = 9;
/// `__HYPERVISOR_update_descriptor`: write one GDT/LDT descriptor.
pub const UPDATE_DESCRIPTOR: u32 = 10;
/// `__HYPERVISOR_memory_op`: `XENMEM_*` operations (`memory.h`).
pub const MEMORY_OP: u32 = 12;
/// `__HYPERVISOR_multicall`: a batch of `xen::MulticallEntry`.
pub const MULTICALL: u32 = 13;
/// `__HYPERVISOR_update_va_mapping`: write one PTE by virtual address, with
/// `UVMF_*` flush flags.
pub const UPDATE_VA_MAPPING: u32 = 14;
/// `__HYPERVISOR_set_timer_op`: one-shot timer at an absolute system time.
pub const SET_TIMER_OP: u32 = 15;
/// `__HYPERVISOR_event_channel_op_compat` (compat since 0x00030202).
pub const EVENT_CHANNEL_OP_COMPAT: u32 = 16;
/// `__HYPERVISOR_xen_version`: `XENVER_*` queries (`version.h`).
pub const XEN_VERSION: u32 = 17;
/// `__HYPERVISOR_console_io`: `CONSOLEIO_*` on Xen's emergency console.
pub const CONSOLE_IO: u32 = 18;
/// `__HYPERVISOR_physdev_op_compat` (compat since 0x00030202).
pub const PHYSDEV_OP_COMPAT: u32 = 19;
/// `__HYPERVISOR_grant_table_op`: `GNTTABOP_*` (`grant_table.h`).
pub const GRANT_TABLE_OP: u32 = 20;
/// `__HYPERVISOR_vm_assist`: enable `VMASST_TYPE_*` assists.
pub const VM_ASSIST: u32 = 21;
/// `__HYPERVISOR_update_va_mapping_otherdomain`.
pub const UPDATE_VA_MAPPING_OTHERDOMAIN: u32 = 22;
/// `__HYPERVISOR_iret` (x86 only): return from an exception or syscall
/// frame, popping an `arch::IretContext`.
pub const IRET: u32 = 23;
/// `__HYPERVISOR_vcpu_op`: `VCPUOP_*` (`vcpu.h`).
pub const VCPU_OP: u32 = 24;
/// `__HYPERVISOR_set_segment_base` (x86/64 only): `SEGBASE_*` FS/GS bases.
pub const SET_SEGMENT_BASE: u32 = 25;
/// `__HYPERVISOR_mmuext_op`: a batch of `xen::MmuextOp`.
pub const MMUEXT_OP: u32 = 26;
/// `__HYPERVISOR_xsm_op`: security module operations.
pub const XSM_OP: u32 = 27;
/// `__HYPERVISOR_nmi_op`.
pub const NMI_OP: u32 = 28;
/// `__HYPERVISOR_sched_op`: `SCHEDOP_*` (`sched.h`).
pub const SCHED_OP: u32 = 29;
/// `__HYPERVISOR_callback_op`: `CALLBACKOP_*` (`callback.h`).
pub const CALLBACK_OP: u32 = 30;
/// `__HYPERVISOR_xenoprof_op`.
pub const XENOPROF_OP: u32 = 31;
/// `__HYPERVISOR_event_channel_op`: `EVTCHNOP_*` (`event_channel.h`).
pub const EVENT_CHANNEL_OP: u32 = 32;
/// `__HYPERVISOR_physdev_op`: `PHYSDEVOP_*` (`physdev.h`).
pub const PHYSDEV_OP: u32 = 33;
/// `__HYPERVISOR_hvm_op`.
pub const HVM_OP: u32 = 34;
/// `__HYPERVISOR_sysctl` (toolstack).
pub const SYSCTL: u32 = 35;
/// `__HYPERVISOR_domctl` (toolstack).
pub const DOMCTL: u32 = 36;
/// `__HYPERVISOR_kexec_op`.
pub const KEXEC_OP: u32 = 37;
/// `__HYPERVISOR_tmem_op` (removed from Xen, number reserved).
pub const TMEM_OP: u32 = 38;
/// `__HYPERVISOR_argo_op`.
pub const ARGO_OP: u32 = 39;
/// `__HYPERVISOR_xenpmu_op`.
pub const XENPMU_OP: u32 = 40;
/// `__HYPERVISOR_dm_op`: device-model operations.
pub const DM_OP: u32 = 41;
/// `__HYPERVISOR_hypfs_op`.
pub const HYPFS_OP: u32 = 42;

/// `__HYPERVISOR_arch_0`..`__HYPERVISOR_arch_7`: architecture-specific
/// hypercalls (on x86, `arch_0` is `__HYPERVISOR_mca`).
pub const ARCH_0: u32 = 48;
/// `__HYPERVISOR_arch_1`.
pub const ARCH_1: u32 = 49;
/// `__HYPERVISOR_arch_2`.
pub const ARCH_2: u32 = 50;
/// `__HYPERVISOR_arch_3`.
pub const ARCH_3: u32 = 51;
/// `__HYPERVISOR_arch_4`.
pub const ARCH_4: u32 = 52;
/// `__HYPERVISOR_arch_5`.
pub const ARCH_5: u32 = 53;
/// `__HYPERVISOR_arch_6`.
pub const ARCH_6: u32 = 54;
/// `__HYPERVISOR_arch_7`.
pub const ARCH_7: u32 = 55;

/// Bytes per hypercall stub in the hypercall page
/// (`arch-x86/xen-x86_64.h`: "call hypercall_page + hypercall-number * 32").
pub const ENTRY_BYTES: usize = 32;

/// Offset of hypercall `number`'s stub within the hypercall page.
pub const fn entry_offset(number: u32) -> usize {
    number as usize * ENTRY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hypercall_stub_fits_in_the_page() {
        assert_eq!(entry_offset(MMU_UPDATE), 32);
        assert_eq!(entry_offset(SCHED_OP), 29 * 32);
        assert!(entry_offset(ARCH_7) + ENTRY_BYTES <= crate::xen::XEN_PAGE_SIZE);
    }
}
