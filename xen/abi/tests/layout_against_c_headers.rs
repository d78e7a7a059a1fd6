//! Checks `xen-abi` against the real Xen C headers in `/usr/include/xen`.
//!
//! The tables below list, once, every struct the crate defines with each of
//! its fields (and nested fields), every integer and string constant, and a
//! few header tables. From them the test generates both sides: a C program
//! that includes the headers and prints `sizeof`, `_Alignof`, `offsetof`,
//! the size of each field and each constant's value, and the same numbers
//! computed in Rust with `size_of`, `align_of` and `offset_of!`. It compiles
//! and runs the program with `cc` and reports every disagreement at once.
//!
//! The headers are Debian's `libxen-dev` (Xen 4.17), used at the interface
//! version Xen itself implements (`__XEN_LATEST_INTERFACE_VERSION__`,
//! 0x00040e00). Without them the test fails rather than passing vacuously.

use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use xen_abi::{
    arch, callback, console, elfnote, event_channel, grant_table, hypercall, memory, physdev, ring,
    sched, vcpu, version, xen, xenbus, xs_wire,
};
use xen_abi::{errno, DomId, EventChannelPort, GrantRef, Mfn, Pfn};

/// The header whose presence means `libxen-dev` is installed.
const XEN_HEADER: &str = "/usr/include/xen/xen.h";

/// Interface version the crate models (`xen-compat.h`).
const INTERFACE_VERSION: &str = "0x00040e00";

/// One line the C program prints, and what Rust says it should be.
struct Check {
    /// What is measured, for the failure report.
    what: String,
    /// The Rust-side value, formatted as the C side prints it.
    rust: String,
    /// A C statement printing the C-side value and a newline.
    c_statement: String,
}

/// The size of the field `project` selects, without needing a value.
fn field_size<T, F>(_project: impl Fn(&T) -> &F) -> usize {
    size_of::<F>()
}

fn size_check(rust: &str, c_type: &str, c_size: &str, size: usize) -> Check {
    Check {
        what: format!("size_of::<{rust}>() vs sizeof({c_type})"),
        rust: size.to_string(),
        c_statement: format!("printf(\"%zu\\n\", (size_t)({c_size}));"),
    }
}

fn align_check(rust: &str, c_type: &str, align: usize) -> Check {
    Check {
        what: format!("align_of::<{rust}>() vs _Alignof({c_type})"),
        rust: align.to_string(),
        c_statement: format!("printf(\"%zu\\n\", (size_t)_Alignof({c_type}));"),
    }
}

fn field_checks(
    rust: &str,
    c_type: &str,
    field: &str,
    c_field: &str,
    offset: usize,
    size: usize,
) -> [Check; 2] {
    [
        Check {
            what: format!("offset_of!({rust}, {field}) vs offsetof({c_type}, {c_field})"),
            rust: offset.to_string(),
            c_statement: format!("printf(\"%zu\\n\", (size_t)offsetof({c_type}, {c_field}));"),
        },
        Check {
            what: format!("size of {rust}.{field} vs sizeof((({c_type} *)0)->{c_field})"),
            rust: size.to_string(),
            c_statement: format!("printf(\"%zu\\n\", sizeof((({c_type} *)0)->{c_field}));"),
        },
    ]
}

/// Struct table: `RustType => "C type" [, size = "C expression"] { fields }`.
/// A field is a Rust field path, optionally `=> "C field path"` when the
/// names differ (Rust keywords, unions modelled as integers). `size`
/// overrides `sizeof(C type)` for C structs with a trailing array.
macro_rules! struct_checks {
    (@c_size $c_type:literal) => { concat!("sizeof(", $c_type, ")") };
    (@c_size $c_type:literal, $c_size:literal) => { $c_size };
    (@c_field $rust_field:expr) => { $rust_field };
    (@c_field $rust_field:expr, $c_field:literal) => { String::from($c_field) };
    ($(
        $rust:ty => $c_type:literal $(, size = $c_size:literal)? {
            $( $($field:ident).+ $(=> $c_field:literal)? ),* $(,)?
        }
    )*) => {
        fn struct_checks() -> Vec<Check> {
            let mut checks = Vec::new();
            $(
                let rust = stringify!($rust);
                checks.push(size_check(
                    rust,
                    $c_type,
                    struct_checks!(@c_size $c_type $(, $c_size)?),
                    size_of::<$rust>(),
                ));
                checks.push(align_check(rust, $c_type, align_of::<$rust>()));
                $(
                    let field = [$(stringify!($field)),+].join(".");
                    let c_field = struct_checks!(@c_field field.clone() $(, $c_field)?);
                    checks.extend(field_checks(
                        rust,
                        $c_type,
                        &field,
                        &c_field,
                        offset_of!($rust, $($field).+),
                        field_size(|value: &$rust| &value.$($field).+),
                    ));
                )*
            )*
            checks
        }
    };
}

/// Integer constant table: `rust_expression => "C expression"`. Both sides
/// are compared as 64-bit two's complement, so `-1i16` matches C's `-1`.
macro_rules! constant_checks {
    ($( $rust:expr => $c:literal ),* $(,)?) => {
        fn constant_checks() -> Vec<Check> {
            vec![$(
                Check {
                    what: format!("{} vs {}", stringify!($rust), $c),
                    rust: (($rust) as i128 as u64).to_string(),
                    c_statement: format!("printf(\"%llu\\n\", (unsigned long long)({}));", $c),
                }
            ),*]
        }
    };
}

/// String constant table: `rust_expression => "C expression"`.
macro_rules! string_checks {
    ($( $rust:expr => $c:literal ),* $(,)?) => {
        fn string_checks() -> Vec<Check> {
            vec![$(
                Check {
                    what: format!("{} vs {}", stringify!($rust), $c),
                    rust: String::from($rust),
                    c_statement: format!("printf(\"%s\\n\", {});", $c),
                }
            ),*]
        }
    };
}

