//! The Linux x86_64 system-call ABI as plain data, for a kernel that hosts it.
//!
//! Our kernel runs unmodified static Linux binaries (Debian's
//! `busybox-static` among them) and our own userland, so it speaks the
//! Linux x86_64 system-call ABI exactly: the syscall numbers of
//! `asm/unistd_64.h`, the errno values of `asm-generic/errno*.h`, the flag
//! words of `fcntl.h`, `mman.h`, `signal.h`, `wait.h`, and the byte layouts
//! of the structs the kernel copies to and from user memory (`struct stat`,
//! `timespec`, `utsname`, `linux_dirent64`, `sigaction`, `termios` ...).
//!
//! Every struct here is `#[repr(C)]` with the C field names, and implements
//! [`Wire`]: a safe, explicit little-endian encoding with zeroed padding,
//! so the kernel copies user memory in and out without `unsafe` transmutes
//! and never leaks stale padding bytes. Sizes, offsets and constant values
//! are checked against the host's kernel and glibc headers by
//! `tests/layout_against_c_headers.rs`.
//!
//! Users: `kernel-core` (VFS, ELF loader, signals, pipes, fd table) for the
//! decisions, the kernel's syscall layer for the copies, and `userland/` for
//! its syscall stubs.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod arch_prctl;
pub mod auxv;
pub mod clone;
pub mod dirent;
pub mod errno;
pub mod fcntl;
pub mod ioctl;
pub mod limits;
pub mod mman;
pub mod poll;
pub mod resource;
pub mod signal;
pub mod stat;
pub mod syscall;
pub mod termios;
pub mod time;
pub mod uio;
pub mod utsname;
pub mod wait;
pub mod wire;

pub use errno::{Errno, SysResult};
pub use syscall::Sysno;
pub use wire::{BufferTooSmall, Wire};
