//! Per-vCPU operations: `vcpu.h` (the `vcpu_op` hypercall).
//!
//! A PV kernel uses these for its timers ([`VCPUOP_SET_SINGLESHOT_TIMER`]),
//! for virtual time (the runstate area, [`VcpuRunstateInfo`]: how long this
//! vCPU actually ran), to move its `vcpu_info` out of the shared-info page
//! ([`VcpuRegisterVcpuInfo`]), and to start secondary vCPUs.

// --- vcpu.h: VCPUOP_* ---------------------------------------------------------

/// `VCPUOP_initialise`: set a vCPU's initial state (arg =
/// `arch::VcpuGuestContext`).
pub const VCPUOP_INITIALISE: u32 = 0;
/// `VCPUOP_up`: bring a vCPU up.
pub const VCPUOP_UP: u32 = 1;
/// `VCPUOP_down`: bring a vCPU down.
pub const VCPUOP_DOWN: u32 = 2;
/// `VCPUOP_is_up`: returns 1 if the vCPU is up.
pub const VCPUOP_IS_UP: u32 = 3;
/// `VCPUOP_get_runstate_info`: copy out a [`VcpuRunstateInfo`].
pub const VCPUOP_GET_RUNSTATE_INFO: u32 = 4;
/// `VCPUOP_register_runstate_memory_area`: have Xen keep a
/// [`VcpuRunstateInfo`] in guest memory up to date (arg =
/// [`VcpuRegisterRunstateMemoryArea`]).
pub const VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA: u32 = 5;
/// `VCPUOP_set_periodic_timer` (arg = [`VcpuSetPeriodicTimer`]).
pub const VCPUOP_SET_PERIODIC_TIMER: u32 = 6;
/// `VCPUOP_stop_periodic_timer` (arg NULL).
pub const VCPUOP_STOP_PERIODIC_TIMER: u32 = 7;
/// `VCPUOP_set_singleshot_timer` (arg = [`VcpuSetSingleshotTimer`]); fires
/// `VIRQ_TIMER`.
pub const VCPUOP_SET_SINGLESHOT_TIMER: u32 = 8;
/// `VCPUOP_stop_singleshot_timer` (arg NULL).
pub const VCPUOP_STOP_SINGLESHOT_TIMER: u32 = 9;
/// `VCPUOP_register_vcpu_info` (arg = [`VcpuRegisterVcpuInfo`]).
pub const VCPUOP_REGISTER_VCPU_INFO: u32 = 10;
/// `VCPUOP_send_nmi` (arg NULL).
pub const VCPUOP_SEND_NMI: u32 = 11;
/// `VCPUOP_get_physid` (arg = [`VcpuGetPhysid`]).
pub const VCPUOP_GET_PHYSID: u32 = 12;
/// `VCPUOP_register_vcpu_time_memory_area` (arg =
/// [`VcpuRegisterTimeMemoryArea`]).
pub const VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA: u32 = 13;

// --- vcpu.h: runstate ----------------------------------------------------------

/// `RUNSTATE_running`: running on a physical CPU.
pub const RUNSTATE_RUNNING: i32 = 0;
/// `RUNSTATE_runnable`: runnable but not scheduled.
pub const RUNSTATE_RUNNABLE: i32 = 1;
/// `RUNSTATE_blocked`: blocked (idle), not runnable.
pub const RUNSTATE_BLOCKED: i32 = 2;
/// `RUNSTATE_offline`: not runnable for another reason (down, paused).
pub const RUNSTATE_OFFLINE: i32 = 3;
/// `XEN_RUNSTATE_UPDATE`: set by Xen in `state_entry_time` while it updates
/// a registered runstate area (with `VMASST_TYPE_runstate_update_flag`).
pub const XEN_RUNSTATE_UPDATE: u64 = 1 << 63;

/// How a vCPU's time was spent: `struct vcpu_runstate_info`
/// (`vcpu_runstate_info_t`), `vcpu.h`. Written by Xen (into a registered
/// area or a `VCPUOP_get_runstate_info` buffer), read by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuRunstateInfo {
    /// Current `RUNSTATE_*`.
    pub state: i32,
    /// System time (ns) when the current state was entered, possibly with
    /// [`XEN_RUNSTATE_UPDATE`] set.
    pub state_entry_time: u64,
    /// Nanoseconds spent in each `RUNSTATE_*` (indexed by state); their sum
    /// does not drift from system time.
    pub time: [u64; 4],
}

/// Argument of `VCPUOP_register_runstate_memory_area`:
/// `struct vcpu_register_runstate_memory_area`, `vcpu.h`. Written by the
/// guest. C's `addr` is a union of a guest handle, a pointer and a `uint64_t
/// p`, all the guest virtual address of a [`VcpuRunstateInfo`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuRegisterRunstateMemoryArea {
    /// Guest virtual address of the area.
    pub addr: u64,
}

/// Argument of `VCPUOP_set_periodic_timer`: `struct
/// vcpu_set_periodic_timer`, `vcpu.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuSetPeriodicTimer {
    /// Period in nanoseconds.
    pub period_ns: u64,
}

/// `VCPU_SSHOTTMR_future`: fail with `-ETIME` if the timeout has already
/// passed (Xen may ignore it).
pub const VCPU_SSHOTTMR_FUTURE: u32 = 1 << 0;

/// Argument of `VCPUOP_set_singleshot_timer`: `struct
/// vcpu_set_singleshot_timer`, `vcpu.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuSetSingleshotTimer {
    /// Absolute system time in nanoseconds.
    pub timeout_abs_ns: u64,
    /// `VCPU_SSHOTTMR_*` flags.
    pub flags: u32,
}

/// Argument of `VCPUOP_register_vcpu_info`: `struct
/// vcpu_register_vcpu_info`, `vcpu.h`. Written by the guest: Xen then
/// keeps the vCPU's `vcpu_info` at `offset` in machine frame `mfn` instead
/// of in the shared-info page.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuRegisterVcpuInfo {
    /// Machine frame that will hold the `vcpu_info`.
    pub mfn: u64,
    /// Byte offset within the frame; need not be aligned, but the struct
    /// must not cross a page boundary. Allowed once per vCPU.
    pub offset: u32,
    /// Unused.
    pub rsvd: u32,
}

/// Argument of `VCPUOP_get_physid`: `struct vcpu_get_physid`, `vcpu.h`.
/// Written by Xen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuGetPhysid {
    /// Low 32 bits: APIC id; high 32 bits: ACPI id.
    pub phys_id: u64,
}

/// Argument of `VCPUOP_register_vcpu_time_memory_area`:
/// `struct vcpu_register_time_memory_area`, `vcpu.h`. Written by the guest;
/// `addr` (a union of handle, pointer and `uint64_t p` in C) is the guest
/// virtual address of a `xen::VcpuTimeInfo` Xen keeps updated.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuRegisterTimeMemoryArea {
    /// Guest virtual address of the area.
    pub addr: u64,
}