struct_checks! {
    // xen.h
    xen::StartInfo => "struct start_info" {
        magic, nr_pages, shared_info, flags, store_mfn, store_evtchn,
        console => "console",
        console.mfn => "console.domU.mfn",
        console.evtchn => "console.domU.evtchn",
        pt_base, nr_pt_frames, mfn_list, mod_start, mod_len, cmd_line,
        first_p2m_pfn, nr_p2m_frames,
    }
    xen::StartInfoConsole => "__typeof__(((struct start_info *)0)->console)" {
        mfn => "domU.mfn",
        evtchn => "domU.evtchn",
    }
    xen::SharedInfo => "struct shared_info" {
        vcpu_info, evtchn_pending, evtchn_mask, wc_version, wc_sec, wc_nsec, wc_sec_hi,
        arch, arch.max_pfn, arch.pfn_to_mfn_frame_list_list, arch.nmi_reason,
        arch.p2m_cr3, arch.p2m_vaddr, arch.p2m_generation,
    }
    xen::VcpuInfo => "struct vcpu_info" {
        evtchn_upcall_pending, evtchn_upcall_mask, evtchn_pending_sel,
        arch, arch.cr2, arch.pad,
        time, time.version, time.pad0, time.tsc_timestamp, time.system_time,
        time.tsc_to_system_mul, time.tsc_shift, time.flags, time.pad1,
    }
    xen::VcpuTimeInfo => "struct vcpu_time_info" {
        version, pad0, tsc_timestamp, system_time, tsc_to_system_mul, tsc_shift, flags, pad1,
    }
    xen::MmuUpdate => "struct mmu_update" { ptr, val }
    xen::MmuextOp => "struct mmuext_op" {
        cmd,
        arg1 => "arg1",
        arg1 => "arg1.mfn",
        arg1 => "arg1.linear_addr",
        arg2 => "arg2",
        arg2 => "arg2.vcpumask",
        arg2 => "arg2.src_mfn",
    }
    xen::MulticallEntry => "struct multicall_entry" { op, result, args }
    xen::XenMultibootModList => "struct xen_multiboot_mod_list" { mod_start, mod_end, cmdline, pad }

    // arch-x86/xen.h, arch-x86/xen-x86_64.h
    arch::TrapInfo => "struct trap_info" { vector, flags, cs, address }
    arch::IretContext => "struct iret_context" { rax, r11, rcx, flags, rip, cs, rflags, rsp, ss }
    arch::CpuUserRegs => "struct cpu_user_regs" {
        r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi,
        error_code, entry_vector, rip, cs, _pad0, saved_upcall_mask, _pad1, rflags, rsp,
        ss, _pad2, es, _pad3, ds, _pad4, fs, _pad5, gs, _pad6,
    }
    arch::VcpuGuestContext => "struct vcpu_guest_context" {
        fpu_ctxt, flags, user_regs, user_regs.rip, user_regs.gs, trap_ctxt, ldt_base, ldt_ents,
        gdt_frames, gdt_ents, kernel_ss, kernel_sp, ctrlreg, debugreg, event_callback_eip,
        failsafe_callback_eip, syscall_callback_eip, vm_assist, fs_base, gs_base_kernel,
        gs_base_user,
    }
    arch::ArchSharedInfo => "struct arch_shared_info" {
        max_pfn, pfn_to_mfn_frame_list_list, nmi_reason, p2m_cr3, p2m_vaddr, p2m_generation,
    }
    arch::ArchVcpuInfo => "struct arch_vcpu_info" { cr2, pad }

    // sched.h
    sched::SchedShutdown => "struct sched_shutdown" { reason }
    sched::SchedPoll => "struct sched_poll" { ports, nr_ports, timeout }
    sched::SchedRemoteShutdown => "struct sched_remote_shutdown" { domain_id, reason }
    sched::SchedWatchdog => "struct sched_watchdog" { id, timeout }
    sched::SchedPinOverride => "struct sched_pin_override" { pcpu }

    // vcpu.h
    vcpu::VcpuRunstateInfo => "struct vcpu_runstate_info" { state, state_entry_time, time }
    vcpu::VcpuRegisterRunstateMemoryArea => "struct vcpu_register_runstate_memory_area" {
        addr => "addr",
        addr => "addr.h",
        addr => "addr.p",
    }
    vcpu::VcpuSetPeriodicTimer => "struct vcpu_set_periodic_timer" { period_ns }
    vcpu::VcpuSetSingleshotTimer => "struct vcpu_set_singleshot_timer" { timeout_abs_ns, flags }
    vcpu::VcpuRegisterVcpuInfo => "struct vcpu_register_vcpu_info" { mfn, offset, rsvd }
    vcpu::VcpuGetPhysid => "struct vcpu_get_physid" { phys_id }
    vcpu::VcpuRegisterTimeMemoryArea => "struct vcpu_register_time_memory_area" {
        addr => "addr",
        addr => "addr.h",
        addr => "addr.p",
    }

    // event_channel.h
    event_channel::EvtchnAllocUnbound => "struct evtchn_alloc_unbound" { dom, remote_dom, port }
    event_channel::EvtchnBindInterdomain => "struct evtchn_bind_interdomain" {
        remote_dom, remote_port, local_port,
    }
    event_channel::EvtchnBindVirq => "struct evtchn_bind_virq" { virq, vcpu, port }
    event_channel::EvtchnBindPirq => "struct evtchn_bind_pirq" { pirq, flags, port }
    event_channel::EvtchnBindIpi => "struct evtchn_bind_ipi" { vcpu, port }
    event_channel::EvtchnClose => "struct evtchn_close" { port }
    event_channel::EvtchnSend => "struct evtchn_send" { port }
    event_channel::EvtchnStatus => "struct evtchn_status" {
        dom, port, status, vcpu,
        u => "u",
        u => "u.interdomain",
    }
    event_channel::EvtchnBindVcpu => "struct evtchn_bind_vcpu" { port, vcpu }
    event_channel::EvtchnUnmask => "struct evtchn_unmask" { port }
    event_channel::EvtchnReset => "struct evtchn_reset" { dom }
    event_channel::EvtchnInitControl => "struct evtchn_init_control" {
        control_gfn, offset, vcpu, link_bits, _pad,
    }
    event_channel::EvtchnExpandArray => "struct evtchn_expand_array" { array_gfn }
    event_channel::EvtchnSetPriority => "struct evtchn_set_priority" { port, priority }
    event_channel::EvtchnFifoControlBlock => "struct evtchn_fifo_control_block" { ready, _rsvd, head }

    // callback.h
    callback::CallbackRegister => "struct callback_register" {
        type_ => "type",
        flags, address,
    }
    callback::CallbackUnregister => "struct callback_unregister" {
        type_ => "type",
        _unused,
    }

    // memory.h
    memory::XenMemoryReservation => "struct xen_memory_reservation" {
        extent_start, nr_extents, extent_order, mem_flags, domid,
    }
    memory::XenMemoryExchange => "struct xen_memory_exchange" {
        in_ => "in",
        in_.domid => "in.domid",
        out, out.extent_start, nr_exchanged,
    }
    memory::XenMemoryDomain => "struct xen_memory_domain" { domid }
    memory::XenMachphysMfnList => "struct xen_machphys_mfn_list" { max_extents, extent_start, nr_extents }
    memory::XenMachphysMapping => "struct xen_machphys_mapping" { v_start, v_end, max_mfn }
    memory::XenAddToPhysmap => "struct xen_add_to_physmap" { domid, size, space, idx, gpfn }
    memory::XenAddToPhysmapBatch => "struct xen_add_to_physmap_batch" {
        domid, space, size,
        u => "u",
        u => "u.foreign_domid",
        idxs, gpfns, errs,
    }
    memory::XenRemoveFromPhysmap => "struct xen_remove_from_physmap" { domid, gpfn }
    memory::XenMemoryMap => "struct xen_memory_map" { nr_entries, buffer }
    memory::XenForeignMemoryMap => "struct xen_foreign_memory_map" {
        domid, map, map.nr_entries, map.buffer,
    }
    memory::XenPodTarget => "struct xen_pod_target" {
        target_pages, tot_pages, pod_cache_pages, pod_entries, domid,
    }
    memory::XenMemAcquireResource => "struct xen_mem_acquire_resource" {
        domid,
        type_ => "type",
        id, nr_frames, pad, frame, frame_list,
    }

    // grant_table.h
    grant_table::GrantEntryV1 => "struct grant_entry_v1" { flags, domid, frame }
    grant_table::GnttabMapGrantRef => "struct gnttab_map_grant_ref" {
        host_addr, flags,
        ref_ => "ref",
        dom, status, handle, dev_bus_addr,
    }
    grant_table::GnttabUnmapGrantRef => "struct gnttab_unmap_grant_ref" {
        host_addr, dev_bus_addr, handle, status,
    }
    grant_table::GnttabSetupTable => "struct gnttab_setup_table" { dom, nr_frames, status, frame_list }
    grant_table::GnttabDumpTable => "struct gnttab_dump_table" { dom, status }
    grant_table::GnttabTransfer => "struct gnttab_transfer" {
        mfn, domid,
        ref_ => "ref",
        status,
    }
    grant_table::GnttabCopyPtr => "struct gnttab_copy_ptr" {
        u => "u",
        u => "u.gmfn",
        domid, offset,
    }
    grant_table::GnttabCopy => "struct gnttab_copy" {
        source, source.u, source.domid, source.offset,
        dest, dest.u, dest.domid, dest.offset,
        len, flags, status,
    }
    grant_table::GnttabQuerySize => "struct gnttab_query_size" { dom, nr_frames, max_nr_frames, status }
    grant_table::GnttabUnmapAndReplace => "struct gnttab_unmap_and_replace" {
        host_addr, new_addr, handle, status,
    }
    grant_table::GnttabSetVersion => "struct gnttab_set_version" { version }
    grant_table::GnttabGetStatusFrames => "struct gnttab_get_status_frames" {
        nr_frames, dom, status, frame_list,
    }
    grant_table::GnttabGetVersion => "struct gnttab_get_version" { dom, pad, version }
    grant_table::GnttabSwapGrantRef => "struct gnttab_swap_grant_ref" { ref_a, ref_b, status }
    grant_table::GnttabCacheFlush => "struct gnttab_cache_flush" {
        a => "a",
        a => "a.dev_bus_addr",
        offset, length, op,
    }

    // physdev.h
    physdev::PhysdevEoi => "struct physdev_eoi" { irq }
    physdev::PhysdevPirqEoiGmfn => "struct physdev_pirq_eoi_gmfn" { gmfn }
    physdev::PhysdevIrqStatusQuery => "struct physdev_irq_status_query" { irq, flags }
    physdev::PhysdevSetIopl => "struct physdev_set_iopl" { iopl }
    physdev::PhysdevSetIobitmap => "struct physdev_set_iobitmap" { bitmap, nr_ports }

    // version.h
    version::XenCompileInfo => "struct xen_compile_info" {
        compiler, compile_by, compile_domain, compile_date,
    }
    version::XenPlatformParameters => "struct xen_platform_parameters" { virt_start }
    version::XenFeatureInfo => "struct xen_feature_info" { submap_idx, submap }
    version::XenExtraversion => "xen_extraversion_t" {}
    version::XenCapabilitiesInfo => "xen_capabilities_info_t" {}
    version::XenChangesetInfo => "xen_changeset_info_t" {}
    version::XenCommandline => "xen_commandline_t" {}
    version::XenDomainHandle => "xen_domain_handle_t" {}

    // io/ring.h: the header of a DEFINE_RING_TYPES ring, whose C struct also
    // holds the first slot, so its size is the offset of `ring`.
    ring::SringHeader => "struct abi_test_r112_sring",
        size = "offsetof(struct abi_test_r112_sring, ring)" {
        req_prod, req_event, rsp_prod, rsp_event,
        pvt => "pvt",
        pvt => "pvt.pvt_pad",
        __pad,
    }
    ring::RingIdx => "RING_IDX" {}

    // io/console.h
    console::XenconsInterface => "struct xencons_interface" {
        in_ => "in",
        out, in_cons, in_prod, out_cons, out_prod,
    }
    console::XenconsRingIdx => "XENCONS_RING_IDX" {}

    // io/xs_wire.h
    xs_wire::XsdSockmsg => "struct xsd_sockmsg" {
        type_ => "type",
        req_id, tx_id, len,
    }
    xs_wire::XenstoreDomainInterface => "struct xenstore_domain_interface" {
        req, rsp, req_cons, req_prod, rsp_cons, rsp_prod, server_features, connection, error,
    }
    xs_wire::XenstoreRingIdx => "XENSTORE_RING_IDX" {}
    xs_wire::XsdSockmsgType => "enum xsd_sockmsg_type" {}

    // io/xenbus.h
    xenbus::XenbusState => "XenbusState" {}

    // Typed identifiers and the C typedefs they wrap.
    DomId => "domid_t" {}
    GrantRef => "grant_ref_t" {}
    EventChannelPort => "evtchn_port_t" {}
    Pfn => "xen_pfn_t" {}
    Mfn => "xen_pfn_t" {}
}

