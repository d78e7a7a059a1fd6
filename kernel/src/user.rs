//! User mode: code in its own address space, system calls and faults.
//!
//! The first step toward processes. [`run_program`] builds a user address
//! space (two pinned L4s, see `mm::paging::UserTables`), copies a program
//! into it, gives Xen a kernel stack for traps from user mode
//! (`stack_switch`) and enters ring 3 through `HYPERVISOR_iret` with
//! `rflags.IF` set, so events are unmasked only while user code runs.
//! `syscall` arrives through the CALLBACKTYPE_syscall callback as vector
//! 258 in `trap_dispatch`; a fault in user mode ends the program with a
//! signal-style report and never reaches the kernel's fatal path. When
//! the program exits, the syscall handler switches back to the kernel
//! thread that called `run_program` (`resume_kernel`), which tears the
//! address space down.
//!
//! What is here: write(1/2), getpid, exit, exit_group, and ENOSYS (logged
//! once per number) for everything else. Processes, ELF loading, fork and
//! the Linux syscall set are the next steps (see ARCHITECTURE.md).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::arch::x86_64::traps::{vector_name, TrapFrame};
use crate::mm::paging::{UserTables, MMU, USER_END, USER_START};
use crate::mm::{frames, pfn_to_mfn, physmap_address};
use crate::xen::hypercall;
use kernel_core::vfs::{InodeId, Vfs};

/// How a user program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserExit {
    /// It called exit or exit_group with this status.
    Exited(i32),
    /// The kernel ended it: signal number and what happened.
    Killed { signal: u32, reason: String },
}

/// Where programs are loaded and their stack ends.
pub const LOAD_ADDRESS: u64 = 0x40_0000;
pub const STACK_TOP: u64 = 0x7fff_0000;
const KERNEL_STACK_BYTES: usize = 32 * 1024;

/// Not Linux: a test hook that overwrites every SSE register in the
/// kernel, so the self-check can prove user FPU state is preserved.
const SYS_TEST_CLOBBER_SSE: u64 = 1000;
const ENOSYS: i64 = 38;
const EFAULT: i64 = 14;
const EBADF: i64 = 9;

/// The kernel thread's stack pointer while a program runs (enter_user
/// saves it, resume_kernel restores it).
static SAVED_KERNEL_RSP: AtomicU64 = AtomicU64::new(0);
/// The running program's tables, for validating user pointers.
static SPACE: Mutex<Option<UserTables>> = Mutex::new(None);
static EXIT: Mutex<Option<UserExit>> = Mutex::new(None);
/// What the program wrote to fds 1 and 2 (also printed), for checks.
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Syscall numbers already reported as unknown (logged once each).
static UNKNOWN_REPORTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

extern "C" {
    fn enter_user(save_rsp: *mut u64, frame: *const TrapFrame);
    fn resume_kernel(saved_rsp: u64) -> !;
}

/// Builds a user address space page by page.
struct Loader {
    tables: UserTables,
}

impl Loader {
    fn new() -> Result<Loader, String> {
        let tables = MMU
            .lock()
            .create_user_tables()
            .map_err(|e| format!("page tables: {e}"))?;
        Ok(Loader { tables })
    }

    /// Maps a fresh zeroed page at `va`, after `fill` wrote into it.
    fn page(
        &mut self,
        va: u64,
        writable: bool,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), String> {
        let pfn = frames::allocate().map_err(|e| format!("out of memory at {va:#x}: {e}"))?;
        // SAFETY: the frame was just allocated: nothing else refers to it,
        // and the physmap maps it writable at this address.
        let bytes =
            unsafe { core::slice::from_raw_parts_mut(physmap_address(pfn) as *mut u8, 4096) };
        bytes.fill(0);
        fill(bytes);
        let mfn = pfn_to_mfn(pfn).expect("populated");
        MMU.lock()
            .map_user(&self.tables, va, mfn, writable)
            .map_err(|e| {
                let _ = frames::free(pfn);
                format!("mapping {va:#x}: {e}")
            })
    }

