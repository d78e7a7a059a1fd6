//! A process's memory as system calls see it: user copies, fork, faults.

use super::*;

/// Checks `[address, address + len)` is user memory the current process
/// may read (or write, if `write`), faulting its pages in as the program
/// itself would: afterwards every page is present (and writable).
pub(super) fn check_user_range(address: u64, len: u64, write: bool) -> Result<(), i64> {
    let end = address.checked_add(len).ok_or(EFAULT)?;
    if address < USER_START || end > USER_END || len > 1 << 24 {
        return Err(EFAULT);
    }
    if len == 0 || populate(address, end, write) {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// Copies `len` bytes from user address `address` after checking every
/// page is a mapped user page of the current process.
pub(super) fn copy_from_user(address: u64, len: u64) -> Result<Vec<u8>, i64> {
    check_user_range(address, len, false)?;
    let mut bytes = alloc::vec![0u8; len as usize];
    // Every page of the range was just made present in the loaded address
    // space, which the kernel-mode L4 maps; the process is not running (one
    // CPU, events masked), so nothing unmaps it meanwhile.
    // SAFETY: `len` readable bytes at `address` (above) into a fresh
    // buffer of `len` bytes; the two cannot overlap (user half vs heap).
    unsafe {
        core::ptr::copy_nonoverlapping(address as *const u8, bytes.as_mut_ptr(), bytes.len())
    };
    Ok(bytes)
}

/// Copies `bytes` to user address `address` after checking every page is
/// a mapped, writable user page of the current process.
pub(super) fn copy_to_user(address: u64, bytes: &[u8]) -> Result<(), i64> {
    check_user_range(address, bytes.len() as u64, true)?;
    // As in copy_from_user, and the pages are writable user pages (shared
    // copy-on-write pages were copied first), so nothing of the kernel's
    // or another process's can be overwritten.
    // SAFETY: `bytes.len()` writable bytes at `address` (above).
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), address as *mut u8, bytes.len()) };
    Ok(())
}

/// A NUL-terminated string from user memory (at most 4096 bytes), read a
/// page at a time.
pub(super) fn string_from_user(address: u64) -> Result<Vec<u8>, i64> {
    let mut bytes = Vec::new();
    let mut cursor = address;
    while bytes.len() < 4096 {
        let page_end = (cursor | 0xfff) + 1;
        let chunk = copy_from_user(cursor, (page_end - cursor).min(4096 - bytes.len() as u64))?;
        if let Some(nul) = chunk.iter().position(|&byte| byte == 0) {
            bytes.extend_from_slice(&chunk[..nul]);
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk);
        cursor = page_end;
    }
    Err(ENAMETOOLONG)
}

/// A NULL-terminated array of string pointers (argv, envp).
pub(super) fn strings_from_user(address: u64) -> Result<Vec<Vec<u8>>, i64> {
    let mut strings = Vec::new();
    if address == 0 {
        return Ok(strings);
    }
    for index in 0..256 {
        let pointer = copy_from_user(address + index * 8, 8)?;
        let pointer = u64::from_le_bytes(pointer.try_into().expect("8 bytes"));
        if pointer == 0 {
            return Ok(strings);
        }
        strings.push(string_from_user(pointer)?);
    }
    Err(E2BIG)
}
/// fork (and clone without CLONE_VM): the child shares every page
/// copy-on-write (`vm::share_address_space`, one commit) and gets copies
/// of the parent's memory map, files, signal state and registers.
pub(super) fn fork(
    frame: &TrapFrame,
    child_tid: Option<u64>,
    tls: Option<u64>,
) -> Result<u64, i64> {
    let parent = current_pid();
    if PROCESSES.lock().len() >= MAX_PROCESSES {
        return Err(EAGAIN);
    }
    let child_tables = MMU.lock().create_user_tables().map_err(|_| ENOMEM)?;
    if let Err(error) = share_address_space(&child_tables, frame.rsp) {
        let mut mmu = MMU.lock();
        let _ = mmu.commit();
        let _ = mmu.destroy_user_tables(child_tables);
        return Err(error);
    }
    let mut child_frame = TrapFrame { ..*frame };
    child_frame.rax = 0;
    let inherited = with_current(|p| Inherited {
        name: p.name.clone(),
        brk_start: p.brk_start,
        brk: p.brk,
        map: p.map.clone(),
        fs_base: tls.unwrap_or(p.fs_base),
        fpu: p.fpu.clone(),
        files: p
            .files
            .iter()
            .map(|f| f.as_ref().map(File::duplicate))
            .collect(),
        signals: p.signals.forked(),
        pgid: p.pgid,
        sid: p.sid,
        cwd: p.cwd,
        close_on_exec: p.close_on_exec,
        umask: p.umask,
        cmdline: p.cmdline.clone(),
    });
    let Inherited {
        name,
        brk_start,
        brk,
        map,
        fs_base,
        fpu,
        files,
        signals,
        pgid,
        sid,
        cwd,
        close_on_exec,
        umask,
        cmdline,
    } = inherited;
    let pid = match new_process(parent, name, child_tables, &child_frame, brk_start, map) {
        Ok(pid) => pid,
        Err(tables) => {
            for file in files.into_iter().flatten() {
                file.close();
            }
            let _ = MMU.lock().destroy_user_tables(tables);
            return Err(EAGAIN);
        }
    };
    let mut processes = PROCESSES.lock();
    let child = processes.get_mut(&pid).expect("just inserted");
    child.brk = brk;
    child.fs_base = fs_base;
    child.fpu = fpu;
    child.files = files;
    child.signals = signals;
    child.pgid = pgid;
    child.sid = sid;
    child.cwd = cwd;
    child.close_on_exec = close_on_exec;
    child.umask = umask;
    child.cmdline = cmdline;
    // CLONE_CHILD_SETTID: the child's copy of *child_tid holds its id.
    if let (Some(address), Some(space)) = (child_tid, child.tables.as_ref()) {
        write_u32_in(space, address, pid);
    }
    Ok(pid as u64)
}

