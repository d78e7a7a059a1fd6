//! Life as a domU: the PV console, xenstore, and the toolstack's requests.
//!
//! [`attach`] wires the console ring and the xenstore ring from
//! start_info. [`serve_toolstack`] is the domU's idle loop once booting is
//! done: it advertises what the guest supports, watches
//! `control/shutdown` (xl shutdown / reboot) and `memory/target` (xl
//! mem-set), answers each, and otherwise sleeps in `SCHEDOP_block`.
//! Console input lines are read as simple monitor commands.

use alloc::string::String;

use kernel_core::cmdline::ShutdownAction;
use xen_abi::{Mfn, Pfn};

use crate::mm::{self, balloon};
use crate::xen::shared_page::MappedPage;
use crate::xen::start_info::{BootInfo, VIRT_BASE};
use crate::{events, kprintln, shutdown, time, xenstore};

/// The kernel address of a start_info page given by machine frame (the
/// console and xenstore rings), through the physmap.
fn ring_page(mfn: Mfn, what: &str) -> Option<MappedPage> {
    let Some(pfn) = mm::mfn_to_pfn(mfn) else {
        log::error!("domu: {what} frame {:#x} is not ours", mfn.0);
        return None;
    };
    // SAFETY: the page is one of ours (checked via m2p and p2m), mapped in
    // the physmap for the kernel's life, and used only as this ring.
    Some(unsafe { MappedPage::new(mm::physmap_address(Pfn(pfn.0))) })
}

/// Attaches the console ring as early as possible, through Xen's
/// start-of-day mapping (the console page is one of the bootstrap
/// elements), so even a failure while setting up memory is visible in `xl
/// console`. Returns false if it must wait for the physmap.
pub fn attach_console_early(boot: &BootInfo) -> bool {
    let Some(pfn) = mm::mfn_to_pfn(boot.console_mfn) else {
        return false;
    };
    if pfn.0 >= boot.bootstrap_tables_end_pfn() {
        return false;
    }
    // Pfns below the bootstrap tables' end are mapped read-write at
    // VIRT_BASE + pfn * 4096 for the kernel's life (xen.h start-of-day
    // layout; only the padding after them is ever unmapped).
    // SAFETY: mapped for good (above); used only as the console ring.
    let page = unsafe { MappedPage::new(VIRT_BASE + pfn.0 * 4096) };
    match crate::xen::console::attach_ring(page, boot.console_evtchn) {
        Ok(()) => true,
        Err(error) => {
            log::error!("domu: console ring not attached: {error}");
            false
        }
    }
}

/// Attaches the xenstore ring (and the console ring if it is not yet).
pub fn attach(boot: &BootInfo) {
    if !crate::xen::console::ring_attached() {
        if let Some(page) = ring_page(boot.console_mfn, "console") {
            if let Err(error) = crate::xen::console::attach_ring(page, boot.console_evtchn) {
                log::error!("domu: console ring not attached: {error}");
            }
        }
    }
    match ring_page(boot.store_mfn, "xenstore") {
        Some(page) => {
            if let Err(error) = xenstore::connect(page, boot.store_evtchn) {
                log::error!("domu: xenstore not connected: {error}");
            }
        }
        None => log::error!("domu: no xenstore: toolstack requests cannot be served"),
    }
}

/// The toolstack's maxmem (`memory/static-max`, KiB) in pages.
pub fn static_max_pages() -> Option<u64> {
    let text = xenstore::read("memory/static-max").ok()?;
    match text.trim().parse::<u64>() {
        Ok(kib) => Some(kib / 4),
        Err(_) => {
            log::warn!("domu: malformed memory/static-max {:?}", text);
            None
        }
    }
}

const SHUTDOWN_TOKEN: &str = "control-shutdown";
const BALLOON_TOKEN: &str = "memory-target";

