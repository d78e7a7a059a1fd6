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
use crate::user::{self, UserExit};
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
        .map(|offset| {
            command_line[offset..]
                .split_ascii_whitespace()
                .map(str::as_bytes)
                .collect()
        })
        .unwrap_or_default();
    let file = match find(archive, path) {
        Ok(file) => file,
        Err(error) => {
            kprintln!("init: cannot start {path}: {error}");
            return;
        }
    };
    match kernel_core::vfs::Vfs::from_cpio(archive, kernel_core::vfs::Limits::default()) {
        Ok(vfs) => *user::VFS.lock() = Some(vfs),
        Err(error) => kprintln!("init: initrd file system unavailable: {error}"),
    }
    let mut argv: Vec<&[u8]> = alloc::vec![path.as_bytes()];
    argv.extend(args);
    let envp: [&[u8]; 3] = [b"HOME=/", b"PATH=/bin:/sbin", b"TERM=linux"];
    kprintln!(
        "init: starting {path} ({} KiB initrd)",
        archive.len() / 1024
    );
    match user::run_elf(file, path, &argv, &envp) {
        Ok((UserExit::Exited(status), _)) => kprintln!("init: {path} exited with status {status}"),
        Ok((UserExit::Killed { reason, .. }, _)) => kprintln!("init: {path} was killed: {reason}"),
        Err(error) => kprintln!("init: cannot start {path}: {error}"),
    }
}
