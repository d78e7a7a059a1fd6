//! How a boot ended, decided from the console log and QEMU's exit.
//!
//! A run ends in one of four ways: QEMU exits by itself, the runner sees a
//! Xen console marker after which nothing useful can follow and kills QEMU,
//! the overall deadline passes, or the console stays silent too long.
//! [`classify`] turns that, the exit status and the log into an
//! [`Outcome`]. It is pure, so every rule below is unit-tested.
//!
//! The markers are Xen 4.17's (`xen/common/shutdown.c`, `hwdom_shutdown`,
//! and `xen/drivers/char/console.c`, `panic`):
//!
//! | console line                                   | meaning                                |
//! |------------------------------------------------|----------------------------------------|
//! | `Hardware Dom0 shutdown: rebooting machine`    | dom0 asked to reboot; `-no-reboot` makes QEMU exit 0 |
//! | `Hardware Dom0 halted: halting machine`        | dom0 asked to power off; Xen halts, QEMU would run forever |
//! | `Hardware Dom0 crashed: rebooting machine in 5 seconds.` | dom0 crashed (or asked to) |
//! | `Panic on CPU <n>:` ... `Reboot in five seconds...` | Xen itself panicked                |
//!
//! A clean reboot or power-off additionally needs the kernel's own
//! `shutdown: reboot` / `shutdown: poweroff` line: Xen's marker alone only
//! says that *someone* asked, not that the kernel finished its work.

use std::fmt;

/// Xen's line when dom0 requests a reboot.
pub const XEN_DOM0_REBOOT: &str = "Hardware Dom0 shutdown: rebooting machine";
/// Xen's line when dom0 requests a power-off.
pub const XEN_DOM0_HALTED: &str = "Hardware Dom0 halted";
/// Xen's line when dom0 crashed.
pub const XEN_DOM0_CRASHED: &str = "Hardware Dom0 crashed";
/// Xen's first line of its own panic message.
pub const XEN_PANIC: &str = "Panic on CPU";
/// Xen's last lines after a panic, before it waits and resets.
pub const XEN_PANIC_END: &[&str] = &["Reboot in five seconds", "Manual reset required"];

/// The kernel's last line when it shuts down by rebooting.
pub const KERNEL_REBOOT: &str = "shutdown: reboot";
/// The kernel's last line when it shuts down by powering off.
pub const KERNEL_POWEROFF: &str = "shutdown: poweroff";

/// QEMU's exit status when the guest wrote 1 to the isa-debug-exit port
/// (QEMU exits with `(value << 1) | 1`).
pub const QEMU_DEBUG_EXIT_FAILURE: i32 = 3;

/// How a boot ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The kernel said `shutdown: reboot` and Xen rebooted (QEMU exited 0).
    Rebooted,
    /// The kernel said `shutdown: poweroff` and Xen halted.
    PoweredOff,
    /// Xen reported that dom0 crashed.
    Crashed,
    /// Xen itself panicked (for example, it could not build dom0).
    XenPanic,
    /// Anything else that ended: the kernel signalled failure through
    /// isa-debug-exit (QEMU status 3), QEMU failed, or a shutdown came
    /// without the kernel's own shutdown line.
    Failed,
    /// The overall deadline passed.
    TimedOut,
    /// The console was silent for longer than the silence timeout.
    Stalled,
}

impl Outcome {
    /// Whether the kernel finished its work and shut down cleanly.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Rebooted | Outcome::PoweredOff)
    }

    /// Whether the run was cut short by a deadline rather than ending.
    pub fn is_timeout(self) -> bool {
        matches!(self, Outcome::TimedOut | Outcome::Stalled)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Rebooted => "rebooted",
            Outcome::PoweredOff => "powered off",
            Outcome::Crashed => "dom0 crashed",
            Outcome::XenPanic => "Xen panicked",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Stalled => "stalled (no console output)",
        })
    }
}

