//! `fault-inject`: hostile system calls, ELF files and processes.
//!
//! Runs named cases against the kernel it runs on and prints one line per
//! case, `fault <case> ok` or `fault <case> FAIL <why>`, then
//! `fault-inject: N ok, M failed`; exits 1 if any failed. Arguments name
//! the groups to run (default: all of them, in this order):
//!
//! | group | what |
//! |---|---|
//! | `pointers` | NULL, unmapped, non-canonical and kernel pointers, ranges running into kernel space or off a mapping, overflowing lengths: `EFAULT` |
//! | `exposure` | nothing of the kernel reaches user memory: bad-pointer writes leave pipes empty, structs come back fully written and zero-padded |
//! | `elf` | crafted ELF files in /tmp executed by a child (`userland_core::fault::elf_cases`) |
//! | `child-faults` | a child faults (NULL, its own text, `hlt`, `cli`, `ud2`, divide by zero, kernel jump, ...): the parent's `wait4` sees the signal |
//! | `syscalls` | unknown system-call numbers: `ENOSYS` |
//! | `arguments` | bad fds, whence, flags, signals, lengths: `EBADF`/`EINVAL`/... |
//! | `fork-bomb` | fork until `EAGAIN`; every child released and reaped; fork works again |
//! | `memory` | a child maps and grows its break until `ENOMEM`; memory comes back; fds until `EMFILE`; a full pipe blocks its writer |
//! | `kernel-memory` | while a child holds all memory, another opens pipes until refused: the kernel's own allocations must fail cleanly |
//!
//! Expectations come from Linux's documentation (and, where it leaves a
//! choice, Linux 6.1's code), not from our kernel: the host test
//! `userland/programs/tests/programs.rs` runs the safe groups on the build
//! host's Linux, where every case must pass.
//!
//! The one program with `unsafe`: its purpose is to hand the kernel
//! pointers no safe wrapper of `userland-rt` would, and to execute
//! instructions that fault. Every pointer it passes is either not user
//! memory at all, or inside a [`ProbePage`] it owns and reads only after
//! the call.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::asm;

