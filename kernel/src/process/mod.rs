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
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel_core::sched::RunQueue;

use kernel_core::pipe::{End, Pipe, PipeError};
use kernel_core::vfs::{InodeId, Vfs};
use spin::Mutex;

use crate::arch::x86_64::traps::{vector_name, TrapFrame};
use crate::mm::paging::{UserTables, MMU, USER_END, USER_START};
use crate::mm::{frames, mfn_to_pfn, pfn_to_mfn, physmap_address};
use crate::xen::hypercall;

mod fileops;
mod files;
mod info;
mod loader;
mod memory;
mod procfs;
mod signal;
mod syscall;
mod terminal;
mod vm;

use fileops::*;
use files::*;
use info::*;
use loader::*;
pub use memory::fault;
use memory::*;
use signal::*;
pub use syscall::syscall;
use vm::*;

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
const ESRCH: i64 = 3;
const EINTR: i64 = 4;
const EACCES: i64 = 13;
const ENODEV: i64 = 19;
const ENOTDIR: i64 = 20;

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

/// What a blocked process waits for: only a matching event (or a signal)
/// wakes it, so blocked processes cost nothing while others run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// A child to end (wait4).
    Child,
    /// Data, room or a closed end in the pipe at this address.
    Pipe(usize),
    /// Console input.
    Console,
    /// A deadline, in system time (nanosleep).
    Until(u64),
    /// Any file to become ready, or the deadline (poll).
    Poll(Option<u64>),
    /// Nothing but a signal (sigsuspend, pause).
    Signal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Runnable,
    /// Waiting, until the event it names or a signal.
    Blocked(Wait),
    /// Stopped by a signal (SIGSTOP, SIGTSTP ...) until SIGCONT.
    Stopped,
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
    /// FD_CLOEXEC, one bit per descriptor (0..1024).
    close_on_exec: [u64; 16],
    brk_start: u64,
    brk: u64,
    /// What the process may touch (pages come at first touch).
    map: Map,
    /// Where the last demand fill ended and how many pages it filled: a
    /// fault there continues a sequential scan (`vm::fill_fault`).
    fault_window: (u64, u64),
    fs_base: u64,
    /// Virtual time this process has run, the scheduler's fairness key.
    cpu_ns: u64,
    start_ns: u64,
    /// Actions, mask and pending set (`kernel_core::signals`).
    signals: kernel_core::signals::SignalState,
    /// The mask to restore after `rt_sigsuspend`'s temporary one.
    suspend_mask: Option<linux_abi::signal::SigSet>,
    /// The fault being signalled, for the handler's siginfo or the report.
    fault: Option<FaultReport>,
    /// argv, NUL-terminated strings back to back (/proc/<pid>/cmdline).
    cmdline: Vec<u8>,
    /// File mode bits new files do not get (umask).
    umask: u32,
    /// CPU time of reaped children (getrusage, times).
    children_cpu_ns: u64,
    /// When SIGALRM is due (alarm), system time.
    alarm_at: Option<u64>,
    /// Working directory (None: the root).
    cwd: Option<InodeId>,
    /// May use the kernel's test hooks (self-check programs only).
    test_hooks: bool,
    /// Process group and session (job control, Ctrl-C).
    pgid: u32,
    sid: u32,
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

    fn install(&mut self, file: File, lowest: usize, close_on_exec: bool) -> Result<u64, i64> {
        let slot = (lowest..1024)
            .find(|&fd| self.files.get(fd).is_none_or(Option::is_none))
            .ok_or(24)?; // EMFILE
        if self.files.len() <= slot {
            self.files.resize(slot + 1, None);
        }
        self.files[slot] = Some(file);
        self.set_close_on_exec(slot as u64, close_on_exec);
        Ok(slot as u64)
    }

    /// FD_CLOEXEC of descriptor `fd` (per descriptor, not per open file).
    fn close_on_exec(&self, fd: u64) -> bool {
        fd < 1024 && self.close_on_exec[(fd / 64) as usize] & 1 << (fd % 64) != 0
    }

    fn set_close_on_exec(&mut self, fd: u64, value: bool) {
        if fd < 1024 {
            let (word, bit) = ((fd / 64) as usize, 1u64 << (fd % 64));
            if value {
                self.close_on_exec[word] |= bit;
            } else {
                self.close_on_exec[word] &= !bit;
            }
        }
    }

    /// execve: takes out the descriptors marked close-on-exec (the caller
    /// closes them once no lock is held).
    fn take_close_on_exec(&mut self) -> Vec<File> {
        let mut closed = Vec::new();
        for fd in 0..self.files.len() as u64 {
            if self.close_on_exec(fd) {
                closed.extend(self.files[fd as usize].take());
            }
        }
        self.close_on_exec = [0; 16];
        closed
    }
}

