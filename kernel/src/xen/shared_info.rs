//! The shared_info page: event bitmaps, VCPU 0's info and the clocks.
//!
//! Xen and the guest both write this page (`xen.h`, "struct shared_info",
//! "struct vcpu_info"). Every access goes through atomics or volatile reads
//! at offsets computed from the ABI structs; no Rust reference into the
//! page is ever created, because Xen may change any byte at any time.
//!
//! Who writes what: Xen sets `evtchn_pending` bits, the selector and
//! `evtchn_upcall_pending`, and updates the time records under their
//! version counters; the guest clears pending bits, sets/clears mask bits
//! and `evtchn_upcall_mask`.

use core::cell::UnsafeCell;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel_core::time::{TimeRecord, WallTime};
use xen_abi::xen::{SharedInfo, VcpuInfo, VcpuTimeInfo};

use crate::xen::hypercall;

/// A page-aligned, page-sized hole in our image where shared_info is
/// mapped; the frame that backed it at load time is simply left unused.
#[repr(C, align(4096))]
struct PageWindow(UnsafeCell<[u8; 4096]>);

// SAFETY: the window is only ever accessed through atomics and volatile
// reads at computed addresses, never through Rust references.
unsafe impl Sync for PageWindow {}

static WINDOW: PageWindow = PageWindow(UnsafeCell::new([0; 4096]));

fn base() -> u64 {
    WINDOW.0.get() as u64
}

/// Maps the shared_info frame at our window. Must run before anything
/// else in this module is used.
pub fn map(shared_info_machine_address: u64) -> hypercall::XenResult {
    // Present | writable | accessed | dirty | no-execute (x86 PTE bits).
    let pte = (shared_info_machine_address & !0xfff) | 0x63 | 1 << 63;
    // SAFETY: the window is a page of our own .bss that no Rust code reads
    // as data (see PageWindow); remapping it cannot invalidate references.
    unsafe { hypercall::update_va_mapping(base(), pte, xen_abi::xen::UVMF_INVLPG) }
}

fn vcpu0_field(offset_in_vcpu_info: usize) -> u64 {
    base() + offset_of!(SharedInfo, vcpu_info) as u64 + offset_in_vcpu_info as u64
}

fn atomic_u8(address: u64) -> &'static AtomicU8 {
    // SAFETY: `address` lies inside the mapped shared_info page, which
    // stays mapped for the life of the kernel; AtomicU8 has the alignment
    // and size of the u8 ABI field, and Xen accesses it atomically too.
    unsafe { AtomicU8::from_ptr(address as *mut u8) }
}

fn atomic_u32(address: u64) -> &'static AtomicU32 {
    // SAFETY: as for atomic_u8; the ABI field is a naturally aligned u32.
    unsafe { AtomicU32::from_ptr(address as *mut u32) }
}

fn atomic_u64(address: u64) -> &'static AtomicU64 {
    // SAFETY: as for atomic_u8; the ABI field is a naturally aligned u64.
    unsafe { AtomicU64::from_ptr(address as *mut u64) }
}

/// `vcpu_info[0].evtchn_upcall_mask`: 1 = events are not delivered.
pub fn upcall_mask() -> &'static AtomicU8 {
    atomic_u8(vcpu0_field(offset_of!(VcpuInfo, evtchn_upcall_mask)))
}

/// `vcpu_info[0].evtchn_upcall_pending`: Xen sets it when it raises events.
pub fn upcall_pending() -> &'static AtomicU8 {
    atomic_u8(vcpu0_field(offset_of!(VcpuInfo, evtchn_upcall_pending)))
}

/// `vcpu_info[0].evtchn_pending_sel`: which pending words have news.
pub fn pending_selector() -> &'static AtomicU64 {
    atomic_u64(vcpu0_field(offset_of!(VcpuInfo, evtchn_pending_sel)))
}

/// `shared_info.evtchn_pending[word]`.
pub fn pending_word(word: usize) -> &'static AtomicU64 {
    assert!(word < 64, "2-level ABI has 64 words");
    atomic_u64(base() + offset_of!(SharedInfo, evtchn_pending) as u64 + word as u64 * 8)
}

/// `shared_info.evtchn_mask[word]`.
pub fn mask_word(word: usize) -> &'static AtomicU64 {
    assert!(word < 64, "2-level ABI has 64 words");
    atomic_u64(base() + offset_of!(SharedInfo, evtchn_mask) as u64 + word as u64 * 8)
}

/// `vcpu_info[0].arch.cr2`: the faulting address of the last page fault.
pub fn cr2() -> u64 {
    let offset = offset_of!(VcpuInfo, arch) + offset_of!(xen_abi::arch::ArchVcpuInfo, cr2);
    atomic_u64(vcpu0_field(offset)).load(Ordering::Relaxed)
}

/// A consistent copy of VCPU 0's `vcpu_time_info`.
///
/// Xen bumps `version` to odd before updating and to even after
/// (`xen.h`, "struct vcpu_time_info"), so we retry until we read the same
/// even version before and after copying the fields.
pub fn time_record() -> TimeRecord {
    let time = offset_of!(VcpuInfo, time);
    let field = |offset: usize| vcpu0_field(time + offset);
    let version = atomic_u32(field(offset_of!(VcpuTimeInfo, version)));
    loop {
        let before = version.load(Ordering::Acquire);
        if before & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let record = TimeRecord {
            tsc_timestamp: atomic_u64(field(offset_of!(VcpuTimeInfo, tsc_timestamp)))
                .load(Ordering::Relaxed),
            system_time_ns: atomic_u64(field(offset_of!(VcpuTimeInfo, system_time)))
                .load(Ordering::Relaxed),
            tsc_to_system_mul: atomic_u32(field(offset_of!(VcpuTimeInfo, tsc_to_system_mul)))
                .load(Ordering::Relaxed),
            tsc_shift: atomic_u8(field(offset_of!(VcpuTimeInfo, tsc_shift))).load(Ordering::Relaxed)
                as i8,
        };
        // Orders the field reads before the second version read.
        fence(Ordering::Acquire);
        if version.load(Ordering::Relaxed) == before {
            return record;
        }
    }
}

/// The wall-clock time at system time zero (`wc_sec_hi:wc_sec`, `wc_nsec`),
/// read under `wc_version` like the time record.
pub fn boot_wallclock() -> WallTime {
    let version = atomic_u32(base() + offset_of!(SharedInfo, wc_version) as u64);
    let read = |offset: usize| atomic_u32(base() + offset as u64).load(Ordering::Relaxed);
    loop {
        let before = version.load(Ordering::Acquire);
        if before & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let secs = read(offset_of!(SharedInfo, wc_sec)) as u64
            | (read(offset_of!(SharedInfo, wc_sec_hi)) as u64) << 32;
        let nanos = read(offset_of!(SharedInfo, wc_nsec));
        fence(Ordering::Acquire);
        if version.load(Ordering::Relaxed) == before {
            return WallTime { secs, nanos };
        }
    }
}

const _: () = assert!(size_of::<SharedInfo>() <= 4096, "shared_info fits one page");
