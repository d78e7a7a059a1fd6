//! xenrs: a paravirtualized x86_64 guest kernel for Xen.
//!
//! This is the composition root: `kernel_main` brings the machine up in
//! dependency order (console, shared_info, traps, events, memory, time),
//! prints the banner, runs what the command line asks (self-checks,
//! benchmarks) and shuts the domain down. ARCHITECTURE.md has the map.
//!
//! Unsafe code is confined to `arch::x86_64` (assembly, CPU instructions),
//! `xen::hypercall` (the hypercall page), and the few places that touch
//! memory Xen shares with us (`xen::shared_info`, `time`'s runstate area,
//! `mm`'s tables and heap); each block says why it is sound.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod bench;
mod counters;
mod domu;
mod events;
mod grant;
mod initrd;
mod mm;
mod process;
mod selftest;
mod shutdown;
mod time;
mod xen;
mod xenstore;

use core::sync::atomic::{AtomicU64, Ordering};

use kernel_core::cmdline::{self, CrashHook, Options};
use xen_abi::xen::StartInfo;
use xen_abi::Pfn;

use arch::x86_64::{cpu, traps};
use xen::start_info::BootInfo;

/// The kernel's version, as printed in the banner and the GUEST_VERSION note.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// TSC value at the first instruction of Rust code, for the boot time.
static ENTRY_TSC: AtomicU64 = AtomicU64::new(0);
/// That moment in Xen system time, converted as soon as shared_info is
/// mapped (while the time record still covers it).
static ENTRY_SYSTEM_NS: AtomicU64 = AtomicU64::new(0);

/// Called by `_start` with the address of start_info.
#[no_mangle]
extern "C" fn kernel_main(start_info: *const StartInfo) -> ! {
    ENTRY_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
    // SAFETY: Xen passes the address of the start_info page, mapped in the
    // boot mapping for the life of the domain; we copy what we need once.
    let raw = unsafe { &*start_info };
    let boot = match BootInfo::from_raw(raw, start_info as u64) {
        Ok(boot) => boot,
        Err(error) => {
            kprintln!("FATAL: unusable start_info: {error}");
            shutdown::crash("bad start_info");
        }
    };
    if let Err(error) = xen::shared_info::map(boot.shared_info_machine_address) {
        kprintln!("FATAL: cannot map shared_info: {error}");
        shutdown::crash("shared_info");
    }
    let record = xen::shared_info::time_record();
    let entry_ns = record.system_time_at(ENTRY_TSC.load(Ordering::Relaxed));

    ENTRY_SYSTEM_NS.store(entry_ns.min(time::system_time_ns()), Ordering::Relaxed);
    events::init();
    if let Err(error) = traps::init() {
        kprintln!("FATAL: cannot install trap table and callbacks: {error}");
        shutdown::crash("traps");
    }

    // The p2m first: the domU console ring is found through it.
    mm::init_p2m(boot.mfn_list, boot.nr_pages);
    if !boot.is_dom0() {
        domu::attach_console_early(&boot);
    }
    let options = cmdline::parse(boot.command_line(), |diagnostic| {
        kprintln!("cmdline: {diagnostic}");
    });
    xen::console::init_logging(options.log_level);
    if boot.unknown_flags() != 0 {
        log::warn!(
            "start_info has unknown flags {:#x}; ignored",
            boot.unknown_flags()
        );
    }
    if boot.is_dom0() {
        match xen::hypercall::set_iopl(1) {
            Ok(_) => shutdown::set_io_privilege(),
            Err(error) => log::warn!("no I/O privilege: {error}"),
        }
    }

    let (free_pages, max_pages) = init_memory(&boot);
    if let Err(error) = time::init() {
        kprintln!("FATAL: cannot set up time: {error}");
        shutdown::crash("time");
    }
    let max_pages = if boot.is_dom0() {
        max_pages
    } else {
        domu::attach(&boot);
        // The toolstack's maxmem is memory/static-max; Xen's own limit is
        // only raised when the target is.
        max_pages.max(domu::static_max_pages().unwrap_or(0))
    };
    grow_for_ballooning(&boot, max_pages);
    print_banner(&boot, free_pages, &options);
    match grant::init() {
        Ok(entries) => log::debug!("grant table: {entries} entries"),
        Err(error) => log::error!("grant table unavailable: {error}"),
    }

    if let Some(hook) = options.crash {
        crash_on_purpose(hook);
    }

    let mut failed = false;
    if options.selftest {
        failed |= !selftest::run(&boot, &options);
    }
    if options.bench {
        bench::run();
    }
    let now_ns = time::system_time_ns();
    let boot_ns = now_ns.saturating_sub(entry_system_time());
    log::debug!(
        "boot timing: entry_tsc={} entry_ns={} now_ns={} now_tsc={} record={:?}",
        ENTRY_TSC.load(Ordering::Relaxed),
        entry_system_time(),
        now_ns,
        cpu::rdtsc(),
        xen::shared_info::time_record()
    );
    kprintln!(
        "ready: {} boot complete in {} us",
        if boot.is_dom0() { "dom0" } else { "domU" },
        boot_ns / 1000
    );
    if failed {
        shutdown::crash("self-checks failed");
    }
    initrd::run_init(&boot, boot.command_line(), &options);
    if let Some(secs) = options.spin_secs {
        spin_and_report(secs);
    }
    match (options.shutdown, boot.is_dom0()) {
        (Some(action), _) => shutdown::finish(action),
        (None, true) => shutdown::finish(cmdline::ShutdownAction::Reboot),
        (None, false) => domu::serve_toolstack(),
    }
}