/// Why the runner stopped watching the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// QEMU exited by itself.
    QemuExited,
    /// A final Xen marker was seen and QEMU was killed.
    Marker,
    /// The overall deadline passed and QEMU was killed.
    Deadline,
    /// The console was silent too long and QEMU was killed.
    Silence,
}

/// Whether this line ends the run: after it, Xen only waits or halts.
pub fn is_final_marker(text: &str) -> bool {
    text.contains(XEN_DOM0_CRASHED)
        || text.contains(XEN_DOM0_HALTED)
        || XEN_PANIC_END.iter().any(|marker| text.contains(marker))
}

/// Whether `text` is the kernel's own line `expected` (not Xen's).
fn is_kernel_line(text: &str, expected: &str) -> bool {
    text.trim() == expected
}

/// Decides the outcome of a run from its log, stop reason and exit status.
///
/// `qemu_status` is QEMU's exit code if it exited by itself.
pub fn classify<'a>(
    lines: impl IntoIterator<Item = &'a str> + Clone,
    stop: StopReason,
    qemu_status: Option<i32>,
) -> Outcome {
    match stop {
        StopReason::Deadline => return Outcome::TimedOut,
        StopReason::Silence => return Outcome::Stalled,
        StopReason::QemuExited | StopReason::Marker => {}
    }
    let any = |needle: &str| lines.clone().into_iter().any(|line| line.contains(needle));
    let kernel_said = |expected: &str| {
        lines
            .clone()
            .into_iter()
            .any(|line| is_kernel_line(line, expected))
    };
    if any(XEN_DOM0_CRASHED) {
        Outcome::Crashed
    } else if any(XEN_PANIC) {
        Outcome::XenPanic
    } else if any(XEN_DOM0_HALTED) && kernel_said(KERNEL_POWEROFF) {
        Outcome::PoweredOff
    } else if stop == StopReason::QemuExited
        && qemu_status == Some(0)
        && any(XEN_DOM0_REBOOT)
        && kernel_said(KERNEL_REBOOT)
    {
        Outcome::Rebooted
    } else {
        Outcome::Failed
    }
}

/// The Linux dom0's init prints this line when the test script may start.
pub const DOM0_READY: &str = "DOM0-READY";
/// The Linux dom0's init prints `DOM0-TEST-EXIT <status>` when the test
/// script has ended, then reboots the machine.
pub const DOM0_TEST_EXIT: &str = "DOM0-TEST-EXIT ";

/// How a boot of the Linux dom0 harness ([`crate::linux_dom0`]) ended.
///
/// Our kernel's rules ([`classify`]) do not apply: the dom0 is Linux, and
/// what matters is whether its init ran the test script to the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScriptOutcome {
    /// The script ran to its end (`DOM0-TEST-EXIT <status>`).
    Finished {
        /// The script's exit status.
        status: i32,
    },
    /// dom0 ended before its init said `DOM0-READY` (kernel or init failed).
    NotReady,
    /// dom0 was ready but ended without `DOM0-TEST-EXIT`.
    Unfinished,
    /// Xen reported that dom0 crashed (a Linux panic ends this way).
    Crashed,
    /// Xen itself panicked.
    XenPanic,
    /// The overall deadline passed.
    TimedOut,
    /// The console was silent for longer than the silence timeout.
    Stalled,
}

impl ScriptOutcome {
    /// Whether the script ran to its end and exited with status 0.
    pub fn is_success(self) -> bool {
        self == ScriptOutcome::Finished { status: 0 }
    }

    /// Whether the script ran to its end, whatever its status.
    pub fn is_finished(self) -> bool {
        matches!(self, ScriptOutcome::Finished { .. })
    }
}

impl fmt::Display for ScriptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptOutcome::Finished { status } => {
                write!(f, "test script finished with status {status}")
            }
            ScriptOutcome::NotReady => f.write_str("dom0 ended before it was ready"),
            ScriptOutcome::Unfinished => f.write_str("dom0 ended before the test script did"),
            ScriptOutcome::Crashed => f.write_str("dom0 crashed"),
            ScriptOutcome::XenPanic => f.write_str("Xen panicked"),
            ScriptOutcome::TimedOut => f.write_str("timed out"),
            ScriptOutcome::Stalled => f.write_str("stalled (no console output)"),
        }
    }
}