constant_checks! {
    // arch
    arch::FLAT_RING3_CS32 => "FLAT_RING3_CS32",
    arch::FLAT_RING3_CS64 => "FLAT_RING3_CS64",
    arch::FLAT_RING3_DS32 => "FLAT_RING3_DS32",
    arch::FLAT_RING3_DS64 => "FLAT_RING3_DS64",
    arch::FLAT_RING3_SS32 => "FLAT_RING3_SS32",
    arch::FLAT_RING3_SS64 => "FLAT_RING3_SS64",
    arch::FLAT_KERNEL_DS64 => "FLAT_KERNEL_DS64",
    arch::FLAT_KERNEL_DS32 => "FLAT_KERNEL_DS32",
    arch::FLAT_KERNEL_DS => "FLAT_KERNEL_DS",
    arch::FLAT_KERNEL_CS64 => "FLAT_KERNEL_CS64",
    arch::FLAT_KERNEL_CS32 => "FLAT_KERNEL_CS32",
    arch::FLAT_KERNEL_CS => "FLAT_KERNEL_CS",
    arch::FLAT_KERNEL_SS64 => "FLAT_KERNEL_SS64",
    arch::FLAT_KERNEL_SS32 => "FLAT_KERNEL_SS32",
    arch::FLAT_KERNEL_SS => "FLAT_KERNEL_SS",
    arch::FLAT_USER_DS64 => "FLAT_USER_DS64",
    arch::FLAT_USER_DS32 => "FLAT_USER_DS32",
    arch::FLAT_USER_DS => "FLAT_USER_DS",
    arch::FLAT_USER_CS64 => "FLAT_USER_CS64",
    arch::FLAT_USER_CS32 => "FLAT_USER_CS32",
    arch::FLAT_USER_CS => "FLAT_USER_CS",
    arch::FLAT_USER_SS64 => "FLAT_USER_SS64",
    arch::FLAT_USER_SS32 => "FLAT_USER_SS32",
    arch::FLAT_USER_SS => "FLAT_USER_SS",
    arch::HYPERVISOR_VIRT_START => "HYPERVISOR_VIRT_START",
    arch::HYPERVISOR_VIRT_END => "HYPERVISOR_VIRT_END",
    arch::MACH2PHYS_VIRT_START => "MACH2PHYS_VIRT_START",
    arch::MACH2PHYS_VIRT_END => "MACH2PHYS_VIRT_END",
    arch::MACH2PHYS_NR_ENTRIES => "MACH2PHYS_NR_ENTRIES",
    arch::SEGBASE_FS => "SEGBASE_FS",
    arch::SEGBASE_GS_USER => "SEGBASE_GS_USER",
    arch::SEGBASE_GS_KERNEL => "SEGBASE_GS_KERNEL",
    arch::SEGBASE_GS_USER_SEL => "SEGBASE_GS_USER_SEL",
    arch::VGCF_I387_VALID => "VGCF_I387_VALID",
    arch::VGCF_IN_KERNEL => "VGCF_IN_KERNEL",
    arch::VGCF_FAILSAFE_DISABLES_EVENTS => "VGCF_failsafe_disables_events",
    arch::VGCF_SYSCALL_DISABLES_EVENTS => "VGCF_syscall_disables_events",
    arch::VGCF_ONLINE => "VGCF_online",
    arch::VGCF_IN_SYSCALL => "VGCF_IN_SYSCALL",
    arch::FIRST_RESERVED_GDT_PAGE => "FIRST_RESERVED_GDT_PAGE",
    arch::FIRST_RESERVED_GDT_BYTE => "FIRST_RESERVED_GDT_BYTE",
    arch::FIRST_RESERVED_GDT_ENTRY => "FIRST_RESERVED_GDT_ENTRY",
    arch::XEN_LEGACY_MAX_VCPUS => "XEN_LEGACY_MAX_VCPUS",
    // callback
    callback::CALLBACKTYPE_EVENT => "CALLBACKTYPE_event",
    callback::CALLBACKTYPE_FAILSAFE => "CALLBACKTYPE_failsafe",
    callback::CALLBACKTYPE_SYSCALL => "CALLBACKTYPE_syscall",
    callback::CALLBACKTYPE_SYSENTER_DEPRECATED => "CALLBACKTYPE_sysenter_deprecated",
    callback::CALLBACKTYPE_NMI => "CALLBACKTYPE_nmi",
    callback::CALLBACKTYPE_SYSENTER => "CALLBACKTYPE_sysenter",
    callback::CALLBACKTYPE_SYSCALL32 => "CALLBACKTYPE_syscall32",
    callback::CALLBACKF_MASK_EVENTS => "CALLBACKF_mask_events",
    callback::CALLBACKOP_REGISTER => "CALLBACKOP_register",
    callback::CALLBACKOP_UNREGISTER => "CALLBACKOP_unregister",
    // elfnote
    elfnote::XEN_ELFNOTE_INFO => "XEN_ELFNOTE_INFO",
    elfnote::XEN_ELFNOTE_ENTRY => "XEN_ELFNOTE_ENTRY",
    elfnote::XEN_ELFNOTE_HYPERCALL_PAGE => "XEN_ELFNOTE_HYPERCALL_PAGE",
    elfnote::XEN_ELFNOTE_VIRT_BASE => "XEN_ELFNOTE_VIRT_BASE",
    elfnote::XEN_ELFNOTE_PADDR_OFFSET => "XEN_ELFNOTE_PADDR_OFFSET",
    elfnote::XEN_ELFNOTE_XEN_VERSION => "XEN_ELFNOTE_XEN_VERSION",
    elfnote::XEN_ELFNOTE_GUEST_OS => "XEN_ELFNOTE_GUEST_OS",
    elfnote::XEN_ELFNOTE_GUEST_VERSION => "XEN_ELFNOTE_GUEST_VERSION",
    elfnote::XEN_ELFNOTE_LOADER => "XEN_ELFNOTE_LOADER",
    elfnote::XEN_ELFNOTE_PAE_MODE => "XEN_ELFNOTE_PAE_MODE",
    elfnote::XEN_ELFNOTE_FEATURES => "XEN_ELFNOTE_FEATURES",
    elfnote::XEN_ELFNOTE_BSD_SYMTAB => "XEN_ELFNOTE_BSD_SYMTAB",
    elfnote::XEN_ELFNOTE_HV_START_LOW => "XEN_ELFNOTE_HV_START_LOW",
    elfnote::XEN_ELFNOTE_L1_MFN_VALID => "XEN_ELFNOTE_L1_MFN_VALID",
    elfnote::XEN_ELFNOTE_SUSPEND_CANCEL => "XEN_ELFNOTE_SUSPEND_CANCEL",
    elfnote::XEN_ELFNOTE_INIT_P2M => "XEN_ELFNOTE_INIT_P2M",
    elfnote::XEN_ELFNOTE_MOD_START_PFN => "XEN_ELFNOTE_MOD_START_PFN",
    elfnote::XEN_ELFNOTE_SUPPORTED_FEATURES => "XEN_ELFNOTE_SUPPORTED_FEATURES",
    elfnote::XEN_ELFNOTE_PHYS32_ENTRY => "XEN_ELFNOTE_PHYS32_ENTRY",
    elfnote::XEN_ELFNOTE_MAX => "XEN_ELFNOTE_MAX",
    elfnote::XEN_ELFNOTE_CRASH_INFO => "XEN_ELFNOTE_CRASH_INFO",
    elfnote::XEN_ELFNOTE_CRASH_REGS => "XEN_ELFNOTE_CRASH_REGS",
    elfnote::XEN_ELFNOTE_DUMPCORE_NONE => "XEN_ELFNOTE_DUMPCORE_NONE",
    elfnote::XEN_ELFNOTE_DUMPCORE_HEADER => "XEN_ELFNOTE_DUMPCORE_HEADER",
    elfnote::XEN_ELFNOTE_DUMPCORE_XEN_VERSION => "XEN_ELFNOTE_DUMPCORE_XEN_VERSION",
    elfnote::XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION => "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION",
    // errno
    errno::EPERM => "XEN_EPERM",
    errno::ENOENT => "XEN_ENOENT",
    errno::ESRCH => "XEN_ESRCH",
    errno::EIO => "XEN_EIO",
    errno::ENXIO => "XEN_ENXIO",
    errno::E2BIG => "XEN_E2BIG",
    errno::ENOEXEC => "XEN_ENOEXEC",
    errno::EBADF => "XEN_EBADF",
    errno::ECHILD => "XEN_ECHILD",
    errno::EAGAIN => "XEN_EAGAIN",
    errno::EWOULDBLOCK => "XEN_EWOULDBLOCK",
    errno::ENOMEM => "XEN_ENOMEM",
    errno::EACCES => "XEN_EACCES",
    errno::EFAULT => "XEN_EFAULT",
    errno::EBUSY => "XEN_EBUSY",
    errno::EEXIST => "XEN_EEXIST",
    errno::EXDEV => "XEN_EXDEV",
    errno::ENODEV => "XEN_ENODEV",
    errno::ENOTDIR => "XEN_ENOTDIR",
    errno::EISDIR => "XEN_EISDIR",
    errno::EINVAL => "XEN_EINVAL",
    errno::ENFILE => "XEN_ENFILE",
    errno::EMFILE => "XEN_EMFILE",
    errno::ENOSPC => "XEN_ENOSPC",
    errno::EROFS => "XEN_EROFS",
    errno::EMLINK => "XEN_EMLINK",
    errno::EDOM => "XEN_EDOM",
    errno::ERANGE => "XEN_ERANGE",
    errno::EDEADLK => "XEN_EDEADLK",
    errno::EDEADLOCK => "XEN_EDEADLOCK",
    errno::ENAMETOOLONG => "XEN_ENAMETOOLONG",
    errno::ENOLCK => "XEN_ENOLCK",
    errno::ENOSYS => "XEN_ENOSYS",
    errno::ENOTEMPTY => "XEN_ENOTEMPTY",
    errno::ENODATA => "XEN_ENODATA",
    errno::ETIME => "XEN_ETIME",
    errno::EBADMSG => "XEN_EBADMSG",
    errno::EOVERFLOW => "XEN_EOVERFLOW",
    errno::EILSEQ => "XEN_EILSEQ",
    errno::ENOTSOCK => "XEN_ENOTSOCK",
    errno::EMSGSIZE => "XEN_EMSGSIZE",
    errno::EOPNOTSUPP => "XEN_EOPNOTSUPP",
    errno::EADDRINUSE => "XEN_EADDRINUSE",
    errno::EADDRNOTAVAIL => "XEN_EADDRNOTAVAIL",
    errno::ENOBUFS => "XEN_ENOBUFS",
    errno::EISCONN => "XEN_EISCONN",
    errno::ENOTCONN => "XEN_ENOTCONN",
    errno::ETIMEDOUT => "XEN_ETIMEDOUT",
    errno::ECONNREFUSED => "XEN_ECONNREFUSED",
    // event_channel
    event_channel::EVTCHNOP_BIND_INTERDOMAIN => "EVTCHNOP_bind_interdomain",
    event_channel::EVTCHNOP_BIND_VIRQ => "EVTCHNOP_bind_virq",
    event_channel::EVTCHNOP_BIND_PIRQ => "EVTCHNOP_bind_pirq",
    event_channel::EVTCHNOP_CLOSE => "EVTCHNOP_close",
    event_channel::EVTCHNOP_SEND => "EVTCHNOP_send",
    event_channel::EVTCHNOP_STATUS => "EVTCHNOP_status",
    event_channel::EVTCHNOP_ALLOC_UNBOUND => "EVTCHNOP_alloc_unbound",
    event_channel::EVTCHNOP_BIND_IPI => "EVTCHNOP_bind_ipi",
    event_channel::EVTCHNOP_BIND_VCPU => "EVTCHNOP_bind_vcpu",
    event_channel::EVTCHNOP_UNMASK => "EVTCHNOP_unmask",
    event_channel::EVTCHNOP_RESET => "EVTCHNOP_reset",
    event_channel::EVTCHNOP_INIT_CONTROL => "EVTCHNOP_init_control",
    event_channel::EVTCHNOP_EXPAND_ARRAY => "EVTCHNOP_expand_array",
    event_channel::EVTCHNOP_SET_PRIORITY => "EVTCHNOP_set_priority",
    event_channel::EVTCHN_2L_NR_CHANNELS => "EVTCHN_2L_NR_CHANNELS",
    event_channel::BIND_PIRQ__WILL_SHARE => "BIND_PIRQ__WILL_SHARE",
    event_channel::EVTCHNSTAT_CLOSED => "EVTCHNSTAT_closed",
    event_channel::EVTCHNSTAT_UNBOUND => "EVTCHNSTAT_unbound",
    event_channel::EVTCHNSTAT_INTERDOMAIN => "EVTCHNSTAT_interdomain",
    event_channel::EVTCHNSTAT_PIRQ => "EVTCHNSTAT_pirq",
    event_channel::EVTCHNSTAT_VIRQ => "EVTCHNSTAT_virq",
    event_channel::EVTCHNSTAT_IPI => "EVTCHNSTAT_ipi",
    event_channel::EVTCHN_FIFO_PRIORITY_MAX => "EVTCHN_FIFO_PRIORITY_MAX",
    event_channel::EVTCHN_FIFO_PRIORITY_DEFAULT => "EVTCHN_FIFO_PRIORITY_DEFAULT",
    event_channel::EVTCHN_FIFO_PRIORITY_MIN => "EVTCHN_FIFO_PRIORITY_MIN",
    event_channel::EVTCHN_FIFO_MAX_QUEUES => "EVTCHN_FIFO_MAX_QUEUES",
    event_channel::EVTCHN_FIFO_PENDING => "EVTCHN_FIFO_PENDING",
    event_channel::EVTCHN_FIFO_MASKED => "EVTCHN_FIFO_MASKED",
    event_channel::EVTCHN_FIFO_LINKED => "EVTCHN_FIFO_LINKED",
    event_channel::EVTCHN_FIFO_BUSY => "EVTCHN_FIFO_BUSY",
    event_channel::EVTCHN_FIFO_LINK_BITS => "EVTCHN_FIFO_LINK_BITS",
    event_channel::EVTCHN_FIFO_LINK_MASK => "EVTCHN_FIFO_LINK_MASK",
    event_channel::EVTCHN_FIFO_NR_CHANNELS => "EVTCHN_FIFO_NR_CHANNELS",
    // grant_table
    grant_table::GNTTAB_NR_RESERVED_ENTRIES => "GNTTAB_NR_RESERVED_ENTRIES",
    grant_table::GNTTAB_RESERVED_CONSOLE => "GNTTAB_RESERVED_CONSOLE",
    grant_table::GNTTAB_RESERVED_XENSTORE => "GNTTAB_RESERVED_XENSTORE",
    grant_table::GTF_INVALID => "GTF_invalid",
    grant_table::GTF_PERMIT_ACCESS => "GTF_permit_access",
    grant_table::GTF_ACCEPT_TRANSFER => "GTF_accept_transfer",
    grant_table::GTF_TRANSITIVE => "GTF_transitive",
    grant_table::GTF_TYPE_MASK => "GTF_type_mask",
    grant_table::GTF_READONLY => "GTF_readonly",
    grant_table::GTF_READING => "GTF_reading",
    grant_table::GTF_WRITING => "GTF_writing",
    grant_table::GTF_PWT => "GTF_PWT",
    grant_table::GTF_PCD => "GTF_PCD",
    grant_table::GTF_PAT => "GTF_PAT",
    grant_table::GTF_SUB_PAGE => "GTF_sub_page",
    grant_table::GTF_TRANSFER_COMMITTED => "GTF_transfer_committed",
    grant_table::GTF_TRANSFER_COMPLETED => "GTF_transfer_completed",
    grant_table::GNTTABOP_MAP_GRANT_REF => "GNTTABOP_map_grant_ref",
    grant_table::GNTTABOP_UNMAP_GRANT_REF => "GNTTABOP_unmap_grant_ref",
    grant_table::GNTTABOP_SETUP_TABLE => "GNTTABOP_setup_table",
    grant_table::GNTTABOP_DUMP_TABLE => "GNTTABOP_dump_table",
    grant_table::GNTTABOP_TRANSFER => "GNTTABOP_transfer",
    grant_table::GNTTABOP_COPY => "GNTTABOP_copy",
    grant_table::GNTTABOP_QUERY_SIZE => "GNTTABOP_query_size",
    grant_table::GNTTABOP_UNMAP_AND_REPLACE => "GNTTABOP_unmap_and_replace",
    grant_table::GNTTABOP_SET_VERSION => "GNTTABOP_set_version",
    grant_table::GNTTABOP_GET_STATUS_FRAMES => "GNTTABOP_get_status_frames",
    grant_table::GNTTABOP_GET_VERSION => "GNTTABOP_get_version",
    grant_table::GNTTABOP_SWAP_GRANT_REF => "GNTTABOP_swap_grant_ref",
    grant_table::GNTTABOP_CACHE_FLUSH => "GNTTABOP_cache_flush",
    grant_table::GNTMAP_DEVICE_MAP => "GNTMAP_device_map",
    grant_table::GNTMAP_HOST_MAP => "GNTMAP_host_map",
    grant_table::GNTMAP_READONLY => "GNTMAP_readonly",
    grant_table::GNTMAP_APPLICATION_MAP => "GNTMAP_application_map",
    grant_table::GNTMAP_CONTAINS_PTE => "GNTMAP_contains_pte",
    grant_table::GNTMAP_GUEST_AVAIL_MASK => "GNTMAP_guest_avail_mask",
    grant_table::GNTST_OKAY => "GNTST_okay",
    grant_table::GNTST_GENERAL_ERROR => "GNTST_general_error",
    grant_table::GNTST_BAD_DOMAIN => "GNTST_bad_domain",
    grant_table::GNTST_BAD_GNTREF => "GNTST_bad_gntref",
    grant_table::GNTST_BAD_HANDLE => "GNTST_bad_handle",
    grant_table::GNTST_BAD_VIRT_ADDR => "GNTST_bad_virt_addr",
    grant_table::GNTST_BAD_DEV_ADDR => "GNTST_bad_dev_addr",
    grant_table::GNTST_NO_DEVICE_SPACE => "GNTST_no_device_space",
    grant_table::GNTST_PERMISSION_DENIED => "GNTST_permission_denied",
    grant_table::GNTST_BAD_PAGE => "GNTST_bad_page",
    grant_table::GNTST_BAD_COPY_ARG => "GNTST_bad_copy_arg",
    grant_table::GNTST_ADDRESS_TOO_BIG => "GNTST_address_too_big",
    grant_table::GNTST_EAGAIN => "GNTST_eagain",
    grant_table::GNTST_NO_SPACE => "GNTST_no_space",
    grant_table::GNTCOPY_SOURCE_GREF => "GNTCOPY_source_gref",
    grant_table::GNTCOPY_DEST_GREF => "GNTCOPY_dest_gref",
    grant_table::GNTTAB_CACHE_CLEAN => "GNTTAB_CACHE_CLEAN",
    grant_table::GNTTAB_CACHE_INVAL => "GNTTAB_CACHE_INVAL",
    grant_table::GNTTAB_CACHE_SOURCE_GREF => "GNTTAB_CACHE_SOURCE_GREF",
    // hypercall
    hypercall::SET_TRAP_TABLE => "__HYPERVISOR_set_trap_table",
    hypercall::MMU_UPDATE => "__HYPERVISOR_mmu_update",
    hypercall::SET_GDT => "__HYPERVISOR_set_gdt",
    hypercall::STACK_SWITCH => "__HYPERVISOR_stack_switch",
    hypercall::SET_CALLBACKS => "__HYPERVISOR_set_callbacks",
    hypercall::FPU_TASKSWITCH => "__HYPERVISOR_fpu_taskswitch",
    hypercall::SCHED_OP_COMPAT => "__HYPERVISOR_sched_op_compat",
    hypercall::PLATFORM_OP => "__HYPERVISOR_platform_op",
    hypercall::SET_DEBUGREG => "__HYPERVISOR_set_debugreg",
    hypercall::GET_DEBUGREG => "__HYPERVISOR_get_debugreg",
    hypercall::UPDATE_DESCRIPTOR => "__HYPERVISOR_update_descriptor",
    hypercall::MEMORY_OP => "__HYPERVISOR_memory_op",
    hypercall::MULTICALL => "__HYPERVISOR_multicall",
    hypercall::UPDATE_VA_MAPPING => "__HYPERVISOR_update_va_mapping",
    hypercall::SET_TIMER_OP => "__HYPERVISOR_set_timer_op",
    hypercall::EVENT_CHANNEL_OP_COMPAT => "__HYPERVISOR_event_channel_op_compat",
    hypercall::XEN_VERSION => "__HYPERVISOR_xen_version",
    hypercall::CONSOLE_IO => "__HYPERVISOR_console_io",
    hypercall::PHYSDEV_OP_COMPAT => "__HYPERVISOR_physdev_op_compat",
    hypercall::GRANT_TABLE_OP => "__HYPERVISOR_grant_table_op",
    hypercall::VM_ASSIST => "__HYPERVISOR_vm_assist",
    hypercall::UPDATE_VA_MAPPING_OTHERDOMAIN => "__HYPERVISOR_update_va_mapping_otherdomain",
    hypercall::IRET => "__HYPERVISOR_iret",
    hypercall::VCPU_OP => "__HYPERVISOR_vcpu_op",
    hypercall::SET_SEGMENT_BASE => "__HYPERVISOR_set_segment_base",
    hypercall::MMUEXT_OP => "__HYPERVISOR_mmuext_op",
    hypercall::XSM_OP => "__HYPERVISOR_xsm_op",
    hypercall::NMI_OP => "__HYPERVISOR_nmi_op",
    hypercall::SCHED_OP => "__HYPERVISOR_sched_op",
    hypercall::CALLBACK_OP => "__HYPERVISOR_callback_op",
    hypercall::XENOPROF_OP => "__HYPERVISOR_xenoprof_op",
    hypercall::EVENT_CHANNEL_OP => "__HYPERVISOR_event_channel_op",
    hypercall::PHYSDEV_OP => "__HYPERVISOR_physdev_op",
    hypercall::HVM_OP => "__HYPERVISOR_hvm_op",
    hypercall::SYSCTL => "__HYPERVISOR_sysctl",
    hypercall::DOMCTL => "__HYPERVISOR_domctl",
    hypercall::KEXEC_OP => "__HYPERVISOR_kexec_op",
    hypercall::TMEM_OP => "__HYPERVISOR_tmem_op",
    hypercall::ARGO_OP => "__HYPERVISOR_argo_op",
    hypercall::XENPMU_OP => "__HYPERVISOR_xenpmu_op",
    hypercall::DM_OP => "__HYPERVISOR_dm_op",
    hypercall::HYPFS_OP => "__HYPERVISOR_hypfs_op",
    hypercall::ARCH_0 => "__HYPERVISOR_arch_0",
    hypercall::ARCH_1 => "__HYPERVISOR_arch_1",
    hypercall::ARCH_2 => "__HYPERVISOR_arch_2",
    hypercall::ARCH_3 => "__HYPERVISOR_arch_3",
    hypercall::ARCH_4 => "__HYPERVISOR_arch_4",
    hypercall::ARCH_5 => "__HYPERVISOR_arch_5",
    hypercall::ARCH_6 => "__HYPERVISOR_arch_6",
    hypercall::ARCH_7 => "__HYPERVISOR_arch_7",
    // memory
    memory::XENMEM_INCREASE_RESERVATION => "XENMEM_increase_reservation",
    memory::XENMEM_DECREASE_RESERVATION => "XENMEM_decrease_reservation",
    memory::XENMEM_MAXIMUM_RAM_PAGE => "XENMEM_maximum_ram_page",
    memory::XENMEM_CURRENT_RESERVATION => "XENMEM_current_reservation",
    memory::XENMEM_MAXIMUM_RESERVATION => "XENMEM_maximum_reservation",
    memory::XENMEM_MACHPHYS_MFN_LIST => "XENMEM_machphys_mfn_list",
    memory::XENMEM_POPULATE_PHYSMAP => "XENMEM_populate_physmap",
    memory::XENMEM_ADD_TO_PHYSMAP => "XENMEM_add_to_physmap",
    memory::XENMEM_MEMORY_MAP => "XENMEM_memory_map",
    memory::XENMEM_MACHINE_MEMORY_MAP => "XENMEM_machine_memory_map",
    memory::XENMEM_EXCHANGE => "XENMEM_exchange",
    memory::XENMEM_MACHPHYS_MAPPING => "XENMEM_machphys_mapping",
    memory::XENMEM_SET_MEMORY_MAP => "XENMEM_set_memory_map",
    memory::XENMEM_MAXIMUM_GPFN => "XENMEM_maximum_gpfn",
    memory::XENMEM_REMOVE_FROM_PHYSMAP => "XENMEM_remove_from_physmap",
    memory::XENMEM_SET_POD_TARGET => "XENMEM_set_pod_target",
    memory::XENMEM_GET_POD_TARGET => "XENMEM_get_pod_target",
    memory::XENMEM_ADD_TO_PHYSMAP_BATCH => "XENMEM_add_to_physmap_batch",
    memory::XENMEM_MACHPHYS_COMPAT_MFN_LIST => "XENMEM_machphys_compat_mfn_list",
    memory::XENMEM_GET_VNUMAINFO => "XENMEM_get_vnumainfo",
    memory::XENMEM_ACQUIRE_RESOURCE => "XENMEM_acquire_resource",
    memory::XENMEMF_POPULATE_ON_DEMAND => "XENMEMF_populate_on_demand",
    memory::XENMEMF_EXACT_NODE_REQUEST => "XENMEMF_exact_node_request",
    memory::XENMEMF_VNODE => "XENMEMF_vnode",
    memory::XENMAPSPACE_SHARED_INFO => "XENMAPSPACE_shared_info",
    memory::XENMAPSPACE_GRANT_TABLE => "XENMAPSPACE_grant_table",
    memory::XENMAPSPACE_GMFN => "XENMAPSPACE_gmfn",
    memory::XENMAPSPACE_GMFN_RANGE => "XENMAPSPACE_gmfn_range",
    memory::XENMAPSPACE_GMFN_FOREIGN => "XENMAPSPACE_gmfn_foreign",
    memory::XENMAPSPACE_DEV_MMIO => "XENMAPSPACE_dev_mmio",
    memory::XENMAPIDX_GRANT_TABLE_STATUS => "XENMAPIDX_grant_table_status",
    memory::XENMEM_RESOURCE_IOREQ_SERVER => "XENMEM_resource_ioreq_server",
    memory::XENMEM_RESOURCE_GRANT_TABLE => "XENMEM_resource_grant_table",
    memory::XENMEM_RESOURCE_VMTRACE_BUF => "XENMEM_resource_vmtrace_buf",
    memory::XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED => "XENMEM_resource_grant_table_id_shared",
    memory::XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS => "XENMEM_resource_grant_table_id_status",
    // physdev
    physdev::PHYSDEVOP_IRQ_UNMASK_NOTIFY => "PHYSDEVOP_IRQ_UNMASK_NOTIFY",
    physdev::PHYSDEVOP_IRQ_STATUS_QUERY => "PHYSDEVOP_irq_status_query",
    physdev::PHYSDEVOP_SET_IOPL => "PHYSDEVOP_set_iopl",
    physdev::PHYSDEVOP_SET_IOBITMAP => "PHYSDEVOP_set_iobitmap",
    physdev::PHYSDEVOP_APIC_READ => "PHYSDEVOP_apic_read",
    physdev::PHYSDEVOP_APIC_WRITE => "PHYSDEVOP_apic_write",
    physdev::PHYSDEVOP_ALLOC_IRQ_VECTOR => "PHYSDEVOP_alloc_irq_vector",
    physdev::PHYSDEVOP_FREE_IRQ_VECTOR => "PHYSDEVOP_free_irq_vector",
    physdev::PHYSDEVOP_EOI => "PHYSDEVOP_eoi",
    physdev::PHYSDEVOP_MAP_PIRQ => "PHYSDEVOP_map_pirq",
    physdev::PHYSDEVOP_UNMAP_PIRQ => "PHYSDEVOP_unmap_pirq",
    physdev::PHYSDEVOP_MANAGE_PCI_ADD => "PHYSDEVOP_manage_pci_add",
    physdev::PHYSDEVOP_MANAGE_PCI_REMOVE => "PHYSDEVOP_manage_pci_remove",
    physdev::PHYSDEVOP_PIRQ_EOI_GMFN_V1 => "PHYSDEVOP_pirq_eoi_gmfn_v1",
    physdev::PHYSDEVOP_RESTORE_MSI => "PHYSDEVOP_restore_msi",
    physdev::PHYSDEVOP_MANAGE_PCI_ADD_EXT => "PHYSDEVOP_manage_pci_add_ext",
    physdev::PHYSDEVOP_SETUP_GSI => "PHYSDEVOP_setup_gsi",
    physdev::PHYSDEVOP_GET_FREE_PIRQ => "PHYSDEVOP_get_free_pirq",
    physdev::PHYSDEVOP_PCI_MMCFG_RESERVED => "PHYSDEVOP_pci_mmcfg_reserved",
    physdev::PHYSDEVOP_PCI_DEVICE_ADD => "PHYSDEVOP_pci_device_add",
    physdev::PHYSDEVOP_PCI_DEVICE_REMOVE => "PHYSDEVOP_pci_device_remove",
    physdev::PHYSDEVOP_RESTORE_MSI_EXT => "PHYSDEVOP_restore_msi_ext",
    physdev::PHYSDEVOP_PIRQ_EOI_GMFN_V2 => "PHYSDEVOP_pirq_eoi_gmfn_v2",
    physdev::PHYSDEVOP_DBGP_OP => "PHYSDEVOP_dbgp_op",
    physdev::PHYSDEVOP_PREPARE_MSIX => "PHYSDEVOP_prepare_msix",
    physdev::PHYSDEVOP_RELEASE_MSIX => "PHYSDEVOP_release_msix",
    physdev::XENIRQSTAT_NEEDS_EOI => "XENIRQSTAT_needs_eoi",
    physdev::XENIRQSTAT_SHARED => "XENIRQSTAT_shared",
    // sched
    sched::SCHEDOP_YIELD => "SCHEDOP_yield",
    sched::SCHEDOP_BLOCK => "SCHEDOP_block",
    sched::SCHEDOP_SHUTDOWN => "SCHEDOP_shutdown",
    sched::SCHEDOP_POLL => "SCHEDOP_poll",
    sched::SCHEDOP_REMOTE_SHUTDOWN => "SCHEDOP_remote_shutdown",
    sched::SCHEDOP_SHUTDOWN_CODE => "SCHEDOP_shutdown_code",
    sched::SCHEDOP_WATCHDOG => "SCHEDOP_watchdog",
    sched::SCHEDOP_PIN_OVERRIDE => "SCHEDOP_pin_override",
    sched::SHUTDOWN_POWEROFF => "SHUTDOWN_poweroff",
    sched::SHUTDOWN_REBOOT => "SHUTDOWN_reboot",
    sched::SHUTDOWN_SUSPEND => "SHUTDOWN_suspend",
    sched::SHUTDOWN_CRASH => "SHUTDOWN_crash",
    sched::SHUTDOWN_WATCHDOG => "SHUTDOWN_watchdog",
    sched::SHUTDOWN_SOFT_RESET => "SHUTDOWN_soft_reset",
    sched::SHUTDOWN_MAX => "SHUTDOWN_MAX",
    // vcpu
    vcpu::VCPUOP_INITIALISE => "VCPUOP_initialise",
    vcpu::VCPUOP_UP => "VCPUOP_up",
    vcpu::VCPUOP_DOWN => "VCPUOP_down",
    vcpu::VCPUOP_IS_UP => "VCPUOP_is_up",
    vcpu::VCPUOP_GET_RUNSTATE_INFO => "VCPUOP_get_runstate_info",
    vcpu::VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA => "VCPUOP_register_runstate_memory_area",
    vcpu::VCPUOP_SET_PERIODIC_TIMER => "VCPUOP_set_periodic_timer",
    vcpu::VCPUOP_STOP_PERIODIC_TIMER => "VCPUOP_stop_periodic_timer",
    vcpu::VCPUOP_SET_SINGLESHOT_TIMER => "VCPUOP_set_singleshot_timer",
    vcpu::VCPUOP_STOP_SINGLESHOT_TIMER => "VCPUOP_stop_singleshot_timer",
    vcpu::VCPUOP_REGISTER_VCPU_INFO => "VCPUOP_register_vcpu_info",
    vcpu::VCPUOP_SEND_NMI => "VCPUOP_send_nmi",
    vcpu::VCPUOP_GET_PHYSID => "VCPUOP_get_physid",
    vcpu::VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA => "VCPUOP_register_vcpu_time_memory_area",
    vcpu::RUNSTATE_RUNNING => "RUNSTATE_running",
    vcpu::RUNSTATE_RUNNABLE => "RUNSTATE_runnable",
    vcpu::RUNSTATE_BLOCKED => "RUNSTATE_blocked",
    vcpu::RUNSTATE_OFFLINE => "RUNSTATE_offline",
    vcpu::XEN_RUNSTATE_UPDATE => "XEN_RUNSTATE_UPDATE",
    vcpu::VCPU_SSHOTTMR_FUTURE => "VCPU_SSHOTTMR_future",
    // version
    version::XENVER_VERSION => "XENVER_version",
    version::XENVER_EXTRAVERSION => "XENVER_extraversion",
    version::XENVER_COMPILE_INFO => "XENVER_compile_info",
    version::XENVER_CAPABILITIES => "XENVER_capabilities",
    version::XENVER_CHANGESET => "XENVER_changeset",
    version::XENVER_PLATFORM_PARAMETERS => "XENVER_platform_parameters",
    version::XENVER_GET_FEATURES => "XENVER_get_features",
    version::XENVER_PAGESIZE => "XENVER_pagesize",
    version::XENVER_GUEST_HANDLE => "XENVER_guest_handle",
    version::XENVER_COMMANDLINE => "XENVER_commandline",
    version::XENVER_BUILD_ID => "XENVER_build_id",
    version::XEN_EXTRAVERSION_LEN => "XEN_EXTRAVERSION_LEN",
    version::XEN_CAPABILITIES_INFO_LEN => "XEN_CAPABILITIES_INFO_LEN",
    version::XEN_CHANGESET_INFO_LEN => "XEN_CHANGESET_INFO_LEN",
    version::XENFEAT_WRITABLE_PAGE_TABLES => "XENFEAT_writable_page_tables",
    version::XENFEAT_WRITABLE_DESCRIPTOR_TABLES => "XENFEAT_writable_descriptor_tables",
    version::XENFEAT_AUTO_TRANSLATED_PHYSMAP => "XENFEAT_auto_translated_physmap",
    version::XENFEAT_SUPERVISOR_MODE_KERNEL => "XENFEAT_supervisor_mode_kernel",
    version::XENFEAT_PAE_PGDIR_ABOVE_4GB => "XENFEAT_pae_pgdir_above_4gb",
    version::XENFEAT_MMU_PT_UPDATE_PRESERVE_AD => "XENFEAT_mmu_pt_update_preserve_ad",
    version::XENFEAT_HIGHMEM_ASSIST => "XENFEAT_highmem_assist",
    version::XENFEAT_GNTTAB_MAP_AVAIL_BITS => "XENFEAT_gnttab_map_avail_bits",
    version::XENFEAT_HVM_CALLBACK_VECTOR => "XENFEAT_hvm_callback_vector",
    version::XENFEAT_HVM_SAFE_PVCLOCK => "XENFEAT_hvm_safe_pvclock",
    version::XENFEAT_HVM_PIRQS => "XENFEAT_hvm_pirqs",
    version::XENFEAT_DOM0 => "XENFEAT_dom0",
    version::XENFEAT_MEMORY_OP_VNODE_SUPPORTED => "XENFEAT_memory_op_vnode_supported",
    version::XENFEAT_ARM_SMCCC_SUPPORTED => "XENFEAT_ARM_SMCCC_supported",
    version::XENFEAT_LINUX_RSDP_UNRESTRICTED => "XENFEAT_linux_rsdp_unrestricted",
    version::XENFEAT_NOT_DIRECT_MAPPED => "XENFEAT_not_direct_mapped",
    version::XENFEAT_DIRECT_MAPPED => "XENFEAT_direct_mapped",
    version::XENFEAT_NR_SUBMAPS => "XENFEAT_NR_SUBMAPS",
    // xen
    xen::XEN_PAGE_SHIFT => "XEN_PAGE_SHIFT",
    xen::XEN_PAGE_SIZE => "(1 << XEN_PAGE_SHIFT)",
    xen::XEN_LEGACY_MAX_VCPUS => "XEN_LEGACY_MAX_VCPUS",
    xen::MAX_VIRT_CPUS => "XEN_LEGACY_MAX_VCPUS",
    xen::NR_EVENT_CHANNELS => "EVTCHN_2L_NR_CHANNELS",
    xen::VIRQ_TIMER => "VIRQ_TIMER",
    xen::VIRQ_DEBUG => "VIRQ_DEBUG",
    xen::VIRQ_CONSOLE => "VIRQ_CONSOLE",
    xen::VIRQ_DOM_EXC => "VIRQ_DOM_EXC",
    xen::VIRQ_TBUF => "VIRQ_TBUF",
    xen::VIRQ_DEBUGGER => "VIRQ_DEBUGGER",
    xen::VIRQ_XENOPROF => "VIRQ_XENOPROF",
    xen::VIRQ_CON_RING => "VIRQ_CON_RING",
    xen::VIRQ_PCPU_STATE => "VIRQ_PCPU_STATE",
    xen::VIRQ_MEM_EVENT => "VIRQ_MEM_EVENT",
    xen::VIRQ_ARGO => "VIRQ_ARGO",
    xen::VIRQ_ENOMEM => "VIRQ_ENOMEM",
    xen::VIRQ_XENPMU => "VIRQ_XENPMU",
    xen::VIRQ_ARCH_0 => "VIRQ_ARCH_0",
    xen::NR_VIRQS => "NR_VIRQS",
    xen::MMU_NORMAL_PT_UPDATE => "MMU_NORMAL_PT_UPDATE",
    xen::MMU_MACHPHYS_UPDATE => "MMU_MACHPHYS_UPDATE",
    xen::MMU_PT_UPDATE_PRESERVE_AD => "MMU_PT_UPDATE_PRESERVE_AD",
    xen::MMU_PT_UPDATE_NO_TRANSLATE => "MMU_PT_UPDATE_NO_TRANSLATE",
    xen::MMUEXT_PIN_L1_TABLE => "MMUEXT_PIN_L1_TABLE",
    xen::MMUEXT_PIN_L2_TABLE => "MMUEXT_PIN_L2_TABLE",
    xen::MMUEXT_PIN_L3_TABLE => "MMUEXT_PIN_L3_TABLE",
    xen::MMUEXT_PIN_L4_TABLE => "MMUEXT_PIN_L4_TABLE",
    xen::MMUEXT_UNPIN_TABLE => "MMUEXT_UNPIN_TABLE",
    xen::MMUEXT_NEW_BASEPTR => "MMUEXT_NEW_BASEPTR",
    xen::MMUEXT_TLB_FLUSH_LOCAL => "MMUEXT_TLB_FLUSH_LOCAL",
    xen::MMUEXT_INVLPG_LOCAL => "MMUEXT_INVLPG_LOCAL",
    xen::MMUEXT_TLB_FLUSH_MULTI => "MMUEXT_TLB_FLUSH_MULTI",
    xen::MMUEXT_INVLPG_MULTI => "MMUEXT_INVLPG_MULTI",
    xen::MMUEXT_TLB_FLUSH_ALL => "MMUEXT_TLB_FLUSH_ALL",
    xen::MMUEXT_INVLPG_ALL => "MMUEXT_INVLPG_ALL",
    xen::MMUEXT_FLUSH_CACHE => "MMUEXT_FLUSH_CACHE",
    xen::MMUEXT_SET_LDT => "MMUEXT_SET_LDT",
    xen::MMUEXT_NEW_USER_BASEPTR => "MMUEXT_NEW_USER_BASEPTR",
    xen::MMUEXT_CLEAR_PAGE => "MMUEXT_CLEAR_PAGE",
    xen::MMUEXT_COPY_PAGE => "MMUEXT_COPY_PAGE",
    xen::MMUEXT_FLUSH_CACHE_GLOBAL => "MMUEXT_FLUSH_CACHE_GLOBAL",
    xen::MMUEXT_MARK_SUPER => "MMUEXT_MARK_SUPER",
    xen::MMUEXT_UNMARK_SUPER => "MMUEXT_UNMARK_SUPER",
    xen::UVMF_NONE => "UVMF_NONE",
    xen::UVMF_TLB_FLUSH => "UVMF_TLB_FLUSH",
    xen::UVMF_INVLPG => "UVMF_INVLPG",
    xen::UVMF_FLUSHTYPE_MASK => "UVMF_FLUSHTYPE_MASK",
    xen::UVMF_MULTI => "UVMF_MULTI",
    xen::UVMF_LOCAL => "UVMF_LOCAL",
    xen::UVMF_ALL => "UVMF_ALL",
    xen::CONSOLEIO_WRITE => "CONSOLEIO_write",
    xen::CONSOLEIO_READ => "CONSOLEIO_read",
    xen::VMASST_CMD_ENABLE => "VMASST_CMD_enable",
    xen::VMASST_CMD_DISABLE => "VMASST_CMD_disable",
    xen::VMASST_TYPE_4GB_SEGMENTS => "VMASST_TYPE_4gb_segments",
    xen::VMASST_TYPE_4GB_SEGMENTS_NOTIFY => "VMASST_TYPE_4gb_segments_notify",
    xen::VMASST_TYPE_WRITABLE_PAGETABLES => "VMASST_TYPE_writable_pagetables",
    xen::VMASST_TYPE_PAE_EXTENDED_CR3 => "VMASST_TYPE_pae_extended_cr3",
    xen::VMASST_TYPE_ARCHITECTURAL_IOPL => "VMASST_TYPE_architectural_iopl",
    xen::VMASST_TYPE_RUNSTATE_UPDATE_FLAG => "VMASST_TYPE_runstate_update_flag",
    xen::VMASST_TYPE_M2P_STRICT => "VMASST_TYPE_m2p_strict",
    xen::DOMID_FIRST_RESERVED => "DOMID_FIRST_RESERVED",
    xen::DOMID_SELF => "DOMID_SELF",
    xen::DOMID_IO => "DOMID_IO",
    xen::DOMID_XEN => "DOMID_XEN",
    xen::DOMID_COW => "DOMID_COW",
    xen::DOMID_INVALID => "DOMID_INVALID",
    xen::DOMID_IDLE => "DOMID_IDLE",
    xen::DOMID_MASK => "DOMID_MASK",
    xen::XEN_PVCLOCK_TSC_STABLE_BIT => "XEN_PVCLOCK_TSC_STABLE_BIT",
    xen::XEN_PVCLOCK_GUEST_STOPPED => "XEN_PVCLOCK_GUEST_STOPPED",
    xen::SIF_PRIVILEGED => "SIF_PRIVILEGED",
    xen::SIF_INITDOMAIN => "SIF_INITDOMAIN",
    xen::SIF_MULTIBOOT_MOD => "SIF_MULTIBOOT_MOD",
    xen::SIF_MOD_START_PFN => "SIF_MOD_START_PFN",
    xen::SIF_VIRT_P2M_4TOOLS => "SIF_VIRT_P2M_4TOOLS",
    xen::SIF_PM_MASK => "SIF_PM_MASK",
    xen::MAX_GUEST_CMDLINE => "MAX_GUEST_CMDLINE",
    // xs_wire
    xs_wire::XS_CONTROL => "XS_CONTROL",
    xs_wire::XS_DEBUG => "XS_DEBUG",
    xs_wire::XS_DIRECTORY => "XS_DIRECTORY",
    xs_wire::XS_READ => "XS_READ",
    xs_wire::XS_GET_PERMS => "XS_GET_PERMS",
    xs_wire::XS_WATCH => "XS_WATCH",
    xs_wire::XS_UNWATCH => "XS_UNWATCH",
    xs_wire::XS_TRANSACTION_START => "XS_TRANSACTION_START",
    xs_wire::XS_TRANSACTION_END => "XS_TRANSACTION_END",
    xs_wire::XS_INTRODUCE => "XS_INTRODUCE",
    xs_wire::XS_RELEASE => "XS_RELEASE",
    xs_wire::XS_GET_DOMAIN_PATH => "XS_GET_DOMAIN_PATH",
    xs_wire::XS_WRITE => "XS_WRITE",
    xs_wire::XS_MKDIR => "XS_MKDIR",
    xs_wire::XS_RM => "XS_RM",
    xs_wire::XS_SET_PERMS => "XS_SET_PERMS",
    xs_wire::XS_WATCH_EVENT => "XS_WATCH_EVENT",
    xs_wire::XS_ERROR => "XS_ERROR",
    xs_wire::XS_IS_DOMAIN_INTRODUCED => "XS_IS_DOMAIN_INTRODUCED",
    xs_wire::XS_RESUME => "XS_RESUME",
    xs_wire::XS_SET_TARGET => "XS_SET_TARGET",
    xs_wire::XS_RESET_WATCHES => "XS_RESET_WATCHES",
    xs_wire::XS_DIRECTORY_PART => "XS_DIRECTORY_PART",
    xs_wire::XS_TYPE_COUNT => "XS_TYPE_COUNT",
    xs_wire::XS_INVALID => "XS_INVALID",
    xs_wire::XS_WATCH_PATH => "XS_WATCH_PATH",
    xs_wire::XS_WATCH_TOKEN => "XS_WATCH_TOKEN",
    xs_wire::XENSTORE_RING_SIZE => "XENSTORE_RING_SIZE",
    xs_wire::XENSTORE_PAYLOAD_MAX => "XENSTORE_PAYLOAD_MAX",
    xs_wire::XENSTORE_ABS_PATH_MAX => "XENSTORE_ABS_PATH_MAX",
    xs_wire::XENSTORE_REL_PATH_MAX => "XENSTORE_REL_PATH_MAX",
    xs_wire::XENSTORE_SERVER_FEATURE_RECONNECTION => "XENSTORE_SERVER_FEATURE_RECONNECTION",
    xs_wire::XENSTORE_SERVER_FEATURE_ERROR => "XENSTORE_SERVER_FEATURE_ERROR",
    xs_wire::XENSTORE_CONNECTED => "XENSTORE_CONNECTED",
    xs_wire::XENSTORE_RECONNECT => "XENSTORE_RECONNECT",
    xs_wire::XENSTORE_ERROR_NONE => "XENSTORE_ERROR_NONE",
    xs_wire::XENSTORE_ERROR_COMM => "XENSTORE_ERROR_COMM",
    xs_wire::XENSTORE_ERROR_RINGIDX => "XENSTORE_ERROR_RINGIDX",
    xs_wire::XENSTORE_ERROR_PROTO => "XENSTORE_ERROR_PROTO",
    // xs_wire enum and xenbus enum variants
    xs_wire::XsdSockmsgType::Control => "XS_CONTROL",
    xs_wire::XsdSockmsgType::Directory => "XS_DIRECTORY",
    xs_wire::XsdSockmsgType::Read => "XS_READ",
    xs_wire::XsdSockmsgType::GetPerms => "XS_GET_PERMS",
    xs_wire::XsdSockmsgType::Watch => "XS_WATCH",
    xs_wire::XsdSockmsgType::Unwatch => "XS_UNWATCH",
    xs_wire::XsdSockmsgType::TransactionStart => "XS_TRANSACTION_START",
    xs_wire::XsdSockmsgType::TransactionEnd => "XS_TRANSACTION_END",
    xs_wire::XsdSockmsgType::Introduce => "XS_INTRODUCE",
    xs_wire::XsdSockmsgType::Release => "XS_RELEASE",
    xs_wire::XsdSockmsgType::GetDomainPath => "XS_GET_DOMAIN_PATH",
    xs_wire::XsdSockmsgType::Write => "XS_WRITE",
    xs_wire::XsdSockmsgType::Mkdir => "XS_MKDIR",
    xs_wire::XsdSockmsgType::Rm => "XS_RM",
    xs_wire::XsdSockmsgType::SetPerms => "XS_SET_PERMS",
    xs_wire::XsdSockmsgType::WatchEvent => "XS_WATCH_EVENT",
    xs_wire::XsdSockmsgType::Error => "XS_ERROR",
    xs_wire::XsdSockmsgType::IsDomainIntroduced => "XS_IS_DOMAIN_INTRODUCED",
    xs_wire::XsdSockmsgType::Resume => "XS_RESUME",
    xs_wire::XsdSockmsgType::SetTarget => "XS_SET_TARGET",
    xs_wire::XsdSockmsgType::ResetWatches => "XS_RESET_WATCHES",
    xs_wire::XsdSockmsgType::DirectoryPart => "XS_DIRECTORY_PART",
    xs_wire::XsdSockmsgType::ALL.len() => "XS_TYPE_COUNT - 1",
    xenbus::XenbusState::Unknown => "XenbusStateUnknown",
    xenbus::XenbusState::Initialising => "XenbusStateInitialising",
    xenbus::XenbusState::InitWait => "XenbusStateInitWait",
    xenbus::XenbusState::Initialised => "XenbusStateInitialised",
    xenbus::XenbusState::Connected => "XenbusStateConnected",
    xenbus::XenbusState::Closing => "XenbusStateClosing",
    xenbus::XenbusState::Closed => "XenbusStateClosed",
    xenbus::XenbusState::Reconfiguring => "XenbusStateReconfiguring",
    xenbus::XenbusState::Reconfigured => "XenbusStateReconfigured",
    // Typed-identifier constants
    DomId::SELF.0 => "DOMID_SELF",
    DomId::IO.0 => "DOMID_IO",
    DomId::XEN.0 => "DOMID_XEN",
    DomId::INVALID.0 => "DOMID_INVALID",
    Mfn::PAGE_SIZE => "(1 << XEN_PAGE_SHIFT)",
    Pfn::PAGE_SIZE => "(1 << XEN_PAGE_SHIFT)",
    // Sizes the crate states as constants
    grant_table::GrantEntryV1::BYTES => "sizeof(struct grant_entry_v1)",
    xs_wire::XsdSockmsg::BYTES => "sizeof(struct xsd_sockmsg)",
    ring::SRING_HEADER_BYTES => "offsetof(struct abi_test_r112_sring, ring)",
    console::XENCONS_IN_RING_BYTES => "sizeof(((struct xencons_interface *)0)->in)",
    console::XENCONS_OUT_RING_BYTES => "sizeof(((struct xencons_interface *)0)->out)",
}