static PROCESSES: Mutex<BTreeMap<u32, Box<Process>>> = Mutex::new(BTreeMap::new());
static CURRENT: AtomicU32 = AtomicU32::new(0);
static NEXT_PID: AtomicU32 = AtomicU32::new(1);
/// The scheduler's (kernel thread's) saved stack pointer.
static SCHEDULER_RSP: AtomicU64 = AtomicU64::new(0);
/// When the running process's time slice ends (system time).
static SLICE_END_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// The shortest slice: under emulation a shorter one spends most of it
/// switching.
const MIN_SLICE_NS: u64 = 2_000_000;
/// `sched_yield` asked the scheduler to prefer another process.
static YIELDING: AtomicBool = AtomicBool::new(false);

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

/// The run queue (`kernel_core::sched`, CFS-like, fair by virtual
/// time); set up when the first process starts.
static RUN_QUEUE: Mutex<Option<RunQueue<u32>>> = Mutex::new(None);

/// Runs `f` on the run queue.
fn with_run_queue<R>(f: impl FnOnce(&mut RunQueue<u32>) -> R) -> R {
    f(RUN_QUEUE.lock().get_or_insert_with(RunQueue::default))
}

/// Makes `process` runnable if it is blocked or stopped (a wake-up, a
/// signal, SIGCONT). Called with the process table locked.
fn make_runnable(process: &mut Process) {
    if matches!(process.state, State::Blocked(_) | State::Stopped) {
        process.state = State::Runnable;
        with_run_queue(|queue| {
            let _ = queue.wake(process.pid);
        });
        want_slice_timer();
    }
}

/// The running process now has company in the run queue: it needs a
/// slice timer, armed on its way back to user mode
/// (`before_user_return`), so a waker that blocks or exits first (the
/// common case: a pipe write then a read, an exit) costs no timer
/// hypercalls.
fn want_slice_timer() {
    if current_pid() != 0 {
        SLICE_WANTED.store(true, Ordering::SeqCst);
    }
}

/// A process became runnable while the current one ran (`want_slice_timer`).
static SLICE_WANTED: AtomicBool = AtomicBool::new(false);

/// Last kernel work before a trap returns to user mode: the slice timer
/// if another process became runnable meanwhile.
pub fn before_user_return() {
    if SLICE_WANTED.swap(false, Ordering::SeqCst) && current_pid() != 0 {
        arm_slice_timer();
    }
}

/// The running process's slice timer, if armed.
static SLICE_TIMER: Mutex<Option<kernel_core::timer_queue::TimerId>> = Mutex::new(None);

/// Arms the slice timer for the current slice's end, unless it is.
fn arm_slice_timer() {
    let mut timer = SLICE_TIMER.lock();
    if timer.is_none() {
        let end = SLICE_END_NS.load(Ordering::SeqCst);
        if end != u64::MAX {
            *timer = crate::time::add_timer(end, crate::time::TimerAction::Wake);
        }
    }
}

/// Wakes the blocked processes whose wait `wanted` accepts; each then
/// re-checks its own condition.
fn wake_where(wanted: impl Fn(Wait) -> bool) {
    for process in PROCESSES.lock().values_mut() {
        if let State::Blocked(wait) = process.state {
            if wanted(wait) {
                make_runnable(process);
            }
        }
    }
}