/// What a forked child takes from its parent.
struct Inherited {
    name: String,
    brk_start: u64,
    brk: u64,
    map: Map,
    fs_base: u64,
    fpu: Box<FpuState>,
    files: Vec<Option<File>>,
    signals: kernel_core::signals::SignalState,
    pgid: u32,
    sid: u32,
    cwd: Option<InodeId>,
    close_on_exec: [u64; 16],
    umask: u32,
    cmdline: Vec<u8>,
}

/// Handles an exception from user mode: the matching signal is forced on
/// the process, whose handler runs or which ends with a one-line report.
pub fn fault(frame: &mut TrapFrame) {
    use linux_abi::signal::Signal;
    // Tearing the process down lists its pages under the MMU lock.
    crate::mm::heap::ensure_headroom(2 << 20);
    // si_code values (asm-generic/siginfo.h).
    const SEGV_MAPERR: i32 = 1;
    const SEGV_ACCERR: i32 = 2;
    const FPE_INTDIV: i32 = 1;
    const ILL_ILLOPN: i32 = 2;
    let cr2 = crate::xen::shared_info::cr2();
    // A page fault inside the memory map is demand paging or
    // copy-on-write: fill the page and go on.
    if frame.vector == 14 {
        match resolve_fault(cr2, frame.error_code & 2 != 0) {
            Resolution::Filled => {
                deliver(frame, None);
                return;
            }
            Resolution::OutOfMemory => {
                crate::kprintln!(
                    "user: process {} killed by SIGKILL: out of memory at {cr2:#x} ({} free frames)",
                    current_pid(),
                    frames::free_count()
                );
                exit_current(UserExit::Killed {
                    signal: 9,
                    reason: format!("out of memory at {cr2:#x}"),
                });
            }
            Resolution::Denied => {}
        }
    }
    let (signal, code, address) = match frame.vector {
        14 if frame.error_code & 1 != 0 => (Signal::SIGSEGV, SEGV_ACCERR, cr2),
        14 => (Signal::SIGSEGV, SEGV_MAPERR, cr2),
        0 => (Signal::SIGFPE, FPE_INTDIV, frame.rip),
        16 | 19 => (Signal::SIGFPE, 0, frame.rip),
        6 => (Signal::SIGILL, ILL_ILLOPN, frame.rip),
        3 | 1 => (Signal::SIGTRAP, linux_abi::signal::SI_KERNEL, 0),
        _ => (Signal::SIGSEGV, linux_abi::signal::SI_KERNEL, 0),
    };
    let text = if frame.vector == 14 {
        format!(
            "{signal}: {} at {cr2:#x} (error {:#x}) rip={:#x}",
            vector_name(frame.vector),
            frame.error_code,
            frame.rip
        )
    } else {
        format!(
            "{signal}: {} rip={:#x}",
            vector_name(frame.vector),
            frame.rip
        )
    };
    force_fault(FaultReport {
        signal,
        code,
        address,
        trap_number: frame.vector,
        error_code: frame.error_code,
        text,
    });
    deliver(frame, None);
}