string_checks! {
    xs_wire::XS_WRITE_NONE => "XS_WRITE_NONE",
    xs_wire::XS_WRITE_CREATE => "XS_WRITE_CREATE",
    xs_wire::XS_WRITE_CREATE_EXCL => "XS_WRITE_CREATE_EXCL",
}

/// Entry sizes for which `ring::ring_size` is compared with the header's
/// `__CONST_RING_SIZE`: blkif (112), netif TX (12) and RX (8), and edges.
const RING_ENTRY_SIZES: [usize; 10] = [1, 8, 12, 16, 36, 112, 2016, 4031, 4032, 4033];

/// Ring byte sizes the entry sizes are tried with (1 and 4 pages).
const RING_BYTES: [usize; 2] = [4096, 16384];

/// C declarations the checks refer to: one `DEFINE_RING_TYPES` ring per
/// entry size, and the `GNTTABOP_error_msgs` initializer as an array.
fn c_declarations() -> String {
    let mut text = String::new();
    for entry in RING_ENTRY_SIZES {
        text.push_str(&format!(
            "struct abi_test_e{entry} {{ char bytes[{entry}]; }};\n\
             DEFINE_RING_TYPES(abi_test_r{entry}, struct abi_test_e{entry}, struct abi_test_e{entry});\n"
        ));
    }
    text.push_str("static const char *const abi_test_gnttab_msgs[] = GNTTABOP_error_msgs;\n");
    text
}

