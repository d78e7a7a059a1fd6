//! `/proc/<pid>`: one directory per process, added when it is created and
//! removed when it is reaped, with `stat` (proc(5)'s fields, what `ps`
//! reads), `cmdline` and `comm`, rendered from the process table when
//! read.

use alloc::boxed::Box;
use kernel_core::vfs::{Caller, SyntheticFn, SyntheticKind};

use super::*;

/// Clock ticks per second in /proc (Linux's USER_HZ).
const USER_HZ: u64 = 100;
const NS_PER_TICK: u64 = 1_000_000_000 / USER_HZ;

/// `stat` of `pid`: fields 1-22 of proc(5) (pid, comm, state, ppid, pgrp,
/// session, tty, tpgid, flags, fault counts, utime, stime, child times,
/// priority, nice, threads, itrealvalue, starttime) and the rest zero.
fn render_stat(pid: u32, out: &mut Vec<u8>) {
    let processes = PROCESSES.lock();
    let Some(p) = processes.get(&pid) else {
        return;
    };
    let state = match p.state {
        State::Runnable => 'R',
        State::Blocked => 'S',
        State::Stopped => 'T',
        State::Zombie(_) => 'Z',
    };
    let utime = p.cpu_ns / NS_PER_TICK;
    let start = p.start_ns / NS_PER_TICK;
    out.extend_from_slice(
        format!(
            "{pid} ({}) {state} {} {} {} 0 -1 0 0 0 0 0 {utime} 0 0 0 20 0 1 0 {start} 0 0\n",
            p.name, p.parent, p.pgid, p.sid
        )
        .as_bytes(),
    );
}

fn proc_directory(vfs: &Vfs<'static>) -> Option<InodeId> {
    vfs.resolve(&vfs.root_context(0), b"/proc", true).ok()
}

/// Adds `/proc/<pid>` (if there is a /proc).
pub(super) fn add(pid: u32) {
    let mut vfs = VFS.lock();
    let Some(vfs) = vfs.as_mut() else {
        return;
    };
    let Some(proc_dir) = proc_directory(vfs) else {
        return;
    };
    let now = linux_abi::time::Timespec::default();
    let name = format!("{pid}");
    let Ok(dir) = vfs.add_directory(proc_dir, name.as_bytes(), 0o555, now) else {
        return;
    };
    let stat = SyntheticFn(SyntheticKind::File, move |_: &Caller, out: &mut Vec<u8>| {
        render_stat(pid, out)
    });
    let comm = SyntheticFn(SyntheticKind::File, move |_: &Caller, out: &mut Vec<u8>| {
        if let Some(p) = PROCESSES.lock().get(&pid) {
            out.extend_from_slice(p.name.as_bytes());
            out.push(b'\n');
        }
    });
    let cmdline = SyntheticFn(SyntheticKind::File, move |_: &Caller, out: &mut Vec<u8>| {
        if let Some(p) = PROCESSES.lock().get(&pid) {
            out.extend_from_slice(&p.cmdline);
        }
    });
    let _ = vfs.add_synthetic(dir, b"stat", Box::new(stat), now);
    let _ = vfs.add_synthetic(dir, b"cmdline", Box::new(cmdline), now);
    let _ = vfs.add_synthetic(dir, b"comm", Box::new(comm), now);
}

/// Removes `/proc/<pid>`.
pub(super) fn remove(pid: u32) {
    let mut vfs = VFS.lock();
    let Some(vfs) = vfs.as_mut() else {
        return;
    };
    if let Some(proc_dir) = proc_directory(vfs) {
        let name = format!("{pid}");
        let _ = vfs.remove_tree(
            proc_dir,
            name.as_bytes(),
            linux_abi::time::Timespec::default(),
        );
    }
}
