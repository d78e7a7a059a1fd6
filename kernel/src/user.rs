//! User mode and processes: address spaces, system calls, faults, and a
//! scheduler that shares the CPU by virtual time.
//!
//! Each process has its own user address space (two pinned L4s, see
//! `mm::paging::UserTables`), a kernel stack that Xen switches to on
//! every entry from user mode (`stack_switch`), and an FXSAVE area for its
//! FPU/SSE state. It enters ring 3 through `HYPERVISOR_iret` with
//! `rflags.IF` set, so events are unmasked only while user code runs.
//! `syscall` arrives through the CALLBACKTYPE_syscall callback as vector
//! 258 in `trap_dispatch`; a fault in user mode ends the process with a
//! signal-style status and never reaches the kernel's fatal path.
//!
//! The kernel thread that calls [`run_program`] or [`run_elf`] becomes the
//! scheduler: it picks the runnable process that has had the least CPU
//! time (virtual time, from the runstate area, so time Xen gave other
//! domains is not charged), switches to its kernel context
//! (`switch_context`), and gets control back when the process blocks
//! (wait4, a pipe) or exits. There is no preemption yet: a process runs
//! until its next blocking system call. fork copies the address space with
//! batched `MMUEXT_COPY_PAGE`s in one commit; execve replaces it; pipes,
//! dup2 and wait4 give the shell what it needs.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kernel_core::pipe::{End, Pipe, PipeError};
use kernel_core::vfs::{InodeId, Vfs};
use spin::Mutex;
use xen_abi::xen::MmuextOp;

use crate::arch::x86_64::traps::{vector_name, TrapFrame};
use crate::mm::paging::{UserTables, MMU, USER_END, USER_START};
use crate::mm::{frames, mfn_to_pfn, pfn_to_mfn, physmap_address};
use crate::xen::hypercall;

/// How a user program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserExit {
    /// It called exit or exit_group with this status.
    Exited(i32),
    /// The kernel ended it: signal number and what happened.
    Killed { signal: u32, reason: String },
}

impl UserExit {
    /// The status word wait4 reports (exit code << 8, or the signal).
    fn wait_status(&self) -> i32 {
        match self {
            UserExit::Exited(code) => (code & 0xff) << 8,
            UserExit::Killed { signal, .. } => *signal as i32,
        }
    }
}

/// Where programs are loaded and their stack ends.
pub const LOAD_ADDRESS: u64 = 0x40_0000;
pub const STACK_TOP: u64 = 0x7fff_0000;
const KERNEL_STACK_BYTES: usize = 32 * 1024;
/// Processes alive at once, at most (a fork bomb gets EAGAIN).
const MAX_PROCESSES: usize = 64;

const ENOSYS: i64 = 38;
const EFAULT: i64 = 14;
const EBADF: i64 = 9;
const ENOMEM: i64 = 12;
const EINVAL: i64 = 22;
const ENOTTY: i64 = 25;
const ENAMETOOLONG: i64 = 36;
const ENOENT: i64 = 2;
const ECHILD: i64 = 10;
const EAGAIN: i64 = 11;
const EPIPE: i64 = 32;
const ENOEXEC: i64 = 8;
const E2BIG: i64 = 7;

/// Not Linux: a test hook that overwrites every SSE register in the
/// kernel, so the self-check can prove user FPU state is preserved.
const SYS_TEST_CLOBBER_SSE: u64 = 1000;

/// What the programs wrote to the console (also printed), for checks.
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Syscall numbers already reported as unknown (logged once each).
static UNKNOWN_REPORTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// The file system programs see: the initrd, in memory (see
/// `kernel_core::vfs`). Set once init's archive is known.
pub static VFS: Mutex<Option<Vfs<'static>>> = Mutex::new(None);

extern "C" {
    fn switch_context(save_rsp: *mut u64, load_rsp: u64);
    fn process_first_run();
}

/// An open file description, shared by dup and fork.
#[derive(Clone)]
enum File {
    Console,
    /// /dev/null, /dev/zero and the like, answered by the VFS's Device.
    Device(kernel_core::vfs::Device),
    Node(Arc<Mutex<(InodeId, u64)>>),
    PipeRead(Arc<Mutex<Pipe>>),
    PipeWrite(Arc<Mutex<Pipe>>),
}

impl File {
    /// Another descriptor for the same open file (dup, fork).
    fn duplicate(&self) -> File {
        match self {
            File::PipeRead(pipe) => pipe.lock().open_end(End::Read),
            File::PipeWrite(pipe) => pipe.lock().open_end(End::Write),
            _ => {}
        }
        self.clone()
    }

