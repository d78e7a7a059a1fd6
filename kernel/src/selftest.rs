//! Boot-time self-checks on real Xen (`selftest` on the command line).
//!
//! Each check prints one line, `selftest: <name>: ok (<detail>)`,
//! `FAIL (<detail>)` or `skip (<why>)`, and the run ends with the summary
//! `selftest: N passed, M failed` (plus `, K skipped` when some were).
//! The checks exercise the real hypervisor: page-table batching, event
//! channels, timers and the three clocks.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use kernel_core::cmdline::Options;
use kernel_core::time::WallTime;
use kernel_core::timer_queue::TimerId;
use spin::Mutex;
use xen_abi::{Mfn, Pfn};

use crate::events::{self, Loopback};
use crate::mm::paging::MMU;
use crate::mm::{frames, pfn_to_mfn, physmap_address, SCRATCH_BASE};
use crate::time::{self, TimerAction};
use crate::xen::start_info::BootInfo;
use crate::{kprintln, shutdown};

type CheckResult = Result<String, String>;

#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
    skipped: u32,
}

impl Tally {
    fn record(&mut self, name: &str, result: CheckResult) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                kprintln!("selftest: {name}: ok ({detail})");
            }
            Err(detail) => {
                self.failed += 1;
                kprintln!("selftest: {name}: FAIL ({detail})");
            }
        }
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.skipped += 1;
        kprintln!("selftest: {name}: skip ({why})");
    }
}

/// Runs every check; returns true when none failed.
pub fn run(boot: &BootInfo, options: &Options) -> bool {
    let mut tally = Tally::default();
    // Sized to the domain: 2048 pages, or half of what is free in a small one.
    let (readback, batching) = mmu_map_readback(2048.min(frames::free_count() / 2));
    tally.record("mmu-map-readback", readback);
    tally.record("mmu-batching", batching);
    tally.record("mmu-pin", mmu_pin());
    tally.record("heap-grow", heap_grow());
    tally.record("balloon", balloon());
    let domid = if boot.is_dom0() {
        Some(xen_abi::DomId(0))
    } else {
        crate::xenstore::read("domid")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .map(xen_abi::DomId)
    };
    match domid {
        Some(domid) => tally.record("grant-copy", grant_copy(domid)),
        None => tally.record(
            "grant-copy",
            Err("our domain id is unknown (xenstore 'domid')".into()),
        ),
    }
    if boot.is_dom0() {
        tally.skip("xenstore", "this dom0 runs no xenstored");
    } else {
        tally.record("xenstore", xenstore_check());
    }
    tally.record("user-mode", user_mode());
    tally.record("event-loopback", event_loopback());
    tally.record("event-spurious", event_spurious());
    tally.record("timer-order", timer_order());
    tally.record("timer-past", timer_past());
    tally.record("realtime-monotonic", realtime_monotonic());
    if boot.is_dom0() && shutdown::has_io_privilege() {
        tally.record("wallclock-rtc", wallclock_rtc());
    } else {
        tally.skip("wallclock-rtc", "only dom0 can read the RTC");
    }
    match options.hostclock_secs {
        Some(host) => tally.record("wallclock-host", wallclock_host(host)),
        None => tally.skip("wallclock-host", "no hostclock= option"),
    }
    tally.record("virtual-time", virtual_time());
    if tally.skipped > 0 {
        kprintln!(
            "selftest: {} passed, {} failed, {} skipped",
            tally.passed,
            tally.failed,
            tally.skipped
        );
    } else {
        kprintln!("selftest: {} passed, {} failed", tally.passed, tally.failed);
    }
    tally.failed == 0
}

fn pattern(pfn: Pfn, offset: u64) -> u64 {
    0x5e1f_7e57_0000_0000 ^ pfn.0 << 12 ^ offset
}