/// Wakes `pid` if it waits for `wait`.
fn wake_where_pid(pid: u32, wait: Wait) {
    if let Some(process) = PROCESSES.lock().get_mut(&pid) {
        if process.state == State::Blocked(wait) {
            make_runnable(process);
        }
    }
}

/// Something happened to `pipe` (data, room, an end closed).
fn wake_pipe_waiters(pipe: &Arc<Mutex<Pipe>>) {
    let key = Arc::as_ptr(pipe) as usize;
    wake_where(|wait| wait == Wait::Pipe(key) || matches!(wait, Wait::Poll(_)));
}

/// Processes whose deadline has passed.
fn wake_expired_sleepers() {
    let now = crate::time::system_time_ns();
    wake_where(|wait| match wait {
        Wait::Until(deadline) | Wait::Poll(Some(deadline)) => deadline <= now,
        _ => false,
    });
}

/// Gives the CPU back to the scheduler; returns when this process is
/// picked again. `state` is what the process becomes meanwhile.
fn yield_to_scheduler(state: State) {
    let rsp_slot = {
        let mut processes = PROCESSES.lock();
        let process = processes
            .get_mut(&current_pid())
            .expect("the current process exists");
        let virtual_now = crate::time::virtual_ns();
        with_run_queue(|queue| match state {
            // Still runnable (preempted, yielding): the scheduler's next
            // `schedule` charges it and puts it back in the queue.
            State::Runnable => {}
            State::Blocked(_) | State::Stopped => {
                let _ = queue.sleep(process.pid, virtual_now);
            }
            State::Zombie(_) => {
                let _ = queue.remove(process.pid);
            }
        });
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
}

/// Creates a process that will enter user mode with `frame`.
fn new_process(
    parent: u32,
    name: String,
    tables: UserTables,
    frame: &TrapFrame,
    brk_start: u64,
    map: Map,
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
        map,
        fault_window: (0, 0),
        fs_base: 0,
        cpu_ns: 0,
        start_ns: crate::time::system_time_ns(),
        signals: kernel_core::signals::SignalState::new(),
        suspend_mask: None,
        test_hooks: false,
        cwd: None,
        close_on_exec: [0; 16],
        children_cpu_ns: 0,
        umask: 0o022,
        cmdline: Vec::new(),
        alarm_at: None,
        fault: None,
        pgid: if parent == 0 { pid } else { 1 },
        sid: if parent == 0 { pid } else { 1 },
    });
    PROCESSES.lock().insert(pid, process);
    with_run_queue(|queue| {
        let _ = queue.add(pid);
    });
    // A forked child is runnable beside its running parent.
    want_slice_timer();
    procfs::add(pid);
    Ok(pid)
}

/// Runs position-independent machine code `code` as a process; returns
/// how it ended and what it wrote.
pub fn run_program(code: &[u8]) -> Result<(UserExit, Vec<u8>), String> {
    let image = load_code(code)?;
    let frame = user_frame(image.entry, image.rsp);
    let pid = new_process(
        0,
        "test".into(),
        image.tables,
        &frame,
        image.brk_start,
        image.map,
    )
    .map_err(|tables| {
        let _ = MMU.lock().destroy_user_tables(tables);
        String::from("too many processes")
    })?;
    if let Some(process) = PROCESSES.lock().get_mut(&pid) {
        process.test_hooks = true;
    }
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
    if PROCESSES.lock().is_empty() {
        // Init is pid 1 even after the self-checks ran test programs.
        NEXT_PID.store(1, Ordering::SeqCst);
    }
    let image = load_elf(Arc::new(file.to_vec()), path, argv, envp).map_err(|(_, e)| e)?;
    let frame = user_frame(image.entry, image.rsp);
    let name = path.rsplit('/').next().unwrap_or(path).into();
    let pid = new_process(0, name, image.tables, &frame, image.brk_start, image.map).map_err(
        |tables| {
            let _ = MMU.lock().destroy_user_tables(tables);
            String::from("too many processes")
        },
    )?;
    terminal::init(pid);
    if let Some(process) = PROCESSES.lock().get_mut(&pid) {
        process.cmdline = argv
            .iter()
            .flat_map(|arg| arg.iter().copied().chain([0]))
            .collect();
    }
    schedule_until_exit(pid)
}

