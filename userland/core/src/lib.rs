//! The userland's pure logic, shared by the programs and tested on the host.
//!
//! Everything the programs in `userland/programs` decide without a system
//! call lives here, as plain `no_std` + `alloc` code that `cargo test` runs
//! on the build host:
//!
//! - [`abi`]: what userland adds to the workspace's `linux-abi` crate
//!   (typed open flags, `getdents64` decoding, `$?` of a wait status);
//!   [`errno`]: `strerror` texts; [`signal`]: signal names for `kill`.
//! - [`shell`]: the `sh` language (lexer, parser, expansion, `PATH`).
//! - [`procfs`]: `/proc/<pid>/stat`, `meminfo`, `uptime`, `loadavg`, and
//!   `ps`'s rows.
//! - [`time`]: civil dates (`date`), procps durations, `sleep` operands.
//! - [`ls`], [`echo`], [`cli`], [`mod@bench`]: the tools' formats and command
//!   lines; [`counters`]: the kernel's `/proc/xenrs/counters` and
//!   per-operation figures; [`xentrace`]: Xen's trace records counted per
//!   domain (the outside view of the same hypercalls).
//!
//! The runtime (`userland-rt`) turns these into system calls; nothing here
//! touches memory it does not own, so the crate forbids `unsafe`.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod abi;
pub mod bench;
pub mod cli;
pub mod counters;
pub mod echo;
pub mod errno;
pub mod fault;
pub mod fmt;
pub mod ls;
pub mod procfs;
pub mod shell;
pub mod signal;
pub mod time;
pub mod xentrace;

pub use errno::{strerror, Strerror};
pub use linux_abi::Errno;
pub use signal::Signal;