fn read_u64(address: u64) -> u64 {
    // SAFETY: callers pass addresses inside pages they mapped and still
    // hold (the physmap or the scratch window); 8-byte aligned.
    unsafe { core::ptr::read_volatile(address as *const u64) }
}

fn write_u64(address: u64, value: u64) {
    // SAFETY: as read_u64; the frames are ours and unused by anything else.
    unsafe { core::ptr::write_volatile(address as *mut u64, value) }
}

/// Maps `count` frames at the scratch window, reads them back, unmaps,
/// remaps them in reverse order and reads again. The second result judges
/// the batching of the bulk map.
fn mmu_map_readback(count: u64) -> (CheckResult, CheckResult) {
    let mut pfns = Vec::new();
    for _ in 0..count {
        match frames::allocate() {
            Ok(pfn) => pfns.push(pfn),
            Err(error) => {
                pfns.into_iter().for_each(|pfn| {
                    let _ = frames::free(pfn);
                });
                let failure = Err(format!("cannot allocate {count} frames: {error}"));
                return (failure.clone(), failure);
            }
        }
    }
    let mfns: Vec<Mfn> = pfns
        .iter()
        .map(|&pfn| pfn_to_mfn(pfn).expect("populated"))
        .collect();
    for &pfn in &pfns {
        write_u64(physmap_address(pfn), pattern(pfn, 0));
        write_u64(physmap_address(pfn) + 4088, pattern(pfn, 4088));
    }
    let result = (|| -> Result<(String, String), String> {
        let mut mmu = MMU.lock();
        // First mapping creates the window's tables: not what we measure.
        let before_first = mmu.stats();
        for (i, &mfn) in mfns.iter().enumerate() {
            mmu.map(SCRATCH_BASE + i as u64 * 4096, mfn, true)
                .map_err(|e| format!("map: {e}"))?;
        }
        mmu.commit().map_err(|e| format!("commit map: {e}"))?;
        let first_map = mmu.stats().since(&before_first);
        drop(mmu);
        verify(&pfns, |i| i)?;
        let mut mmu = MMU.lock();
        let before_unmap = mmu.stats();
        for i in 0..count {
            let old = mmu
                .unmap(SCRATCH_BASE + i * 4096)
                .map_err(|e| format!("unmap: {e}"))?;
            if old != mfns[i as usize] {
                return Err(format!(
                    "page {i} mapped {:#x}, expected {:#x}",
                    old.0, mfns[i as usize].0
                ));
            }
        }
        mmu.commit().map_err(|e| format!("commit unmap: {e}"))?;
        let unmap = mmu.stats().since(&before_unmap);
        if mmu.translate(SCRATCH_BASE).is_some() {
            return Err("page still mapped after unmap".into());
        }
        // Remap in reverse order: tables exist now, so this is pure PTE work.
        let before_remap = mmu.stats();
        for (i, &mfn) in mfns.iter().rev().enumerate() {
            mmu.map(SCRATCH_BASE + i as u64 * 4096, mfn, true)
                .map_err(|e| format!("remap: {e}"))?;
        }
        mmu.commit().map_err(|e| format!("commit remap: {e}"))?;
        let remap = mmu.stats().since(&before_remap);
        drop(mmu);
        verify(&pfns, |i| pfns.len() - 1 - i)?;
        let mut mmu = MMU.lock();
        for i in 0..count {
            mmu.unmap(SCRATCH_BASE + i * 4096)
                .map_err(|e| format!("unmap: {e}"))?;
        }
        mmu.commit().map_err(|e| format!("commit unmap: {e}"))?;
        let readback = format!(
            "{count} pages mapped, read back, unmapped, remapped reversed, read back; \
             first map: {} PTE writes in {} hypercalls",
            first_map.pte_updates, first_map.hypercalls
        );
        let per_call = remap.pte_updates / remap.hypercalls.max(1);
        // One TLB flush per unmap commit, not one per page.
        let batching_ok = per_call >= 256
            && unmap.tlb_flushes == unmap.hypercalls
            && remap.hypercalls <= count.div_ceil(1024);
        let batching = format!(
            "remap of {count} pages: {} hypercalls, {per_call} PTE updates per hypercall; \
             unmap: {} hypercalls, {} TLB flushes",
            remap.hypercalls, unmap.hypercalls, unmap.tlb_flushes
        );
        if batching_ok {
            Ok((readback, batching))
        } else {
            Ok((readback, format!("BATCHING TOO WEAK: {batching}")))
        }
    })();
    for &pfn in &pfns {
        let _ = frames::free(pfn);
    }
    match result {
        Ok((readback, batching)) if batching.starts_with("BATCHING") => {
            (Ok(readback), Err(batching))
        }
        Ok((readback, batching)) => (Ok(readback), Ok(batching)),
        Err(error) => (Err(error.clone()), Err(format!("not measured: {error}"))),
    }
}

