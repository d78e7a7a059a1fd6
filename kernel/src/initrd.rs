//! The initrd: a cpio (newc) archive Xen loaded next to the kernel, and
//! starting the init program from it.
//!
//! As dom0 the initrd is the second multiboot module; as a domU it is the
//! xl config's `ramdisk=`. Either way Xen maps it in the start-of-day
//! region (`start_info.mod_start`, `mod_len`). The archive is parsed by
//! `kernel_core::cpio`, which rejects garbage with a typed error.
//!
//! Processes are still one at a time: init runs to completion (there is
//! no fork yet), and the kernel reports how it ended.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use kernel_core::cpio;
use linux_abi::stat::FileType;

use crate::kprintln;
use crate::process::{self, UserExit};
use crate::xen::start_info::{BootInfo, VIRT_BASE};

/// The initrd's bytes, if Xen gave us one that lies inside our mapping.
pub fn archive(boot: &BootInfo) -> Option<&'static [u8]> {
    if boot.module_length == 0 {
        return None;
    }
    let start = if boot.flags & xen_abi::xen::SIF_MOD_START_PFN != 0 {
        VIRT_BASE + boot.module_start * 4096
    } else {
        boot.module_start
    };
    let mapped_end = VIRT_BASE + boot.bootstrap_tables_end_pfn() * 4096;
    let end = start.checked_add(boot.module_length)?;
    if start < VIRT_BASE || end > mapped_end {
        log::error!(
            "initrd: {start:#x}+{:#x} lies outside the boot mapping",
            boot.module_length
        );
        return None;
    }
    // SAFETY: [start, end) lies inside Xen's start-of-day mapping below the
    // bootstrap tables, which stays mapped for the kernel's life and which
    // nothing else in the kernel writes; the slice is only read.
    Some(unsafe { core::slice::from_raw_parts(start as *const u8, boot.module_length as usize) })
}

/// Looks `path` up in the archive, following symbolic links (8 hops).
pub fn find<'a>(archive: &'a [u8], path: &str) -> Result<&'a [u8], String> {
    let mut wanted = cpio::normalize(path.as_bytes());
    for _ in 0..8 {
        let mut found = None;
        for entry in cpio::entries(archive) {
            let entry = entry.map_err(|e| format!("initrd: {e}"))?;
            if entry.path == wanted {
                found = Some(entry);
                break;
            }
        }
        let entry = found.ok_or_else(|| format!("{path}: not in the initrd"))?;
        match entry.file_type() {
            Some(FileType::Regular) => return Ok(entry.data),
            Some(FileType::Symlink) => {
                let target = entry.data;
                wanted = if target.starts_with(b"/") {
                    cpio::normalize(target)
                } else {
                    let mut joined = wanted.clone();
                    while joined.last().is_some_and(|&b| b != b'/') {
                        joined.pop();
                    }
                    joined.extend_from_slice(target);
                    cpio::normalize(&joined)
                };
            }
            _ => return Err(format!("{path}: not a regular file")),
        }
    }
    Err(format!("{path}: too many levels of symbolic links"))
}