    fn finish(self) -> Result<UserTables, String> {
        match MMU.lock().commit() {
            Ok(()) => Ok(self.tables),
            Err(error) => {
                let _ = MMU.lock().destroy_user_tables(self.tables);
                Err(format!("commit: {error}"))
            }
        }
    }

    fn abandon(self) {
        let mut mmu = MMU.lock();
        let _ = mmu.commit();
        let _ = mmu.destroy_user_tables(self.tables);
    }
}

/// Runs position-independent machine code `code` at [`LOAD_ADDRESS`] in a
/// fresh address space with one stack page; returns how it ended and what
/// it wrote.
pub fn run_program(code: &[u8]) -> Result<(UserExit, Vec<u8>), String> {
    let mut loader = Loader::new()?;
    let loaded = (|| {
        for (page, chunk) in code.chunks(4096).enumerate() {
            loader.page(LOAD_ADDRESS + page as u64 * 4096, false, |bytes| {
                bytes[..chunk.len()].copy_from_slice(chunk)
            })?;
        }
        loader.page(STACK_TOP - 4096, true, |_| {})
    })();
    if let Err(error) = loaded {
        loader.abandon();
        return Err(error);
    }
    *PROCESS.lock() = ProcessState::new(LOAD_ADDRESS + 0x10_0000);
    run(loader.finish()?, LOAD_ADDRESS, STACK_TOP)
}

/// Pages of stack a new program gets (the rest of its stack faults).
const STACK_PAGES: u64 = 32;
/// Where anonymous mmap()s are placed, growing upwards.
const MMAP_BASE: u64 = 0x10_0000_0000;

/// Loads the static ELF executable `file` with `argv` and `envp` and runs
/// it to completion (one process: there is no fork yet).
pub fn run_elf(
    file: &[u8],
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<(UserExit, Vec<u8>), String> {
    use kernel_core::elf;
    let plan = elf::plan_load(file, &elf::Limits::default()).map_err(|e| format!("{path}: {e}"))?;
    let mut loader = Loader::new()?;
    let random = {
        let seed = crate::arch::x86_64::cpu::rdtsc();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..].copy_from_slice(
            &seed
                .rotate_left(29)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .to_le_bytes(),
        );
        bytes
    };
    let auxv = plan.auxv(elf::Credentials::default(), 0);
    let spec = elf::StackSpec {
        argv,
        envp,
        execfn: path.as_bytes(),
        platform: b"x86_64",
        random,
        auxv: &auxv,
    };
    let stack = elf::build_initial_stack(STACK_TOP, &spec, STACK_PAGES * 4096 / 4)
        .map_err(|e| format!("{path}: initial stack: {e}"))?;
    let loaded = (|| {
        for page in &plan.pages {
            let writable = page.prot & linux_abi::mman::PROT_WRITE != 0;
            loader.page(page.vaddr, writable, |bytes| {
                for copy in plan.copies_for(page) {
                    let from = copy.file_offset as usize;
                    let to = copy.page_offset as usize;
                    let len = copy.len as usize;
                    bytes[to..to + len].copy_from_slice(&file[from..from + len]);
                }
            })?;
        }
        let stack_base = stack.rsp & !0xfff;
        for page in 0..STACK_PAGES {
            let va = STACK_TOP - (page + 1) * 4096;
            loader.page(va, true, |bytes| {
                if va + 4096 > stack_base {
                    for (i, byte) in bytes.iter_mut().enumerate() {
                        let address = va + i as u64;
                        if address >= stack.rsp && address < STACK_TOP {
                            *byte = stack.bytes[(address - stack.rsp) as usize];
                        }
                    }
                }
            })?;
        }
        Ok::<(), String>(())
    })();
    if let Err(error) = loaded {
        loader.abandon();
        return Err(error);
    }
    *PROCESS.lock() = ProcessState::new(plan.brk_start);
    run(loader.finish()?, plan.entry, stack.rsp)
}

