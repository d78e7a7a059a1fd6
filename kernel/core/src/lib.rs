//! Kernel logic that needs no hypercall, so it runs in host unit tests.
//!
//! The kernel binary (`kernel/`) is the only place with inline assembly and
//! hypercalls. Everything it decides, as opposed to does, lives here: how
//! the command line is parsed, how Xen's time records turn into
//! nanoseconds, which timer fires next, which frames are free, how page
//! table updates are packed into as few hypercalls as possible, how the
//! 2-level event bitmap is scanned, how a frame-pointer chain is walked.
//! Each piece is plain data plus functions, tested next to its code.
//!
//! The process layer lives here too, over the Linux ABI of `linux-abi`:
//! the initrd's cpio reader (`cpio`), the in-memory filesystem (`vfs`),
//! the ELF loader's plan and the initial stack (`elf`), pipes (`pipe`),
//! the fair run queue (`sched`), signal state (`signals`) and descriptor
//! tables (`fdtable`). The kernel adds page tables, traps and hypercalls.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(test)]
extern crate std;

pub mod backtrace;
pub mod cmdline;
pub mod cpio;
pub mod elf;
pub mod event_demux;
pub mod fdtable;
pub mod frames;
pub mod mmu_batch;
pub mod pipe;
pub mod rtc;
pub mod sched;
pub mod sigframe;
pub mod signals;
pub mod time;
pub mod timer_queue;
pub mod tty;
pub mod vfs;
pub mod vma;