/// Checks every scratch page `i` shows the pattern of frame `which(i)`.
fn verify(pfns: &[Pfn], which: impl Fn(usize) -> usize) -> Result<(), String> {
    for i in 0..pfns.len() {
        let pfn = pfns[which(i)];
        let page = SCRATCH_BASE + i as u64 * 4096;
        for offset in [0, 4088] {
            let (got, want) = (read_u64(page + offset), pattern(pfn, offset));
            if got != want {
                return Err(format!(
                    "page {i} offset {offset}: read {got:#x}, expected {want:#x}"
                ));
            }
        }
    }
    Ok(())
}

/// Builds a second kernel L4, pinned, in one hypercall; runs on it; goes
/// back and tears it down.
fn mmu_pin() -> CheckResult {
    static MARKER: u64 = 0x0123_4567_89ab_cdef;
    let mut mmu = MMU.lock();
    mmu.commit().map_err(|e| format!("commit: {e}"))?;
    let before = mmu.stats();
    let table = mmu.create_pinned_l4().map_err(|e| format!("create: {e}"))?;
    mmu.commit().map_err(|e| format!("pin: {e}"))?;
    let create = mmu.stats().since(&before);
    mmu.switch_kernel_base(Some(&table))
        .map_err(|e| format!("switch: {e}"))?;
    // SAFETY: reads a static through its address after the switch; the new
    // L4 maps the kernel image at the same address.
    let seen = unsafe { core::ptr::read_volatile(&raw const MARKER) };
    let heap_probe: Vec<u8> = alloc::vec![7; 64];
    mmu.switch_kernel_base(None)
        .map_err(|e| format!("switch back: {e}"))?;
    mmu.destroy_pinned_l4(table)
        .map_err(|e| format!("destroy: {e}"))?;
    if seen != MARKER || heap_probe.iter().any(|&b| b != 7) {
        return Err("kernel memory read wrong on the new L4".into());
    }
    if create.hypercalls != 1 {
        return Err(format!(
            "creating and pinning took {} hypercalls",
            create.hypercalls
        ));
    }
    Ok(format!(
        "new L4 cleared, {} entries copied and pinned in 1 hypercall; ran on it and back",
        create.pte_updates - 1
    ))
}

