//! A process's memory: user copies, anonymous mappings, fork, faults.

use super::*;

/// Checks every page of `[address, address + len)` is a mapped user page
/// of the current process (writable too, if `write`).
pub(super) fn check_user_range(address: u64, len: u64, write: bool) -> Result<(), i64> {
    let end = address.checked_add(len).ok_or(EFAULT)?;
    if address < USER_START || end > USER_END || len > 1 << 24 {
        return Err(EFAULT);
    }
    let processes = PROCESSES.lock();
    let space = processes
        .get(&current_pid())
        .and_then(|p| p.tables.as_ref())
        .ok_or(EFAULT)?;
    let mut mmu = MMU.lock();
    let mut page = address & !0xfff;
    while page < end {
        let pte = mmu.translate_user(space, page).ok_or(EFAULT)?;
        if write && pte & 2 == 0 {
            return Err(EFAULT);
        }
        page += 4096;
    }
    Ok(())
}

/// Copies `len` bytes from user address `address` after checking every
/// page is a mapped user page of the current process.
pub(super) fn copy_from_user(address: u64, len: u64) -> Result<Vec<u8>, i64> {
    check_user_range(address, len, false)?;
    let mut bytes = Vec::with_capacity(len as usize);
    for offset in 0..len {
        // Every page of the range was just checked to be a mapped user page
        // of the loaded address space, which the kernel-mode L4 maps; the
        // process is not running, so it cannot change under us.
        // SAFETY: mapped, readable and stable (above); bytes need no alignment.
        bytes.push(unsafe { core::ptr::read_volatile((address + offset) as *const u8) });
    }
    Ok(bytes)
}

/// Copies `bytes` to user address `address` after checking every page is
/// a mapped, writable user page of the current process.
pub(super) fn copy_to_user(address: u64, bytes: &[u8]) -> Result<(), i64> {
    check_user_range(address, bytes.len() as u64, true)?;
    for (offset, byte) in bytes.iter().enumerate() {
        // As in copy_from_user, and the pages are writable user pages, so
        // nothing of the kernel's can be overwritten.
        // SAFETY: mapped, writable, user-owned (above).
        unsafe { core::ptr::write_volatile((address + offset as u64) as *mut u8, *byte) };
    }
    Ok(())
}

