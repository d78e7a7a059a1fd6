//! Scheduler operations: `sched.h` (the `sched_op` hypercall).
//!
//! A PV kernel idles with [`SCHEDOP_BLOCK`] (there is no `hlt`), gives up the
//! CPU with [`SCHEDOP_YIELD`], waits on specific ports with
//! [`SCHEDOP_POLL`], and ends itself with [`SCHEDOP_SHUTDOWN`] and a
//! `SHUTDOWN_*` reason.

// --- sched.h: enum sched_op ---------------------------------------------------

/// `SCHEDOP_yield`: voluntarily yield the CPU (arg NULL).
pub const SCHEDOP_YIELD: u32 = 0;
/// `SCHEDOP_block`: block until an event is pending; also clears this
/// vCPU's `evtchn_upcall_mask`, so check for events first (arg NULL).
pub const SCHEDOP_BLOCK: u32 = 1;
/// `SCHEDOP_shutdown`: halt the domain and tell the toolstack why (arg =
/// [`SchedShutdown`]). For `SHUTDOWN_suspend`, x86 PV guests must also pass
/// the mfn of their start-info page as the third argument (RDX).
pub const SCHEDOP_SHUTDOWN: u32 = 2;
/// `SCHEDOP_poll`: wait until one of a set of ports is pending, with an
/// optional timeout (arg = [`SchedPoll`]).
pub const SCHEDOP_POLL: u32 = 3;
/// `SCHEDOP_remote_shutdown`: declare a shutdown for another domain (arg =
/// [`SchedRemoteShutdown`]).
pub const SCHEDOP_REMOTE_SHUTDOWN: u32 = 4;
/// `SCHEDOP_shutdown_code`: latch a shutdown reason that the domain reports
/// to the tools when it later shuts down (arg = [`SchedShutdown`]).
pub const SCHEDOP_SHUTDOWN_CODE: u32 = 5;
/// `SCHEDOP_watchdog`: set up, kick or destroy a domain watchdog (arg =
/// [`SchedWatchdog`]).
pub const SCHEDOP_WATCHDOG: u32 = 6;
/// `SCHEDOP_pin_override`: override the vCPU's affinity by pinning it to one
/// physical CPU (hardware domain only; arg = [`SchedPinOverride`]).
pub const SCHEDOP_PIN_OVERRIDE: u32 = 7;

// --- sched.h: enum sched_shutdown_reason --------------------------------------

/// `SHUTDOWN_poweroff`: domain exited normally; clean up and kill.
pub const SHUTDOWN_POWEROFF: u32 = 0;
/// `SHUTDOWN_reboot`: clean up, kill, and then restart.
pub const SHUTDOWN_REBOOT: u32 = 1;
/// `SHUTDOWN_suspend`: clean up, save suspend info, kill.
pub const SHUTDOWN_SUSPEND: u32 = 2;
/// `SHUTDOWN_crash`: tell the controller we crashed.
pub const SHUTDOWN_CRASH: u32 = 3;
/// `SHUTDOWN_watchdog`: restart because the watchdog expired.
pub const SHUTDOWN_WATCHDOG: u32 = 4;
/// `SHUTDOWN_soft_reset`: reset Xen state but keep memory and vCPU contexts.
pub const SHUTDOWN_SOFT_RESET: u32 = 5;
/// `SHUTDOWN_MAX`: the largest valid reason.
pub const SHUTDOWN_MAX: u32 = 5;

/// Argument of `SCHEDOP_shutdown` and `SCHEDOP_shutdown_code`:
/// `struct sched_shutdown` (`sched_shutdown_t`), `sched.h`. Written by the
/// guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedShutdown {
    /// `SHUTDOWN_*` reason.
    pub reason: u32,
}

/// Argument of `SCHEDOP_poll`: `struct sched_poll` (`sched_poll_t`),
/// `sched.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedPoll {
    /// Guest handle: virtual address of an array of `evtchn_port_t`.
    pub ports: u64,
    /// Number of ports in the array.
    pub nr_ports: u32,
    /// Absolute system time (ns) to give up at; 0 = no timeout.
    pub timeout: u64,
}

/// Argument of `SCHEDOP_remote_shutdown`: `struct sched_remote_shutdown`
/// (`sched_remote_shutdown_t`), `sched.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedRemoteShutdown {
    /// The domain to shut down.
    pub domain_id: u16,
    /// `SHUTDOWN_*` reason.
    pub reason: u32,
}

/// Argument of `SCHEDOP_watchdog`: `struct sched_watchdog`
/// (`sched_watchdog_t`), `sched.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedWatchdog {
    /// 0 to set up a new watchdog (the call returns its id); otherwise the
    /// watchdog to poke (timeout != 0) or destroy (timeout == 0).
    pub id: u32,
    /// Timeout in seconds after which the domain is shut down.
    pub timeout: u32,
}

/// Argument of `SCHEDOP_pin_override`: `struct sched_pin_override`
/// (`sched_pin_override_t`), `sched.h`. Written by the guest.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedPinOverride {
    /// Physical CPU to pin to; negative undoes the override.
    pub pcpu: i32,
}