/// System time of the first Rust instruction.
fn entry_system_time() -> u64 {
    ENTRY_SYSTEM_NS.load(Ordering::Relaxed)
}

/// Frames, physmap and heap. Returns the free page count and how many
/// pages the domain may grow to, as far as Xen says.
fn init_memory(boot: &BootInfo) -> (u64, u64) {
    // Room for `maxmem`: a domain may start smaller and balloon up. The
    // bound keeps the p2m (8 bytes a page) small for a huge maxmem.
    let maximum = xen::hypercall::maximum_reservation().unwrap_or(boot.nr_pages);
    let max_pages = maximum
        .max(boot.nr_pages)
        .min(mm::frames::Allocator::CAPACITY)
        .min(boot.nr_pages.saturating_mul(16));
    if max_pages < maximum {
        log::warn!(
            "mm: maxmem of {maximum} pages exceeds what the kernel tracks; using {max_pages}"
        );
    }
    let unusable = mm::frames::FRAMES.lock().reset(max_pages);
    if unusable > 0 {
        log::warn!("mm: {unusable} pages beyond the frame allocator's capacity are unused");
    }
    // Everything below the end of Xen's start-of-day mapping is image,
    // initrd, p2m, start_info, tables, stack or mapped padding.
    mm::frames::FRAMES
        .lock()
        .add_free_range(Pfn(boot.bootstrap_mapped_end_pfn()), Pfn(boot.nr_pages));
    mm::paging::mark_bootstrap_tables(boot);
    // Before the physmap, which needs frames for its tables: in a 4 MiB
    // domain the padding is all the free memory there is.
    match mm::paging::reclaim_boot_padding(boot) {
        Ok(range) => mm::frames::FRAMES
            .lock()
            .add_free_range(Pfn(range.start), Pfn(range.end)),
        Err(error) => log::warn!("mm: boot padding not reclaimed: {error}"),
    }
    if let Err(error) = mm::paging::build_physmap(boot) {
        kprintln!("FATAL: cannot build the physmap: {error}");
        shutdown::crash("physmap");
    }
    if let Err(error) = mm::heap::init() {
        kprintln!("FATAL: cannot map the heap: {error}");
        shutdown::crash("heap");
    }
    (mm::frames::free_count(), max_pages)
}

/// Sizes the p2m and the frame allocator for `max_pages`, so pfns between
/// the boot size and maxmem can be ballooned in later. The bound keeps the
/// p2m (8 bytes a page) small when maxmem is huge.
fn grow_for_ballooning(boot: &BootInfo, max_pages: u64) {
    let bounded = max_pages
        .min(mm::frames::Allocator::CAPACITY)
        .min(boot.nr_pages.saturating_mul(16));
    if bounded < max_pages {
        log::warn!(
            "mm: maxmem of {max_pages} pages exceeds what the kernel tracks; using {bounded}"
        );
    }
    mm::frames::FRAMES.lock().extend_limit(bounded);
    mm::grow_p2m(bounded);
    mm::balloon::init(boot.nr_pages);
}