/// A minimal /proc: `uptime`, `meminfo`, `self` and `xenrs/counters`, in
/// Linux's formats, rendered when read (`/proc/<pid>` is
/// `process::procfs`'s).
fn add_procfs(vfs: &mut kernel_core::vfs::Vfs<'static>) -> Result<(), String> {
    use alloc::boxed::Box;
    use kernel_core::vfs::{ProcSelf, SyntheticFn, SyntheticKind};
    let now = linux_abi::time::Timespec::default();
    let root = vfs.root();
    let context = vfs.root_context(1);
    // Device nodes the kernel serves: /dev/null, zero, console, tty.
    let dev = match vfs.resolve(&context, b"/dev", true) {
        Ok(dir) => dir,
        Err(_) => vfs
            .add_directory(root, b"dev", 0o755, now)
            .map_err(|e| format!("{e}"))?,
    };
    let _ = dev;
    for (path, device) in [
        (&b"/dev/null"[..], kernel_core::vfs::Device::Null),
        (b"/dev/zero", kernel_core::vfs::Device::Zero),
        (b"/dev/console", kernel_core::vfs::Device::Console),
        (b"/dev/tty", kernel_core::vfs::Device::Tty),
    ] {
        if vfs.resolve(&context, path, false).is_err() {
            vfs.mknod(
                &context,
                path,
                kernel_core::vfs::SpecialNode::Device(device),
                0o666,
                now,
            )
            .map_err(|e| format!("{e}"))?;
        }
    }
    let proc_dir = match vfs.resolve(&context, b"/proc", true) {
        Ok(dir) => dir,
        Err(_) => vfs
            .add_directory(root, b"proc", 0o555, now)
            .map_err(|e| format!("{e}"))?,
    };
    let add =
        |vfs: &mut kernel_core::vfs::Vfs<'static>, dir, name: &[u8], render: fn(&mut Vec<u8>)| {
            vfs.add_synthetic(
                dir,
                name,
                Box::new(SyntheticFn(
                    SyntheticKind::File,
                    move |_: &kernel_core::vfs::Caller, out: &mut Vec<u8>| render(out),
                )),
                now,
            )
            .map(drop)
            .map_err(|e| format!("{e}"))
        };
    add(vfs, proc_dir, b"uptime", |out| {
        let up = crate::time::system_time_ns();
        let idle = crate::time::runstate().time[2];
        out.extend_from_slice(
            format!(
                "{}.{:02} {}.{:02}\n",
                up / 1_000_000_000,
                up / 10_000_000 % 100,
                idle / 1_000_000_000,
                idle / 10_000_000 % 100
            )
            .as_bytes(),
        );
    })?;
    add(vfs, proc_dir, b"meminfo", |out| {
        let total = crate::mm::balloon::current_pages() * 4;
        let free = crate::mm::frames::free_count() * 4;
        out.extend_from_slice(
            format!("MemTotal: {total:8} kB\nMemFree:  {free:8} kB\nMemAvailable: {free:8} kB\n")
                .as_bytes(),
        );
    })?;
    let xenrs_dir = vfs
        .add_directory(proc_dir, b"xenrs", 0o555, now)
        .map_err(|e| format!("{e}"))?;
    add(vfs, xenrs_dir, b"counters", crate::counters::render)?;
    vfs.add_synthetic(proc_dir, b"self", Box::new(ProcSelf), now)
        .map_err(|e| format!("{e}"))?;
    // /proc/<pid> directories come and go with the processes.
    Ok(())
}

/// Splits init's arguments at whitespace; a double-quoted stretch is one
/// argument (without the quotes), as on Linux's command line.
fn split_arguments(text: &str) -> Vec<&[u8]> {
    let bytes = text.as_bytes();
    let mut arguments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if bytes[i] == b'"' {
            let end = bytes[i + 1..]
                .iter()
                .position(|&b| b == b'"')
                .map_or(bytes.len(), |p| i + 1 + p);
            arguments.push(&bytes[i + 1..end]);
            i = end + 1;
        } else {
            let end = bytes[i..]
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .map_or(bytes.len(), |p| i + p);
            arguments.push(&bytes[i..end]);
            i = end;
        }
    }
    arguments
}

/// Starts init from the initrd, if there is one; reports how it ended.
pub fn run_init(boot: &BootInfo, command_line: &str, options: &kernel_core::cmdline::Options) {
    let Some(archive) = archive(boot) else {
        return;
    };
    let path = options
        .init_path
        .map_or("/init", |(start, end)| &command_line[start..end]);
    let args: Vec<&[u8]> = options
        .init_args_offset
        .map(|offset| split_arguments(&command_line[offset..]))
        .unwrap_or_default();
    let file = match find(archive, path) {
        Ok(file) => file,
        Err(error) => {
            kprintln!("init: cannot start {path}: {error}");
            return;
        }
    };
    match kernel_core::vfs::Vfs::from_cpio(archive, kernel_core::vfs::Limits::default()) {
        Ok(mut vfs) => {
            if let Err(error) = add_procfs(&mut vfs) {
                kprintln!("init: /proc unavailable: {error}");
            }
            *process::VFS.lock() = Some(vfs);
        }
        Err(error) => kprintln!("init: initrd file system unavailable: {error}"),
    }
    let mut argv: Vec<&[u8]> = alloc::vec![path.as_bytes()];
    argv.extend(args);
    let envp: [&[u8]; 3] = [b"HOME=/", b"PATH=/bin:/sbin", b"TERM=linux"];
    kprintln!(
        "init: starting {path} ({} KiB initrd)",
        archive.len() / 1024
    );
    match process::run_elf(file, path, &argv, &envp) {
        Ok((UserExit::Exited(status), _)) => kprintln!("init: {path} exited with status {status}"),
        Ok((UserExit::Killed { reason, .. }, _)) => kprintln!("init: {path} was killed: {reason}"),
        Err(error) => kprintln!("init: cannot start {path}: {error}"),
    }
}