use linux_abi::fcntl::{AT_FDCWD, O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC, O_WRONLY};
use linux_abi::mman::{MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use linux_abi::Sysno;
use userland_core::abi::OpenFlags;
use userland_core::fault::{
    case_line, elf_cases, expect_errno, expect_one_of, fork_bomb_verdict, memory_recovered, signal,
    summary_line, ChildOutcome, ElfImage, Expectation, HostileAddress, EXEC_FAILED_STATUS_BASE,
    HOSTILE_ADDRESSES, KERNEL_TEXT_ADDRESS, PHYSMAP_ADDRESS, UNKNOWN_SYSCALLS, USER_ADDRESS_END,
};
use userland_core::procfs::parse_meminfo;
use userland_rt::syscall::syscall6;
use userland_rt::{println, sys, Args, Env, Errno, Fd, ForkResult};

userland_rt::entry!(main);

/// A group of cases: it runs them all and reports each to the runner.
type Group = fn(&mut Runner);

/// The groups, in the order they run by default.
const GROUPS: &[(&str, Group)] = &[
    ("pointers", pointers),
    ("exposure", exposure),
    ("elf", elf),
    ("child-faults", child_faults),
    ("signal-handlers", signal_handlers),
    ("syscalls", syscalls),
    ("arguments", arguments),
    ("fork-bomb", fork_bomb),
    ("memory", memory),
    ("kernel-memory", kernel_memory),
];

fn main(args: Args, _env: Env) -> i32 {
    set_no_core_dumps();
    let mut selected: Vec<&str> = Vec::new();
    for arg in args.iter().skip(1) {
        match GROUPS.iter().find(|(name, _)| name.as_bytes() == arg) {
            Some((name, _)) => selected.push(name),
            None => {
                let names: Vec<&str> = GROUPS.iter().map(|(name, _)| *name).collect();
                println!(
                    "fault-inject: unknown group {:?}; groups: {}",
                    String::from_utf8_lossy(arg),
                    names.join(" ")
                );
                return 2;
            }
        }
    }
    let mut runner = Runner::default();
    for (name, group) in GROUPS {
        if selected.is_empty() || selected.contains(name) {
            group(&mut runner);
        }
    }
    println!("{}", summary_line(runner.ok, runner.failed));
    i32::from(runner.failed > 0)
}

/// Counts and prints case results.
#[derive(Default)]
struct Runner {
    ok: usize,
    failed: usize,
}

impl Runner {
    fn case(&mut self, name: &str, result: Result<(), String>) {
        if result.is_ok() {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        println!("{}", case_line(name, &result));
    }
}

// ---------------------------------------------------------------------
// Raw system calls

/// Makes system call `call` with raw arguments.
///
/// # Safety
///
/// Every argument the call treats as a pointer must be an address that no
/// Rust object of this process occupies, or lie within memory the caller
/// owns exclusively and does not reference during the call (a
/// [`ProbePage`], a local buffer passed by raw pointer); and the call must
/// not unmap memory Rust code uses.
unsafe fn raw(call: Sysno, args: [u64; 6]) -> Result<u64, Errno> {
    // SAFETY: the caller upholds the same contract.
    unsafe { raw_number(call.number(), args) }
}

/// [`raw`] with a number that may have no call behind it.
///
/// # Safety
///
/// As for [`raw`].
unsafe fn raw_number(number: u64, args: [u64; 6]) -> Result<u64, Errno> {
    // SAFETY: the caller upholds the pointer contract above.
    let value = unsafe {
        syscall6(
            number as usize,
            args[0] as usize,
            args[1] as usize,
            args[2] as usize,
            args[3] as usize,
            args[4] as usize,
            args[5] as usize,
        )
    };
    match Errno::from_syscall_return(value as u64) {
        Some(errno) => Err(errno),
        None => Ok(value as u64),
    }
}

/// A call whose only pointer arguments are hostile addresses (not user
/// memory): the kernel must refuse them, and even if it followed them it
/// could not touch an object of ours.
fn hostile(call: Sysno, args: [u64; 6]) -> Result<u64, Errno> {
    // SAFETY: by this function's contract every pointer argument is a
    // hostile address or NULL, where no Rust object lives.
    unsafe { raw(call, args) }
}

/// Core dumps off (`RLIMIT_CORE` 0): the child-fault cases would litter
/// the build host's working directory when the host test runs them.
fn set_no_core_dumps() {
    const RLIMIT_CORE: u64 = 4;
    let limit = [0u64; 2];
    // SAFETY: prlimit64 reads 16 bytes from `limit`, a live local, and
    // writes nothing (old-limit pointer NULL).
    let _ = unsafe {
        raw(
            Sysno::Prlimit64,
            [0, RLIMIT_CORE, limit.as_ptr() as u64, 0, 0, 0],
        )
    };
}

const PAGE_SIZE: u64 = 4096;

/// One page of our own, followed by a page that is certainly unmapped:
/// for ranges that start in valid user memory and run off it. Rust code
/// never holds a reference into it across a system call.
struct ProbePage {
    address: u64,
}

impl ProbePage {
    fn new() -> Result<ProbePage, String> {
        // SAFETY: mmap of fresh anonymous memory touches nothing of ours;
        // the munmap takes back only the second page of that new mapping.
        unsafe {
            let address = raw(
                Sysno::Mmap,
                [
                    0,
                    2 * PAGE_SIZE,
                    u64::from(PROT_READ | PROT_WRITE),
                    u64::from(MAP_PRIVATE | MAP_ANONYMOUS),
                    u64::MAX,
                    0,
                ],
            )
            .map_err(|errno| format!("mmap of the probe page: {errno:?}"))?;
            raw(Sysno::Munmap, [address + PAGE_SIZE, PAGE_SIZE, 0, 0, 0, 0])
                .map_err(|errno| format!("munmap of the probe's guard page: {errno:?}"))?;
            Ok(ProbePage { address })
        }
    }

    /// The first byte past the page (unmapped).
    fn end(&self) -> u64 {
        self.address + PAGE_SIZE
    }

    /// The page's bytes, between system calls.
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the page is mapped read-write and owned by self for its
        // whole life; the borrow of self keeps the slice from outliving it
        // or overlapping a system call that writes the page.
        unsafe { core::slice::from_raw_parts_mut(self.address as *mut u8, PAGE_SIZE as usize) }
    }
}

impl Drop for ProbePage {
    fn drop(&mut self) {
        // SAFETY: unmaps only the page this probe owns; no slice into it
        // outlives the borrow that made it.
        let _ = unsafe { raw(Sysno::Munmap, [self.address, PAGE_SIZE, 0, 0, 0, 0]) };
    }
}

/// A probe-page call: pointer arguments are hostile or inside the probe.
fn probe_call(_probe: &mut ProbePage, call: Sysno, args: [u64; 6]) -> Result<u64, Errno> {
    // SAFETY: the exclusive borrow of the probe page means no Rust
    // reference into it exists during the call; every other pointer
    // argument is hostile (see `hostile`).
    unsafe { raw(call, args) }
}

// ---------------------------------------------------------------------
// Helpers

/// A pipe that closes both ends on drop.
struct Pipe {
    read: Fd,
    write: Fd,
}

impl Pipe {
    fn new() -> Result<Pipe, String> {
        let (read, write) =
            sys::pipe2(OpenFlags(0)).map_err(|errno| format!("pipe2: {errno:?}"))?;
        Ok(Pipe { read, write })
    }

    /// A pipe holding `bytes`, for reads.
    fn holding(bytes: &[u8]) -> Result<Pipe, String> {
        let pipe = Pipe::new()?;
        sys::write_all(pipe.write, bytes).map_err(|errno| format!("write to pipe: {errno:?}"))?;
        Ok(pipe)
    }

    /// Writes a marker and reads everything back: the pipe must hold
    /// nothing but the marker (a refused write put nothing in it).
    fn check_holds_only_a_marker(&self) -> Result<(), String> {
        sys::write_all(self.write, b"M").map_err(|errno| format!("marker write: {errno:?}"))?;
        let mut buffer = [0u8; 256];
        let read = sys::read(self.read, &mut buffer).map_err(|errno| format!("read: {errno:?}"))?;
        if &buffer[..read] == b"M" {
            Ok(())
        } else {
            Err(format!(
                "the pipe held {} bytes before the marker: {:02x?}",
                read.saturating_sub(1),
                &buffer[..read.min(32)]
            ))
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let _ = sys::close(self.read);
        let _ = sys::close(self.write);
    }
}

/// Runs `child` in a forked process (its result is the exit status) and
/// returns the raw wait status.
fn in_child(child: impl FnOnce() -> i32) -> Result<u32, String> {
    match sys::fork() {
        Err(errno) => Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => sys::exit(child()),
        Ok(ForkResult::Parent(pid)) => sys::wait_for(pid)
            .map(|status| status.encode())
            .map_err(|errno| format!("wait4: {errno:?}")),
    }
}

/// How long a case that should fail at once may sleep before it counts
/// as hung.
const SLEEP_DEADLINE_NS: u64 = 2_000_000_000;

/// How a child run with a deadline ended.
enum ChildEnd {
    /// It ended by itself with this wait status.
    Exited(u32),
    /// It was still running at the deadline; SIGKILL ended it.
    KilledAtDeadline,
    /// It was still running at the deadline, and SIGKILL did not end it
    /// within another deadline.
    Unkillable,
}

/// [`in_child`] for a child that might block for ever: past `deadline_ns`
/// it is killed, so the other cases still run.
fn in_child_with_deadline(
    deadline_ns: u64,
    child: impl FnOnce() -> i32,
) -> Result<ChildEnd, String> {
    const WNOHANG: u32 = 1;
    let pid = match sys::fork() {
        Err(errno) => return Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => sys::exit(child()),
        Ok(ForkResult::Parent(pid)) => pid,
    };
    let start = sys::monotonic_ns();
    loop {
        match sys::wait4(pid, WNOHANG) {
            Ok(Some((_, status))) => return Ok(ChildEnd::Exited(status.encode())),
            Ok(None) if sys::monotonic_ns() - start > deadline_ns => break,
            Ok(None) => {
                let _ = sys::sleep_ns(10_000_000);
            }
            Err(errno) => return Err(format!("wait4: {errno:?}")),
        }
    }
    let _ = sys::kill(pid, userland_rt::Signal::KILL);
    let killed_at = sys::monotonic_ns();
    // The kill must end even a sleeping child; do not wait for ever if it
    // does not.
    while sys::monotonic_ns() - killed_at < deadline_ns {
        if let Ok(Some(_)) = sys::wait4(pid, WNOHANG) {
            return Ok(ChildEnd::KilledAtDeadline);
        }
        let _ = sys::sleep_ns(10_000_000);
    }
    Ok(ChildEnd::Unkillable)
}

/// A child that only calls `execve`: [`ChildOutcome::ExecFailed`] with its
/// errno, or how the new program ended.
fn exec_in_child(exec: impl FnOnce() -> Errno) -> Result<ChildOutcome, String> {
    let status = in_child(|| i32::from(EXEC_FAILED_STATUS_BASE) + exec().code())?;
    Ok(ChildOutcome::of_exec_child(status))
}

fn check_outcome(outcome: ChildOutcome, expect: Expectation) -> Result<(), String> {
    if expect.accepts(outcome) {
        Ok(())
    } else {
        Err(format!("expected {expect}, got {outcome}"))
    }
}

/// The lowest free fd, found by opening /dev/null (and closing it).
fn lowest_free_fd() -> Result<i32, String> {
    let fd = sys::open("/dev/null", OpenFlags(O_RDONLY), 0)
        .map_err(|errno| format!("open /dev/null: {errno:?}"))?;
    let _ = sys::close(fd);
    Ok(fd.0)
}

/// A NUL-terminated copy of `text`, for raw calls.
fn c_string(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

// ---------------------------------------------------------------------
// pointers

/// Every call that takes a pointer, with each hostile address: `EFAULT`
/// (read(2), write(2), open(2), stat(2), ...: "outside your accessible
/// address space").
fn pointers(runner: &mut Runner) {
    // execve resolves the path before it copies argv and envp, so those
    // cases need a program that exists: the control ELF (exit 42).
    let control = format!("/tmp/fault-inject-{}-control", sys::getpid());
    let written = (|| {
        let fd = sys::open(&control, OpenFlags(O_WRONLY | O_CREAT | O_TRUNC), 0o755)?;
        let written = sys::write_all(fd, &ElfImage::control().to_bytes());
        let _ = sys::close(fd);
        written
    })();
    if let Err(errno) = written {
        runner.case(
            "pointer-control-program",
            Err(format!("writing {control}: {errno:?}")),
        );
    }
    for hostile_address in HOSTILE_ADDRESSES {
        hostile_pointer_cases(runner, hostile_address, &control);
    }
    range_cases(runner, &control);
    remove(&control);
}

fn hostile_pointer_cases(runner: &mut Runner, hostile_address: &HostileAddress, control: &str) {
    let HostileAddress { name, address } = *hostile_address;
    let efault = |result: Result<u64, Errno>| expect_errno(result, Errno::EFAULT);
    let root = c_string("/");
    let proc_self = c_string("/proc/self");

    runner.case(
        &format!("pointer-read-{name}"),
        (|| {
            // Pipes hold data, so nothing but the pointer can fail.
            let pipe = Pipe::holding(b"0123456789abcdef")?;
            efault(hostile(
                Sysno::Read,
                [pipe.read.0 as u64, address, 16, 0, 0, 0],
            ))
        })(),
    );
    runner.case(
        &format!("pointer-write-{name}"),
        (|| {
            let pipe = Pipe::new()?;
            efault(hostile(
                Sysno::Write,
                [pipe.write.0 as u64, address, 16, 0, 0, 0],
            ))?;
            pipe.check_holds_only_a_marker()
        })(),
    );
    runner.case(
        &format!("pointer-writev-iovec-{name}"),
        (|| {
            let pipe = Pipe::new()?;
            efault(hostile(
                Sysno::Writev,
                [pipe.write.0 as u64, address, 1, 0, 0, 0],
            ))?;
            pipe.check_holds_only_a_marker()
        })(),
    );
    runner.case(
        &format!("pointer-writev-base-{name}"),
        (|| {
            let pipe = Pipe::new()?;
            let iovec = [address, 16];
            // SAFETY: the kernel reads the live local iovec; its base is a
            // hostile address.
            let result = unsafe {
                raw(
                    Sysno::Writev,
                    [pipe.write.0 as u64, iovec.as_ptr() as u64, 1, 0, 0, 0],
                )
            };
            efault(result)?;
            pipe.check_holds_only_a_marker()
        })(),
    );
    runner.case(
        &format!("pointer-openat-path-{name}"),
        efault(hostile(
            Sysno::Openat,
            [AT_FDCWD as u64, address, u64::from(O_RDONLY), 0, 0, 0],
        )),
    );
    runner.case(
        &format!("pointer-stat-path-{name}"),
        efault(hostile(Sysno::Stat, [address, address, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-stat-buffer-{name}"),
        // SAFETY: reads the live local path; the buffer is hostile.
        efault(unsafe { raw(Sysno::Stat, [root.as_ptr() as u64, address, 0, 0, 0, 0]) }),
    );
    runner.case(
        &format!("pointer-newfstatat-buffer-{name}"),
        // SAFETY: reads the live local path; the buffer is hostile.
        efault(unsafe {
            raw(
                Sysno::Newfstatat,
                [AT_FDCWD as u64, root.as_ptr() as u64, address, 0, 0, 0],
            )
        }),
    );
    runner.case(
        &format!("pointer-fstat-buffer-{name}"),
        (|| {
            let pipe = Pipe::new()?;
            efault(hostile(
                Sysno::Fstat,
                [pipe.read.0 as u64, address, 0, 0, 0, 0],
            ))
        })(),
    );
    runner.case(
        &format!("pointer-pipe2-{name}"),
        (|| {
            let lowest = lowest_free_fd()?;
            efault(hostile(Sysno::Pipe2, [address, 0, 0, 0, 0, 0]))?;
            // Linux closes the two new fds when it cannot store them.
            let after = lowest_free_fd()?;
            if after == lowest {
                Ok(())
            } else {
                Err(format!(
                    "fds leaked: lowest free fd was {lowest}, now {after}"
                ))
            }
        })(),
    );
    runner.case(
        &format!("pointer-clock_gettime-{name}"),
        efault(hostile(Sysno::ClockGettime, [1, address, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-uname-{name}"),
        efault(hostile(Sysno::Uname, [address, 0, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-getcwd-{name}"),
        efault(hostile(Sysno::Getcwd, [address, 4096, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-nanosleep-{name}"),
        efault(hostile(Sysno::Nanosleep, [address, 0, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-getrandom-{name}"),
        efault(hostile(Sysno::Getrandom, [address, 16, 0, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-getdents64-{name}"),
        (|| {
            let dir = sys::open("/", OpenFlags(O_RDONLY | O_DIRECTORY), 0)
                .map_err(|errno| format!("open /: {errno:?}"))?;
            let result = efault(hostile(
                Sysno::Getdents64,
                [dir.0 as u64, address, 4096, 0, 0, 0],
            ));
            let _ = sys::close(dir);
            result
        })(),
    );
    runner.case(
        &format!("pointer-readlink-path-{name}"),
        efault(hostile(Sysno::Readlink, [address, address, 64, 0, 0, 0])),
    );
    runner.case(
        &format!("pointer-readlink-buffer-{name}"),
        // SAFETY: reads the live local path; the buffer is hostile.
        efault(unsafe {
            raw(
                Sysno::Readlink,
                [proc_self.as_ptr() as u64, address, 64, 0, 0, 0],
            )
        }),
    );
    runner.case(
        &format!("pointer-execve-path-{name}"),
        (|| {
            let argv = [0u64];
            let outcome = exec_in_child(|| {
                // SAFETY: argv and envp are a live local NULL-terminated
                // (empty) array; the path is hostile. On success the process
                // image is replaced, so nothing of ours is used afterwards.
                match unsafe {
                    raw(
                        Sysno::Execve,
                        [address, argv.as_ptr() as u64, argv.as_ptr() as u64, 0, 0, 0],
                    )
                } {
                    Err(errno) => errno,
                    Ok(_) => Errno::EINVAL,
                }
            })?;
            check_outcome(outcome, Expectation::exec_fails(&[Errno::EFAULT]))
        })(),
    );
    if address != 0 {
        // NULL argv/envp are allowed (Linux treats them as empty).
        for (what, argument) in [
            ("argv", 1),
            ("envp", 2),
            ("argv-element", 3),
            ("envp-element", 4),
        ] {
            runner.case(
                &format!("pointer-execve-{what}-{name}"),
                (|| {
                    let path = c_string(control);
                    let empty = [0u64];
                    let element = [address, 0];
                    let mut args = [
                        path.as_ptr() as u64,
                        empty.as_ptr() as u64,
                        empty.as_ptr() as u64,
                        0,
                        0,
                        0,
                    ];
                    match argument {
                        1 | 2 => args[argument] = address,
                        3 => args[1] = element.as_ptr() as u64,
                        _ => args[2] = element.as_ptr() as u64,
                    }
                    let outcome = exec_in_child(|| {
                        // SAFETY: every non-hostile pointer is a live local
                        // (path, NULL-terminated arrays); on success the image
                        // is replaced.
                        match unsafe { raw(Sysno::Execve, args) } {
                            Err(errno) => errno,
                            Ok(_) => Errno::EINVAL,
                        }
                    })?;
                    check_outcome(outcome, Expectation::exec_fails(&[Errno::EFAULT]))
                })(),
            );
        }
        runner.case(
            &format!("pointer-wait4-status-{name}"),
            wait4_bad_pointer(address, 1),
        );
        // Our kernel does not fill rusage; Linux copies it out and says
        // EFAULT. Not writing it at all is harmless: both accepted.
        runner.case(
            &format!("pointer-wait4-rusage-{name}"),
            wait4_bad_pointer(address, 3),
        );
        runner.case(
            &format!("pointer-rt_sigaction-act-{name}"),
            efault(hostile(Sysno::RtSigaction, [10, address, 0, 8, 0, 0])),
        );
        runner.case(
            &format!("pointer-rt_sigaction-oldact-{name}"),
            efault(hostile(Sysno::RtSigaction, [10, 0, address, 8, 0, 0])),
        );
    }
}

/// `wait4(child, ...)` with `address` as argument `argument` (1 status, 3
/// rusage): `EFAULT`, and the child is reaped by it or by the next wait.
fn wait4_bad_pointer(address: u64, argument: usize) -> Result<(), String> {
    let pid = match sys::fork() {
        Err(errno) => return Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => sys::exit(7),
        Ok(ForkResult::Parent(pid)) => pid,
    };
    let mut args = [pid as u64, 0, 0, 0, 0, 0];
    args[argument] = address;
    let result = hostile(Sysno::Wait4, args);
    let verdict = if argument == 3 {
        match result {
            Err(Errno::EFAULT) => Ok(()),
            Ok(reaped) if reaped == pid as u64 => Ok(()),
            other => Err(format!("expected EFAULT (or pid {pid}), got {other:?}")),
        }
    } else {
        expect_errno(result, Errno::EFAULT)
    };
    // Linux reaps the child before it fails to store the status.
    match sys::wait4(pid, 0) {
        Ok(_) | Err(Errno::ECHILD) => verdict,
        Err(errno) => Err(format!("reaping afterwards: {errno:?}")),
    }
}

/// Ranges that start in our own memory and end outside user space, or
/// whose length overflows.
fn range_cases(runner: &mut Runner, control: &str) {
    let efault = |result: Result<u64, Errno>| expect_errno(result, Errno::EFAULT);
    let mut probe = match ProbePage::new() {
        Ok(probe) => probe,
        Err(why) => {
            runner.case("pointer-probe-page", Err(why));
            return;
        }
    };
    let start = probe.address;
    let into_kernel = USER_ADDRESS_END - start + PAGE_SIZE;
    let wraps = u64::MAX - start + 1 + 16;

    for (what, length) in [
        ("crosses-into-kernel", into_kernel),
        ("length-wraps", wraps),
    ] {
        runner.case(
            &format!("pointer-read-{what}"),
            (|| {
                // The pipe holds 16 bytes: a kernel that copied anyway could
                // write no further than the probe page's first 16 bytes.
                let pipe = Pipe::holding(b"0123456789abcdef")?;
                efault(probe_call(
                    &mut probe,
                    Sysno::Read,
                    [pipe.read.0 as u64, start, length, 0, 0, 0],
                ))
            })(),
        );
        runner.case(
            &format!("pointer-write-{what}"),
            (|| {
                let pipe = Pipe::new()?;
                efault(probe_call(
                    &mut probe,
                    Sysno::Write,
                    [pipe.write.0 as u64, start, length, 0, 0, 0],
                ))?;
                pipe.check_holds_only_a_marker()
            })(),
        );
    }
    runner.case(
        "pointer-read-length-overflows",
        (|| {
            let pipe = Pipe::holding(b"0123456789abcdef")?;
            efault(hostile(
                Sysno::Read,
                [pipe.read.0 as u64, 0x1000, u64::MAX, 0, 0, 0],
            ))
        })(),
    );
    runner.case(
        "pointer-write-length-overflows",
        (|| {
            let pipe = Pipe::new()?;
            efault(hostile(
                Sysno::Write,
                [pipe.write.0 as u64, 0x1000, u64::MAX, 0, 0, 0],
            ))?;
            pipe.check_holds_only_a_marker()
        })(),
    );

    // A path with no NUL before the unmapped page.
    probe.bytes().fill(b'a');
    let path = probe.end() - 100;
    runner.case(
        "pointer-openat-path-runs-off-mapping",
        efault(probe_call(
            &mut probe,
            Sysno::Openat,
            [AT_FDCWD as u64, path, 0, 0, 0, 0],
        )),
    );
    runner.case(
        "pointer-execve-argv-runs-off-mapping",
        (|| {
            // An argv array without its NULL: its last slot is the page's last
            // 8 bytes, all pointing at the control program.
            let hello = c_string(control);
            let bytes = probe.bytes();
            for slot in bytes.chunks_exact_mut(8) {
                slot.copy_from_slice(&(hello.as_ptr() as u64).to_le_bytes());
            }
            let argv = probe.end() - 64;
            let outcome = exec_in_child(|| {
                match probe_call(
                    &mut probe,
                    Sysno::Execve,
                    [hello.as_ptr() as u64, argv, 0, 0, 0, 0],
                ) {
                    Err(errno) => errno,
                    Ok(_) => Errno::EINVAL,
                }
            })?;
            check_outcome(outcome, Expectation::exec_fails(&[Errno::EFAULT]))
        })(),
    );
    let end = probe.end();
    runner.case(
        "pointer-clock_gettime-straddles-unmapped",
        efault(probe_call(
            &mut probe,
            Sysno::ClockGettime,
            [1, end - 8, 0, 0, 0, 0],
        )),
    );
    runner.case(
        "pointer-uname-straddles-unmapped",
        efault(probe_call(
            &mut probe,
            Sysno::Uname,
            [end - 100, 0, 0, 0, 0, 0],
        )),
    );
}

// ---------------------------------------------------------------------
// exposure

/// Nothing of the kernel's memory reaches user space.
fn exposure(runner: &mut Runner) {
    for address in [KERNEL_TEXT_ADDRESS, PHYSMAP_ADDRESS] {
        let name = if address == KERNEL_TEXT_ADDRESS {
            "kernel-text"
        } else {
            "physmap"
        };
        runner.case(
            &format!("exposure-write-from-{name}-to-pipe"),
            (|| {
                let pipe = Pipe::new()?;
                expect_errno(
                    hostile(Sysno::Write, [pipe.write.0 as u64, address, 4096, 0, 0, 0]),
                    Errno::EFAULT,
                )?;
                pipe.check_holds_only_a_marker()
            })(),
        );
        runner.case(
            &format!("exposure-write-from-{name}-to-file"),
            (|| {
                let path = format!("/tmp/fault-inject-{}-exposure", sys::getpid());
                let fd = sys::open(&path, OpenFlags(O_WRONLY | O_CREAT | O_TRUNC), 0o600)
                    .map_err(|errno| format!("creating {path}: {errno:?}"))?;
                let result = expect_errno(
                    hostile(Sysno::Write, [fd.0 as u64, address, 4096, 0, 0, 0]),
                    Errno::EFAULT,
                );
                let _ = sys::close(fd);
                let contents = userland_rt::read_file(&path)
                    .map_err(|errno| format!("reading back: {errno:?}"));
                remove(&path);
                result?;
                match contents?.len() {
                    0 => Ok(()),
                    len => Err(format!("the file holds {len} bytes after a refused write")),
                }
            })(),
        );
        runner.case(
            &format!("exposure-read-dev-zero-into-{name}"),
            (|| {
                let fd = sys::open("/dev/zero", OpenFlags(O_RDONLY), 0)
                    .map_err(|errno| format!("open /dev/zero: {errno:?}"))?;
                let result = expect_errno(
                    hostile(Sysno::Read, [fd.0 as u64, address, 4096, 0, 0, 0]),
                    Errno::EFAULT,
                );
                let _ = sys::close(fd);
                result
            })(),
        );
    }
    runner.case(
        "exposure-stat-fully-written-padding-zero",
        (|| {
            // stat fills all 144 bytes of struct stat; __pad0 (36..40) and
            // __unused (120..144) must be zero, not stale kernel memory.
            let path = c_string("/");
            let mut results = [[0u8; 144]; 2];
            for (buffer, fill) in results.iter_mut().zip([0xaa, 0x55]) {
                buffer.fill(fill);
                // SAFETY: the kernel reads the live local path and writes 144
                // bytes into the live local buffer of that size.
                unsafe {
                    raw(
                        Sysno::Stat,
                        [path.as_ptr() as u64, buffer.as_mut_ptr() as u64, 0, 0, 0, 0],
                    )
                }
                .map_err(|errno| format!("stat /: {errno:?}"))?;
            }
            let differing: Vec<usize> = (0..144)
                .filter(|&i| results[0][i] != results[1][i])
                .collect();
            if !differing.is_empty() {
                return Err(format!("bytes at offsets {differing:?} were not written"));
            }
            let padding = results[0][36..40].iter().chain(&results[0][120..144]);
            if padding.clone().any(|&byte| byte != 0) {
                return Err("padding of struct stat is not zero".into());
            }
            Ok(())
        })(),
    );
    runner.case(
        "exposure-uname-fields-zero-padded",
        (|| {
            let mut buffer = [0xaau8; 390];
            // SAFETY: the kernel writes struct utsname (6 x 65 bytes) into
            // the live local buffer of that size.
            unsafe { raw(Sysno::Uname, [buffer.as_mut_ptr() as u64, 0, 0, 0, 0, 0]) }
                .map_err(|errno| format!("uname: {errno:?}"))?;
            for (index, field) in buffer.chunks_exact(65).enumerate() {
                let len = field
                    .iter()
                    .position(|&byte| byte == 0)
                    .ok_or(format!("field {index} has no NUL"))?;
                if field[len..].iter().any(|&byte| byte != 0) {
                    return Err(format!(
                        "field {index} is not zero-padded after its string: {:02x?}",
                        &field[len..]
                    ));
                }
            }
            Ok(())
        })(),
    );
    runner.case(
        "exposure-pipe-read-writes-only-what-it-returns",
        (|| {
            let pipe = Pipe::holding(b"hello")?;
            let mut buffer = [0xaau8; 4096];
            let read =
                sys::read(pipe.read, &mut buffer).map_err(|errno| format!("read: {errno:?}"))?;
            if read != 5 || &buffer[..5] != b"hello" || buffer[5..].iter().any(|&byte| byte != 0xaa)
            {
                return Err(format!(
                    "read returned {read}; the buffer beyond was changed or wrong"
                ));
            }
            Ok(())
        })(),
    );
    runner.case(
        "exposure-readlink-writes-only-what-it-returns",
        (|| {
            let mut buffer = [0xaau8; 64];
            let path = c_string("/proc/self");
            // SAFETY: the kernel reads the live local path and writes at most
            // 1 byte (the length passed) into the live local buffer.
            let len = unsafe {
                raw(
                    Sysno::Readlink,
                    [path.as_ptr() as u64, buffer.as_mut_ptr() as u64, 1, 0, 0, 0],
                )
            }
            .map_err(|errno| format!("readlink /proc/self: {errno:?}"))?;
            if len != 1 || buffer[1..].iter().any(|&byte| byte != 0xaa) {
                return Err(format!("readlink returned {len} or wrote past the buffer"));
            }
            Ok(())
        })(),
    );
}

/// Removes `path` if the kernel can (best effort: cleanup on the host).
fn remove(path: &str) {
    let path = c_string(path);
    // SAFETY: the kernel reads the live local NUL-terminated path.
    let _ = unsafe { raw(Sysno::Unlink, [path.as_ptr() as u64, 0, 0, 0, 0, 0]) };
}

// ---------------------------------------------------------------------
// elf

/// Crafted ELF files (and an empty file, a garbage file, a file without
/// execute permission, a directory), each `execve`d by a child.
fn elf(runner: &mut Runner) {
    let prefix = format!("/tmp/fault-inject-{}-", sys::getpid());
    for case in elf_cases() {
        let path = format!("{prefix}{}", case.name);
        let result = (|| {
            let fd = sys::open(&path, OpenFlags(O_WRONLY | O_CREAT | O_TRUNC), case.mode)
                .map_err(|errno| format!("creating {path}: {errno:?}"))?;
            let written = sys::write_all(fd, &case.contents);
            let _ = sys::close(fd);
            written.map_err(|errno| format!("writing {path}: {errno:?}"))?;
            let outcome = exec_in_child(|| sys::execve(path.as_bytes(), &[path.as_bytes()], &[]))?;
            check_outcome(outcome, case.expect)
        })();
        remove(&path);
        runner.case(case.name, result);
    }
    runner.case(
        "exec-directory",
        (|| {
            let outcome = exec_in_child(|| sys::execve(b"/tmp", &[b"/tmp"], &[]))?;
            check_outcome(outcome, Expectation::exec_fails(&[Errno::EACCES]))
        })(),
    );
    runner.case(
        "exec-empty-path",
        (|| {
            let outcome = exec_in_child(|| sys::execve(b"", &[b""], &[]))?;
            check_outcome(outcome, Expectation::exec_fails(&[Errno::ENOENT]))
        })(),
    );
}

// ---------------------------------------------------------------------
// child-faults

/// The exit status of a child whose faulting instruction was skipped
/// instead of ending it.
const FAULT_IGNORED_STATUS: u8 = 99;

/// Executes `$instructions` (which must fault), then exits with
/// [`FAULT_IGNORED_STATUS`] should the kernel resume after them.
macro_rules! fault_then_exit {
    ($($instructions:literal),+) => {
        // SAFETY: runs only in a forked child that never returns to Rust
        // code: the instructions fault (ending the process), or it exits.
        unsafe {
            asm!(
                $($instructions,)+
                "mov edi, 99",
                "mov eax, 231",
                "syscall",
                options(noreturn)
            )
        }
    };
}

fn null_read() -> ! {
    fault_then_exit!("xor eax, eax", "mov rax, qword ptr [rax]")
}
fn null_write() -> ! {
    fault_then_exit!("xor eax, eax", "mov qword ptr [rax], rax")
}
fn write_own_text() -> ! {
    fault_then_exit!("lea rax, [rip]", "mov byte ptr [rax], 0xcc")
}
fn halt() -> ! {
    fault_then_exit!("hlt")
}
fn clear_interrupts() -> ! {
    fault_then_exit!("cli")
}
fn port_input() -> ! {
    fault_then_exit!("mov dx, 0x80", "in al, dx")
}
fn read_cr3() -> ! {
    fault_then_exit!("mov rax, cr3")
}
fn undefined_instruction() -> ! {
    fault_then_exit!("ud2")
}
fn divide_by_zero() -> ! {
    fault_then_exit!("xor ecx, ecx", "xor edx, edx", "mov eax, 1", "div ecx")
}
fn breakpoint() -> ! {
    fault_then_exit!("int3")
}
fn hypercall_gate() -> ! {
    // The 32-bit PV hypercall vector: not a gate for 64-bit user code.
    fault_then_exit!("int 0x82")
}
fn jump_to_kernel_text() -> ! {
    fault_then_exit!("mov rax, 0xffffffff80002000", "jmp rax")
}
fn jump_to_noncanonical() -> ! {
    fault_then_exit!("mov rax, 0x0000800000000000", "jmp rax")
}
fn stack_overflow() -> ! {
    fault_then_exit!("2:", "push rax", "jmp 2b")
}
fn fault_with_kernel_stack_pointer() -> ! {
    // The kernel must not use the user's rsp to take the fault.
    fault_then_exit!("mov rsp, 0xffffffff80002000", "ud2")
}

/// The exit status of [`syscall_with_null_stack`] when the call returned.
const SURVIVED_STATUS: u8 = 77;

/// `getpid` with rsp = 0, then exit: the kernel never uses the user stack.
fn syscall_with_null_stack() -> ! {
    // SAFETY: runs only in a forked child that exits right after: no Rust
    // code runs with the clobbered stack pointer.
    unsafe {
        asm!(
            "xor esp, esp",
            "mov eax, 39",
            "syscall",
            "mov edi, 77",
            "mov eax, 231",
            "syscall",
            options(noreturn)
        )
    }
}

/// A fault case: its name, the instructions, the signals that may end it.
type FaultCase = (&'static str, fn() -> !, &'static [u8]);

/// A child dies of a fault; the parent's `wait4` sees the signal
/// (`signal(7)`: SIGSEGV for invalid memory access and for privileged
/// instructions, which raise #GP; SIGILL for `ud2`; SIGFPE for #DE;
/// SIGTRAP for `int3`).
fn child_faults(runner: &mut Runner) {
    use signal::{SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    let cases: [FaultCase; 15] = [
        ("child-null-read", null_read, &[SIGSEGV]),
        ("child-null-write", null_write, &[SIGSEGV]),
        ("child-write-own-text", write_own_text, &[SIGSEGV]),
        ("child-hlt", halt, &[SIGSEGV]),
        ("child-cli", clear_interrupts, &[SIGSEGV]),
        ("child-port-input", port_input, &[SIGSEGV]),
        ("child-read-cr3", read_cr3, &[SIGSEGV]),
        ("child-ud2", undefined_instruction, &[SIGILL]),
        ("child-divide-by-zero", divide_by_zero, &[SIGFPE]),
        ("child-int3", breakpoint, &[SIGTRAP]),
        ("child-int-0x82", hypercall_gate, &[SIGSEGV]),
        ("child-jump-to-kernel-text", jump_to_kernel_text, &[SIGSEGV]),
        (
            "child-jump-to-noncanonical",
            jump_to_noncanonical,
            &[SIGSEGV],
        ),
        ("child-stack-overflow", stack_overflow, &[SIGSEGV]),
        (
            "child-fault-with-kernel-stack-pointer",
            fault_with_kernel_stack_pointer,
            &[SIGILL],
        ),
    ];
    for (name, trigger, expected) in cases {
        let result = in_child(|| trigger()).and_then(|status| {
            let outcome = ChildOutcome::of_child(status);
            match outcome {
                ChildOutcome::Exited(FAULT_IGNORED_STATUS) => {
                    Err("the faulting instruction was skipped: the child went on".into())
                }
                _ => check_outcome(outcome, Expectation::killed_by(expected)),
            }
        });
        runner.case(name, result);
    }
    runner.case(
        "child-syscall-with-null-stack",
        (|| {
            let status = in_child(|| syscall_with_null_stack())?;
            match ChildOutcome::of_child(status) {
                ChildOutcome::Exited(SURVIVED_STATUS) => Ok(()),
                outcome => Err(format!(
                    "expected exit status {SURVIVED_STATUS}, got {outcome}"
                )),
            }
        })(),
    );
}

/// The address the SIGSEGV handler saw (`si_addr`), for the parent.
static FAULT_ADDRESS_SEEN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
/// How many times the SIGUSR1 handler ran.
static USR1_HANDLED: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// SIGSEGV handler: records `si_addr` and exits 42 (returning would
/// re-run the faulting instruction).
extern "C" fn record_fault_and_exit(_signal: i32, info: *const u8, _context: *const u8) {
    // SAFETY: the kernel passes a pointer to a 128-byte siginfo on our
    // stack; si_addr is the 8 bytes at offset 16 (x86_64 Linux layout).
    let address = unsafe { core::ptr::read_unaligned(info.add(16) as *const u64) };
    FAULT_ADDRESS_SEEN.store(address, core::sync::atomic::Ordering::SeqCst);
    sys::exit(if address == 0x1234_5000 { 42 } else { 43 })
}

extern "C" fn count_usr1(_signal: i32) {
    USR1_HANDLED.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
}

/// Signal handlers: a SIGSEGV handler runs with the faulting address in
/// its siginfo; a handler for a signal the process sends itself runs and
/// returns (through `rt_sigreturn`) to exactly where it was, with its
/// registers intact.
fn signal_handlers(runner: &mut Runner) {
    runner.case(
        "handler-sigsegv-gets-fault-address",
        (|| {
            let status = in_child(|| {
                if sys::set_signal_info_handler(userland_core::Signal(11), record_fault_and_exit)
                    .is_err()
                {
                    return 2;
                }
                // SAFETY: deliberately faults on an unmapped address; the
                // handler exits the child.
                unsafe { core::ptr::read_volatile(0x1234_5000 as *const u8) };
                3
            })?;
            match ChildOutcome::of_child(status) {
                ChildOutcome::Exited(42) => Ok(()),
                outcome => Err(format!(
                    "expected the handler's exit 42 (si_addr 0x12345000), got {outcome}"
                )),
            }
        })(),
    );
    runner.case(
        "handler-returns-to-the-interrupted-code",
        (|| {
            sys::set_signal_handler(userland_core::Signal(10), count_usr1)
                .map_err(|errno| format!("rt_sigaction: {errno:?}"))?;
            let before = USR1_HANDLED.load(core::sync::atomic::Ordering::SeqCst);
            let marker = core::hint::black_box(0x5eed_u64);
            for _ in 0..3 {
                sys::kill(sys::getpid(), userland_core::Signal(10))
                    .map_err(|errno| format!("kill: {errno:?}"))?;
            }
            let _ =
                sys::set_signal_disposition(userland_core::Signal(10), sys::Disposition::Default);
            let ran = USR1_HANDLED.load(core::sync::atomic::Ordering::SeqCst) - before;
            if ran != 3 || core::hint::black_box(marker) != 0x5eed {
                return Err(format!(
                    "handler ran {ran} times (expected 3), marker {marker:#x}"
                ));
            }
            Ok(())
        })(),
    );
}

// ---------------------------------------------------------------------
// syscalls

/// Numbers without a call: `ENOSYS` (syscall(2)).
/// FD_CLOEXEC is per descriptor: set by pipe2(O_CLOEXEC) and
/// F_DUPFD_CLOEXEC, read by F_GETFD, changed by F_SETFD, never inherited by
/// a plain dup (fcntl(2), dup(2)).
fn close_on_exec_flags() -> Result<(), String> {
    const F_DUPFD: u64 = 0;
    const F_GETFD: u64 = 1;
    const F_SETFD: u64 = 2;
    const F_DUPFD_CLOEXEC: u64 = 1030;
    let (read, write) = sys::pipe2(OpenFlags(linux_abi::fcntl::O_CLOEXEC))
        .map_err(|errno| format!("pipe2: {errno:?}"))?;
    let fd = |fd: Fd| fd.0 as u64;
    let get = |descriptor: u64| hostile(Sysno::Fcntl, [descriptor, F_GETFD, 0, 0, 0, 0]);
    let mut result = Ok(());
    if get(fd(read)) != Ok(1) {
        result = Err(format!(
            "pipe2(O_CLOEXEC): F_GETFD gave {:?}",
            get(fd(read))
        ));
    }
    let plain = hostile(Sysno::Fcntl, [fd(write), F_DUPFD, 20, 0, 0, 0]);
    let marked = hostile(Sysno::Fcntl, [fd(write), F_DUPFD_CLOEXEC, 20, 0, 0, 0]);
    match (plain, marked) {
        (Ok(plain), Ok(marked)) => {
            if result.is_ok() && (get(plain) != Ok(0) || get(marked) != Ok(1)) {
                result = Err(format!(
                    "F_DUPFD copy {:?} (want 0), F_DUPFD_CLOEXEC copy {:?} (want 1)",
                    get(plain),
                    get(marked)
                ));
            }
            let _ = hostile(Sysno::Fcntl, [marked, F_SETFD, 0, 0, 0, 0]);
            if result.is_ok() && get(marked) != Ok(0) {
                result = Err(format!("after F_SETFD 0: {:?}", get(marked)));
            }
            let _ = sys::close(Fd(plain as i32));
            let _ = sys::close(Fd(marked as i32));
        }
        other => result = Err(format!("F_DUPFD / F_DUPFD_CLOEXEC: {other:?}")),
    }
    let _ = sys::close(read);
    let _ = sys::close(write);
    result
}

fn syscalls(runner: &mut Runner) {
    runner.case("syscall-close-on-exec-flags", close_on_exec_flags());
    for (name, number) in UNKNOWN_SYSCALLS {
        // SAFETY: no call exists behind the number; arguments are hostile
        // addresses in case the kernel treats one as a pointer anyway.
        let result = unsafe { raw_number(*number, [KERNEL_TEXT_ADDRESS, 0x1000, 0, 0, 0, 0]) };
        runner.case(
            &format!("syscall-unknown-{name}"),
            expect_errno(result, Errno::ENOSYS),
        );
    }
}

// ---------------------------------------------------------------------
// arguments

/// Garbage in the non-pointer arguments.
fn arguments(runner: &mut Runner) {
    let ebadf = |result: Result<u64, Errno>| expect_errno(result, Errno::EBADF);
    let einval = |result: Result<u64, Errno>| expect_errno(result, Errno::EINVAL);
    let minus_one = u64::MAX;
    let mut scratch = [0u8; 16];
    let mut read_fd = |fd: u64| {
        // SAFETY: the kernel finds no such fd; at most it would write 16
        // bytes into the live local `scratch`.
        unsafe { raw(Sysno::Read, [fd, scratch.as_mut_ptr() as u64, 16, 0, 0, 0]) }
    };
    runner.case("argument-read-fd-minus-one", ebadf(read_fd(minus_one)));
    runner.case("argument-read-fd-1023", ebadf(read_fd(1023)));
    // fds are `unsigned int`: 1<<40 alone would be fd 0; with 1000 in the
    // low half it is fd 1000, which is not open.
    runner.case(
        "argument-read-fd-1000-high-bits",
        ebadf(read_fd((1 << 40) | 1000)),
    );
    runner.case(
        "argument-close-fd-minus-one",
        ebadf(hostile(Sysno::Close, [minus_one, 0, 0, 0, 0, 0])),
    );
    runner.case(
        "argument-close-fd-1023",
        ebadf(hostile(Sysno::Close, [1023, 0, 0, 0, 0, 0])),
    );
    runner.case(
        "argument-write-fd-high-bits-ignored",
        (|| {
            let pipe = Pipe::new()?;
            let byte = [b'x'];
            // SAFETY: the kernel reads one byte of the live local `byte`.
            let result = unsafe {
                raw(
                    Sysno::Write,
                    [
                        (1 << 32) | pipe.write.0 as u64,
                        byte.as_ptr() as u64,
                        1,
                        0,
                        0,
                        0,
                    ],
                )
            };
            match result {
                Ok(1) => Ok(()),
                other => Err(format!("expected 1 (fd is the low 32 bits), got {other:?}")),
            }
        })(),
    );
    runner.case(
        "argument-read-write-only-end",
        (|| {
            let pipe = Pipe::new()?;
            ebadf(sys::read(pipe.write, &mut [0u8; 4]).map(|n| n as u64))
        })(),
    );
    runner.case(
        "argument-write-read-only-end",
        (|| {
            let pipe = Pipe::new()?;
            ebadf(sys::write(pipe.read, b"x").map(|n| n as u64))
        })(),
    );
    runner.case(
        "argument-dup2-bad-oldfd",
        ebadf(hostile(Sysno::Dup2, [1000, 5, 0, 0, 0, 0])),
    );
    runner.case(
        "argument-dup2-newfd-too-big",
        ebadf(hostile(Sysno::Dup2, [1, 1 << 20, 0, 0, 0, 0])),
    );
    runner.case(
        "argument-dup2-newfd-minus-one",
        ebadf(hostile(Sysno::Dup2, [1, minus_one, 0, 0, 0, 0])),
    );

    runner.case(
        "argument-lseek-bad-whence",
        (|| {
            let fd = sys::open("/etc/rc", OpenFlags(O_RDONLY), 0)
                .or_else(|_| sys::open("/proc/meminfo", OpenFlags(O_RDONLY), 0))
                .map_err(|errno| format!("open: {errno:?}"))?;
            let result = einval(hostile(Sysno::Lseek, [fd.0 as u64, 0, 7, 0, 0, 0]));
            let negative = einval(hostile(
                Sysno::Lseek,
                [fd.0 as u64, (-10i64) as u64, 0, 0, 0, 0],
            ));
            let _ = sys::close(fd);
            result.and(negative.map_err(|why| format!("negative offset: {why}")))
        })(),
    );
    runner.case(
        "argument-lseek-pipe",
        (|| {
            let pipe = Pipe::new()?;
            expect_errno(
                hostile(Sysno::Lseek, [pipe.read.0 as u64, 0, 0, 0, 0, 0]),
                Errno::ESPIPE,
            )
        })(),
    );

    runner.case(
        "argument-munmap-unaligned",
        einval(hostile(Sysno::Munmap, [0x40_0001, 4096, 0, 0, 0, 0])),
    );
    runner.case(
        "argument-munmap-zero-length",
        einval(hostile(Sysno::Munmap, [0x7000_0000, 0, 0, 0, 0, 0])),
    );
    // munmap of kernel space must be refused, not carried out.
    runner.case(
        "argument-munmap-kernel-text",
        einval(hostile(
            Sysno::Munmap,
            [KERNEL_TEXT_ADDRESS - 0x2000, 1 << 21, 0, 0, 0, 0],
        )),
    );
    runner.case(
        "argument-munmap-wraps",
        einval(hostile(
            Sysno::Munmap,
            [USER_ADDRESS_END - PAGE_SIZE, u64::MAX - 0xfff, 0, 0, 0, 0],
        )),
    );

    let anonymous = u64::from(MAP_PRIVATE | MAP_ANONYMOUS);
    let read_write = u64::from(PROT_READ | PROT_WRITE);
    runner.case(
        "argument-mmap-zero-length",
        einval(hostile(
            Sysno::Mmap,
            [0, 0, read_write, anonymous, minus_one, 0],
        )),
    );
    // Linux rounds u64::MAX up to 0 pages: ENOMEM; mmap(2) also lists
    // EINVAL for a length that is "too large": both accepted.
    runner.case(
        "argument-mmap-length-overflows",
        expect_one_of(
            hostile(
                Sysno::Mmap,
                [0, u64::MAX, read_write, anonymous, minus_one, 0],
            ),
            &[Errno::ENOMEM, Errno::EINVAL],
        ),
    );
    runner.case(
        "argument-mmap-no-sharing-type",
        einval(hostile(
            Sysno::Mmap,
            [0, 4096, read_write, u64::from(MAP_ANONYMOUS), minus_one, 0],
        )),
    );
    // Fixed placement over the kernel: Linux says ENOMEM (no room below
    // TASK_SIZE); EINVAL is as good. Our kernel has no MAP_FIXED yet
    // (ENOSYS): what matters is that nothing is mapped there.
    runner.case(
        "argument-mmap-fixed-over-kernel",
        expect_one_of(
            hostile(
                Sysno::Mmap,
                [
                    KERNEL_TEXT_ADDRESS - 0x2000,
                    4096,
                    read_write,
                    anonymous | u64::from(MAP_FIXED),
                    minus_one,
                    0,
                ],
            ),
            &[Errno::ENOMEM, Errno::EINVAL, Errno::ENOSYS],
        ),
    );
    // A file mapping of fd -1: EBADF. Our kernel has no file mappings yet
    // and says ENOSYS, which also tells the caller it got nothing.
    runner.case(
        "argument-mmap-file-bad-fd",
        expect_one_of(
            hostile(
                Sysno::Mmap,
                [
                    0,
                    4096,
                    u64::from(PROT_READ),
                    u64::from(MAP_PRIVATE),
                    minus_one,
                    0,
                ],
            ),
            &[Errno::EBADF, Errno::ENOSYS],
        ),
    );
    runner.case(
        "argument-brk-kernel-address",
        (|| {
            // brk(2): on failure the current break is returned.
            let current =
                hostile(Sysno::Brk, [0; 6]).map_err(|errno| format!("brk(0): {errno:?}"))?;
            match hostile(Sysno::Brk, [KERNEL_TEXT_ADDRESS, 0, 0, 0, 0, 0]) {
                Ok(value) if value == current => Ok(()),
                other => Err(format!(
                    "expected the current break {current:#x}, got {other:x?}"
                )),
            }
        })(),
    );

    runner.case("argument-clock_gettime-bad-clock", {
        let mut time = [0u64; 2];
        // SAFETY: at most 16 bytes into the live local `time`.
        einval(unsafe {
            raw(
                Sysno::ClockGettime,
                [99, time.as_mut_ptr() as u64, 0, 0, 0, 0],
            )
        })
    });
    runner.case(
        "argument-kill-bad-signal",
        einval(hostile(
            Sysno::Kill,
            [sys::getpid() as u64, 999, 0, 0, 0, 0],
        )),
    );
    runner.case(
        "argument-kill-no-such-process",
        expect_errno(hostile(Sysno::Kill, [99_999, 0, 0, 0, 0, 0]), Errno::ESRCH),
    );
    runner.case(
        "argument-wait4-no-children",
        expect_errno(
            hostile(Sysno::Wait4, [minus_one, 0, 0, 0, 0, 0]),
            Errno::ECHILD,
        ),
    );
    runner.case(
        "argument-wait4-bad-options",
        einval(hostile(Sysno::Wait4, [minus_one, 0, 0x0010_0000, 0, 0, 0])),
    );
    runner.case(
        "argument-getdents64-on-file",
        (|| {
            let fd = sys::open("/proc/meminfo", OpenFlags(O_RDONLY), 0)
                .map_err(|errno| format!("open: {errno:?}"))?;
            let mut buffer = [0u8; 1024];
            let result = expect_errno(
                sys::getdents64(fd, &mut buffer).map(|n| n as u64),
                Errno::ENOTDIR,
            );
            let _ = sys::close(fd);
            result
        })(),
    );
    runner.case("argument-pipe2-bad-flags", {
        let mut fds = [0i32; 2];
        // SAFETY: at most 8 bytes into the live local `fds`.
        einval(unsafe {
            raw(
                Sysno::Pipe2,
                [fds.as_mut_ptr() as u64, 0xdead_0000, 0, 0, 0, 0],
            )
        })
    });

    // rt_sigaction(2): EINVAL for an invalid signal, for SIGKILL/SIGSTOP,
    // and for a sigsetsize other than 8.
    let ignore = [1u64, 0, 0, 0];
    let sigaction = |signal: u64, size: u64| {
        // SAFETY: the kernel reads 32 bytes of the live local `ignore`
        // (handler SIG_IGN, flags, restorer, mask).
        unsafe {
            raw(
                Sysno::RtSigaction,
                [signal, ignore.as_ptr() as u64, 0, size, 0, 0],
            )
        }
    };
    runner.case("argument-rt_sigaction-signal-zero", einval(sigaction(0, 8)));
    runner.case("argument-rt_sigaction-signal-65", einval(sigaction(65, 8)));
    runner.case("argument-rt_sigaction-sigkill", einval(sigaction(9, 8)));
    runner.case("argument-rt_sigaction-sigstop", einval(sigaction(19, 8)));
    runner.case(
        "argument-rt_sigaction-bad-sigsetsize",
        einval(sigaction(10, 4)),
    );
    runner.case(
        "argument-sigkill-cannot-be-ignored",
        sigkill_cannot_be_ignored(),
    );
    // Last: a kernel that sleeps instead of refusing, or does not wake a
    // sleeper for SIGKILL, may leave a child behind, which would confuse
    // the wait4 cases above.
    for (name, request) in [
        ("nanosleep-nanoseconds-too-big", [0u64, 1_000_000_000]),
        ("nanosleep-negative-seconds", [u64::MAX, 0]),
    ] {
        // In a child with a deadline: a kernel that clamps instead of
        // refusing would sleep for days.
        let result = in_child_with_deadline(SLEEP_DEADLINE_NS, || {
            // SAFETY: the kernel reads the live local 16-byte timespec.
            match unsafe { raw(Sysno::Nanosleep, [request.as_ptr() as u64, 0, 0, 0, 0, 0]) } {
                Ok(_) => 0,
                Err(errno) => i32::from(EXEC_FAILED_STATUS_BASE) + errno.code(),
            }
        })
        .and_then(|ended| match ended {
            ChildEnd::Exited(status) => match ChildOutcome::of_exec_child(status) {
                ChildOutcome::ExecFailed(Errno::EINVAL) => Ok(()),
                ChildOutcome::ExecFailed(errno) => Err(format!("expected EINVAL, got {errno:?}")),
                ChildOutcome::Exited(0) => Err("expected EINVAL, got success (it slept)".into()),
                outcome => Err(format!("expected EINVAL, the child {outcome}")),
            },
            ChildEnd::KilledAtDeadline => Err(format!(
                "expected EINVAL, still asleep after {} ms (killed)",
                SLEEP_DEADLINE_NS / 1_000_000
            )),
            ChildEnd::Unkillable => Err(format!(
                "expected EINVAL, still asleep after {} ms, and SIGKILL did not end it either",
                SLEEP_DEADLINE_NS / 1_000_000
            )),
        });
        runner.case(&format!("argument-{name}"), result);
    }
    runner.case(
        "argument-sigkill-ends-a-sleeping-child",
        sigkill_ends_a_sleeping_child(),
    );
}

/// A child asks to ignore SIGKILL and blocks on a pipe; SIGKILL must end
/// it all the same. (If it does not, closing the pipe lets it exit, so a
/// failure cannot hang the run.)
fn sigkill_cannot_be_ignored() -> Result<(), String> {
    const SURVIVED: i32 = 66;
    let pipe = Pipe::new()?;
    let pid = match sys::fork() {
        Err(errno) => return Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => {
            let ignore = [1u64, 0, 0, 0];
            // SAFETY: the kernel reads the live local `ignore`.
            let _ = unsafe { raw(Sysno::RtSigaction, [9, ignore.as_ptr() as u64, 0, 8, 0, 0]) };
            let _ = sys::close(pipe.write);
            let _ = sys::read(pipe.read, &mut [0u8; 1]);
            sys::exit(SURVIVED)
        }
        Ok(ForkResult::Parent(pid)) => pid,
    };
    // Let the child reach its read (it would die of SIGKILL anywhere).
    let _ = sys::sleep_ns(20_000_000);
    let killed = sys::kill(pid, userland_rt::Signal::KILL);
    let _ = sys::close(pipe.write);
    let status = sys::wait_for(pid).map_err(|errno| format!("wait4: {errno:?}"))?;
    killed.map_err(|errno| format!("kill: {errno:?}"))?;
    check_outcome(
        ChildOutcome::of_child(status.encode()),
        Expectation::killed_by(&[signal::SIGKILL]),
    )
}

/// A child sleeping in nanosleep (10 s) is ended by SIGKILL at once.
fn sigkill_ends_a_sleeping_child() -> Result<(), String> {
    const WNOHANG: u32 = 1;
    let pid = match sys::fork() {
        Err(errno) => return Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => {
            let _ = sys::sleep_ns(10_000_000_000);
            sys::exit(0)
        }
        Ok(ForkResult::Parent(pid)) => pid,
    };
    let _ = sys::sleep_ns(50_000_000);
    sys::kill(pid, userland_rt::Signal::KILL).map_err(|errno| format!("kill: {errno:?}"))?;
    let killed_at = sys::monotonic_ns();
    while sys::monotonic_ns() - killed_at < SLEEP_DEADLINE_NS {
        match sys::wait4(pid, WNOHANG) {
            Ok(Some((_, status))) => {
                return check_outcome(
                    ChildOutcome::of_child(status.encode()),
                    Expectation::killed_by(&[signal::SIGKILL]),
                )
            }
            Ok(None) => {
                let _ = sys::sleep_ns(10_000_000);
            }
            Err(errno) => return Err(format!("wait4: {errno:?}")),
        }
    }
    // Reap it whenever it ends, so that later cases see no child.
    let waited = sys::wait_for(pid);
    Err(format!(
        "still alive {} ms after SIGKILL (then wait4 gave {:?})",
        SLEEP_DEADLINE_NS / 1_000_000,
        waited.map(|status| ChildOutcome::of_child(status.encode()))
    ))
}

// ---------------------------------------------------------------------
// fork-bomb

/// Forks that the bomb may try before it counts as unlimited.
const FORK_BOMB_LIMIT: usize = 512;
/// Children the kernel must allow before refusing (our limit is 64
/// processes; Linux's is far higher).
const FORK_BOMB_MINIMUM: usize = 8;

/// Forks until `EAGAIN`: the children block on a pipe; closing it
/// releases them all; every one is reaped; then fork works again.
fn fork_bomb(runner: &mut Runner) {
    let pipe = match Pipe::new() {
        Ok(pipe) => pipe,
        Err(why) => return runner.case("fork-bomb-until-eagain", Err(why)),
    };
    let mut children = Vec::with_capacity(FORK_BOMB_LIMIT);
    let mut stopped_by = None;
    while children.len() < FORK_BOMB_LIMIT {
        match sys::fork() {
            Ok(ForkResult::Child) => {
                let _ = sys::close(pipe.write);
                // Blocks until every write end is closed.
                let _ = sys::read(pipe.read, &mut [0u8; 1]);
                sys::exit(0)
            }
            Ok(ForkResult::Parent(pid)) => children.push(pid),
            Err(errno) => {
                stopped_by = Some(errno);
                break;
            }
        }
    }
    println!(
        "fault-inject: fork bomb: {} children, then {:?}",
        children.len(),
        stopped_by
    );
    runner.case(
        "fork-bomb-until-eagain",
        fork_bomb_verdict(children.len(), stopped_by, FORK_BOMB_MINIMUM),
    );
    drop(pipe);
    let mut failures = Vec::new();
    for pid in &children {
        match sys::wait_for(*pid) {
            Ok(status) if status.encode() == 0 => {}
            Ok(status) => failures.push(format!(
                "{pid}: {}",
                ChildOutcome::of_child(status.encode())
            )),
            Err(errno) => failures.push(format!("{pid}: wait4 {errno:?}")),
        }
    }
    let leftover = hostile(Sysno::Wait4, [u64::MAX, 0, 1, 0, 0, 0]); // WNOHANG
    runner.case(
        "fork-bomb-all-children-reaped",
        if !failures.is_empty() {
            Err(format!(
                "{} of {} children: {}",
                failures.len(),
                children.len(),
                failures.join(", ")
            ))
        } else if leftover != Err(Errno::ECHILD) {
            Err(format!(
                "after reaping every child, wait4(-1, WNOHANG) gave {leftover:?}, expected ECHILD"
            ))
        } else {
            Ok(())
        },
    );
    fork_bomb_tree(runner);
    runner.case("fork-bomb-fork-works-again", fork_exec_hello());
}

/// Children each process of the tree bomb forks at most (a bound for
/// kernels without a small process limit: 8 + 64 + 512 processes).
const TREE_FANOUT: usize = 8;
/// Generations of the tree bomb below the first process.
const TREE_DEPTH: u32 = 3;

/// The exponential bomb: every new process forks too. Each process
/// reports `c` when it starts and `e` when fork refused it, then waits
/// on the release pipe and reaps its own children.
fn fork_bomb_tree(runner: &mut Runner) {
    let pipes =
        sys::pipe2(OpenFlags(0)).and_then(|release| Ok((release, sys::pipe2(OpenFlags(0))?)));
    let Ok(((release_read, release_write), (report_read, report_write))) = pipes else {
        return runner.case(
            "fork-bomb-tree-until-eagain",
            Err(format!("pipe2: {pipes:?}")),
        );
    };
    let tree = TreePipes {
        release_read,
        release_write,
        report_write,
    };
    let status = tree_node(&tree, 0);
    let _ = sys::close(report_write);
    let _ = sys::close(release_read);
    let mut reports = Vec::new();
    let mut buffer = [0u8; 512];
    while let Ok(read @ 1..) = sys::read(report_read, &mut buffer) {
        reports.extend_from_slice(&buffer[..read]);
    }
    let _ = sys::close(report_read);
    let created = reports.iter().filter(|&&byte| byte == b'c').count();
    let refused = reports.iter().filter(|&&byte| byte == b'e').count();
    println!("fault-inject: fork bomb tree: {created} processes, {refused} refusals");
    runner.case(
        "fork-bomb-tree-until-eagain",
        match status {
            0 if refused > 0 && created >= FORK_BOMB_MINIMUM => Ok(()),
            0 => Err(format!("{created} processes, {refused} refused forks: expected EAGAIN")),
            status => Err(format!(
                "a process of the tree reported status {status} (1: a child did not exit 0; 2: fork failed with neither EAGAIN nor ENOMEM)"
            )),
        },
    );
    let leftover = hostile(Sysno::Wait4, [u64::MAX, 0, 1, 0, 0, 0]); // WNOHANG
    runner.case(
        "fork-bomb-tree-all-reaped",
        if leftover == Err(Errno::ECHILD) {
            Ok(())
        } else {
            Err(format!(
                "wait4(-1, WNOHANG) gave {leftover:?}, expected ECHILD"
            ))
        },
    );
}

/// The fds every process of the tree bomb shares.
struct TreePipes {
    release_read: Fd,
    release_write: Fd,
    report_write: Fd,
}

/// One process of the tree bomb: forks (children run this one level
/// deeper), closes its release write end, waits for the release, reaps.
/// Returns 0, 1 (a child ended otherwise than with 0) or 2 (fork failed
/// with neither EAGAIN nor ENOMEM).
fn tree_node(tree: &TreePipes, depth: u32) -> i32 {
    let mut children = Vec::new();
    let mut status = 0;
    while depth < TREE_DEPTH && children.len() < TREE_FANOUT {
        match sys::fork() {
            Ok(ForkResult::Child) => {
                let _ = sys::write(tree.report_write, b"c");
                sys::exit(tree_node(tree, depth + 1))
            }
            Ok(ForkResult::Parent(pid)) => children.push(pid),
            Err(Errno::EAGAIN | Errno::ENOMEM) => {
                let _ = sys::write(tree.report_write, b"e");
                break;
            }
            Err(_) => {
                status = 2;
                break;
            }
        }
    }
    let _ = sys::close(tree.release_write);
    // EOF once every process has closed its write end.
    let _ = sys::read(tree.release_read, &mut [0u8; 1]);
    for pid in children {
        match sys::wait_for(pid) {
            Ok(child) if child.encode() == 0 => {}
            Ok(child) => {
                let reported = match ChildOutcome::of_child(child.encode()) {
                    ChildOutcome::Exited(code @ 1..=2) => i32::from(code),
                    _ => 1,
                };
                status = status.max(reported);
            }
            Err(_) => status = status.max(1),
        }
    }
    status
}

/// fork + execve of /bin/hello (stdout on /dev/null): exit status 0.
fn fork_exec_hello() -> Result<(), String> {
    let status = in_child(|| {
        if let Ok(null) = sys::open("/dev/null", OpenFlags(O_WRONLY), 0) {
            let _ = sys::dup2(null, Fd::STDOUT);
        }
        i32::from(EXEC_FAILED_STATUS_BASE) + sys::execve(b"/bin/hello", &[b"hello"], &[]).code()
    })?;
    match ChildOutcome::of_exec_child(status) {
        ChildOutcome::Exited(0) => Ok(()),
        outcome => Err(format!("fork+exec of /bin/hello: {outcome}")),
    }
}

// ---------------------------------------------------------------------
// memory

/// MemFree from /proc/meminfo, in KiB.
fn mem_free_kib() -> Result<u64, String> {
    let text = userland_rt::read_file_string("/proc/meminfo")
        .map_err(|errno| format!("/proc/meminfo: {errno:?}"))?;
    parse_meminfo(&text)
        .map(|info| info.free_kib)
        .map_err(|error| format!("{error}"))
}

/// The size of each mapping the exhausting child makes.
const EXHAUSTION_STEP_BYTES: usize = 1 << 20;

/// A child maps and touches 1 MiB blocks until `ENOMEM`, then grows its
/// break until `brk` refuses; it reports the MiB it got through a pipe.
/// It may also be killed (an out-of-memory kill is a report too).
fn exhaust_memory_in_child() -> Result<(ChildOutcome, u64), String> {
    let pipe = Pipe::new()?;
    let status = in_child(|| exhaust_memory(pipe.write, None))?;
    // Our copy of the write end goes first: a child killed before it
    // reported leaves the pipe at end of file instead of blocking us.
    let _ = sys::close(pipe.write);
    let mut bytes = [0u8; 8];
    let mib = match sys::read(pipe.read, &mut bytes) {
        Ok(8) => u64::from_le_bytes(bytes),
        _ => 0,
    };
    Ok((ChildOutcome::of_child(status), mib))
}

/// The body of an exhausting child: maps and touches 1 MiB blocks until
/// `ENOMEM`, then grows the break until `brk` refuses, writes the MiB it
/// got to `report` and, given `hold`, keeps everything until that pipe
/// is closed. Returns its exit status: 0 if mapping stopped at `ENOMEM`.
fn exhaust_memory(report: Fd, hold: Option<Fd>) -> i32 {
    let mut mappings = Vec::with_capacity(1 << 16);
    let mut mib = 0u64;
    let stopped_by = loop {
        if mappings.len() == mappings.capacity() {
            break Errno::E2BIG;
        }
        match sys::Mapping::anonymous(EXHAUSTION_STEP_BYTES) {
            Ok(mut mapping) => {
                for page in mapping.as_mut_slice().chunks_mut(PAGE_SIZE as usize) {
                    page[0] = 1;
                }
                mappings.push(mapping);
                mib += 1;
            }
            Err(errno) => break errno,
        }
    };
    // Then the break, 1 MiB at a time, until brk(2) returns the old one.
    let mut current = hostile(Sysno::Brk, [0; 6]).unwrap_or(0);
    loop {
        let request = current + EXHAUSTION_STEP_BYTES as u64;
        match hostile(Sysno::Brk, [request, 0, 0, 0, 0, 0]) {
            Ok(value) if value >= request => {
                current = value;
                mib += 1;
            }
            _ => break,
        }
    }
    let _ = sys::write_all(report, &mib.to_le_bytes());
    if let Some(hold) = hold {
        let _ = sys::read(hold, &mut [0u8; 1]);
    }
    if stopped_by == Errno::ENOMEM {
        0
    } else {
        100 + stopped_by.code()
    }
}

/// Runs `action` while a child holds all the memory it could get, then
/// releases the holder (which must end normally or by SIGKILL/SIGSEGV).
fn while_memory_is_exhausted(action: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let (report_read, report_write) =
        sys::pipe2(OpenFlags(0)).map_err(|errno| format!("pipe2: {errno:?}"))?;
    let (hold_read, hold_write) =
        sys::pipe2(OpenFlags(0)).map_err(|errno| format!("pipe2: {errno:?}"))?;
    let holder = match sys::fork() {
        Err(errno) => return Err(format!("fork: {errno:?}")),
        Ok(ForkResult::Child) => {
            let _ = sys::close(hold_write);
            sys::exit(exhaust_memory(report_write, Some(hold_read)))
        }
        Ok(ForkResult::Parent(pid)) => pid,
    };
    let _ = sys::close(report_write);
    let _ = sys::close(hold_read);
    // Returns once the holder has taken everything (or died: end of file).
    let _ = sys::read(report_read, &mut [0u8; 8]);
    let _ = sys::close(report_read);
    let verdict = action();
    let _ = sys::close(hold_write);
    let released = sys::wait_for(holder).map_err(|errno| format!("wait4 of the holder: {errno:?}"));
    verdict?;
    check_outcome(
        ChildOutcome::of_child(released?.encode()),
        Expectation::killed_by(&[signal::SIGKILL, signal::SIGSEGV]).or_runs(0),
    )
}

/// While memory is exhausted, fork + exec: it may work or fail with
/// ENOMEM/EAGAIN (fork(2), execve(2)), or the new process may be killed;
/// the kernel must not fall over.
fn fork_exec_under_pressure() -> Result<(), String> {
    match sys::fork() {
        Err(Errno::ENOMEM | Errno::EAGAIN) => Ok(()),
        Err(errno) => Err(format!(
            "fork: expected success, ENOMEM or EAGAIN, got {errno:?}"
        )),
        Ok(ForkResult::Child) => {
            if let Ok(null) = sys::open("/dev/null", OpenFlags(O_WRONLY), 0) {
                let _ = sys::dup2(null, Fd::STDOUT);
            }
            let errno = sys::execve(b"/bin/hello", &[b"hello"], &[]);
            sys::exit(i32::from(EXEC_FAILED_STATUS_BASE) + errno.code())
        }
        Ok(ForkResult::Parent(pid)) => match sys::wait_for(pid) {
            Ok(status) => check_outcome(
                ChildOutcome::of_exec_child(status.encode()),
                Expectation::exec_fails_or_killed(
                    &[Errno::ENOMEM, Errno::EAGAIN],
                    &[signal::SIGKILL, signal::SIGSEGV],
                )
                .or_runs(0),
            ),
            Err(errno) => Err(format!("wait4: {errno:?}")),
        },
    }
}

/// While memory is exhausted, pipes until the fd table is full: the
/// kernel's heap cannot grow, so pipe2 must fail with ENOMEM (or the
/// table fills first: EMFILE), never take the kernel down.
fn pipes_under_pressure() -> Result<(), String> {
    let mut opened = Vec::new();
    let stopped_by = loop {
        match sys::pipe2(OpenFlags(0)) {
            Ok((read, write)) => opened.extend([read, write]),
            Err(errno) => break errno,
        }
    };
    let count = opened.len();
    for fd in opened {
        let _ = sys::close(fd);
    }
    println!("fault-inject: pipes under memory pressure: {count} fds, then {stopped_by:?}");
    match stopped_by {
        Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM => Ok(()),
        other => Err(format!(
            "{count} fds, then {other:?}: expected ENOMEM or EMFILE"
        )),
    }
}

/// A pipe nobody reads holds a bounded amount (pipe(7): 64 KiB on Linux);
/// then the writer blocks. A kernel that buffered without bound would
/// let one process fill the kernel heap.
fn pipe_capacity_is_bounded() -> Result<(), String> {
    const CHUNKS: usize = 256;
    let pipe = Pipe::new()?;
    let write_end = pipe.write;
    let ended = in_child_with_deadline(SLEEP_DEADLINE_NS, || {
        let chunk = [0x5au8; 65536];
        for _ in 0..CHUNKS {
            if sys::write_all(write_end, &chunk).is_err() {
                return 1;
            }
        }
        0
    })?;
    match ended {
        ChildEnd::KilledAtDeadline => Ok(()),
        ChildEnd::Unkillable => Err("the blocked writer survived SIGKILL".into()),
        ChildEnd::Exited(status) => Err(format!(
            "the writer {} after offering {} MiB to a pipe nobody reads",
            ChildOutcome::of_child(status),
            CHUNKS / 16
        )),
    }
}

/// Pipes until the fd table is full: `EMFILE` (or the system-wide
/// `ENFILE`), and every fd closes again.
fn fds_until_emfile() -> Result<(), String> {
    let lowest = lowest_free_fd()?;
    let mut opened = Vec::new();
    let stopped_by = loop {
        if opened.len() > 1 << 16 {
            break None;
        }
        match sys::pipe2(OpenFlags(0)) {
            Ok((read, write)) => opened.extend([read, write]),
            Err(errno) => break Some(errno),
        }
    };
    let count = opened.len();
    for fd in opened {
        let _ = sys::close(fd);
    }
    let after = lowest_free_fd()?;
    match stopped_by {
        Some(Errno::EMFILE | Errno::ENFILE) if after == lowest => Ok(()),
        Some(Errno::EMFILE | Errno::ENFILE) => Err(format!(
            "after closing every fd the lowest free fd is {after}, was {lowest}"
        )),
        other => Err(format!("{count} fds, then {other:?}: expected EMFILE")),
    }
}

fn memory(runner: &mut Runner) {
    let before = match mem_free_kib() {
        Ok(kib) => kib,
        Err(why) => return runner.case("memory-exhaustion-enomem", Err(why)),
    };
    let mut after = Vec::new();
    for round in ["first", "second"] {
        let result = exhaust_memory_in_child().and_then(|(outcome, mib)| {
            println!(
                "fault-inject: memory exhaustion ({round}): the child got {mib} MiB, {outcome}"
            );
            // The child ends normally after ENOMEM, or is killed for lack
            // of memory (Linux's OOM killer uses SIGKILL).
            check_outcome(
                outcome,
                Expectation::killed_by(&[signal::SIGKILL, signal::SIGSEGV]).or_runs(0),
            )
        });
        runner.case(&format!("memory-exhaustion-{round}"), result);
        runner.case(
            &format!("memory-fork-exec-after-exhaustion-{round}"),
            fork_exec_hello(),
        );
        match mem_free_kib() {
            Ok(kib) => after.push(kib),
            Err(why) => return runner.case("memory-comes-back", Err(why)),
        }
    }
    println!(
        "fault-inject: MemFree before {before} kB, after {} kB and {} kB",
        after[0], after[1]
    );
    runner.case(
        "memory-comes-back",
        memory_recovered(before, after[0], after[1]),
    );
    runner.case(
        "memory-fork-while-exhausted",
        while_memory_is_exhausted(fork_exec_under_pressure),
    );
    // 1024 fds of pipes, twice: the kernel may keep some heap after the
    // first round, but must hand it back (MemFree) and must not lose more
    // in the second.
    let mut after_fds = Vec::new();
    for round in ["first", "second"] {
        runner.case(
            &format!("memory-fds-until-emfile-{round}"),
            fds_until_emfile(),
        );
        match mem_free_kib() {
            Ok(kib) => after_fds.push(kib),
            Err(why) => return runner.case("memory-comes-back-after-fds", Err(why)),
        }
    }
    println!(
        "fault-inject: MemFree after the pipes {} kB and {} kB",
        after_fds[0], after_fds[1]
    );
    runner.case(
        "memory-comes-back-after-fds",
        memory_recovered(after[1], after_fds[0], after_fds[1]),
    );
    // Last: a writer that SIGKILL cannot end stays until the pipe closes.
    runner.case("memory-pipe-capacity-bounded", pipe_capacity_is_bounded());
}

// ---------------------------------------------------------------------
// kernel-memory

/// The kernel's own allocations (pipes, fd tables) while user memory is
/// exhausted. Its own group: a kernel that panics here ends the boot.
fn kernel_memory(runner: &mut Runner) {
    runner.case(
        "kernel-memory-pipes-while-exhausted",
        while_memory_is_exhausted(pipes_under_pressure),
    );
    runner.case("kernel-memory-fork-exec-afterwards", fork_exec_hello());
}