/// A NUL-terminated string from user memory (at most 4096 bytes).
pub(super) fn string_from_user(address: u64) -> Result<Vec<u8>, i64> {
    let mut bytes = Vec::new();
    while bytes.len() < 4096 {
        let byte = copy_from_user(address + bytes.len() as u64, 1)?[0];
        if byte == 0 {
            return Ok(bytes);
        }
        bytes.push(byte);
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
/// in one commit; on failure nothing stays mapped.
pub(super) fn map_zero_pages(start: u64, end: u64) -> Result<(), i64> {
    let mut mapped_to = start;
    let result = (|| {
        let processes = PROCESSES.lock();
        let space = processes
            .get(&current_pid())
            .and_then(|p| p.tables.as_ref())
            .ok_or(EFAULT)?;
        let mut mmu = MMU.lock();
        while mapped_to < end {
            let pfn = frames::allocate().map_err(|_| ENOMEM)?;
            // SAFETY: freshly allocated frame, mapped writable in the physmap.
            unsafe { core::ptr::write_bytes(physmap_address(pfn) as *mut u8, 0, 4096) };
            if let Err(error) =
                mmu.map_user(space, mapped_to, pfn_to_mfn(pfn).expect("populated"), true)
            {
                let _ = frames::free(pfn);
                log::warn!("mapping {mapped_to:#x}: {error}");
                return Err(ENOMEM);
            }
            mapped_to += 4096;
        }
        // One commit for the whole range: one hypercall for many pages.
        mmu.commit().map_err(|_| ENOMEM)
    })();
    if result.is_err() {
        let _ = MMU.lock().commit();
        let _ = unmap_range(start, mapped_to);
    }
    result
}

/// Unmaps and frees the current process's pages in `[start, end)`, in one
/// commit (the TLB flush comes after all the PTE writes).
pub(super) fn unmap_range(start: u64, end: u64) -> Result<(), i64> {
    let mut freed = Vec::with_capacity(((end - start) / 4096).min(1 << 18) as usize);
    {
        let processes = PROCESSES.lock();
        let space = processes
            .get(&current_pid())
            .and_then(|p| p.tables.as_ref())
            .ok_or(EFAULT)?;
        let mut mmu = MMU.lock();
        let mut va = start;
        while va < end {
            if let Some(mfn) = mmu.unmap_user(space, va).map_err(|_| EINVAL)? {
                freed.push(mfn);
            }
            va += 4096;
        }
        mmu.commit().map_err(|_| ENOMEM)?;
    }
    for mfn in freed {
        if let Some(pfn) = mfn_to_pfn(mfn) {
            let _ = frames::free(pfn);
        }
    }
    Ok(())
}

/// fork (and clone without CLONE_VM): copies the address space page by
/// page with MMUEXT_COPY_PAGE, all queued and committed together.
pub(super) fn fork(
    frame: &TrapFrame,
    child_tid: Option<u64>,
    tls: Option<u64>,
) -> Result<u64, i64> {
    let parent = current_pid();
    let child_tables = MMU.lock().create_user_tables().map_err(|_| ENOMEM)?;
    let copied = (|| {
        let processes = PROCESSES.lock();
        let source = processes
            .get(&parent)
            .and_then(|p| p.tables.as_ref())
            .ok_or(EFAULT)?;
        let mut mmu = MMU.lock();
        let pages = mmu.user_pages(source);
        for (va, source_mfn, writable) in pages {
            let pfn = frames::allocate().map_err(|_| ENOMEM)?;
            let mfn = pfn_to_mfn(pfn).expect("populated");
            mmu.queue_mmuext(MmuextOp::copy_page(mfn, source_mfn))
                .map_err(|_| ENOMEM)?;
            mmu.map_user(&child_tables, va, mfn, writable)
                .map_err(|_| {
                    let _ = frames::free(pfn);
                    ENOMEM
                })?;
        }
        mmu.commit().map_err(|_| ENOMEM)
    })();
    if let Err(error) = copied {
        let mut mmu = MMU.lock();
        let _ = mmu.commit();
        let _ = mmu.destroy_user_tables(child_tables);
        return Err(error);
    }
    let mut child_frame = TrapFrame { ..*frame };
    child_frame.rax = 0;
    let (name, brk_start, brk, mmap_next, fs_base, fpu, files) = with_current(|p| {
        (
            p.name.clone(),
            p.brk_start,
            p.brk,
            p.mmap_next,
            tls.unwrap_or(p.fs_base),
            p.fpu.clone(),
            p.files
                .iter()
                .map(|f| f.as_ref().map(File::duplicate))
                .collect::<Vec<_>>(),
        )
    });
    let pid = match new_process(parent, name, child_tables, &child_frame, brk_start) {
        Ok(pid) => pid,
        Err(tables) => {
            for file in files.into_iter().flatten() {
                file.close();
            }
            let _ = MMU.lock().destroy_user_tables(tables);
            return Err(EAGAIN);
        }
    };
    let (signals, pgid, sid) = with_current(|p| (p.signals.forked(), p.pgid, p.sid));
    {
        let mut processes = PROCESSES.lock();
        let child = processes.get_mut(&pid).expect("just inserted");
        child.signals = signals;
        child.pgid = pgid;
        child.sid = sid;
        child.brk = brk;
        child.mmap_next = mmap_next;
        child.fs_base = fs_base;
        child.fpu = fpu;
        child.files = files;
        // CLONE_CHILD_SETTID: the child's copy of *child_tid holds its id.
        if let (Some(address), Some(space)) = (child_tid, child.tables.as_ref()) {
            if let Some(pte) = MMU.lock().translate_user(space, address & !0xfff) {
                let mfn = xen_abi::Mfn((pte & 0x000f_ffff_ffff_f000) >> 12);
                if let (Some(pfn), true) = (mfn_to_pfn(mfn), address % 4 == 0) {
                    let target = physmap_address(pfn) + (address & 0xfff);
                    // SAFETY: the frame is the child's private copy (just
                    // made), mapped in the physmap; 4-aligned in one page.
                    unsafe { core::ptr::write_volatile(target as *mut u32, pid) };
                }
            }
        }
    }
    Ok(pid as u64)
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