/// Per-program state the system calls keep.
struct ProcessState {
    brk_start: u64,
    brk: u64,
    mmap_next: u64,
    fs_base: u64,
    /// Open files beyond the console's 0, 1 and 2: (inode, offset).
    files: Vec<Option<(InodeId, u64)>>,
}

impl ProcessState {
    const fn new(brk_start: u64) -> ProcessState {
        ProcessState {
            brk_start,
            brk: brk_start,
            mmap_next: MMAP_BASE,
            fs_base: 0,
            files: Vec::new(),
        }
    }

    fn file(&mut self, fd: u64) -> Result<&mut (InodeId, u64), i64> {
        fd.checked_sub(3)
            .and_then(|index| self.files.get_mut(index as usize))
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }
}

/// The file system programs see: the initrd, in memory (see
/// `kernel_core::vfs`). Set once init's archive is known.
pub static VFS: Mutex<Option<Vfs<'static>>> = Mutex::new(None);

fn errno(error: linux_abi::errno::Errno) -> i64 {
    error.code() as i64
}

fn now() -> linux_abi::time::Timespec {
    let wall = crate::time::wallclock();
    linux_abi::time::Timespec {
        tv_sec: wall.secs as i64,
        tv_nsec: wall.nanos as i64,
    }
}

/// Resolves `dirfd` + `path` (only AT_FDCWD or absolute paths: every
/// program runs in `/`) and applies `open`'s flag rules.
fn open_path(dirfd: i64, path_address: u64, flags: u32) -> Result<u64, i64> {
    let path = string_from_user(path_address)?;
    if dirfd != linux_abi::fcntl::AT_FDCWD as i64 && !path.starts_with(b"/") {
        return Err(EBADF);
    }
    let mut vfs = VFS.lock();
    let vfs = vfs.as_mut().ok_or(ENOENT)?;
    let context = vfs.root_context(1);
    let id = vfs
        .open(&context, &path, flags, 0o644, now())
        .map_err(errno)?;
    let mut process = PROCESS.lock();
    let slot = match process.files.iter().position(Option::is_none) {
        Some(slot) => slot,
        None => {
            process.files.push(None);
            process.files.len() - 1
        }
    };
    process.files[slot] = Some((id, 0));
    Ok(slot as u64 + 3)
}

fn stat_path(dirfd: i64, path_address: u64, flags: u64) -> Result<linux_abi::stat::Stat, i64> {
    let path = string_from_user(path_address)?;
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let id = if path.is_empty() && flags & linux_abi::fcntl::AT_EMPTY_PATH as u64 != 0 {
        PROCESS.lock().file(dirfd as u64)?.0
    } else {
        if dirfd != linux_abi::fcntl::AT_FDCWD as i64 && !path.starts_with(b"/") {
            return Err(EBADF);
        }
        let follow = flags & linux_abi::fcntl::AT_SYMLINK_NOFOLLOW as u64 == 0;
        vfs.resolve(&vfs.root_context(1), &path, follow)
            .map_err(errno)?
    };
    vfs.stat(id).map_err(errno)
}