fn print_banner(boot: &BootInfo, free_pages: u64, options: &Options) {
    kprintln!(
        "xenrs {VERSION} booting as {}",
        if boot.is_dom0() { "dom0" } else { "domU" }
    );
    let (major, minor) = xen::hypercall::xen_version();
    let mut extra = [0u8; 16];
    let mut caps = [0u8; 1024];
    let _ = xen::hypercall::xen_version_string(xen_abi::version::XENVER_EXTRAVERSION, &mut extra);
    let _ = xen::hypercall::xen_version_string(xen_abi::version::XENVER_CAPABILITIES, &mut caps);
    kprintln!(
        "xen: version {major}.{minor}{} caps \"{}\" features={:#x}",
        cmdline::from_start_info_bytes(&extra),
        cmdline::from_start_info_bytes(&caps),
        xen::hypercall::xen_features().unwrap_or(0)
    );
    let cs = cpu::code_segment();
    kprintln!("cpu: kernel runs in ring {} (cs={cs:#x})", cs & 3);
    kprintln!(
        "memory: nr_pages={} ({} MiB) free_pages={free_pages} flags={:#x}{}",
        boot.nr_pages,
        boot.nr_pages / 256,
        boot.flags,
        if boot.is_privileged() {
            " privileged"
        } else {
            ""
        }
    );
    kprintln!("cmdline: \"{}\"", boot.command_line());
    log::debug!(
        "layout: start_info={:#x} pt_base={:#x} ({} frames) mfn_list={:#x} \
         module={:#x}+{:#x} store={:#x}/{} console={:#x}/{}",
        boot.start_info_address,
        boot.pt_base,
        boot.nr_pt_frames,
        boot.mfn_list,
        boot.module_start,
        boot.module_length,
        boot.store_mfn.0,
        boot.store_evtchn.0,
        boot.console_mfn.0,
        boot.console_evtchn.0
    );
    let wall = time::wallclock();
    kprintln!(
        "time: wallclock={}.{:09} system_ns={} virtual_ns={}",
        wall.secs,
        wall.nanos,
        time::system_time_ns(),
        time::virtual_ns()
    );
    if options.hostclock_secs.is_none() && options.selftest {
        log::info!("no hostclock= option: the host clock check will be skipped");
    }
}

/// Burns the CPU for `secs` seconds of real time and prints the share of
/// it this VCPU actually ran (virtual / real), and the time Xen reports as
/// stolen (runnable but not running): the figures a fair scheduler needs.
fn spin_and_report(secs: u64) {
    let (real_start, virtual_start) = (time::system_time_ns(), time::virtual_ns());
    let stolen_start = time::runstate().stolen_ns(real_start);
    let deadline = real_start + secs * 1_000_000_000;
    let mut iterations = 0u64;
    while time::system_time_ns() < deadline {
        iterations = core::hint::black_box(iterations.wrapping_add(1));
    }
    let (real_end, virtual_end) = (time::system_time_ns(), time::virtual_ns());
    let stolen = time::runstate().stolen_ns(real_end) - stolen_start;
    let (real, virt) = (real_end - real_start, virtual_end - virtual_start);
    kprintln!(
        "cpu-share: real_ms={} virtual_ms={} stolen_ms={} share={:.2}",
        real / 1_000_000,
        virt / 1_000_000,
        stolen / 1_000_000,
        virt as f64 / real.max(1) as f64
    );
}

fn crash_on_purpose(hook: CrashHook) {
    kprintln!("crash: deliberately crashing ({hook:?}) as the command line asked");
    match hook {
        CrashHook::PageFault => {
            // Canonical, in an L4 slot the kernel never maps.
            let address = 0xffff_9000_dead_0000u64 as *mut u64;
            // SAFETY: deliberately unsound on request: the write faults
            // (the address is unmapped) and the trap handler shuts down.
            unsafe { core::ptr::write_volatile(address, 1) };
        }
        CrashHook::Panic => panic!("crash=panic requested on the command line"),
        CrashHook::Divide => {
            let _ = core::hint::black_box(cpu::divide_by_zero());
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    shutdown::enter_crash_path(|| {
        match info.location() {
            Some(location) => xen::console::print_emergency(format_args!(
                "FATAL: panic at {}:{}: {}\n",
                location.file(),
                location.line(),
                info.message()
            )),
            None => {
                xen::console::print_emergency(format_args!("FATAL: panic: {}\n", info.message()))
            }
        }
        traps::print_backtrace(None, cpu::frame_pointer());
    });
    shutdown::crash("panic")
}