/// Gives 1 MiB back to Xen and takes it again.
fn balloon() -> CheckResult {
    use crate::mm::balloon;
    let start = balloon::current_pages();
    let free_before = frames::free_count();
    // 1 MiB, or a quarter of what is free beyond the kernel's reserve.
    let step = 256.min(free_before.saturating_sub(256) / 4);
    if step == 0 {
        return Err(format!("only {free_before} free pages: nothing to balloon"));
    }
    balloon::set_target(start - step).map_err(|e| format!("shrink: {e}"))?;
    let shrunk = balloon::current_pages();
    let free_shrunk = frames::free_count();
    balloon::set_target(start).map_err(|e| format!("grow: {e}"))?;
    let regrown = balloon::current_pages();
    if shrunk != start - step || regrown != start || free_shrunk + step != free_before {
        return Err(format!(
            "reservation {start} -> {shrunk} -> {regrown} pages, free {free_before} -> {free_shrunk}"
        ));
    }
    // The repopulated frames must be usable memory.
    let mut block: Vec<u8> = Vec::new();
    let bytes = (step as usize * 4096 * 2).min(2 << 20);
    block
        .try_reserve_exact(bytes)
        .map_err(|e| format!("allocate after regrow: {e}"))?;
    block.resize(bytes, 0xa5);
    if block.iter().any(|&b| b != 0xa5) {
        return Err("memory read back wrong after regrow".into());
    }
    Ok(format!(
        "reservation {start} -> {shrunk} -> {regrown} pages"
    ))
}

/// Runs two tiny programs in ring 3 in their own address space: one that
/// writes, gets ENOSYS for an unknown call and exits with a status derived
/// from both results; one that faults and is killed. The kernel survives
/// both and gets every frame back.
fn user_mode() -> CheckResult {
    use crate::arch::x86_64::test_programs;
    use crate::process::{run_program, UserExit};
    let free_before = frames::free_count();
    let (exit, output) = run_program(test_programs::hello())?;
    let expected = b"user: hello from ring 3\n";
    if output != expected {
        return Err(format!(
            "program wrote {:?}",
            String::from_utf8_lossy(&output)
        ));
    }
    let status = expected.len() as i32 + 100 * 38;
    if exit != UserExit::Exited(status) {
        return Err(format!(
            "hello ended {exit:?}, expected exit status {status}"
        ));
    }
    let (killed, _) = run_program(test_programs::fault())?;
    match &killed {
        UserExit::Killed { signal: 11, reason } if reason.contains("0x5000") => {}
        other => return Err(format!("faulting program ended {other:?}")),
    }
    let (fpu, _) = run_program(test_programs::fpu())?;
    if fpu != UserExit::Exited(0) {
        return Err(format!(
            "user SSE registers or MXCSR were not preserved across a clobbering syscall: {fpu:?}"
        ));
    }
    let free_after = frames::free_count();
    if free_after != free_before {
        return Err(format!(
            "{} frames leaked",
            free_before as i64 - free_after as i64
        ));
    }
    Ok(format!(
        "ring-3 program wrote, got ENOSYS and exited {status}; faulting program killed \
         by SIGSEGV; SSE state kept across a clobbering syscall; no frame leaked"
    ))
}

/// Grants a page to ourselves and copies it with GNTTABOP_copy through the
/// grant; a copy through a reference we never granted must fail cleanly.
fn grant_copy(domid: xen_abi::DomId) -> CheckResult {
    use xen_abi::grant_table::{GnttabCopy, GnttabCopyPtr, GNTCOPY_SOURCE_GREF};
    let (source, destination) = match (frames::allocate(), frames::allocate()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err("cannot allocate two frames".into()),
    };
    let result = (|| {
        for offset in (0..4096).step_by(8) {
            write_u64(physmap_address(source) + offset, pattern(source, offset));
            write_u64(physmap_address(destination) + offset, 0);
        }
        let source_mfn = pfn_to_mfn(source).expect("populated");
        let destination_mfn = pfn_to_mfn(destination).expect("populated");
        let gref = crate::grant::grant_access(domid, source_mfn, true)
            .map_err(|e| format!("grant: {e}"))?;
        let copy = |gref: xen_abi::GrantRef| {
            let mut operation = [GnttabCopy {
                source: GnttabCopyPtr::grant(gref, domid, 0),
                dest: GnttabCopyPtr::frame(destination_mfn.0, xen_abi::DomId::SELF, 0),
                len: 4096,
                flags: GNTCOPY_SOURCE_GREF,
                status: 0,
            }];
            // SAFETY: the destination is a frame this check allocated and
            // reads back only through raw physmap pointers.
            unsafe { crate::xen::hypercall::grant_copy(&mut operation) }
                .map_err(|e| format!("GNTTABOP_copy: {e}"))?;
            Ok::<i16, String>(operation[0].status)
        };
        let status = copy(gref)?;
        crate::grant::end_access(gref).map_err(|e| format!("end access: {e}"))?;
        if status != 0 {
            return Err(format!(
                "copy through our grant failed with status {status}"
            ));
        }
        for offset in (0..4096).step_by(8) {
            let (got, want) = (
                read_u64(physmap_address(destination) + offset),
                pattern(source, offset),
            );
            if got != want {
                return Err(format!(
                    "copied page differs at {offset}: {got:#x} vs {want:#x}"
                ));
            }
        }
        // The reference is revoked now: Xen must refuse it.
        let refused = copy(gref)?;
        if refused == 0 {
            return Err("a copy through a revoked grant succeeded".into());
        }
        let (free, quarantined) = crate::grant::usage();
        Ok(format!(
            "4 KiB copied through grant {} to ourselves (domain {}); revoked grant refused \
             with status {refused}; {free} free, {quarantined} quarantined",
            gref.0, domid.0
        ))
    })();
    let _ = frames::free(source);
    let _ = frames::free(destination);
    result
}