/// Tables the headers hold as data: `xsd_errors[]`, `GNTTABOP_error_msgs`,
/// and ring sizes from `__CONST_RING_SIZE`.
fn table_checks() -> Vec<Check> {
    let mut checks = vec![Check {
        what: "xs_wire::XSD_ERRORS.len() vs xsd_errors[] entries".into(),
        rust: xs_wire::XSD_ERRORS.len().to_string(),
        c_statement: "printf(\"%zu\\n\", sizeof(xsd_errors) / sizeof(xsd_errors[0]));".into(),
    }];
    for (index, entry) in xs_wire::XSD_ERRORS.iter().enumerate() {
        checks.push(Check {
            what: format!("xs_wire::XSD_ERRORS[{index}] vs xsd_errors[{index}]"),
            rust: format!("{} {}", entry.errnum, entry.errstring),
            c_statement: format!(
                "printf(\"%d %s\\n\", xsd_errors[{index}].errnum, xsd_errors[{index}].errstring);"
            ),
        });
    }
    checks.push(Check {
        what: "grant_table::GNTTABOP_ERROR_MSGS.len() vs GNTTABOP_error_msgs entries".into(),
        rust: grant_table::GNTTABOP_ERROR_MSGS.len().to_string(),
        c_statement:
            "printf(\"%zu\\n\", sizeof(abi_test_gnttab_msgs) / sizeof(abi_test_gnttab_msgs[0]));"
                .into(),
    });
    for (index, message) in grant_table::GNTTABOP_ERROR_MSGS.iter().enumerate() {
        checks.push(Check {
            what: format!(
                "grant_table::GNTTABOP_ERROR_MSGS[{index}] vs GNTTABOP_error_msgs[{index}]"
            ),
            rust: (*message).to_string(),
            c_statement: format!("printf(\"%s\\n\", abi_test_gnttab_msgs[{index}]);"),
        });
    }
    for entry in RING_ENTRY_SIZES {
        for bytes in RING_BYTES {
            checks.push(Check {
                what: format!("ring::ring_size({bytes}, {entry}) vs __CONST_RING_SIZE"),
                rust: ring::ring_size(bytes, entry).to_string(),
                c_statement: format!(
                    "printf(\"%zu\\n\", (size_t)__CONST_RING_SIZE(abi_test_r{entry}, {bytes}));"
                ),
            });
        }
    }
    checks
}