/// A NUL-terminated string from user memory (at most 4096 bytes).
fn string_from_user(address: u64) -> Result<Vec<u8>, i64> {
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

const ENAMETOOLONG: i64 = 36;
const ENOENT: i64 = 2;

static PROCESS: Mutex<ProcessState> = Mutex::new(ProcessState::new(0));

/// System time when the running program started (for /proc/<pid>/stat).
static START_TIME_NS: AtomicU64 = AtomicU64::new(0);

/// System time when the running program started.
pub fn start_time_ns() -> u64 {
    START_TIME_NS.load(Ordering::Relaxed)
}

/// Enters the program whose tables are `tables` at `entry` with stack
/// pointer `rsp`; returns when it ends.
fn run(tables: UserTables, entry: u64, rsp: u64) -> Result<(UserExit, Vec<u8>), String> {
    START_TIME_NS.store(crate::time::system_time_ns(), Ordering::Relaxed);
    let fpu_area = FpuArea::new();
    let kernel_stack: Box<[u64]> = alloc::vec![0u64; KERNEL_STACK_BYTES / 8].into_boxed_slice();
    let top = (kernel_stack.as_ptr() as u64 + KERNEL_STACK_BYTES as u64) & !15;
    let frame_address = top - core::mem::size_of::<TrapFrame>() as u64;
    let frame = TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: entry,
        cs: xen_abi::arch::FLAT_USER_CS64 as u64,
        // IF set: events are delivered while user code runs.
        rflags: 0x202,
        rsp,
        ss: xen_abi::arch::FLAT_USER_SS64 as u64,
    };
    // SAFETY: frame_address lies inside kernel_stack (its top 176 bytes),
    // which is live until after the program ends, and is 8-aligned.
    unsafe { core::ptr::write(frame_address as *mut TrapFrame, frame) };
    // SAFETY: kernel_stack outlives the program: it is dropped only after
    // enter_user returns, when no user code can enter the kernel anymore.
    if let Err(error) = unsafe { hypercall::stack_switch(xen_abi::arch::FLAT_KERNEL_SS64, top) } {
        let _ = MMU.lock().destroy_user_tables(tables);
        return Err(format!("stack_switch: {error}"));
    }
    OUTPUT.lock().clear();
    *EXIT.lock() = None;
    let switched = MMU.lock().switch_address_space(Some(&tables));
    if let Err(error) = switched {
        let _ = MMU.lock().destroy_user_tables(tables);
        return Err(format!("switching to the program's tables: {error}"));
    }
    *SPACE.lock() = Some(tables);
    crate::arch::x86_64::boot::user_fpu_area.store(fpu_area.address(), Ordering::SeqCst);
    // (1) The frame is a complete user-mode TrapFrame (user CS/SS,
    // canonical rip and rsp in mapped user pages); (2) the loaded tables
    // map the kernel at the same addresses, so this code keeps running;
    // (3) enter_user saves our callee-saved registers and stack pointer in
    // SAVED_KERNEL_RSP, and only resume_kernel (from `finish`) comes back
    // here, with the same stack intact; (4) no lock is held across it.
    // SAFETY: (1)-(4) above.
    unsafe { enter_user(SAVED_KERNEL_RSP.as_ptr(), frame_address as *const TrapFrame) };

    // Back on the kernel thread: the program has ended.
    crate::arch::x86_64::boot::user_fpu_area.store(0, Ordering::SeqCst);
    drop(fpu_area);
    let tables = SPACE.lock().take().expect("set before entering user mode");
    let mut mmu = MMU.lock();
    mmu.switch_address_space(None)
        .map_err(|e| format!("switch back: {e}"))?;
    mmu.destroy_user_tables(tables)
        .map_err(|e| format!("teardown: {e}"))?;
    drop(mmu);
    drop(kernel_stack);
    let exit = EXIT.lock().take().expect("set before resuming the kernel");
    let output = core::mem::take(&mut *OUTPUT.lock());
    Ok((exit, output))
}

/// A program's FPU/SSE state as FXSAVE stores it (512 bytes, 16-aligned),
/// starting in the state `fninit` leaves plus the default MXCSR.
#[repr(C, align(16))]
struct FpuState([u8; 512]);

struct FpuArea(Box<FpuState>);

impl FpuArea {
    fn new() -> FpuArea {
        let mut state = Box::new(FpuState([0; 512]));
        state.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // FCW
        state.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
        FpuArea(state)
    }

    fn address(&self) -> u64 {
        &*self.0 as *const FpuState as u64
    }
}

/// Ends the running program and returns to `run_program`'s caller.
fn finish(exit: UserExit) -> ! {
    *EXIT.lock() = Some(exit);
    // SAVED_KERNEL_RSP was stored by enter_user on the kernel thread's
    // stack, untouched since (we are on the program's kernel stack); events
    // are masked (syscall and trap entries mask them), as it expects.
    // SAFETY: the saved stack and register state are intact (above).
    unsafe { resume_kernel(SAVED_KERNEL_RSP.load(Ordering::SeqCst)) }
}

