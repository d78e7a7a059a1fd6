//! Host tooling: build the kernel, fetch Xen, boot both in QEMU, read the log.
//!
//! The pieces, in the order a boot uses them:
//!
//! - [`host`]: Debian packages (QEMU, Xen headers) and the Xen hypervisor,
//!   downloaded from Debian and unpacked into `target/xen/` (never
//!   installed: that would touch the host's boot loader).
//! - [`kernel`]: `cargo build` of the kernel with the flags a PV kernel
//!   needs, into `target/kernel/`, once per process.
//! - [`qemu`]: [`BootConfig`] and the exact QEMU command line, validated
//!   against what QEMU's multiboot loader can express.
//! - [`boot()`]: runs QEMU, reads the serial console into timestamped
//!   [`ConsoleLine`]s, enforces the deadline and the silence watchdog, and
//!   classifies the end into an [`Outcome`] ([`outcome`]).
//! - [`mod@bench`]: parses the kernel's `bench ...` result lines.
//! - [`linux_dom0`]: a Linux dom0 with `xl`, built from Debian packages
//!   and cached in `target/linux-dom0/`, that runs a test's shell script
//!   ([`linux_dom0::run_in_linux_dom0`]); [`cpio`] packs its archives, and
//!   [`domu_flow`] is the script that boots our kernel as its domU;
//!   [`userland_bench`] runs `xenrs-bench` in our domU and a Linux domU
//!   with `xentrace` counting their hypercalls.
//!
//! The `image-builder` binary wraps these as commands (`build`, `run`,
//! `bench`, `test`, `qemu-cmdline`); the `system-tests` crate uses the
//! library to boot the kernel once per scenario and check its console.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};

pub mod bench;
mod boot;
pub mod command;
pub mod console;
pub mod cpio;
pub mod domu_flow;
mod error;
pub mod host;
pub mod initrd;
pub mod kernel;
pub mod linux_dom0;
pub mod outcome;
pub mod qemu;
pub mod userland_bench;

pub use bench::{BenchLine, BenchParseError};
pub use boot::{boot, BootRun};
pub use console::ConsoleLine;
pub use error::Error;
pub use host::{ensure_host_packages, xen_hypervisor};
pub use kernel::{build_kernel, Profile};
pub use linux_dom0::{run_in_linux_dom0, Dom0Run, TestFile};
pub use outcome::{Outcome, ScriptOutcome, StopReason};
pub use qemu::{BootConfig, ConsoleInput};

/// Set by [`set_echo`]; `XENRS_ECHO=1` in the environment has the same effect.
static ECHO: AtomicBool = AtomicBool::new(false);

/// Asks for live output: console lines of later [`BootConfig::new`]s and
/// the kernel build's output are copied to stderr as they arrive.
pub fn set_echo(on: bool) {
    ECHO.store(on, Ordering::Relaxed);
}

/// Whether live output is on (see [`set_echo`]).
pub fn echo_enabled() -> bool {
    ECHO.load(Ordering::Relaxed) || std::env::var_os("XENRS_ECHO").is_some_and(|value| value == "1")
}