/// The status of the first `DOM0-TEST-EXIT <status>` line, if any.
pub fn script_exit_status<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<i32> {
    lines.into_iter().find_map(|line| {
        line.trim()
            .strip_prefix(DOM0_TEST_EXIT)
            .and_then(|status| status.trim().parse().ok())
    })
}

/// Decides how a Linux dom0 harness run ended.
///
/// A finished script wins over the way QEMU ended afterwards (its output
/// is complete); otherwise deadlines come first, then Xen's verdicts.
pub fn classify_script<'a>(
    lines: impl IntoIterator<Item = &'a str> + Clone,
    stop: StopReason,
) -> ScriptOutcome {
    if let Some(status) = script_exit_status(lines.clone()) {
        return ScriptOutcome::Finished { status };
    }
    let any = |needle: &str| lines.clone().into_iter().any(|line| line.contains(needle));
    match stop {
        StopReason::Deadline => ScriptOutcome::TimedOut,
        StopReason::Silence => ScriptOutcome::Stalled,
        StopReason::QemuExited | StopReason::Marker => {
            if any(XEN_DOM0_CRASHED) {
                ScriptOutcome::Crashed
            } else if any(XEN_PANIC) {
                ScriptOutcome::XenPanic
            } else if lines
                .clone()
                .into_iter()
                .any(|line| line.trim() == DOM0_READY)
            {
                ScriptOutcome::Unfinished
            } else {
                ScriptOutcome::NotReady
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REBOOT_LOG: &[&str] = &[
        "(XEN) *** Building a PV Dom0 ***",
        "xenrs 0.1.0 booting as dom0",
        "selftest: 9 passed, 0 failed",
        "shutdown: reboot",
        "(XEN) Hardware Dom0 shutdown: rebooting machine",
    ];

    fn classify_lines(lines: &[&str], stop: StopReason, status: Option<i32>) -> Outcome {
        classify(lines.iter().copied(), stop, status)
    }

    #[test]
    fn reboot_with_the_kernels_line_and_status_zero_succeeds() {
        let outcome = classify_lines(REBOOT_LOG, StopReason::QemuExited, Some(0));
        assert_eq!(outcome, Outcome::Rebooted);
        assert!(outcome.is_success());
    }

    #[test]
    fn reboot_without_the_kernels_line_fails() {
        let log = ["(XEN) Hardware Dom0 shutdown: rebooting machine"];
        assert_eq!(
            classify_lines(&log, StopReason::QemuExited, Some(0)),
            Outcome::Failed
        );
    }

    #[test]
    fn reboot_with_a_nonzero_status_fails() {
        assert_eq!(
            classify_lines(REBOOT_LOG, StopReason::QemuExited, Some(1)),
            Outcome::Failed
        );
        assert_eq!(
            classify_lines(REBOOT_LOG, StopReason::QemuExited, None),
            Outcome::Failed
        );
    }

    #[test]
    fn poweroff_needs_xens_and_the_kernels_line() {
        let log = [
            "shutdown: poweroff",
            "(XEN) Hardware Dom0 halted: halting machine",
        ];
        assert!(is_final_marker(log[1]));
        assert_eq!(
            classify_lines(&log, StopReason::Marker, None),
            Outcome::PoweredOff
        );
        assert_eq!(
            classify_lines(&log[1..], StopReason::Marker, None),
            Outcome::Failed
        );
    }

    #[test]
    fn debug_exit_is_a_failure() {
        let log = [
            "FATAL: panic at kernel/src/main.rs:10: test",
            "backtrace:",
            "  #0 0xffffffff80001234",
            "shutdown: crash (panic)",
        ];
        let outcome = classify_lines(&log, StopReason::QemuExited, Some(QEMU_DEBUG_EXIT_FAILURE));
        assert_eq!(outcome, Outcome::Failed);
        assert!(!outcome.is_success());
        assert!(!outcome.is_timeout());
    }

    #[test]
    fn dom0_crash_is_recognized_and_final() {
        let log = [
            "shutdown: crash (page fault)",
            "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.",
        ];
        assert!(is_final_marker(log[1]));
        assert_eq!(
            classify_lines(&log, StopReason::Marker, None),
            Outcome::Crashed
        );
        // Even if QEMU got to exit first.
        assert_eq!(
            classify_lines(&log, StopReason::QemuExited, Some(0)),
            Outcome::Crashed
        );
    }

    #[test]
    fn xen_panic_is_recognized_and_final() {
        let log = [
            "(XEN) Panic on CPU 0:",
            "(XEN) Could not construct domain 0",
            "(XEN) Reboot in five seconds...",
        ];
        assert!(!is_final_marker(log[0]));
        assert!(is_final_marker(log[2]));
        assert_eq!(
            classify_lines(&log, StopReason::Marker, None),
            Outcome::XenPanic
        );
    }

    #[test]
    fn deadlines_win_over_the_log() {
        assert_eq!(
            classify_lines(REBOOT_LOG, StopReason::Deadline, None),
            Outcome::TimedOut
        );
        assert_eq!(
            classify_lines(&[], StopReason::Silence, None),
            Outcome::Stalled
        );
        assert!(Outcome::Stalled.is_timeout());
    }

    #[test]
    fn a_kernel_line_is_not_matched_inside_xens_lines() {
        let log = [
            "(XEN) echo shutdown: reboot",
            "(XEN) Hardware Dom0 shutdown: rebooting machine",
        ];
        assert_eq!(
            classify_lines(&log, StopReason::QemuExited, Some(0)),
            Outcome::Failed
        );
    }

    #[test]
    fn an_empty_log_with_status_zero_fails() {
        assert_eq!(
            classify_lines(&[], StopReason::QemuExited, Some(0)),
            Outcome::Failed
        );
    }

    #[test]
    fn a_finished_script_reports_its_status() {
        let log = [
            "(XEN) *** Building a PV Dom0 ***",
            "DOM0-READY",
            "RESULT x=1",
            "DOM0-TEST-EXIT 3",
            "(XEN) Hardware Dom0 shutdown: rebooting machine",
        ];
        let outcome = classify_script(log.iter().copied(), StopReason::QemuExited);
        assert_eq!(outcome, ScriptOutcome::Finished { status: 3 });
        assert!(outcome.is_finished() && !outcome.is_success());
        let log = ["DOM0-READY", "DOM0-TEST-EXIT 0"];
        let outcome = classify_script(log.iter().copied(), StopReason::Deadline);
        assert!(outcome.is_success());
        assert_eq!(script_exit_status(["DOM0-TEST-EXIT x"]), None);
    }

    #[test]
    fn an_unfinished_script_says_how_far_dom0_got() {
        let ready = [
            "DOM0-READY",
            "(XEN) Hardware Dom0 shutdown: rebooting machine",
        ];
        assert_eq!(
            classify_script(ready.iter().copied(), StopReason::QemuExited),
            ScriptOutcome::Unfinished
        );
        assert_eq!(
            classify_script(ready[1..].iter().copied(), StopReason::QemuExited),
            ScriptOutcome::NotReady
        );
        assert_eq!(
            classify_script(ready.iter().copied(), StopReason::Silence),
            ScriptOutcome::Stalled
        );
        assert_eq!(
            classify_script(ready.iter().copied(), StopReason::Deadline),
            ScriptOutcome::TimedOut
        );
        let crashed = [
            "Kernel panic - not syncing: Attempted to kill init!",
            "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.",
        ];
        assert_eq!(
            classify_script(crashed.iter().copied(), StopReason::Marker),
            ScriptOutcome::Crashed
        );
        assert_eq!(
            ScriptOutcome::Crashed.to_string(),
            "dom0 crashed".to_owned()
        );
    }
}