/// Loads `pid`'s context: kernel stack for traps, address space, FPU
/// area and FS base. Returns the context to switch to.
fn prepare(pid: u32) -> Result<u64, String> {
    let processes = PROCESSES.lock();
    let process = processes.get(&pid).ok_or("no such process")?;
    let tables = process.tables.as_ref().ok_or("a process without tables")?;
    let fs_base =
        (LOADED_FS_BASE.load(Ordering::SeqCst) != process.fs_base).then_some(process.fs_base);
    // One hypercall: base pointers, kernel stack, FS base (if it changes).
    // SAFETY: the kernel stack lives as long as the process, which is not
    // freed while it can run; only traps from its user mode use it.
    unsafe {
        MMU.lock()
            .switch_process(tables, process.kernel_stack_top(), fs_base)
    }
    .map_err(|e| format!("switching to process {pid}: {e}"))?;
    if let Some(base) = fs_base {
        LOADED_FS_BASE.store(base, Ordering::SeqCst);
    }
    crate::arch::x86_64::boot::user_fpu_area
        .store(&*process.fpu as *const FpuState as u64, Ordering::SeqCst);
    Ok(process.kernel_rsp)
}

/// Virtual time when the running process got the CPU (its current stint).
static STINT_STARTED_NS: AtomicU64 = AtomicU64::new(0);

/// CPU (virtual) time of the current process, its current stint included.
fn current_cpu_ns() -> u64 {
    let stint = crate::time::virtual_ns().saturating_sub(STINT_STARTED_NS.load(Ordering::SeqCst));
    with_current(|p| p.cpu_ns) + stint
}

/// The FS base loaded in the CPU (`u64::MAX`: unknown), so a switch
/// between processes with the same one (most: 0 or unchanged) skips it.
static LOADED_FS_BASE: AtomicU64 = AtomicU64::new(u64::MAX);

