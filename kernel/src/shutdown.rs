//! Ending the domain: poweroff, reboot, crash.
//!
//! Every path prints one last `shutdown: <how>` line, then asks Xen with
//! `SCHEDOP_shutdown`. As dom0, *reboot* makes Xen reboot the machine (so
//! `qemu -no-reboot` exits with status 0), *poweroff* halts it, and *crash*
//! makes Xen report "Hardware Dom0 crashed". On crash the kernel first
//! writes 1 to port 0xf4, where QEMU's `isa-debug-exit` device (if the
//! machine has one) turns it into a non-zero exit status at once.

use core::sync::atomic::{AtomicBool, Ordering};

use kernel_core::cmdline::ShutdownAction;

use crate::arch::x86_64::cpu;
use crate::xen::hypercall;

static CRASHING: AtomicBool = AtomicBool::new(false);
/// Set before the one attempt to signal QEMU through port 0xf4.
static EXIT_PORT_TRIED: AtomicBool = AtomicBool::new(false);
/// Set once the kernel holds I/O privilege (dom0 with iopl 1).
static IO_PRIVILEGE: AtomicBool = AtomicBool::new(false);

/// Records that port I/O is allowed (after PHYSDEVOP_set_iopl succeeded).
pub fn set_io_privilege() {
    IO_PRIVILEGE.store(true, Ordering::SeqCst);
}

pub fn has_io_privilege() -> bool {
    IO_PRIVILEGE.load(Ordering::SeqCst)
}

/// Runs `report` unless a crash is already being reported, in which case
/// a second fault inside the report skips straight to shutting down.
pub fn enter_crash_path(report: impl FnOnce()) {
    if !CRASHING.swap(true, Ordering::SeqCst) {
        report();
    }
}

fn shut_down(reason: u32) -> ! {
    let error = hypercall::sched_shutdown(reason);
    crate::xen::console::print_emergency(format_args!(
        "shutdown: Xen refused SCHEDOP_shutdown ({error}); halting\n"
    ));
    loop {
        hypercall::sched_block();
    }
}

/// Ends the domain as the command line asked.
pub fn finish(action: ShutdownAction) -> ! {
    match action {
        ShutdownAction::Reboot => {
            crate::kprintln!("shutdown: reboot");
            shut_down(xen_abi::sched::SHUTDOWN_REBOOT)
        }
        ShutdownAction::Poweroff => {
            crate::kprintln!("shutdown: poweroff");
            shut_down(xen_abi::sched::SHUTDOWN_POWEROFF)
        }
    }
}

/// Ends the domain as crashed, after a fatal error or failed self-checks.
pub fn crash(reason: &str) -> ! {
    CRASHING.store(true, Ordering::SeqCst);
    if EXIT_PORT_TRIED.swap(true, Ordering::SeqCst) {
        // A fault while signalling QEMU: just shut down.
        shut_down(xen_abi::sched::SHUTDOWN_CRASH)
    }
    crate::xen::console::print_emergency(format_args!("shutdown: crash ({reason})\n"));
    if has_io_privilege() {
        // Port 0xf4 is QEMU's isa-debug-exit when present and otherwise an
        // unused port. If Xen refuses it, the #GP comes back here with
        // EXIT_PORT_TRIED set and goes straight to shutdown.
        // SAFETY: we hold I/O privilege (iopl 1, granted by Xen to dom0).
        unsafe { cpu::outb(0xf4, 1) };
    }
    shut_down(xen_abi::sched::SHUTDOWN_CRASH)
}