/// Reads, writes, lists, watches and transacts on real xenstored.
fn xenstore_check() -> CheckResult {
    use crate::xenstore::{self as store, StoreError};
    let key = "data/xenrs-selftest";
    store::write(key, "one").map_err(|e| format!("write: {e}"))?;
    let value = store::read(key).map_err(|e| format!("read: {e}"))?;
    if value != "one" {
        return Err(format!("read back {value:?}, wrote \"one\""));
    }
    let listing = store::directory("data").map_err(|e| format!("directory: {e}"))?;
    if !listing.iter().any(|name| name == "xenrs-selftest") {
        return Err(format!("directory data lacks our key: {listing:?}"));
    }
    store::watch(key, "selftest-watch").map_err(|e| format!("watch: {e}"))?;
    // xenstored fires a new watch once when it is registered (before or
    // after the reply); collect that, then require an event for a write.
    let mut seen: Vec<String> = Vec::new();
    let collect = |seen: &mut Vec<String>, until: u64, want_write: bool| {
        while time::system_time_ns() < until {
            match store::take_watch_event() {
                Some(event) => {
                    let ours = event.token == "selftest-watch";
                    seen.push(format!("{}@{}", event.token, event.path));
                    if ours && want_write {
                        return true;
                    }
                }
                None => time::sleep_ns(5_000_000),
            }
        }
        false
    };
    collect(&mut seen, time::system_time_ns() + 200_000_000, false);
    let mut fired = false;
    let mut writes = 0;
    while !fired && writes < 3 {
        writes += 1;
        store::write(key, "two").map_err(|e| format!("write: {e}"))?;
        fired = collect(&mut seen, time::system_time_ns() + 3_000_000_000, true);
    }
    let _ = store::unwatch(key, "selftest-watch");
    if !fired {
        return Err(format!("no watch event after {writes} writes: {seen:?}"));
    }
    let events = seen.len();
    store::transaction(|tx| {
        store::write_in(tx, "data/xenrs-selftest-a", "1")?;
        store::write_in(tx, "data/xenrs-selftest-b", "2")
    })
    .map_err(|e| format!("transaction: {e}"))?;
    let b =
        store::read("data/xenrs-selftest-b").map_err(|e| format!("read after transaction: {e}"))?;
    for path in [key, "data/xenrs-selftest-a", "data/xenrs-selftest-b"] {
        store::remove(path).map_err(|e| format!("rm {path}: {e}"))?;
    }
    let missing = match store::read(key) {
        Err(StoreError::Xs(xen_io::xenstore::XsError::Enoent)) => "ENOENT",
        Err(error) => return Err(format!("reading a removed key: unexpected {error}")),
        Ok(value) => return Err(format!("removed key still reads {value:?}")),
    };
    if b != "2" {
        return Err(format!("transaction wrote {b:?}"));
    }
    Ok(format!(
        "write/read/directory, watch fired {events} times ({writes} write(s) \
         to see one for a write), transaction committed, removed key reads {missing}"
    ))
}

