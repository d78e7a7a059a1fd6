//! Kernel logic that needs no hypercall, so it runs in host unit tests.
//!
//! The kernel binary (`kernel/`) is the only place with inline assembly and
//! hypercalls. Everything it decides, as opposed to does, lives here: how
//! the command line is parsed, how Xen's time records turn into
//! nanoseconds, which timer fires next, which frames are free, how page
//! table updates are packed into as few hypercalls as possible, how the
//! 2-level event bitmap is scanned, how a frame-pointer chain is walked.
//! Each piece is plain data plus functions, tested next to its code.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod backtrace;
pub mod cmdline;
pub mod event_demux;
pub mod frames;
pub mod mmu_batch;
pub mod rtc;
pub mod time;
pub mod timer_queue;