/// Checks every page of `[address, address + len)` is a mapped user page
/// of the running program (writable too, if `write`).
fn check_user_range(address: u64, len: u64, write: bool) -> Result<(), i64> {
    let end = address.checked_add(len).ok_or(EFAULT)?;
    if address < USER_START || end > USER_END || len > 1 << 24 {
        return Err(EFAULT);
    }
    let space = SPACE.lock();
    let space = space.as_ref().ok_or(EFAULT)?;
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
/// page is a mapped user page of the running program.
fn copy_from_user(address: u64, len: u64) -> Result<Vec<u8>, i64> {
    check_user_range(address, len, false)?;
    let mut bytes = Vec::with_capacity(len as usize);
    for offset in 0..len {
        // Every page of the range was just checked to be a mapped user page
        // of the loaded address space, which the kernel-mode L4 maps; the
        // program is not running, so it cannot change under us.
        // SAFETY: mapped, readable and stable (above); bytes need no alignment.
        bytes.push(unsafe { core::ptr::read_volatile((address + offset) as *const u8) });
    }
    Ok(bytes)
}

/// Copies `bytes` to user address `address` after checking every page is
/// a mapped, writable user page of the running program.
fn copy_to_user(address: u64, bytes: &[u8]) -> Result<(), i64> {
    check_user_range(address, bytes.len() as u64, true)?;
    for (offset, byte) in bytes.iter().enumerate() {
        // As in copy_from_user, and the pages are writable user pages, so
        // nothing of the kernel's can be overwritten.
        // SAFETY: mapped, writable, user-owned (above).
        unsafe { core::ptr::write_volatile((address + offset as u64) as *mut u8, *byte) };
    }
    Ok(())
}

const ENOMEM: i64 = 12;
const EINVAL: i64 = 22;
const ENOTTY: i64 = 25;

fn write_output(bytes: &[u8]) {
    crate::kprint!("{}", String::from_utf8_lossy(bytes));
    OUTPUT.lock().extend_from_slice(bytes);
}

/// Maps zeroed, writable user pages over `[start, end)` (page-aligned).
fn map_zero_pages(start: u64, end: u64) -> Result<(), i64> {
    let space = SPACE.lock();
    let space = space.as_ref().ok_or(EFAULT)?;
    let mut mmu = MMU.lock();
    let mut va = start;
    while va < end {
        let pfn = frames::allocate().map_err(|_| ENOMEM)?;
        // SAFETY: freshly allocated frame, mapped writable in the physmap.
        unsafe { core::ptr::write_bytes(physmap_address(pfn) as *mut u8, 0, 4096) };
        if let Err(error) = mmu.map_user(space, va, pfn_to_mfn(pfn).expect("populated"), true) {
            let _ = frames::free(pfn);
            log::warn!("user: mapping {va:#x}: {error}");
            return Err(ENOMEM);
        }
        va += 4096;
    }
    // One commit for the whole range: one hypercall for many pages.
    mmu.commit().map_err(|_| ENOMEM)
}

/// Handles a `syscall` from user mode (vector 258): number in rax,
/// arguments in rdi, rsi, rdx, r10, r8, r9 (Linux x86_64 ABI).
pub fn syscall(frame: &mut TrapFrame) {
    use linux_abi::syscall::Sysno;
    let (a0, a1, a2, a3) = (frame.rdi, frame.rsi, frame.rdx, frame.r10);
    let result: Result<u64, i64> = match Sysno::from_raw(frame.rax) {
        Some(Sysno::Write) => match a0 {
            1 | 2 => copy_from_user(a1, a2).map(|bytes| {
                write_output(&bytes);
                bytes.len() as u64
            }),
            _ => Err(EBADF),
        },
        Some(Sysno::Writev) => match a0 {
            1 | 2 => (|| {
                let iov = copy_from_user(a1, a2.min(1024) * 16)?;
                let mut total = 0;
                for entry in iov.chunks_exact(16) {
                    let base = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
                    let len = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
                    let bytes = copy_from_user(base, len)?;
                    write_output(&bytes);
                    total += len;
                }
                Ok(total)
            })(),
            _ => Err(EBADF),
        },
        Some(Sysno::Read) => match a0 {
            // No console input for programs yet: end of file.
            0 => Ok(0),
            1 | 2 => Err(EBADF),
            fd => (|| {
                let (id, offset) = *PROCESS.lock().file(fd)?;
                let mut buffer = alloc::vec![0u8; a2.min(1 << 20) as usize];
                let count = {
                    let vfs = VFS.lock();
                    let vfs = vfs.as_ref().ok_or(EBADF)?;
                    vfs.read(
                        id,
                        offset,
                        &mut buffer,
                        &kernel_core::vfs::Caller { pid: 1 },
                    )
                    .map_err(errno)?
                };
                copy_to_user(a1, &buffer[..count])?;
                PROCESS.lock().file(fd)?.1 = offset + count as u64;
                Ok(count as u64)
            })(),
        },
        Some(Sysno::Open) => open_path(linux_abi::fcntl::AT_FDCWD as i64, a0, a1 as u32),
        Some(Sysno::Openat) => open_path(a0 as i64, a1, a2 as u32),
        Some(Sysno::Close) => match a0 {
            0..=2 => Ok(0),
            fd => {
                let mut process = PROCESS.lock();
                process.file(fd).map(|_| ()).map(|()| {
                    process.files[(fd - 3) as usize] = None;
                    0
                })
            }
        },
        Some(Sysno::Lseek) => (|| {
            let mut process = PROCESS.lock();
            let file = process.file(a0)?;
            let size = VFS
                .lock()
                .as_ref()
                .ok_or(EBADF)?
                .size(file.0)
                .map_err(errno)?;
            let base = match a2 {
                0 => 0,
                1 => file.1 as i64,
                2 => size as i64,
                _ => return Err(EINVAL),
            };
            let target = base
                .checked_add(a1 as i64)
                .filter(|t| *t >= 0)
                .ok_or(EINVAL)?;
            file.1 = target as u64;
            Ok(target as u64)
        })(),
        Some(Sysno::Fstat) => match a0 {
            0..=2 => {
                // The console: a character device.
                let mut stat = linux_abi::stat::Stat::default();
                stat.st_mode = linux_abi::stat::S_IFCHR | 0o620;
                stat.st_rdev = linux_abi::stat::encode_dev(5, 1);
                copy_to_user(a1, &stat.to_bytes()).map(|()| 0)
            }
            fd => (|| {
                let id = PROCESS.lock().file(fd)?.0;
                let stat = VFS.lock().as_ref().ok_or(EBADF)?.stat(id).map_err(errno)?;
                copy_to_user(a1, &stat.to_bytes()).map(|()| 0)
            })(),
        },
        Some(Sysno::Stat) => stat_path(linux_abi::fcntl::AT_FDCWD as i64, a0, 0)
            .and_then(|stat| copy_to_user(a1, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Lstat) => stat_path(
            linux_abi::fcntl::AT_FDCWD as i64,
            a0,
            linux_abi::fcntl::AT_SYMLINK_NOFOLLOW as u64,
        )
        .and_then(|stat| copy_to_user(a1, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Newfstatat) => stat_path(a0 as i64, a1, a3)
            .and_then(|stat| copy_to_user(a2, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Getdents64) => (|| {
            let (id, cookie) = *PROCESS.lock().file(a0)?;
            let mut buffer = alloc::vec![0u8; a2.min(1 << 16) as usize];
            let dirents = VFS
                .lock()
                .as_ref()
                .ok_or(EBADF)?
                .getdents64(id, cookie, &mut buffer)
                .map_err(errno)?;
            copy_to_user(a1, &buffer[..dirents.bytes])?;
            PROCESS.lock().file(a0)?.1 = dirents.next_cookie;
            Ok(dirents.bytes as u64)
        })(),
        Some(Sysno::Readlink) => (|| {
            let path = string_from_user(a0)?;
            let vfs = VFS.lock();
            let vfs = vfs.as_ref().ok_or(ENOENT)?;
            let id = vfs
                .resolve(&vfs.root_context(1), &path, false)
                .map_err(errno)?;
            let target = vfs
                .readlink(id, &kernel_core::vfs::Caller { pid: 1 })
                .map_err(errno)?;
            let len = target.len().min(a2 as usize);
            copy_to_user(a1, &target[..len]).map(|()| len as u64)
        })(),
        Some(Sysno::Getpid | Sysno::Gettid) => Ok(1),
        Some(Sysno::Getppid) => Ok(0),
        Some(Sysno::Getuid | Sysno::Geteuid | Sysno::Getgid | Sysno::Getegid) => Ok(0),
        Some(Sysno::SetTidAddress) => Ok(1),
        Some(Sysno::SetRobustList) => Ok(0),
        Some(Sysno::RtSigaction | Sysno::RtSigprocmask) => Ok(0),
        Some(Sysno::Ioctl) => Err(ENOTTY),
        // There is one directory a program can be in so far: the root.
        Some(Sysno::Getcwd) => copy_to_user(a0, b"/\0").map(|()| 2),
        // Restartable sequences are optional; glibc copes with ENOSYS.
        Some(Sysno::Rseq) => Err(ENOSYS),
        Some(Sysno::Prlimit64) => {
            // Report (and ignore changes to) limits: 8 MiB stack, the rest
            // unlimited, as a fresh Linux shell would see them.
            let resource = a1;
            let (current, maximum) = if resource == 3 {
                (8 << 20, u64::MAX)
            } else {
                (u64::MAX, u64::MAX)
            };
            if a3 != 0 {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&current.to_le_bytes());
                bytes[8..].copy_from_slice(&maximum.to_le_bytes());
                copy_to_user(a3, &bytes).map(|()| 0)
            } else {
                Ok(0)
            }
        }
        Some(Sysno::Brk) => {
            let mut process = PROCESS.lock();
            let (start, current) = (process.brk_start, process.brk);
            if a0 == 0 || a0 < start || a0 > start + (1 << 30) {
                Ok(current)
            } else {
                let (from, to) = ((current + 0xfff) & !0xfff, (a0 + 0xfff) & !0xfff);
                let grown = if to > from {
                    map_zero_pages(from, to)
                } else {
                    Ok(())
                };
                match grown {
                    Ok(()) => {
                        process.brk = a0.max(current);
                        Ok(process.brk)
                    }
                    Err(_) => Ok(current),
                }
            }
        }
        Some(Sysno::Mmap) => {
            let (len, prot, flags, fd) = (a1, a2, a3, frame.r8 as i64);
            let anonymous = flags & linux_abi::mman::MAP_ANONYMOUS as u64 != 0;
            if !anonymous || a0 != 0 && flags & linux_abi::mman::MAP_FIXED as u64 != 0 {
                // File mappings and fixed placement come with the VFS and
                // processes; fd is -1 for anonymous maps and otherwise unused.
                let _ = fd;
                Err(ENOSYS)
            } else if len == 0 || len > 1 << 30 {
                Err(EINVAL)
            } else {
                let _ = prot;
                let size = (len + 0xfff) & !0xfff;
                let start = {
                    let mut process = PROCESS.lock();
                    let start = process.mmap_next;
                    process.mmap_next += size + 4096; // a guard gap
                    start
                };
                map_zero_pages(start, start + size).map(|()| start)
            }
        }
        Some(Sysno::Munmap | Sysno::Mprotect | Sysno::Madvise) => Ok(0),
        Some(Sysno::ArchPrctl) => match a0 {
            // ARCH_SET_FS
            0x1002 => {
                PROCESS.lock().fs_base = a1;
                hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, a1)
                    .map(|_| 0)
                    .map_err(|_| EINVAL)
            }
            // ARCH_GET_FS
            0x1003 => {
                let base = PROCESS.lock().fs_base;
                copy_to_user(a1, &base.to_le_bytes()).map(|()| 0)
            }
            _ => Err(EINVAL),
        },
        Some(Sysno::Uname) => {
            use linux_abi::utsname::{field, Utsname};
            let name = Utsname {
                sysname: field("Linux"),
                nodename: field("xenrs"),
                // glibc's static start-up refuses kernels older than 3.2.
                release: field("6.1.0-xenrs"),
                version: field(concat!("#1 xenrs ", env!("CARGO_PKG_VERSION"))),
                machine: field("x86_64"),
                domainname: field("(none)"),
            };
            copy_to_user(a0, &name.to_bytes()).map(|()| 0)
        }
        Some(Sysno::ClockGettime) => {
            let ns = match a0 {
                0 => {
                    let wall = crate::time::wallclock();
                    wall.secs * 1_000_000_000 + wall.nanos as u64
                }
                1 | 4 | 7 => crate::time::system_time_ns(),
                2 | 3 => crate::time::virtual_ns(),
                _ => return frame_result(frame, Err(EINVAL)),
            };
            let value = linux_abi::time::Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as i64,
            };
            copy_to_user(a1, &value.to_bytes()).map(|()| 0)
        }
        Some(Sysno::Nanosleep) => copy_from_user(a0, 16).map(|bytes| {
            let secs = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            let nanos = u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes"));
            crate::time::sleep_ns(secs.min(1 << 20) * 1_000_000_000 + nanos.min(999_999_999));
            0
        }),
        Some(Sysno::Getrandom) => {
            // Not cryptographic: a TSC-seeded generator, enough for hash
            // seeds and stack canaries in tests.
            let mut state = crate::arch::x86_64::cpu::rdtsc() | 1;
            let bytes: Vec<u8> = (0..a1.min(4096))
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            copy_to_user(a0, &bytes).map(|()| bytes.len() as u64)
        }
        Some(Sysno::Exit | Sysno::ExitGroup) => finish(UserExit::Exited(a0 as i32)),
        _ if frame.rax == SYS_TEST_CLOBBER_SSE => {
            crate::arch::x86_64::test_programs::clobber_sse();
            Ok(0)
        }
        _ => {
            let number = frame.rax;
            let mut reported = UNKNOWN_REPORTED.lock();
            if !reported.contains(&number) {
                reported.push(number);
                log::warn!("unknown system call {number}; returning ENOSYS");
            }
            Err(ENOSYS)
        }
    };
    frame_result(frame, result);
}

fn frame_result(frame: &mut TrapFrame, result: Result<u64, i64>) {
    frame.rax = match result {
        Ok(value) => value,
        Err(errno) => (-errno) as u64,
    };
}

/// Handles an exception from user mode: the program ends.
pub fn fault(frame: &mut TrapFrame) {
    let (signal, name) = match frame.vector {
        10..=14 => (11, "SIGSEGV"),
        0 | 16 | 19 => (8, "SIGFPE"),
        6 => (4, "SIGILL"),
        3 | 1 => (5, "SIGTRAP"),
        _ => (11, "SIGSEGV"),
    };
    let reason = if frame.vector == 14 {
        format!(
            "{name}: {} at {:#x} (error {:#x}) rip={:#x}",
            vector_name(frame.vector),
            crate::xen::shared_info::cr2(),
            frame.error_code,
            frame.rip
        )
    } else {
        format!("{name}: {} rip={:#x}", vector_name(frame.vector), frame.rip)
    };
    crate::kprintln!("user: program killed by {reason}");
    finish(UserExit::Killed { signal, reason })
}