/// The C program printing one line per check, in order.
fn c_program(checks: &[Check]) -> String {
    let mut program = format!(
        "/* Generated by xen-abi's tests/layout_against_c_headers.rs. */\n\
         #define __XEN_INTERFACE_VERSION__ {INTERFACE_VERSION}\n\
         #include <stddef.h>\n\
         #include <stdint.h>\n\
         #include <stdio.h>\n\
         #include <errno.h>\n\
         #include <xen/xen.h>\n\
         #include <xen/sched.h>\n\
         #include <xen/event_channel.h>\n\
         #include <xen/vcpu.h>\n\
         #include <xen/callback.h>\n\
         #include <xen/memory.h>\n\
         #include <xen/physdev.h>\n\
         #include <xen/grant_table.h>\n\
         #include <xen/version.h>\n\
         #include <xen/elfnote.h>\n\
         #include <xen/errno.h>\n\
         #include <xen/io/ring.h>\n\
         #include <xen/io/console.h>\n\
         #include <xen/io/xs_wire.h>\n\
         #include <xen/io/xenbus.h>\n\n"
    );
    program.push_str(&c_declarations());
    program.push_str("\nint main(void)\n{\n");
    for check in checks {
        program.push_str("    ");
        program.push_str(&check.c_statement);
        program.push('\n');
    }
    program.push_str("    return 0;\n}\n");
    program
}