/// Loads `base` as the FS base now (arch_prctl, execve).
fn load_fs_base(base: u64) -> Result<(), i64> {
    hypercall::set_segment_base(xen_abi::arch::SEGBASE_FS, base).map_err(|_| EINVAL)?;
    LOADED_FS_BASE.store(base, Ordering::SeqCst);
    Ok(())
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
        let virtual_now = crate::time::virtual_ns();
        let next = if YIELDING.swap(false, Ordering::SeqCst) {
            with_run_queue(|queue| queue.yield_current(virtual_now))
        } else {
            with_run_queue(|queue| queue.schedule(virtual_now))
        };
        let Some(pid) = next else {
            // Everyone is blocked: sleep until an event, then wake those
            // it concerns (a timer, the console, a signal).
            if PROCESSES
                .lock()
                .values()
                .all(|p| matches!(p.state, State::Zombie(_)))
            {
                break Err(String::from("no process left to run"));
            }
            log::trace!("sched: idle at {}", crate::time::system_time_ns());
            crate::events::block();
            crate::time::poll();
            terminal::pump();
            fire_alarms();
            wake_expired_sleepers();
            continue;
        };
        let context = match prepare(pid) {
            Ok(context) => context,
            Err(error) => break Err(error),
        };
        CURRENT.store(pid, Ordering::SeqCst);
        log::trace!("sched: run {pid} at {}", crate::time::system_time_ns());
        let started = crate::time::virtual_ns();
        STINT_STARTED_NS.store(started, Ordering::SeqCst);
        // The slice timer's VIRQ arrives as an upcall in user mode, where
        // `preempt_if_due` takes the CPU back. The slice shrinks as more
        // processes are runnable (the run queue's latency target).
        let slice = with_run_queue(|queue| queue.slice_ns()).max(MIN_SLICE_NS);
        let slice_end = crate::time::system_time_ns() + slice;
        SLICE_END_NS.store(slice_end, Ordering::SeqCst);
        // Alone, a process needs no slice timer (tickless); one is armed
        // when another becomes runnable (`want_slice_timer`).
        SLICE_WANTED.store(false, Ordering::SeqCst);
        if with_run_queue(|queue| queue.ready_count() > 0) {
            arm_slice_timer();
        }
        // `context` was saved by the process's own switch_context (or built
        // by new_process for a first run) on its kernel stack, which is
        // intact; SCHEDULER_RSP is ours to overwrite.
        // SAFETY: both contexts are valid (above); no lock is held.
        unsafe { switch_context(SCHEDULER_RSP.as_ptr(), context) };
        SLICE_END_NS.store(u64::MAX, Ordering::SeqCst);
        let slice_timer = SLICE_TIMER.lock().take();
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
    let _ = load_fs_base(0);
    let _ = MMU.lock().switch_address_space(None);
    *RUN_QUEUE.lock() = None;
    let leftovers: Vec<Box<Process>> = core::mem::take(&mut *PROCESSES.lock())
        .into_values()
        .collect();
    for mut process in leftovers {
        procfs::remove(process.pid);
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

/// After an event upcall that interrupted user mode: console input is
/// taken (Ctrl-C becomes SIGINT), sleepers re-check their conditions (a
/// timer may have expired), the process may be preempted, and signals
/// are delivered before it resumes.
pub fn after_upcall(frame: &mut TrapFrame) {
    // Due timers are taken and the next deadline armed: an upcall that
    // came a little before the slice end by our clock re-arms the slice
    // timer instead of leaving no timer at all.
    crate::time::poll();
    terminal::pump();
    fire_alarms();
    wake_expired_sleepers();
    preempt_if_due();
    deliver(frame, None);
}

/// Called after an event upcall that interrupted user mode: if the
/// running process has used up its slice and another one is runnable,
/// it goes back to the scheduler (preemption).
fn preempt_if_due() {
    let pid = current_pid();
    if pid == 0 || crate::time::system_time_ns() < SLICE_END_NS.load(Ordering::SeqCst) {
        return;
    }
    let others = with_run_queue(|queue| queue.ready_count() > 0);
    log::trace!("sched: slice of {pid} over, others runnable: {others}");
    if others {
        yield_to_scheduler(State::Runnable);
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
        // One batch: back to the kernel's tables, then the teardown.
        let _ = mmu.queue_address_space(None);
        match tables {
            Some(tables) => {
                let _ = mmu.destroy_user_tables(tables);
            }
            None => {
                let _ = mmu.commit();
            }
        }
    }
    // Orphans are adopted by the root of the tree (pid 1's parent is 0).
    let pid = current_pid();
    let mut adopted_zombie = false;
    for process in PROCESSES.lock().values_mut() {
        if process.parent == pid {
            process.parent = 1;
            adopted_zombie |= matches!(process.state, State::Zombie(_));
        }
    }
    if adopted_zombie {
        wake_where_pid(1, Wait::Child);
    }
    let parent = with_current(|process| process.parent);
    let _ = post(parent, linux_abi::signal::Signal::SIGCHLD.number());
    wake_where_pid(parent, Wait::Child);
    yield_to_scheduler(State::Zombie(exit));
    unreachable!("a zombie is never scheduled");
}

/// wait4(pid, status, options, rusage).
fn wait4(pid: i64, status_address: u64, options: u64) -> Result<u64, i64> {
    const WNOHANG: u64 = 1;
    loop {
        let (me, my_group) = with_current(|p| (p.pid, p.pgid));
        let (zombie, any_child) = {
            let processes = PROCESSES.lock();
            // pid > 0: that child; 0: a child in our group; -1: any
            // child; below -1: a child in group -pid.
            let wanted = |p: &Process| match pid {
                0 => p.pgid == my_group,
                -1 => true,
                _ if pid < 0 => p.pgid as i64 == -pid,
                _ => p.pid as i64 == pid,
            };
            let mut children = processes.values().filter(|p| p.parent == me && wanted(p));
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
            if let Some(reaped) = &reaped {
                let cpu = reaped.cpu_ns + reaped.children_cpu_ns;
                with_current(|p| p.children_cpu_ns += cpu);
            }
            drop(reaped);
            procfs::remove(child);
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
        sleep_interruptibly(Wait::Child)?;
    }
}