/// Allocates a block larger than the initial heap and checks its contents.
fn heap_grow() -> CheckResult {
    let (mapped_before, _) = crate::mm::heap::usage();
    // 4 MiB, or a quarter of free memory in a small domain.
    let words = (512 * 1024).min(frames::free_count() as usize * 4096 / 4 / 8);
    let mut block: Vec<u64> = Vec::new();
    block
        .try_reserve_exact(words)
        .map_err(|e| format!("cannot allocate {} KiB: {e}", words / 128))?;
    block.extend((0..words as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let bad = block
        .iter()
        .enumerate()
        .filter(|(i, &v)| v != (*i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .count();
    let (mapped_after, _) = crate::mm::heap::usage();
    drop(block);
    if bad != 0 {
        return Err(format!(
            "{bad} words of a {} KiB block read back wrong",
            words / 128
        ));
    }
    Ok(format!(
        "heap grew from {} KiB to {} KiB",
        mapped_before / 1024,
        mapped_after / 1024
    ))
}

/// Waits up to `timeout_ns` for an event on `port`.
fn wait_for(port: xen_abi::EventChannelPort, timeout_ns: u64) -> bool {
    let deadline = time::system_time_ns() + timeout_ns;
    let timer = time::add_timer(deadline, TimerAction::Wake);
    let fired = loop {
        if events::take_fired(port) {
            break true;
        }
        if time::system_time_ns() >= deadline {
            break false;
        }
        events::block();
        time::poll();
    };
    if let Some(timer) = timer {
        time::cancel_timer(timer);
    }
    fired
}

fn event_loopback() -> CheckResult {
    let channel = Loopback::new().map_err(|e| format!("cannot create loopback channel: {e}"))?;
    let upcalls_before = events::UPCALLS.load(Ordering::Relaxed);
    crate::xen::hypercall::notify(channel.b).map_err(|e| format!("notify b: {e}"))?;
    if !wait_for(channel.a, 1_000_000_000) {
        return Err(format!(
            "no event on port {} after notifying {}",
            channel.a.0, channel.b.0
        ));
    }
    crate::xen::hypercall::notify(channel.a).map_err(|e| format!("notify a: {e}"))?;
    if !wait_for(channel.b, 1_000_000_000) {
        return Err(format!(
            "no event on port {} after notifying {}",
            channel.b.0, channel.a.0
        ));
    }
    // While masked, an event stays pending and is not delivered ...
    events::mask(channel.a).map_err(|e| format!("{e}"))?;
    crate::xen::hypercall::notify(channel.b).map_err(|e| format!("notify b: {e}"))?;
    if wait_for(channel.a, 20_000_000) {
        return Err("event delivered while its port was masked".into());
    }
    // ... and unmasking delivers it.
    events::unmask(channel.a).map_err(|e| format!("{e}"))?;
    if !wait_for(channel.a, 1_000_000_000) {
        return Err("event pending while masked was lost on unmask".into());
    }
    let upcalls = events::UPCALLS.load(Ordering::Relaxed) - upcalls_before;
    Ok(format!(
        "ports {}<->{}: both directions, mask holds, unmask delivers ({upcalls} upcalls)",
        channel.a.0, channel.b.0
    ))
}

/// An event on a port the kernel did not bind is counted and masked, and
/// the kernel goes on.
fn event_spurious() -> CheckResult {
    let channel = Loopback::new().map_err(|e| format!("cannot create loopback channel: {e}"))?;
    events::unbind(channel.a).map_err(|e| format!("{e}"))?;
    // Unmask it in Xen again, as a peer's stray event would find it.
    events::unmask(channel.a).map_err(|e| format!("{e}"))?;
    let before = events::SPURIOUS.load(Ordering::Relaxed);
    crate::xen::hypercall::notify(channel.b).map_err(|e| format!("notify: {e}"))?;
    // Wait for the event to be seen, not for a fixed time: a loaded host
    // can deschedule us past a short sleep before any event is collected.
    let deadline = time::system_time_ns() + 1_000_000_000;
    while events::SPURIOUS.load(Ordering::Relaxed) == before && time::system_time_ns() < deadline {
        let tick = time::add_timer(time::system_time_ns() + 1_000_000, time::TimerAction::Wake);
        events::block();
        time::poll();
        if let Some(tick) = tick {
            time::cancel_timer(tick);
        }
    }
    // A second, wrong count would show up here.
    time::sleep_ns(5_000_000);
    let spurious = events::SPURIOUS.load(Ordering::Relaxed) - before;
    let word = (channel.a.0 / 64) as usize;
    let masked = crate::xen::shared_info::mask_word(word).load(Ordering::SeqCst)
        & 1 << (channel.a.0 % 64)
        != 0;
    if events::take_fired(channel.a) {
        return Err("an unbound port was delivered as fired".into());
    }
    if spurious != 1 || !masked {
        return Err(format!(
            "spurious count rose by {spurious}, port masked: {masked}"
        ));
    }
    Ok(format!(
        "event on unbound port {} counted once and masked",
        channel.a.0
    ))
}

/// (timer, system time it ran) in firing order.
static FIRINGS: Mutex<Vec<(TimerId, u64)>> = Mutex::new(Vec::new());

fn record_firing(id: TimerId, now: u64) {
    FIRINGS.lock().push((id, now));
}

fn timer_order() -> CheckResult {
    FIRINGS.lock().clear();
    let start = time::system_time_ns();
    let offsets_ms = [30u64, 10, 20, 10, 5];
    let mut armed = Vec::new();
    for offset in offsets_ms {
        let deadline = start + offset * 1_000_000;
        let id = time::add_timer(deadline, TimerAction::Call(record_firing))
            .ok_or("timer queue full")?;
        armed.push((id, deadline));
    }
    time::sleep_until(start + 40_000_000);
    let firings = FIRINGS.lock().clone();
    let mut expected = armed.clone();
    expected.sort_by_key(|&(id, deadline)| (deadline, id));
    let order: Vec<TimerId> = firings.iter().map(|&(id, _)| id).collect();
    let expected_order: Vec<TimerId> = expected.iter().map(|&(id, _)| id).collect();
    if order != expected_order {
        return Err(format!("fired {order:?}, expected {expected_order:?}"));
    }
    let mut worst_late_ns = 0;
    for (&(id, fired_at), &(_, deadline)) in firings.iter().zip(&expected) {
        if fired_at < deadline {
            return Err(format!(
                "timer {id:?} fired {} ns early",
                deadline - fired_at
            ));
        }
        worst_late_ns = worst_late_ns.max(fired_at - deadline);
    }
    Ok(format!(
        "{} timers fired in deadline order, none early, latest {} us late",
        firings.len(),
        worst_late_ns / 1000
    ))
}

fn timer_past() -> CheckResult {
    FIRINGS.lock().clear();
    let now = time::system_time_ns();
    let deadline = now.saturating_sub(1_000_000);
    let id =
        time::add_timer(deadline, TimerAction::Call(record_firing)).ok_or("timer queue full")?;
    let give_up = now + 100_000_000;
    while FIRINGS.lock().is_empty() && time::system_time_ns() < give_up {
        time::sleep_ns(1_000_000);
    }
    let firings = FIRINGS.lock().clone();
    match firings.as_slice() {
        [(fired, at)] if *fired == id => Ok(format!(
            "deadline 1 ms in the past fired {} us after arming",
            at.saturating_sub(now) / 1000
        )),
        other => Err(format!("expected one firing of {id:?}, got {other:?}")),
    }
}

fn realtime_monotonic() -> CheckResult {
    let reads = 200_000;
    let first = time::system_time_ns();
    let mut previous = first;
    for _ in 0..reads {
        let now = time::system_time_ns();
        if now < previous {
            return Err(format!("system time went back from {previous} to {now}"));
        }
        previous = now;
    }
    Ok(format!(
        "{reads} reads, never backwards, {} ns per read, no hypercall",
        (previous - first) / reads
    ))
}

fn wallclock_rtc() -> CheckResult {
    let registers = crate::arch::x86_64::cmos::read();
    let wall = time::wallclock();
    let rtc = registers.to_unix_seconds().map_err(|e| format!("{e}"))?;
    let rtc = WallTime {
        secs: rtc,
        nanos: 0,
    };
    // The RTC counts whole seconds: it may lag the wall clock by up to 1 s.
    let difference_ns = wall.nanos_since(&rtc);
    if difference_ns.abs() > 2_000_000_000 {
        return Err(format!(
            "wall clock {}.{:09} vs RTC {}: off by {} ms",
            wall.secs,
            wall.nanos,
            rtc.secs,
            difference_ns / 1_000_000
        ));
    }
    Ok(format!(
        "wall clock within {} ms of the RTC",
        difference_ns / 1_000_000
    ))
}

fn wallclock_host(host_secs: u64) -> CheckResult {
    let wall = time::wallclock();
    let uptime_ns = time::system_time_ns() as i128;
    let difference_ns = wall.nanos_since(&WallTime {
        secs: host_secs,
        nanos: 0,
    });
    // The host read its clock before starting QEMU; since then at least
    // our uptime has passed, plus QEMU's and Xen's start-up before Xen's
    // time zero. Allow 2 s either side of [0, uptime + 3 s].
    let low = -2_000_000_000i128;
    let high = uptime_ns + 5_000_000_000;
    if difference_ns < low || difference_ns > high {
        return Err(format!(
            "wall clock is {} ms after the host's launch time, outside [{} ms, {} ms]",
            difference_ns / 1_000_000,
            low / 1_000_000,
            high / 1_000_000
        ));
    }
    Ok(format!(
        "wall clock {} ms after launch (uptime {} ms)",
        difference_ns / 1_000_000,
        uptime_ns / 1_000_000
    ))
}

fn virtual_time() -> CheckResult {
    let upcalls_before = events::UPCALLS.load(Ordering::Relaxed);
    let (real_before, virtual_before) = (time::system_time_ns(), time::virtual_ns());
    time::sleep_ns(200_000_000);
    let (real_after, virtual_after) = (time::system_time_ns(), time::virtual_ns());
    let (real, virt) = (real_after - real_before, virtual_after - virtual_before);
    let runstate = time::runstate();
    let upcalls = events::UPCALLS.load(Ordering::Relaxed) - upcalls_before;
    if upcalls == 0 {
        return Err("slept 200 ms but no event upcall woke the VCPU".into());
    }
    if virtual_after > real_after {
        return Err(format!(
            "virtual time {virtual_after} ns ahead of real time {real_after} ns"
        ));
    }
    if virt * 2 > real {
        return Err(format!(
            "blocked sleep of {} ms consumed {} ms of virtual time",
            real / 1_000_000,
            virt / 1_000_000
        ));
    }
    Ok(format!(
        "200 ms blocked sleep: real {} ms, virtual {} us, woken by {upcalls} upcalls; \
         blocked total {} ms",
        real / 1_000_000,
        virt / 1000,
        runstate.time[2] / 1_000_000
    ))
}
