//! The runtime of the static userland programs: the only unsafe code in
//! userland.
//!
//! A program built on it is a freestanding static ELF on the Linux x86_64
//! system-call ABI: it runs unmodified on Linux and on our kernel. The
//! runtime provides what libc and Rust's std would:
//!
//! - [`start`]: `_start` reads `argc`/`argv`/`envp`/auxv from the initial
//!   stack and calls the program's `main(Args, Env) -> i32` (installed
//!   with [`entry!`]), then `exit_group`s with its result.
//! - [`syscall`]: the raw `syscall` instruction; [`sys`]: one safe typed
//!   wrapper per call (`read`, `openat`, `fork`, `execve`, `wait4`, ...),
//!   returning `Result<_, Errno>`.
//! - [`heap`]: the global allocator (size classes over `brk`, large blocks
//!   from `mmap`), so programs use `alloc` (`String`, `Vec`).
//! - [`io`]: `print!`/`println!`/`eprint!`/`eprintln!`, [`File`],
//!   [`read_dir`], [`read_file`].
//! - `lang`: `memcpy` & co., `rust_eh_personality`, `_Unwind_Resume`, the
//!   panic handler (message on stderr, exit status 101).
//!
//! The numbers, flags and structs of the ABI come from the workspace's
//! `linux-abi` crate (the kernel uses the same definitions); everything
//! else that needs no system call (parsers, formats) lives in
//! `userland-core`.
//!
//! The crate's unit tests run on the host inside an ordinary (std) test
//! process: the entry point, panic handler, allocator and `mem*` symbols
//! are compiled only outside `cfg(test)`, and the system-call wrappers are
//! exercised against the host's Linux kernel.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod heap;
pub mod io;
#[cfg(not(test))]
mod lang;
pub mod start;
pub mod sys;
pub mod syscall;

pub use io::{read_dir, read_file, read_file_string, DirEntry, File};
pub use linux_abi::Errno;
pub use start::{program_name, Args, Env};
pub use sys::{exit, Fd, ForkResult, Pid};
pub use userland_core::Signal;