/// Serves the toolstack until it asks us to shut down.
pub fn serve_toolstack() -> ! {
    for feature in ["control/feature-poweroff", "control/feature-reboot"] {
        if let Err(error) = xenstore::write(feature, "1") {
            log::warn!("domu: cannot advertise {feature}: {error}");
        }
    }
    let mut watching = true;
    for (path, token) in [
        ("control/shutdown", SHUTDOWN_TOKEN),
        ("memory/target", BALLOON_TOKEN),
    ] {
        if let Err(error) = xenstore::watch(path, token) {
            log::error!("domu: cannot watch {path}: {error}");
            watching = false;
        }
    }
    if watching {
        kprintln!("toolstack: watching control/shutdown and memory/target");
    }
    let mut line = String::new();
    loop {
        while let Some(event) = xenstore::take_watch_event() {
            match event.token.as_str() {
                SHUTDOWN_TOKEN => handle_shutdown_request(),
                BALLOON_TOKEN => handle_memory_target(),
                other => log::debug!("domu: watch event for unknown token {other:?}"),
            }
        }
        read_console_line(&mut line);
        events::block();
        time::poll();
    }
}

/// Reads `control/shutdown`, acknowledges it by clearing it (in a
/// transaction, as the toolstack expects) and acts on it.
fn handle_shutdown_request() {
    let request = xenstore::transaction(|tx| {
        let value = match xenstore::read_in(tx, "control/shutdown") {
            Ok(value) => value,
            Err(xenstore::StoreError::Xs(xen_io::xenstore::XsError::Enoent)) => String::new(),
            Err(error) => return Err(error),
        };
        if !value.is_empty() {
            xenstore::write_in(tx, "control/shutdown", "")?;
        }
        Ok(value)
    });
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            log::error!("domu: reading control/shutdown: {error}");
            return;
        }
    };
    if request.is_empty() {
        return; // the watch fires once when registered, and after our ack
    }
    kprintln!("control: shutdown request '{request}'");
    match request.as_str() {
        "poweroff" | "halt" => shutdown::finish(ShutdownAction::Poweroff),
        "reboot" => shutdown::finish(ShutdownAction::Reboot),
        "crash" => shutdown::crash("toolstack asked for a crash"),
        "suspend" => kprintln!("control: suspend is not supported; request ignored"),
        other => kprintln!("control: unknown shutdown request '{other}' ignored"),
    }
}

/// Follows `memory/target` (KiB).
fn handle_memory_target() {
    let text = match xenstore::read("memory/target") {
        Ok(text) => text,
        Err(error) => {
            log::warn!("balloon: cannot read memory/target: {error}");
            return;
        }
    };
    let Ok(target_kib) = text.trim().parse::<u64>() else {
        kprintln!(
            "balloon: ignoring malformed memory/target '{}'",
            text.escape_debug()
        );
        return;
    };
    let before = balloon::current_pages();
    if before == target_kib / 4 {
        return;
    }
    match balloon::set_target(target_kib / 4) {
        Ok(now) => kprintln!(
            "balloon: target {target_kib} KiB, now {now} pages ({} KiB), was {before} pages",
            now * 4
        ),
        Err(error) => {
            let now = balloon::current_pages();
            kprintln!(
                "balloon: target {target_kib} KiB: {error}; now {now} pages ({} KiB)",
                now * 4
            )
        }
    }
}

/// Collects console input; runs a command per complete line.
fn read_console_line(line: &mut String) {
    let mut buffer = [0u8; 64];
    loop {
        let count = crate::xen::console::read_input(&mut buffer);
        if count == 0 {
            return;
        }
        for &byte in &buffer[..count] {
            match byte {
                b'\r' | b'\n' => {
                    run_command(line.trim());
                    line.clear();
                }
                0x20..=0x7e if line.len() < 128 => line.push(byte as char),
                _ => {} // control bytes and overlong lines are ignored
            }
        }
    }
}

fn run_command(command: &str) {
    match command {
        "" => {}
        "help" => kprintln!("monitor: commands: help, time, mem"),
        "time" => {
            let wall = time::wallclock();
            kprintln!(
                "monitor: wallclock={}.{:09} system_ns={} virtual_ns={}",
                wall.secs,
                wall.nanos,
                time::system_time_ns(),
                time::virtual_ns()
            );
        }
        "mem" => {
            let (grants_free, grants_quarantined) = crate::grant::usage();
            kprintln!(
                "monitor: reservation {} pages, {} free pages; grants {grants_free} free, \
                 {grants_quarantined} quarantined; console dropped {} bytes; \
                 xenstore peer errors {}",
                balloon::current_pages(),
                mm::frames::free_count(),
                crate::xen::console::dropped_bytes(),
                xenstore::peer_errors()
            )
        }
        other => kprintln!(
            "monitor: unknown command '{}' (try help)",
            other.escape_debug()
        ),
    }
}