/// A fresh directory for the generated program.
fn scratch_directory() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let directory =
        std::env::temp_dir().join(format!("xen-abi-layout-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&directory)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", directory.display()));
    directory
}

/// Compiles and runs `program`, returning its output lines.
fn run_c_program(program: &str) -> Vec<String> {
    let directory = scratch_directory();
    let source = directory.join("layout.c");
    let binary = directory.join("layout");
    std::fs::write(&source, program)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", source.display()));
    let compile = Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the C compiler `cc`: {error}"));
    assert!(
        compile.status.success(),
        "compiling {} against the Xen headers failed (kept for inspection):\n{}",
        source.display(),
        String::from_utf8_lossy(&compile.stderr)
    );
    let run = Command::new(&binary)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
    assert!(
        run.status.success(),
        "{} failed: {:?}",
        binary.display(),
        run.status
    );
    // Best effort: a leftover scratch directory is harmless.
    let _ = std::fs::remove_dir_all(&directory);
    String::from_utf8(run.stdout)
        .expect("the C program prints ASCII")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn layout_and_constants_match_the_c_headers() {
    assert!(
        Path::new(XEN_HEADER).exists(),
        "{XEN_HEADER} is missing: install the Xen public headers with \
         `apt-get install libxen-dev` (the project's test command does this); \
         without them the ABI layout cannot be checked"
    );

    let mut checks = struct_checks();
    let struct_count = checks.len();
    checks.extend(constant_checks());
    checks.extend(string_checks());
    checks.extend(table_checks());

    let c_values = run_c_program(&c_program(&checks));
    assert_eq!(
        c_values.len(),
        checks.len(),
        "the C program printed {} lines for {} checks",
        c_values.len(),
        checks.len()
    );

    let mismatches: Vec<String> = checks
        .iter()
        .zip(&c_values)
        .filter(|(check, c_value)| check.rust != **c_value)
        .map(|(check, c_value)| format!("  {}: Rust {} but C {}", check.what, check.rust, c_value))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} checks disagree with the C headers:\n{}",
        mismatches.len(),
        checks.len(),
        mismatches.join("\n")
    );
    assert!(
        struct_count > 600,
        "the struct table shrank to {struct_count} checks"
    );
}

/// Every `errno` constant that `errno.h` exposes to guests is named by
/// `errno::name`, and the crate's list matches the header's count.
#[test]
fn errno_names_cover_the_header_list() {
    let header_names = [
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOSPC",
        "EROFS",
        "EMLINK",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ENODATA",
        "ETIME",
        "EBADMSG",
        "EOVERFLOW",
        "EILSEQ",
        "ENOTSOCK",
        "EMSGSIZE",
        "EOPNOTSUPP",
        "EADDRINUSE",
        "EADDRNOTAVAIL",
        "ENOBUFS",
        "EISCONN",
        "ENOTCONN",
        "ETIMEDOUT",
        "ECONNREFUSED",
    ];
    for name in header_names {
        let value = errno::from_name(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(errno::name(value), Some(name));
    }
}
