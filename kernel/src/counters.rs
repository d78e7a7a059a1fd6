//! Every entry into Xen, counted: the figures behind "hypercalls per
//! operation" in the benchmarks, read from `/proc/xenrs/counters`.
//!
//! Hypercalls are counted where they are made (the one `asm!` in
//! `xen::hypercall::call`, and the `HYPERVISOR_iret` jump that ends every
//! trap); traps are counted where they arrive (`trap_dispatch`). A trap
//! from user mode entered Xen before Xen bounced it to us, so
//! `xen_entries` = hypercalls + irets + syscalls + user exceptions. Event
//! upcalls are Xen's own initiative (a timer, a peer) and are listed apart.

use core::sync::atomic::{AtomicU64, Ordering};

use alloc::format;
use alloc::vec::Vec;

/// Hypercalls made through the hypercall page (a multicall counts once).
pub static HYPERCALLS: AtomicU64 = AtomicU64::new(0);
/// The same, by hypercall number (0..64), to see where they go.
pub static BY_NUMBER: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

/// Counts hypercall `number` (`xen::hypercall::call`).
pub fn count_hypercall(number: u32) {
    bump(&HYPERCALLS);
    if let Some(counter) = BY_NUMBER.get(number as usize) {
        bump(counter);
    }
}
/// `HYPERVISOR_iret`s at the end of traps and first process runs
/// (incremented from assembly in `arch::x86_64::boot`).
pub static IRETS: AtomicU64 = AtomicU64::new(0);
/// `syscall` instructions from user mode.
pub static SYSCALLS: AtomicU64 = AtomicU64::new(0);
/// Page faults from user mode.
pub static USER_PAGE_FAULTS: AtomicU64 = AtomicU64::new(0);
/// Other exceptions from user mode.
pub static USER_EXCEPTIONS: AtomicU64 = AtomicU64::new(0);
/// Page faults that filled a block of pages (demand paging).
pub static DEMAND_FAULTS: AtomicU64 = AtomicU64::new(0);
/// Write faults on copy-on-write pages.
pub static COW_FAULTS: AtomicU64 = AtomicU64::new(0);
/// Event-channel upcalls.
pub static UPCALLS: AtomicU64 = AtomicU64::new(0);

/// Adds one to `counter`.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The counters as `name value` lines, MMU batching figures included.
pub fn render(out: &mut Vec<u8>) {
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let hypercalls = read(&HYPERCALLS) + read(&IRETS);
    let syscalls = read(&SYSCALLS);
    let faults = read(&USER_PAGE_FAULTS);
    let exceptions = read(&USER_EXCEPTIONS);
    let mmu = crate::mm::paging::MMU.lock().stats();
    let text = format!(
        "hypercalls {hypercalls}\n\
         irets {}\n\
         syscalls {syscalls}\n\
         page_faults {faults}\n\
         user_exceptions {exceptions}\n\
         demand_faults {}\n\
         cow_faults {}\n\
         upcalls {}\n\
         xen_entries {}\n\
         mmu_hypercalls {}\n\
         multicalls {}\n\
         multicall_entries {}\n\
         pte_updates {}\n\
         mmuext_ops {}\n\
         va_mappings {}\n\
         tlb_flushes {}\n\
         shared_frames {}\n",
        read(&IRETS),
        read(&DEMAND_FAULTS),
        read(&COW_FAULTS),
        read(&UPCALLS),
        hypercalls + syscalls + faults + exceptions,
        mmu.hypercalls,
        mmu.multicalls,
        mmu.multicall_entries,
        mmu.pte_updates,
        mmu.ext_ops,
        mmu.va_mappings,
        mmu.tlb_flushes,
        crate::mm::shares::shared_frames(),
    );
    out.extend_from_slice(text.as_bytes());
    // Then each hypercall number used so far (`hypercall.<n> count`).
    for (number, counter) in BY_NUMBER.iter().enumerate() {
        let count = read(counter);
        if count > 0 {
            out.extend_from_slice(format!("hypercall.{number} {count}\n").as_bytes());
        }
    }
}