    fn close(self) {
        match self {
            File::PipeRead(pipe) => {
                pipe.lock().close_end(End::Read);
            }
            File::PipeWrite(pipe) => {
                pipe.lock().close_end(End::Write);
            }
            _ => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Runnable,
    /// Waiting for a child, a pipe: runnable again at the next wake-up.
    Blocked,
    Zombie(UserExit),
}

/// A program's FPU/SSE state as FXSAVE stores it (512 bytes, 16-aligned),
/// starting in the state `fninit` leaves plus the default MXCSR.
#[repr(C, align(16))]
#[derive(Clone)]
struct FpuState([u8; 512]);

impl FpuState {
    fn initial() -> FpuState {
        let mut state = FpuState([0; 512]);
        state.0[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // FCW
        state.0[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
        state
    }
}

struct Process {
    pid: u32,
    parent: u32,
    name: String,
    tables: Option<UserTables>,
    kernel_stack: Box<[u64]>,
    /// Saved kernel stack pointer while not running (switch_context).
    kernel_rsp: u64,
    fpu: Box<FpuState>,
    state: State,
    files: Vec<Option<File>>,
    brk_start: u64,
    brk: u64,
    mmap_next: u64,
    fs_base: u64,
    /// Virtual time this process has run, the scheduler's fairness key.
    cpu_ns: u64,
    start_ns: u64,
    /// A signal whose default action ends the process, not yet acted on.
    pending_kill: Option<u32>,
    /// Signals set to SIG_IGN (bit n-1 for signal n).
    ignored: u64,
}

impl Process {
    fn kernel_stack_top(&self) -> u64 {
        (self.kernel_stack.as_ptr() as u64 + KERNEL_STACK_BYTES as u64) & !15
    }

    fn file(&self, fd: u64) -> Result<&File, i64> {
        self.files
            .get(usize::try_from(fd).map_err(|_| EBADF)?)
            .and_then(Option::as_ref)
            .ok_or(EBADF)
    }

    fn install(&mut self, file: File, lowest: usize) -> Result<u64, i64> {
        let slot = (lowest..1024)
            .find(|&fd| self.files.get(fd).is_none_or(Option::is_none))
            .ok_or(24)?; // EMFILE
        if self.files.len() <= slot {
            self.files.resize(slot + 1, None);
        }
        self.files[slot] = Some(file);
        Ok(slot as u64)
    }
}

static PROCESSES: Mutex<BTreeMap<u32, Box<Process>>> = Mutex::new(BTreeMap::new());
static CURRENT: AtomicU32 = AtomicU32::new(0);
static NEXT_PID: AtomicU32 = AtomicU32::new(1);
/// The scheduler's (kernel thread's) saved stack pointer.
static SCHEDULER_RSP: AtomicU64 = AtomicU64::new(0);
/// When the running process's time slice ends (system time).
static SLICE_END_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// How long a process runs before another runnable one gets the CPU.
const TIME_SLICE_NS: u64 = 10_000_000;

fn current_pid() -> u32 {
    CURRENT.load(Ordering::SeqCst)
}

/// Runs `f` on the current process.
fn with_current<R>(f: impl FnOnce(&mut Process) -> R) -> R {
    let mut processes = PROCESSES.lock();
    let process = processes
        .get_mut(&current_pid())
        .expect("a system call comes from the current process");
    f(process)
}

/// Wakes every blocked process: each re-checks what it waits for.
fn wake_all() {
    for process in PROCESSES.lock().values_mut() {
        if process.state == State::Blocked {
            process.state = State::Runnable;
        }
    }
}

/// Gives the CPU back to the scheduler; returns when this process is
/// picked again. `state` is what the process becomes meanwhile.
fn yield_to_scheduler(state: State) {
    let rsp_slot = {
        let mut processes = PROCESSES.lock();
        let process = processes
            .get_mut(&current_pid())
            .expect("the current process exists");
        process.state = state;
        // The Box keeps the Process at a stable address while it lives;
        // a process is freed only by its parent's wait4, never while it
        // can still run.
        &mut process.kernel_rsp as *mut u64
    };
    // SAFETY: rsp_slot points into the current process's boxed record
    // (stable, see above); the scheduler context was saved by its own
    // switch_context and is intact; no lock is held across the switch.
    unsafe { switch_context(rsp_slot, SCHEDULER_RSP.load(Ordering::SeqCst)) };
    act_on_pending_kill();
}

/// Signals whose default action is to do nothing (signal(7)).
fn ignored_by_default(signal: u32) -> bool {
    matches!(signal, 17 | 18 | 23 | 28) // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
}

/// Posts `signal` to `pid`. Only default actions exist so far: a signal
/// the process ignores (or that is ignored by default) does nothing;
/// anything else ends it (SIGSTOP included, as there is no job control).
fn post_signal(pid: u32, signal: u32) -> Result<(), i64> {
    if signal == 0 || signal > 64 {
        return if signal == 0 { Ok(()) } else { Err(EINVAL) };
    }
    let mut processes = PROCESSES.lock();
    let process = processes.get_mut(&pid).ok_or(3)?; // ESRCH
    if matches!(process.state, State::Zombie(_)) {
        return Ok(());
    }
    let ignored = process.ignored & 1 << (signal - 1) != 0 && signal != 9;
    if !ignored && !ignored_by_default(signal) {
        process.pending_kill.get_or_insert(signal);
        if process.state == State::Blocked {
            process.state = State::Runnable;
        }
    }
    Ok(())
}

/// Ends the current process if a fatal signal is pending for it.
fn act_on_pending_kill() {
    let pending = with_current(|process| process.pending_kill);
    if let Some(signal) = pending {
        exit_current(UserExit::Killed {
            signal,
            reason: format!("signal {signal}"),
        });
    }
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

/// Pages of stack a new program gets.
const STACK_PAGES: u64 = 32;
/// Where anonymous mmap()s are placed, growing upwards.
const MMAP_BASE: u64 = 0x10_0000_0000;

/// A loaded image: its tables, entry, initial stack pointer and break.
struct Image {
    tables: UserTables,
    entry: u64,
    rsp: u64,
    brk_start: u64,
}

fn load_code(code: &[u8]) -> Result<Image, String> {
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
    Ok(Image {
        tables: loader.finish()?,
        entry: LOAD_ADDRESS,
        rsp: STACK_TOP,
        brk_start: LOAD_ADDRESS + 0x10_0000,
    })
}

fn load_elf(
    file: &[u8],
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<Image, (i64, String)> {
    use kernel_core::elf;
    let plan = elf::plan_load(file, &elf::Limits::default())
        .map_err(|e| (e.errno().code() as i64, format!("{path}: {e}")))?;
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
        .map_err(|e| (E2BIG, format!("{path}: initial stack: {e}")))?;
    let mut loader = Loader::new().map_err(|e| (ENOMEM, e))?;
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
        for page in 0..STACK_PAGES {
            let va = STACK_TOP - (page + 1) * 4096;
            loader.page(va, true, |bytes| {
                for (i, byte) in bytes.iter_mut().enumerate() {
                    let address = va + i as u64;
                    if address >= stack.rsp && address < STACK_TOP {
                        *byte = stack.bytes[(address - stack.rsp) as usize];
                    }
                }
            })?;
        }
        Ok::<(), String>(())
    })();
    if let Err(error) = loaded {
        loader.abandon();
        return Err((ENOMEM, error));
    }
    Ok(Image {
        tables: loader.finish().map_err(|e| (ENOMEM, e))?,
        entry: plan.entry,
        rsp: stack.rsp,
        brk_start: plan.brk_start,
    })
}

/// A user-mode TrapFrame entering at `entry` with stack `rsp`.
fn user_frame(entry: u64, rsp: u64) -> TrapFrame {
    TrapFrame {
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
    }
}

/// Creates a process that will enter user mode with `frame`.
fn new_process(
    parent: u32,
    name: String,
    tables: UserTables,
    frame: &TrapFrame,
    brk_start: u64,
) -> Result<u32, UserTables> {
    if PROCESSES.lock().len() >= MAX_PROCESSES {
        return Err(tables);
    }
    let pid = NEXT_PID.fetch_add(1, Ordering::SeqCst);
    let kernel_stack: Box<[u64]> = alloc::vec![0u64; KERNEL_STACK_BYTES / 8].into_boxed_slice();
    let top = (kernel_stack.as_ptr() as u64 + KERNEL_STACK_BYTES as u64) & !15;
    let frame_address = top - core::mem::size_of::<TrapFrame>() as u64;
    // Below the frame: the first context switch_context will load — six
    // callee-saved registers (zero) and the return address.
    let context = frame_address - 7 * 8;
    // SAFETY: [context, top) lies inside the freshly allocated kernel
    // stack, 8-aligned; nothing else refers to it yet.
    unsafe {
        core::ptr::write(frame_address as *mut TrapFrame, TrapFrame { ..*frame });
        for slot in 0..6 {
            core::ptr::write((context + slot * 8) as *mut u64, 0);
        }
        core::ptr::write(
            (context + 6 * 8) as *mut u64,
            process_first_run as *const () as u64,
        );
    }
    let process = Box::new(Process {
        pid,
        parent,
        name,
        tables: Some(tables),
        kernel_stack,
        kernel_rsp: context,
        fpu: Box::new(FpuState::initial()),
        state: State::Runnable,
        files: alloc::vec![
            Some(File::Console),
            Some(File::Console),
            Some(File::Console)
        ],
        brk_start,
        brk: brk_start,
        mmap_next: MMAP_BASE,
        fs_base: 0,
        cpu_ns: 0,
        start_ns: crate::time::system_time_ns(),
        pending_kill: None,
        ignored: 0,
    });
    PROCESSES.lock().insert(pid, process);
    Ok(pid)
}

/// Runs position-independent machine code `code` as a process; returns
/// how it ended and what it wrote.
pub fn run_program(code: &[u8]) -> Result<(UserExit, Vec<u8>), String> {
    let image = load_code(code)?;
    let frame = user_frame(image.entry, image.rsp);
    let pid =
        new_process(0, "test".into(), image.tables, &frame, image.brk_start).map_err(|tables| {
            let _ = MMU.lock().destroy_user_tables(tables);
            String::from("too many processes")
        })?;
    schedule_until_exit(pid)
}

/// Loads the static ELF executable `file` as process 1 (init) with `argv`
/// and `envp` and runs every process until init exits.
pub fn run_elf(
    file: &[u8],
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<(UserExit, Vec<u8>), String> {
    let image = load_elf(file, path, argv, envp).map_err(|(_, e)| e)?;
    let frame = user_frame(image.entry, image.rsp);
    let name = path.rsplit('/').next().unwrap_or(path).into();
    let pid = new_process(0, name, image.tables, &frame, image.brk_start).map_err(|tables| {
        let _ = MMU.lock().destroy_user_tables(tables);
        String::from("too many processes")
    })?;
    schedule_until_exit(pid)
}

/// System time when process 1 started (for /proc/1/stat).
pub fn start_time_ns() -> u64 {
    PROCESSES.lock().values().next().map_or(0, |p| p.start_ns)
}

/// Loads `pid`'s context: kernel stack for traps, address space, FPU
/// area and FS base. Returns the context to switch to.
fn prepare(pid: u32) -> Result<u64, String> {
    let processes = PROCESSES.lock();
    let process = processes.get(&pid).ok_or("no such process")?;
    // SAFETY: the kernel stack lives as long as the process, which is not
    // freed while it can run; only traps from its user mode use it.
    unsafe { hypercall::stack_switch(xen_abi::arch::FLAT_KERNEL_SS64, process.kernel_stack_top()) }
        .map_err(|e| format!("stack_switch: {e}"))?;
    MMU.lock()
        .switch_address_space(process.tables.as_ref())
        .map_err(|e| format!("switching address space: {e}"))?;
    crate::arch::x86_64::boot::user_fpu_area
        .store(&*process.fpu as *const FpuState as u64, Ordering::SeqCst);
    let _ = hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, process.fs_base);
    Ok(process.kernel_rsp)
}

/// The scheduler: runs processes, least virtual time first, until `root`
/// exits; then ends the others and returns `root`'s exit and output.
fn schedule_until_exit(root: u32) -> Result<(UserExit, Vec<u8>), String> {
    OUTPUT.lock().clear();
    let result = loop {
        let root_state = PROCESSES.lock().get(&root).map(|p| p.state.clone());
        if let Some(State::Zombie(exit)) = root_state {
            break Ok(exit);
        }
        let next = PROCESSES
            .lock()
            .values()
            .filter(|p| p.state == State::Runnable)
            .min_by_key(|p| p.cpu_ns)
            .map(|p| p.pid);
        let Some(pid) = next else {
            // Everyone is blocked: sleep until an event, then let them
            // re-check what they wait for.
            if PROCESSES
                .lock()
                .values()
                .all(|p| matches!(p.state, State::Zombie(_)))
            {
                break Err(String::from("no process left to run"));
            }
            crate::events::block();
            crate::time::poll();
            wake_all();
            continue;
        };
        let context = match prepare(pid) {
            Ok(context) => context,
            Err(error) => break Err(error),
        };
        CURRENT.store(pid, Ordering::SeqCst);
        let started = crate::time::virtual_ns();
        // The slice timer's VIRQ arrives as an upcall in user mode, where
        // `preempt_if_due` takes the CPU back.
        let slice_end = crate::time::system_time_ns() + TIME_SLICE_NS;
        SLICE_END_NS.store(slice_end, Ordering::SeqCst);
        let slice_timer = crate::time::add_timer(slice_end, crate::time::TimerAction::Wake);
        // `context` was saved by the process's own switch_context (or built
        // by new_process for a first run) on its kernel stack, which is
        // intact; SCHEDULER_RSP is ours to overwrite.
        // SAFETY: both contexts are valid (above); no lock is held.
        unsafe { switch_context(SCHEDULER_RSP.as_ptr(), context) };
        SLICE_END_NS.store(u64::MAX, Ordering::SeqCst);
        if let Some(timer) = slice_timer {
            crate::time::cancel_timer(timer);
        }
        let ran = crate::time::virtual_ns().saturating_sub(started);
        if let Some(process) = PROCESSES.lock().get_mut(&pid) {
            process.cpu_ns += ran;
        }
        CURRENT.store(0, Ordering::SeqCst);
    };
    // Back to the kernel's own tables, then end everything that is left.
    crate::arch::x86_64::boot::user_fpu_area.store(0, Ordering::SeqCst);
    let _ = hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, 0);
    let _ = MMU.lock().switch_address_space(None);
    let leftovers: Vec<Box<Process>> = core::mem::take(&mut *PROCESSES.lock())
        .into_values()
        .collect();
    for mut process in leftovers {
        for file in process.files.drain(..).flatten() {
            file.close();
        }
        if let Some(tables) = process.tables.take() {
            let _ = MMU.lock().destroy_user_tables(tables);
        }
    }
    let output = core::mem::take(&mut *OUTPUT.lock());
    result.map(|exit| (exit, output))
}

/// Called after an event upcall that interrupted user mode: if the
/// running process has used up its slice and another one is runnable,
/// it goes back to the scheduler (preemption).
pub fn preempt_if_due() {
    let pid = current_pid();
    if pid == 0 || crate::time::system_time_ns() < SLICE_END_NS.load(Ordering::SeqCst) {
        return;
    }
    let others = PROCESSES
        .lock()
        .values()
        .any(|p| p.pid != pid && p.state == State::Runnable);
    if others {
        yield_to_scheduler(State::Runnable);
    } else {
        act_on_pending_kill();
    }
}

/// Ends the current process: files closed, address space torn down, the
/// parent woken; never returns.
fn exit_current(exit: UserExit) -> ! {
    let (files, tables) =
        with_current(|process| (core::mem::take(&mut process.files), process.tables.take()));
    for file in files.into_iter().flatten() {
        file.close();
    }
    crate::arch::x86_64::boot::user_fpu_area.store(0, Ordering::SeqCst);
    {
        let mut mmu = MMU.lock();
        let _ = mmu.switch_address_space(None);
        if let Some(tables) = tables {
            let _ = mmu.destroy_user_tables(tables);
        }
    }
    // Orphans are adopted by the root of the tree (pid 1's parent is 0).
    let pid = current_pid();
    for process in PROCESSES.lock().values_mut() {
        if process.parent == pid {
            process.parent = 1;
        }
    }
    wake_all();
    yield_to_scheduler(State::Zombie(exit));
    unreachable!("a zombie is never scheduled");
}

/// Checks every page of `[address, address + len)` is a mapped user page
/// of the current process (writable too, if `write`).
fn check_user_range(address: u64, len: u64, write: bool) -> Result<(), i64> {
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
fn copy_from_user(address: u64, len: u64) -> Result<Vec<u8>, i64> {
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

/// A NULL-terminated array of string pointers (argv, envp).
fn strings_from_user(address: u64) -> Result<Vec<Vec<u8>>, i64> {
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

fn write_console(bytes: &[u8]) {
    crate::kprint!("{}", String::from_utf8_lossy(bytes));
    OUTPUT.lock().extend_from_slice(bytes);
}

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
/// process runs in `/`) and applies `open`'s flag rules.
fn open_path(dirfd: i64, path_address: u64, flags: u32) -> Result<u64, i64> {
    let path = string_from_user(path_address)?;
    if dirfd != linux_abi::fcntl::AT_FDCWD as i64 && !path.starts_with(b"/") {
        return Err(EBADF);
    }
    let id = {
        let mut vfs = VFS.lock();
        let vfs = vfs.as_mut().ok_or(ENOENT)?;
        let context = vfs.root_context(current_pid());
        vfs.open(&context, &path, flags, 0o644, now())
            .map_err(errno)?
    };
    let kind = VFS.lock().as_ref().ok_or(ENOENT)?.kind(id).map_err(errno)?;
    let file = match kind {
        kernel_core::vfs::NodeKind::Device(
            kernel_core::vfs::Device::Console | kernel_core::vfs::Device::Tty,
        ) => File::Console,
        kernel_core::vfs::NodeKind::Device(device) => File::Device(device),
        _ => File::Node(Arc::new(Mutex::new((id, 0)))),
    };
    with_current(|process| process.install(file, 0))
}

fn stat_path(dirfd: i64, path_address: u64, flags: u64) -> Result<linux_abi::stat::Stat, i64> {
    let path = string_from_user(path_address)?;
    let node = if path.is_empty() && flags & linux_abi::fcntl::AT_EMPTY_PATH as u64 != 0 {
        match with_current(|process| process.file(dirfd as u64).cloned())? {
            File::Node(node) => Some(node.lock().0),
            _ => None,
        }
    } else {
        None
    };
    let vfs = VFS.lock();
    let vfs = vfs.as_ref().ok_or(ENOENT)?;
    let id = match node {
        Some(id) => id,
        None => {
            if dirfd != linux_abi::fcntl::AT_FDCWD as i64 && !path.starts_with(b"/") {
                return Err(EBADF);
            }
            let follow = flags & linux_abi::fcntl::AT_SYMLINK_NOFOLLOW as u64 == 0;
            vfs.resolve(&vfs.root_context(1), &path, follow)
                .map_err(errno)?
        }
    };
    vfs.stat(id).map_err(errno)
}

fn console_stat() -> linux_abi::stat::Stat {
    let mut stat = linux_abi::stat::Stat::default();
    stat.st_mode = linux_abi::stat::S_IFCHR | 0o620;
    stat.st_rdev = linux_abi::stat::encode_dev(5, 1);
    stat
}

/// Maps zeroed, writable user pages over `[start, end)` (page-aligned),
/// in one commit; on failure nothing stays mapped.
fn map_zero_pages(start: u64, end: u64) -> Result<(), i64> {
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
fn unmap_range(start: u64, end: u64) -> Result<(), i64> {
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
fn fork(frame: &TrapFrame, child_tid: Option<u64>, tls: Option<u64>) -> Result<u64, i64> {
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
    {
        let mut processes = PROCESSES.lock();
        let child = processes.get_mut(&pid).expect("just inserted");
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

/// execve: replaces the current process's image; on success the frame
/// enters the new program.
fn execve(frame: &mut TrapFrame) -> Result<(), i64> {
    let path = string_from_user(frame.rdi)?;
    let argv = strings_from_user(frame.rsi)?;
    let envp = strings_from_user(frame.rdx)?;
    let file = {
        let vfs = VFS.lock();
        let vfs = vfs.as_ref().ok_or(ENOENT)?;
        let id = vfs
            .resolve(&vfs.root_context(current_pid()), &path, true)
            .map_err(errno)?;
        let size = vfs.size(id).map_err(errno)?;
        let mut bytes = alloc::vec![0u8; size.min(64 << 20) as usize];
        let read = vfs
            .read(
                id,
                0,
                &mut bytes,
                &kernel_core::vfs::Caller { pid: current_pid() },
            )
            .map_err(errno)?;
        bytes.truncate(read);
        bytes
    };
    let path_text = String::from_utf8_lossy(&path).into_owned();
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let image = match load_elf(&file, &path_text, &argv_refs, &envp_refs) {
        Ok(image) => image,
        Err((code, message)) => {
            log::debug!("execve: {message}");
            return Err(if code == 0 { ENOEXEC } else { code });
        }
    };
    let old = with_current(|process| {
        let old = process.tables.replace(image.tables);
        process.brk_start = image.brk_start;
        process.brk = image.brk_start;
        process.mmap_next = MMAP_BASE;
        process.fs_base = 0;
        *process.fpu = FpuState::initial();
        process.name = path_text
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .take(15)
            .collect();
        old
    });
    {
        let processes = PROCESSES.lock();
        let tables = processes
            .get(&current_pid())
            .and_then(|p| p.tables.as_ref());
        let mut mmu = MMU.lock();
        mmu.switch_address_space(tables).map_err(|_| ENOMEM)?;
        if let Some(old) = old {
            let _ = mmu.destroy_user_tables(old);
        }
    }
    let _ = hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, 0);
    *frame = user_frame(image.entry, image.rsp);
    Ok(())
}

/// wait4(pid, status, options, rusage).
fn wait4(pid: i64, status_address: u64, options: u64) -> Result<u64, i64> {
    const WNOHANG: u64 = 1;
    loop {
        let me = current_pid();
        let (zombie, any_child) = {
            let processes = PROCESSES.lock();
            let mut children = processes
                .values()
                // pid <= 0 names a process group; every process is in one
                // group so far, so that means any child.
                .filter(|p| p.parent == me && (pid <= 0 || p.pid as i64 == pid));
            let any = children.clone().next().is_some();
            let zombie = children.find_map(|p| match &p.state {
                State::Zombie(exit) => Some((p.pid, exit.clone())),
                _ => None,
            });
            (zombie, any)
        };
        if let Some((child, exit)) = zombie {
            // Reap: the zombie never runs again, so its stack can go.
            let reaped = PROCESSES.lock().remove(&child);
            drop(reaped);
            if status_address != 0 {
                copy_to_user(status_address, &exit.wait_status().to_le_bytes())?;
            }
            return Ok(child as u64);
        }
        if !any_child {
            return Err(ECHILD);
        }
        if options & WNOHANG != 0 {
            return Ok(0);
        }
        yield_to_scheduler(State::Blocked);
    }
}

fn read_file(fd: u64, address: u64, len: u64) -> Result<u64, i64> {
    let file = with_current(|process| process.file(fd).cloned())?;
    let len = len.min(1 << 20) as usize;
    match file {
        // No console input for programs yet: end of file.
        File::Console => Ok(0),
        File::Device(device) => {
            let mut buffer = alloc::vec![0u8; len];
            let count = device.read(&mut buffer).ok_or(EINVAL)?;
            copy_to_user(address, &buffer[..count]).map(|()| count as u64)
        }
        File::PipeWrite(_) => Err(EBADF),
        File::PipeRead(pipe) => loop {
            let mut buffer = alloc::vec![0u8; len];
            let result = pipe.lock().read(&mut buffer);
            match result {
                Ok(count) => {
                    copy_to_user(address, &buffer[..count])?;
                    wake_all();
                    return Ok(count as u64);
                }
                Err(PipeError::WouldBlock) => yield_to_scheduler(State::Blocked),
                Err(PipeError::BrokenPipe) => return Ok(0),
            }
        },
        File::Node(node) => {
            let (id, offset) = *node.lock();
            let mut buffer = alloc::vec![0u8; len];
            let count = {
                let vfs = VFS.lock();
                let vfs = vfs.as_ref().ok_or(EBADF)?;
                vfs.read(
                    id,
                    offset,
                    &mut buffer,
                    &kernel_core::vfs::Caller { pid: current_pid() },
                )
                .map_err(errno)?
            };
            copy_to_user(address, &buffer[..count])?;
            node.lock().1 = offset + count as u64;
            Ok(count as u64)
        }
    }
}

fn write_file(fd: u64, bytes: &[u8]) -> Result<u64, i64> {
    let file = with_current(|process| process.file(fd).cloned())?;
    match file {
        File::Console => {
            write_console(bytes);
            Ok(bytes.len() as u64)
        }
        File::Device(device) => match device.write(bytes.len()) {
            Some(result) => result.map(|count| count as u64).map_err(errno),
            None => Err(EINVAL),
        },
        File::PipeRead(_) => Err(EBADF),
        File::PipeWrite(pipe) => {
            let mut written = 0;
            while written < bytes.len() {
                let result = pipe.lock().write(&bytes[written..]);
                match result {
                    Ok(count) => {
                        written += count;
                        wake_all();
                    }
                    Err(PipeError::WouldBlock) => yield_to_scheduler(State::Blocked),
                    Err(PipeError::BrokenPipe) if written > 0 => break,
                    Err(PipeError::BrokenPipe) => {
                        let _ = post_signal(current_pid(), 13); // SIGPIPE
                        return Err(EPIPE);
                    }
                }
            }
            Ok(written as u64)
        }
        File::Node(node) => {
            let (id, offset) = *node.lock();
            let count = {
                let mut vfs = VFS.lock();
                let vfs = vfs.as_mut().ok_or(EBADF)?;
                vfs.write(id, offset, bytes, now()).map_err(errno)?
            };
            node.lock().1 = offset + count as u64;
            Ok(count as u64)
        }
    }
}

fn close_fd(fd: u64) -> Result<u64, i64> {
    let file = with_current(|process| {
        process
            .files
            .get_mut(usize::try_from(fd).map_err(|_| EBADF)?)
            .and_then(Option::take)
            .ok_or(EBADF)
    })?;
    file.close();
    wake_all();
    Ok(0)
}

fn dup_to(old: u64, new: Option<u64>, lowest: u64) -> Result<u64, i64> {
    let file = with_current(|process| process.file(old).map(File::duplicate))?;
    match new {
        Some(new) if new == old => {
            file.close();
            Ok(new)
        }
        Some(new) => {
            if new >= 1024 {
                file.close();
                return Err(EBADF);
            }
            let replaced = with_current(|process| {
                if process.files.len() <= new as usize {
                    process.files.resize(new as usize + 1, None);
                }
                process.files[new as usize].replace(file)
            });
            if let Some(replaced) = replaced {
                replaced.close();
            }
            wake_all();
            Ok(new)
        }
        None => with_current(|process| process.install(file, lowest as usize)),
    }
}

/// Handles a `syscall` from user mode (vector 258): number in rax,
/// arguments in rdi, rsi, rdx, r10, r8, r9 (Linux x86_64 ABI).
pub fn syscall(frame: &mut TrapFrame) {
    use linux_abi::syscall::Sysno;
    // Lists built under the MMU lock (fork, munmap) must not grow the heap.
    crate::mm::heap::ensure_headroom(2 << 20);
    act_on_pending_kill();
    let (a0, a1, a2, a3, a4) = (frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8);
    log::trace!(
        "syscall pid={} nr={} args={a0:#x} {a1:#x} {a2:#x} {a3:#x}",
        current_pid(),
        frame.rax
    );
    let result: Result<u64, i64> = match Sysno::from_raw(frame.rax) {
        Some(Sysno::Write) => copy_from_user(a1, a2).and_then(|bytes| write_file(a0, &bytes)),
        Some(Sysno::Writev) => (|| {
            let iov = copy_from_user(a1, a2.min(1024) * 16)?;
            let mut total = 0;
            for entry in iov.chunks_exact(16) {
                let base = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
                let len = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
                let bytes = copy_from_user(base, len)?;
                total += write_file(a0, &bytes)?;
            }
            Ok(total)
        })(),
        Some(Sysno::Read) => read_file(a0, a1, a2),
        Some(Sysno::Open) => open_path(linux_abi::fcntl::AT_FDCWD as i64, a0, a1 as u32),
        // int arguments (fds, pids) arrive in 64-bit registers with
        // undefined upper halves: only the low 32 bits count.
        Some(Sysno::Openat) => open_path(a0 as i32 as i64, a1, a2 as u32),
        Some(Sysno::Close) => close_fd(a0),
        Some(Sysno::Dup) => dup_to(a0, None, 0),
        Some(Sysno::Dup2 | Sysno::Dup3) => dup_to(a0, Some(a1), 0),
        Some(Sysno::Fcntl) => match a1 {
            0 | 1030 => dup_to(a0, None, a2), // F_DUPFD, F_DUPFD_CLOEXEC
            1..=2 | 4 => with_current(|p| p.file(a0).map(|_| 0)), // F_GETFD, F_SETFD, F_SETFL
            3 => with_current(|p| p.file(a0).map(|_| 2)), // F_GETFL: O_RDWR
            _ => Err(EINVAL),
        },
        Some(Sysno::Pipe | Sysno::Pipe2) => (|| {
            let pipe = Arc::new(Mutex::new(Pipe::new()));
            let (read, write) = with_current(|p| {
                let read = p.install(File::PipeRead(pipe.clone()), 0)?;
                let write = p.install(File::PipeWrite(pipe), 0)?;
                Ok::<_, i64>((read, write))
            })?;
            let mut bytes = [0u8; 8];
            bytes[..4].copy_from_slice(&(read as i32).to_le_bytes());
            bytes[4..].copy_from_slice(&(write as i32).to_le_bytes());
            copy_to_user(a0, &bytes).map(|()| 0)
        })(),
        Some(Sysno::Fork | Sysno::Vfork) => fork(frame, None, None),
        Some(Sysno::Clone) => {
            const CLONE_VM: u64 = 0x100;
            const CLONE_SETTLS: u64 = 0x80000;
            const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
            if a0 & CLONE_VM != 0 || a1 != 0 {
                Err(ENOSYS) // threads: not yet
            } else {
                let child_tid = (a0 & CLONE_CHILD_SETTID != 0).then_some(a3);
                let tls = (a0 & CLONE_SETTLS != 0).then_some(a4);
                fork(frame, child_tid, tls)
            }
        }
        Some(Sysno::Execve) => match execve(frame) {
            // The frame now enters the new program: leave rax as set.
            Ok(()) => return,
            Err(code) => Err(code),
        },
        Some(Sysno::Wait4) => wait4(a0 as i32 as i64, a1, a2),
        Some(Sysno::Kill) => {
            let (target, signal) = (a0 as i32, a1 as u32);
            if target > 0 {
                post_signal(target as u32, signal).map(|()| 0)
            } else {
                // A process group (every process is in one so far): all but
                // the caller, then the caller.
                let me = current_pid();
                let pids: Vec<u32> = PROCESSES
                    .lock()
                    .keys()
                    .copied()
                    .filter(|&p| p != me)
                    .collect();
                for pid in pids {
                    let _ = post_signal(pid, signal);
                }
                post_signal(me, signal).map(|()| 0)
            }
        }
        Some(Sysno::Lseek) => (|| {
            let File::Node(node) = with_current(|p| p.file(a0).cloned())? else {
                return Err(29); // ESPIPE
            };
            let mut node = node.lock();
            let size = VFS
                .lock()
                .as_ref()
                .ok_or(EBADF)?
                .size(node.0)
                .map_err(errno)?;
            let base = match a2 {
                0 => 0,
                1 => node.1 as i64,
                2 => size as i64,
                _ => return Err(EINVAL),
            };
            let target = base
                .checked_add(a1 as i64)
                .filter(|t| *t >= 0)
                .ok_or(EINVAL)?;
            node.1 = target as u64;
            Ok(target as u64)
        })(),
        Some(Sysno::Fstat) => (|| {
            let stat = match with_current(|p| p.file(a0).cloned())? {
                File::Console => console_stat(),
                File::Device(device) => {
                    let mut stat = linux_abi::stat::Stat::default();
                    let (major, minor) = device.numbers();
                    stat.st_mode = linux_abi::stat::S_IFCHR | 0o666;
                    stat.st_rdev = linux_abi::stat::encode_dev(major, minor);
                    stat
                }
                File::PipeRead(_) | File::PipeWrite(_) => {
                    let mut stat = linux_abi::stat::Stat::default();
                    stat.st_mode = linux_abi::stat::S_IFIFO | 0o600;
                    stat
                }
                File::Node(node) => {
                    let id = node.lock().0;
                    VFS.lock().as_ref().ok_or(EBADF)?.stat(id).map_err(errno)?
                }
            };
            copy_to_user(a1, &stat.to_bytes()).map(|()| 0)
        })(),
        Some(Sysno::Stat) => stat_path(linux_abi::fcntl::AT_FDCWD as i64, a0, 0)
            .and_then(|stat| copy_to_user(a1, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Lstat) => stat_path(
            linux_abi::fcntl::AT_FDCWD as i64,
            a0,
            linux_abi::fcntl::AT_SYMLINK_NOFOLLOW as u64,
        )
        .and_then(|stat| copy_to_user(a1, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Newfstatat) => stat_path(a0 as i32 as i64, a1, a3)
            .and_then(|stat| copy_to_user(a2, &stat.to_bytes()).map(|()| 0)),
        Some(Sysno::Getdents64) => (|| {
            let File::Node(node) = with_current(|p| p.file(a0).cloned())? else {
                return Err(20); // ENOTDIR
            };
            let (id, cookie) = *node.lock();
            let mut buffer = alloc::vec![0u8; a2.min(1 << 16) as usize];
            let dirents = VFS
                .lock()
                .as_ref()
                .ok_or(EBADF)?
                .getdents64(id, cookie, &mut buffer)
                .map_err(errno)?;
            copy_to_user(a1, &buffer[..dirents.bytes])?;
            node.lock().1 = dirents.next_cookie;
            Ok(dirents.bytes as u64)
        })(),
        Some(Sysno::Readlink) => (|| {
            let path = string_from_user(a0)?;
            let vfs = VFS.lock();
            let vfs = vfs.as_ref().ok_or(ENOENT)?;
            let id = vfs
                .resolve(&vfs.root_context(current_pid()), &path, false)
                .map_err(errno)?;
            let target = vfs
                .readlink(id, &kernel_core::vfs::Caller { pid: current_pid() })
                .map_err(errno)?;
            let len = target.len().min(a2 as usize);
            copy_to_user(a1, &target[..len]).map(|()| len as u64)
        })(),
        Some(Sysno::Getpid | Sysno::Gettid | Sysno::SetTidAddress) => Ok(current_pid() as u64),
        Some(Sysno::Getppid) => Ok(with_current(|p| p.parent) as u64),
        Some(Sysno::Getpgrp | Sysno::Getsid) => Ok(1),
        Some(Sysno::Setpgid | Sysno::Setsid) => Ok(0),
        Some(Sysno::Getuid | Sysno::Geteuid | Sysno::Getgid | Sysno::Getegid) => Ok(0),
        Some(Sysno::SetRobustList) => Ok(0),
        Some(Sysno::RtSigaction) => {
            // Records SIG_IGN / SIG_DFL; handlers are not delivered yet (the
            // signal then keeps its default action).
            if (1..=64).contains(&a0) && a1 != 0 {
                let handler = copy_from_user(a1, 8)
                    .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
                if let Ok(handler) = handler {
                    let bit = 1u64 << (a0 - 1);
                    with_current(|p| {
                        if handler == 1 {
                            p.ignored |= bit;
                        } else {
                            p.ignored &= !bit;
                        }
                    });
                }
            }
            Ok(0)
        }
        Some(Sysno::RtSigprocmask) => Ok(0),
        // Shells wait for SIGCHLD here. Without signal delivery, sleep until
        // something changes (a child exits, a pipe moves) and report EINTR,
        // after which they poll their children with wait4(WNOHANG).
        Some(Sysno::RtSigsuspend) => {
            yield_to_scheduler(State::Blocked);
            Err(4)
        }
        Some(Sysno::Ioctl) => Err(ENOTTY),
        // Every process runs in the root directory so far.
        Some(Sysno::Getcwd) => copy_to_user(a0, b"/\0").map(|()| 2),
        Some(Sysno::Chdir) => Ok(0),
        // Restartable sequences are optional; glibc copes with ENOSYS.
        Some(Sysno::Rseq) => Err(ENOSYS),
        Some(Sysno::Prlimit64) => {
            // Report (and ignore changes to) limits: 8 MiB stack, the rest
            // unlimited, as a fresh Linux shell would see them.
            let (current, maximum) = if a1 == 3 {
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
            let (start, current) = with_current(|p| (p.brk_start, p.brk));
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
                    Ok(()) => Ok(with_current(|p| {
                        p.brk = a0.max(current);
                        p.brk
                    })),
                    Err(_) => Ok(current),
                }
            }
        }
        Some(Sysno::Mmap) => {
            let (len, flags) = (a1, a3);
            let anonymous = flags & linux_abi::mman::MAP_ANONYMOUS as u64 != 0;
            if !anonymous || a0 != 0 && flags & linux_abi::mman::MAP_FIXED as u64 != 0 {
                // File mappings and fixed placement come later.
                Err(ENOSYS)
            } else if len == 0 || len > 1 << 30 {
                Err(EINVAL)
            } else {
                let size = (len + 0xfff) & !0xfff;
                let start = with_current(|p| {
                    let start = p.mmap_next;
                    p.mmap_next += size + 4096; // a guard gap
                    start
                });
                map_zero_pages(start, start + size).map(|()| start)
            }
        }
        Some(Sysno::Munmap) => {
            if a0 % 4096 != 0 || a1 == 0 || a0.checked_add(a1).is_none_or(|end| end > USER_END) {
                Err(EINVAL)
            } else {
                unmap_range(a0, (a0 + a1 + 0xfff) & !0xfff).map(|()| 0)
            }
        }
        Some(Sysno::Mprotect | Sysno::Madvise) => Ok(0),
        Some(Sysno::ArchPrctl) => match a0 {
            // ARCH_SET_FS
            0x1002 => {
                with_current(|p| p.fs_base = a1);
                hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, a1)
                    .map(|_| 0)
                    .map_err(|_| EINVAL)
            }
            // ARCH_GET_FS
            0x1003 => {
                let base = with_current(|p| p.fs_base);
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
        Some(Sysno::ClockGettime) => (|| {
            let ns = match a0 {
                0 => {
                    let wall = crate::time::wallclock();
                    wall.secs * 1_000_000_000 + wall.nanos as u64
                }
                1 | 4 | 7 => crate::time::system_time_ns(),
                2 | 3 => with_current(|p| p.cpu_ns),
                _ => return Err(EINVAL),
            };
            let value = linux_abi::time::Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as i64,
            };
            copy_to_user(a1, &value.to_bytes()).map(|()| 0)
        })(),
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
        Some(Sysno::SchedYield) => {
            yield_to_scheduler(State::Runnable);
            Ok(0)
        }
        Some(Sysno::Exit | Sysno::ExitGroup) => exit_current(UserExit::Exited(a0 as i32)),
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
    frame.rax = match result {
        Ok(value) => value,
        Err(errno) => (-errno) as u64,
    };
}

/// Handles an exception from user mode: the process ends.
pub fn fault(frame: &mut TrapFrame) {
    // Tearing the process down lists its pages under the MMU lock.
    crate::mm::heap::ensure_headroom(2 << 20);
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
    crate::kprintln!("user: process {} killed by {reason}", current_pid());
    exit_current(UserExit::Killed { signal, reason })
}
