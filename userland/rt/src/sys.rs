//! Safe, typed wrappers: one function per system call the programs use.
//!
//! Each wrapper owns the contract of its call: pointers it passes come from
//! Rust references of the right size that outlive the call, and results
//! are decoded into `Result<_, Errno>` (`Errno::from_syscall_return`). Paths are
//! copied into a NUL-terminated stack buffer (at most `PATH_MAX` = 4096
//! bytes with the NUL, as in Linux). The numbers and structs come from
//! `linux-abi`.
//!
//! Calls that can break memory safety whatever their arguments (`brk` and
//! `munmap` of memory Rust still uses) are `unsafe fn`s; the safe way to
//! get memory from the kernel is [`Mapping`] or the heap.

use alloc::vec::Vec;

use linux_abi::fcntl::{AT_FDCWD, AT_SYMLINK_NOFOLLOW, SEEK_CUR, SEEK_END, SEEK_SET};
use linux_abi::ioctl::{TCGETS, TIOCGWINSZ};
use linux_abi::mman::{MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use linux_abi::signal::{Sigaction, SIG_DFL, SIG_IGN};
use linux_abi::stat::Stat;
use linux_abi::termios::{Termios, Winsize};
use linux_abi::time::{Timespec, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME};
use linux_abi::utsname::Utsname;
use linux_abi::wait::WaitStatus;
use linux_abi::Errno;
use userland_core::abi::OpenFlags;
use userland_core::Signal;

use crate::syscall::{syscall0, syscall1, syscall2, syscall3, syscall4, syscall6};

/// The numbers of the calls made here (`linux_abi::Sysno`, checked against
/// `asm/unistd_64.h` there), as the `usize` that goes in `rax`.
mod nr {
    use linux_abi::Sysno;

    const fn number(call: Sysno) -> usize {
        call.number() as usize
    }

    pub const READ: usize = number(Sysno::Read);
    pub const WRITE: usize = number(Sysno::Write);
    pub const CLOSE: usize = number(Sysno::Close);
    pub const FSTAT: usize = number(Sysno::Fstat);
    pub const LSEEK: usize = number(Sysno::Lseek);
    pub const MMAP: usize = number(Sysno::Mmap);
    pub const MUNMAP: usize = number(Sysno::Munmap);
    pub const BRK: usize = number(Sysno::Brk);
    pub const RT_SIGACTION: usize = number(Sysno::RtSigaction);
    pub const IOCTL: usize = number(Sysno::Ioctl);
    pub const SCHED_YIELD: usize = number(Sysno::SchedYield);
    pub const DUP2: usize = number(Sysno::Dup2);
    pub const NANOSLEEP: usize = number(Sysno::Nanosleep);
    pub const GETPID: usize = number(Sysno::Getpid);
    pub const FORK: usize = number(Sysno::Fork);
    pub const EXECVE: usize = number(Sysno::Execve);
    pub const WAIT4: usize = number(Sysno::Wait4);
    pub const KILL: usize = number(Sysno::Kill);
    pub const UNAME: usize = number(Sysno::Uname);
    pub const GETCWD: usize = number(Sysno::Getcwd);
    pub const CHDIR: usize = number(Sysno::Chdir);
    pub const GETPPID: usize = number(Sysno::Getppid);
    pub const GETDENTS64: usize = number(Sysno::Getdents64);
    pub const CLOCK_GETTIME: usize = number(Sysno::ClockGettime);
    pub const EXIT_GROUP: usize = number(Sysno::ExitGroup);
    pub const OPENAT: usize = number(Sysno::Openat);
    pub const NEWFSTATAT: usize = number(Sysno::Newfstatat);
    pub const READLINKAT: usize = number(Sysno::Readlinkat);
    pub const DUP3: usize = number(Sysno::Dup3);
    pub const PIPE2: usize = number(Sysno::Pipe2);
    pub const GETRANDOM: usize = number(Sysno::Getrandom);
    pub const REBOOT: usize = number(Sysno::Reboot);
    pub const SYNC: usize = number(Sysno::Sync);
}

/// `sigsetsize` of `rt_sigaction`: the kernel's 64-bit signal mask.
const SIGSET_SIZE: usize = 8;

/// `whence` of [`lseek`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// `SEEK_SET`
    Start,
    /// `SEEK_CUR`
    Current,
    /// `SEEK_END`
    End,
}

impl Whence {
    fn raw(self) -> u32 {
        match self {
            Whence::Start => SEEK_SET,
            Whence::Current => SEEK_CUR,
            Whence::End => SEEK_END,
        }
    }
}

/// The clocks of [`clock_gettime`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_REALTIME`: wall-clock time, seconds since 1970 UTC.
    Realtime,
    /// `CLOCK_MONOTONIC`: time since boot that never steps back.
    Monotonic,
    /// `CLOCK_PROCESS_CPUTIME_ID`: CPU time this process has used.
    ProcessCpuTime,
}

impl Clock {
    fn raw(self) -> u32 {
        match self {
            Clock::Realtime => CLOCK_REALTIME,
            Clock::Monotonic => CLOCK_MONOTONIC,
            Clock::ProcessCpuTime => CLOCK_PROCESS_CPUTIME_ID,
        }
    }
}

/// A process id.
pub type Pid = i32;

/// A file descriptor number (not closed on drop: see [`crate::File`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fd(pub i32);

impl Fd {
    pub const STDIN: Fd = Fd(0);
    pub const STDOUT: Fd = Fd(1);
    pub const STDERR: Fd = Fd(2);
    /// `AT_FDCWD`: paths of `*at` calls relative to the current directory.
    pub const CURRENT_DIRECTORY: Fd = Fd(AT_FDCWD);
}

/// `PATH_MAX`, including the terminating NUL.
const PATH_MAX: usize = 4096;

/// Decodes a raw return value: `-4095..=-1` is `-errno`, anything else
/// (including addresses from `mmap` above that range) a result.
fn check(value: isize) -> Result<usize, Errno> {
    match Errno::from_syscall_return(value as u64) {
        Some(errno) => Err(errno),
        None => Ok(value as usize),
    }
}

/// Runs `call` with `path` as a NUL-terminated C string on the stack.
fn with_c_path(path: &[u8], call: impl FnOnce(*const u8) -> isize) -> Result<usize, Errno> {
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    let mut buffer = [0u8; PATH_MAX];
    buffer[..path.len()].copy_from_slice(path);
    check(call(buffer.as_ptr()))
}

/// `read(fd, buf, len)`: bytes read, 0 at end of file.
pub fn read(fd: Fd, buffer: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buffer.len() bytes into buffer,
    // which is exclusively borrowed for the call.
    check(unsafe {
        syscall3(
            nr::READ,
            fd.0 as usize,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
        )
    })
}

/// `write(fd, buf, len)`: bytes written (possibly fewer than asked).
pub fn write(fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads at most bytes.len() bytes from bytes.
    check(unsafe {
        syscall3(
            nr::WRITE,
            fd.0 as usize,
            bytes.as_ptr() as usize,
            bytes.len(),
        )
    })
}

/// Writes all of `bytes`, retrying short writes and `EINTR`.
pub fn write_all(fd: Fd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match write(fd, bytes) {
            Ok(0) => return Err(Errno::EIO),
            Ok(written) => bytes = &bytes[written..],
            Err(Errno::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// `openat(dir, path, flags, mode)`.
pub fn openat(dir: Fd, path: impl AsRef<[u8]>, flags: OpenFlags, mode: u32) -> Result<Fd, Errno> {
    with_c_path(path.as_ref(), |path| {
        // SAFETY: path is a NUL-terminated string that lives for the call.
        unsafe {
            syscall4(
                nr::OPENAT,
                dir.0 as isize as usize,
                path as usize,
                flags.0 as usize,
                mode as usize,
            )
        }
    })
    .map(|fd| Fd(fd as i32))
}

/// `open(path, flags, mode)`, made as `openat(AT_FDCWD, ...)`.
pub fn open(path: impl AsRef<[u8]>, flags: OpenFlags, mode: u32) -> Result<Fd, Errno> {
    openat(Fd::CURRENT_DIRECTORY, path, flags, mode)
}

/// `close(fd)`.
pub fn close(fd: Fd) -> Result<(), Errno> {
    // SAFETY: closing a descriptor touches no memory of ours.
    check(unsafe { syscall1(nr::CLOSE, fd.0 as usize) }).map(drop)
}

/// `lseek(fd, offset, whence)`: the new offset.
pub fn lseek(fd: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
    // SAFETY: takes no pointers.
    check(unsafe {
        syscall3(
            nr::LSEEK,
            fd.0 as usize,
            offset as usize,
            whence.raw() as usize,
        )
    })
    .map(|offset| offset as u64)
}

/// `fstat(fd, &stat)`.
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut stat = Stat::default();
    // SAFETY: the kernel writes one struct stat (144 bytes, the size of
    // Stat, checked by a layout test) into stat.
    check(unsafe { syscall2(nr::FSTAT, fd.0 as usize, &mut stat as *mut Stat as usize) })?;
    Ok(stat)
}

/// `newfstatat(dir, path, &stat, flags)`.
pub fn fstatat(dir: Fd, path: impl AsRef<[u8]>, flags: u32) -> Result<Stat, Errno> {
    let mut stat = Stat::default();
    let pointer = &mut stat as *mut Stat as usize;
    with_c_path(path.as_ref(), |path| {
        // SAFETY: path is NUL-terminated; the kernel writes one struct
        // stat into stat, which outlives the call.
        unsafe {
            syscall4(
                nr::NEWFSTATAT,
                dir.0 as isize as usize,
                path as usize,
                pointer,
                flags as usize,
            )
        }
    })?;
    Ok(stat)
}

/// `stat(path)`, following symbolic links.
pub fn stat(path: impl AsRef<[u8]>) -> Result<Stat, Errno> {
    fstatat(Fd::CURRENT_DIRECTORY, path, 0)
}

/// `lstat(path)`: a symbolic link itself.
pub fn lstat(path: impl AsRef<[u8]>) -> Result<Stat, Errno> {
    fstatat(Fd::CURRENT_DIRECTORY, path, AT_SYMLINK_NOFOLLOW)
}

/// `readlinkat(AT_FDCWD, path, buf, len)`: the length of the target.
pub fn readlink(path: impl AsRef<[u8]>, buffer: &mut [u8]) -> Result<usize, Errno> {
    let (pointer, len) = (buffer.as_mut_ptr() as usize, buffer.len());
    with_c_path(path.as_ref(), |path| {
        // SAFETY: path is NUL-terminated; the kernel writes at most len
        // bytes into buffer, exclusively borrowed for the call.
        unsafe {
            syscall4(
                nr::READLINKAT,
                AT_FDCWD as isize as usize,
                path as usize,
                pointer,
                len,
            )
        }
    })
}

/// `getdents64(fd, buf, len)`: bytes of `linux_dirent64` records written
/// (decode with [`userland_core::abi::DirentIter`]); 0 at the end.
pub fn getdents64(fd: Fd, buffer: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buffer.len() bytes into buffer.
    check(unsafe {
        syscall3(
            nr::GETDENTS64,
            fd.0 as usize,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
        )
    })
}

/// `pipe2(fds, flags)`: `(read end, write end)`.
pub fn pipe2(flags: OpenFlags) -> Result<(Fd, Fd), Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: the kernel writes two ints into fds.
    check(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, flags.0 as usize) })?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// `dup2(old, new)`: makes `new` a copy of `old`.
pub fn dup2(old: Fd, new: Fd) -> Result<Fd, Errno> {
    // SAFETY: takes no pointers.
    check(unsafe { syscall2(nr::DUP2, old.0 as usize, new.0 as usize) }).map(|fd| Fd(fd as i32))
}

/// `dup3(old, new, flags)` (flags: 0 or `O_CLOEXEC`).
pub fn dup3(old: Fd, new: Fd, flags: OpenFlags) -> Result<Fd, Errno> {
    // SAFETY: takes no pointers.
    check(unsafe { syscall3(nr::DUP3, old.0 as usize, new.0 as usize, flags.0 as usize) })
        .map(|fd| Fd(fd as i32))
}

/// What [`fork`] returned in this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkResult {
    /// In the parent: the child's pid.
    Parent(Pid),
    /// In the child.
    Child,
}

/// `fork()`.
///
/// Safe here (unlike in a threaded program): the runtime never starts
/// threads and installs no signal handlers, so the child's copy of the
/// heap and of every lock is consistent.
pub fn fork() -> Result<ForkResult, Errno> {
    // SAFETY: fork takes no arguments; the child gets a copy of our
    // address space, which is sound in a single-threaded process.
    let pid = check(unsafe { syscall0(nr::FORK) })?;
    Ok(if pid == 0 {
        ForkResult::Child
    } else {
        ForkResult::Parent(pid as Pid)
    })
}

/// A NUL-terminated copy of `bytes`.
fn c_string(bytes: &[u8]) -> Result<Vec<u8>, Errno> {
    if bytes.contains(&0) {
        return Err(Errno::EINVAL);
    }
    let mut copy = Vec::with_capacity(bytes.len() + 1);
    copy.extend_from_slice(bytes);
    copy.push(0);
    Ok(copy)
}

/// An `execve` with its strings and pointer arrays built, so that the
/// call itself allocates nothing (a child of a threaded host test, or the
/// timed part of a benchmark, should not enter the allocator).
pub struct ExecRequest {
    path: Vec<u8>,
    /// Keeps the strings `argv_pointers` and `envp_pointers` point into.
    _strings: Vec<Vec<u8>>,
    argv_pointers: Vec<*const u8>,
    envp_pointers: Vec<*const u8>,
}

impl ExecRequest {
    /// Copies `path`, `argv` and `envp` into NUL-terminated strings and
    /// NULL-terminated pointer arrays.
    pub fn new(path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Result<ExecRequest, Errno> {
        let path = c_string(path)?;
        let mut strings = Vec::with_capacity(argv.len() + envp.len());
        let mut argv_pointers = Vec::with_capacity(argv.len() + 1);
        let mut envp_pointers = Vec::with_capacity(envp.len() + 1);
        for (items, pointers) in [(argv, &mut argv_pointers), (envp, &mut envp_pointers)] {
            for item in items {
                let string = c_string(item)?;
                // The heap buffer does not move when `string` is moved.
                pointers.push(string.as_ptr());
                strings.push(string);
            }
            pointers.push(core::ptr::null());
        }
        Ok(ExecRequest {
            path,
            _strings: strings,
            argv_pointers,
            envp_pointers,
        })
    }

    /// Makes the call; returns only on failure.
    pub fn exec(&self) -> Errno {
        // SAFETY: path and every string are NUL-terminated and both pointer
        // arrays NULL-terminated, all owned by self for the whole call (on
        // success it does not return: the address space is replaced).
        let result = unsafe {
            syscall3(
                nr::EXECVE,
                self.path.as_ptr() as usize,
                self.argv_pointers.as_ptr() as usize,
                self.envp_pointers.as_ptr() as usize,
            )
        };
        match check(result) {
            Err(error) => error,
            // execve returning success would be a kernel bug.
            Ok(_) => Errno::EINVAL,
        }
    }
}

/// `execve(path, argv, envp)`; returns only on failure.
pub fn execve(path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Errno {
    match ExecRequest::new(path, argv, envp) {
        Ok(request) => request.exec(),
        Err(error) => error,
    }
}

/// `wait4(pid, &status, options, NULL)`: the child that changed state and
/// how, or `None` with `WNOHANG` when none has. A status word that is no
/// valid encoding is `EIO`: the kernel's answer is corrupt.
pub fn wait4(pid: Pid, options: u32) -> Result<Option<(Pid, WaitStatus)>, Errno> {
    let mut status: i32 = 0;
    // SAFETY: the kernel writes one int into status; no rusage pointer.
    let child = check(unsafe {
        syscall4(
            nr::WAIT4,
            pid as isize as usize,
            &mut status as *mut i32 as usize,
            options as usize,
            0,
        )
    })?;
    if child == 0 {
        return Ok(None);
    }
    let status = WaitStatus::decode(status as u32).ok_or(Errno::EIO)?;
    Ok(Some((child as Pid, status)))
}

/// Waits for `pid` to end, retrying `EINTR`.
pub fn wait_for(pid: Pid) -> Result<WaitStatus, Errno> {
    loop {
        match wait4(pid, 0) {
            Ok(Some((_, status))) => return Ok(status),
            Ok(None) | Err(Errno::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
}

/// `exit_group(code)`: ends the process.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: takes no pointers and does not return.
        unsafe {
            syscall1(nr::EXIT_GROUP, code as usize);
        }
    }
}

/// `getpid()`.
pub fn getpid() -> Pid {
    // SAFETY: takes no arguments; cannot fail.
    unsafe { syscall0(nr::GETPID) as Pid }
}

/// `getppid()`.
pub fn getppid() -> Pid {
    // SAFETY: takes no arguments; cannot fail.
    unsafe { syscall0(nr::GETPPID) as Pid }
}

/// `kill(pid, signal)`; a negative pid is a process group.
pub fn kill(pid: Pid, signal: Signal) -> Result<(), Errno> {
    // SAFETY: takes no pointers.
    check(unsafe { syscall2(nr::KILL, pid as isize as usize, signal.0 as usize) }).map(drop)
}

/// `nanosleep(&request, &remaining)`: `Err((EINTR, remaining))` if a
/// signal cut it short.
pub fn nanosleep(request: &Timespec) -> Result<(), (Errno, Timespec)> {
    let mut remaining = Timespec::default();
    // SAFETY: the kernel reads one timespec from request and may write one
    // into remaining.
    let result = unsafe {
        syscall2(
            nr::NANOSLEEP,
            request as *const Timespec as usize,
            &mut remaining as *mut Timespec as usize,
        )
    };
    check(result).map(drop).map_err(|error| (error, remaining))
}

/// Sleeps for `ns` nanoseconds, resuming after interruptions.
pub fn sleep_ns(ns: u64) -> Result<(), Errno> {
    let mut request = Timespec::from_nanos(ns);
    loop {
        match nanosleep(&request) {
            Ok(()) => return Ok(()),
            Err((Errno::EINTR, remaining)) => request = remaining,
            Err((error, _)) => return Err(error),
        }
    }
}

/// `clock_gettime(clock, &time)`.
pub fn clock_gettime(clock: Clock) -> Result<Timespec, Errno> {
    let mut time = Timespec::default();
    // SAFETY: the kernel writes one timespec into time.
    check(unsafe {
        syscall2(
            nr::CLOCK_GETTIME,
            clock.raw() as usize,
            &mut time as *mut Timespec as usize,
        )
    })?;
    Ok(time)
}

/// `CLOCK_MONOTONIC` in nanoseconds (0 if the clock is missing).
pub fn monotonic_ns() -> u64 {
    clock_gettime(Clock::Monotonic).map_or(0, |time| time.to_nanos().unwrap_or(0))
}

/// `CLOCK_PROCESS_CPUTIME_ID` in nanoseconds (0 if the clock is missing).
pub fn cpu_time_ns() -> u64 {
    clock_gettime(Clock::ProcessCpuTime).map_or(0, |time| time.to_nanos().unwrap_or(0))
}

/// `uname(&utsname)`.
pub fn uname() -> Result<Utsname, Errno> {
    let mut name = Utsname::default();
    // SAFETY: the kernel writes one struct new_utsname (390 bytes, the
    // size of Utsname) into name.
    check(unsafe { syscall1(nr::UNAME, &mut name as *mut Utsname as usize) })?;
    Ok(name)
}

/// `brk(address)`: the program break after the call (unchanged if the
/// request failed); `brk(0)` asks for the current break.
///
/// # Safety
///
/// Moving the break down unmaps memory: nothing may still use the pages
/// between the new and the old break. Only the heap calls this.
pub unsafe fn brk(address: usize) -> usize {
    // SAFETY: the caller guarantees no memory in use is released.
    unsafe { syscall1(nr::BRK, address) as usize }
}

/// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`:
/// fresh zeroed memory that no Rust reference points into yet.
pub fn mmap_anonymous(len: usize) -> Result<usize, Errno> {
    // SAFETY: with a NULL hint and without MAP_FIXED the kernel picks an
    // unused range, so no existing memory changes.
    check(unsafe {
        syscall6(
            nr::MMAP,
            0,
            len,
            (PROT_READ | PROT_WRITE) as usize,
            (MAP_PRIVATE | MAP_ANONYMOUS) as usize,
            usize::MAX, // fd -1
            0,
        )
    })
}

/// `mmap(NULL, len, READ|WRITE, PRIVATE|ANONYMOUS|POPULATE, -1, 0)`:
/// every page filled now rather than at first touch.
pub fn mmap_anonymous_populated(len: usize) -> Result<usize, Errno> {
    // SAFETY: as mmap_anonymous: the kernel picks an unused range.
    check(unsafe {
        syscall6(
            nr::MMAP,
            0,
            len,
            (PROT_READ | PROT_WRITE) as usize,
            (MAP_PRIVATE | MAP_ANONYMOUS | linux_abi::mman::MAP_POPULATE) as usize,
            usize::MAX, // fd -1
            0,
        )
    })
}

/// `munmap(address, len)`.
///
/// # Safety
///
/// Nothing may use the memory in `address..address + len` afterwards.
pub unsafe fn munmap(address: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller guarantees the range is no longer used.
    check(unsafe { syscall2(nr::MUNMAP, address, len) }).map(drop)
}

/// An anonymous private mapping, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    address: usize,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes of zeroed read-write memory.
    pub fn anonymous(len: usize) -> Result<Mapping, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let address = mmap_anonymous(len)?;
        Ok(Mapping { address, len })
    }

    /// As [`Mapping::anonymous`], with every page filled at once
    /// (`MAP_POPULATE`).
    pub fn anonymous_populated(len: usize) -> Result<Mapping, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let address = mmap_anonymous_populated(len)?;
        Ok(Mapping { address, len })
    }

    /// The mapping's first address.
    pub fn address(&self) -> usize {
        self.address
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty (never: zero-length mappings are refused).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the kernel mapped len readable, writable bytes at
        // address for us alone (private, anonymous); they stay mapped
        // until drop, and &mut self makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.address as *mut u8, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: no reference into the mapping outlives &mut self.
        // Nothing useful can be done if the kernel refuses.
        let _ = unsafe { munmap(self.address, self.len) };
    }
}

/// `chdir(path)`.
pub fn chdir(path: impl AsRef<[u8]>) -> Result<(), Errno> {
    with_c_path(path.as_ref(), |path| {
        // SAFETY: path is a NUL-terminated string that lives for the call.
        unsafe { syscall1(nr::CHDIR, path as usize) }
    })
    .map(drop)
}

/// `getcwd(buf, len)`: the current directory, without the NUL.
pub fn getcwd(buffer: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: the kernel writes at most buffer.len() bytes into buffer.
    let len = check(unsafe { syscall2(nr::GETCWD, buffer.as_mut_ptr() as usize, buffer.len()) })?;
    // Linux returns the length including the NUL.
    Ok(userland_core::abi::until_nul(&buffer[..len]))
}

/// `ioctl(fd, TCGETS, &termios)`: the terminal settings of `fd`.
pub fn tcgets(fd: Fd) -> Result<Termios, Errno> {
    let mut termios = Termios::default();
    // SAFETY: TCGETS writes one kernel struct termios (36 bytes, the size
    // of Termios) into termios.
    check(unsafe {
        syscall3(
            nr::IOCTL,
            fd.0 as usize,
            TCGETS as usize,
            &mut termios as *mut Termios as usize,
        )
    })?;
    Ok(termios)
}

/// Whether `fd` is a terminal (`TCGETS` succeeds), like `isatty`.
pub fn isatty(fd: Fd) -> bool {
    tcgets(fd).is_ok()
}

/// `ioctl(fd, TIOCGWINSZ, &winsize)`: the terminal's size.
pub fn window_size(fd: Fd) -> Result<Winsize, Errno> {
    let mut size = Winsize::default();
    // SAFETY: TIOCGWINSZ writes one struct winsize (8 bytes) into size.
    check(unsafe {
        syscall3(
            nr::IOCTL,
            fd.0 as usize,
            TIOCGWINSZ as usize,
            &mut size as *mut Winsize as usize,
        )
    })?;
    Ok(size)
}

/// What happens when a signal arrives. Handlers are set with
/// [`set_signal_handler`], which supplies the restorer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`
    Default,
    /// `SIG_IGN`
    Ignore,
    /// A handler someone else installed (only ever reported, as old).
    Handler(u64),
}

/// `rt_sigaction(signal, &new, &old, 8)` with no flags and an empty mask:
/// sets the disposition and returns the previous one.
pub fn set_signal_disposition(
    signal: Signal,
    disposition: Disposition,
) -> Result<Disposition, Errno> {
    let handler = match disposition {
        Disposition::Default => SIG_DFL,
        Disposition::Ignore => SIG_IGN,
        Disposition::Handler(_) => return Err(Errno::EINVAL),
    };
    let new = Sigaction {
        sa_handler: handler,
        ..Sigaction::default()
    };
    let mut old = Sigaction::default();
    // SAFETY: the kernel reads one struct sigaction (32 bytes, the size of
    // Sigaction) from new and writes one into old; SIG_DFL and
    // SIG_IGN need no restorer since no handler ever runs.
    check(unsafe {
        syscall4(
            nr::RT_SIGACTION,
            signal.0 as usize,
            &new as *const Sigaction as usize,
            &mut old as *mut Sigaction as usize,
            SIGSET_SIZE,
        )
    })?;
    Ok(match old.sa_handler {
        SIG_DFL => Disposition::Default,
        SIG_IGN => Disposition::Ignore,
        other => Disposition::Handler(other),
    })
}

// The restorer every handler returns to: `rt_sigreturn` (x86_64 needs
// one in `sa_restorer`; the kernel pushes its address as the handler's
// return address).
core::arch::global_asm!(
    ".globl userland_rt_sigreturn",
    ".type userland_rt_sigreturn, @function",
    "userland_rt_sigreturn:",
    "mov eax, 15",
    "syscall",
    "ud2",
    ".size userland_rt_sigreturn, . - userland_rt_sigreturn",
);

extern "C" {
    fn userland_rt_sigreturn();
}

/// Runs `handler` when `signal` arrives (`SA_RESTORER`, no `SA_RESTART`:
/// a blocking call it interrupts returns `EINTR`). The handler runs on
/// the interrupted stack and must only touch atomics: the heap and stdio
/// are not reentrant.
pub fn set_signal_handler(
    signal: Signal,
    handler: extern "C" fn(i32),
) -> Result<Disposition, Errno> {
    install_handler(signal, handler as *const () as usize as u64, 0)
}

/// A handler that also gets the `siginfo` (`SA_SIGINFO`: the fault
/// address, the sender) and the `ucontext`.
pub fn set_signal_info_handler(
    signal: Signal,
    handler: extern "C" fn(i32, *const u8, *const u8),
) -> Result<Disposition, Errno> {
    install_handler(
        signal,
        handler as *const () as usize as u64,
        linux_abi::signal::SA_SIGINFO,
    )
}

fn install_handler(signal: Signal, handler: u64, flags: u64) -> Result<Disposition, Errno> {
    let new = Sigaction {
        sa_handler: handler,
        sa_flags: linux_abi::signal::SA_RESTORER | flags,
        sa_restorer: userland_rt_sigreturn as *const () as usize as u64,
        sa_mask: 0,
    };
    let mut old = Sigaction::default();
    // SAFETY: the kernel reads one struct sigaction from new and writes
    // one into old; the handler and the restorer are functions of this
    // program that stay mapped.
    check(unsafe {
        syscall4(
            nr::RT_SIGACTION,
            signal.0 as usize,
            &new as *const Sigaction as usize,
            &mut old as *mut Sigaction as usize,
            SIGSET_SIZE,
        )
    })?;
    Ok(match old.sa_handler {
        SIG_DFL => Disposition::Default,
        SIG_IGN => Disposition::Ignore,
        other => Disposition::Handler(other),
    })
}

/// What `reboot(2)` should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootCommand {
    PowerOff,
    Restart,
}

/// `reboot(LINUX_REBOOT_MAGIC1, MAGIC2, cmd)`: returns only on failure.
pub fn reboot(command: RebootCommand) -> Errno {
    let cmd = match command {
        RebootCommand::PowerOff => 0x4321_fedc,
        RebootCommand::Restart => 0x0123_4567,
    };
    // SAFETY: takes no pointers.
    let result = unsafe { syscall3(nr::REBOOT, 0xfee1_dead, 672_274_793, cmd) };
    check(result).err().unwrap_or(Errno::EINVAL)
}

/// `sync()`.
pub fn sync() {
    // SAFETY: takes no arguments.
    let _ = unsafe { syscall0(nr::SYNC) };
}

/// `sched_yield()`.
pub fn sched_yield() {
    // SAFETY: takes no arguments; cannot fail on Linux.
    let _ = unsafe { syscall0(nr::SCHED_YIELD) };
}

/// `getrandom(buf, len, flags)`: bytes written.
pub fn getrandom(buffer: &mut [u8], flags: u32) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buffer.len() bytes into buffer.
    check(unsafe {
        syscall3(
            nr::GETRANDOM,
            buffer.as_mut_ptr() as usize,
            buffer.len(),
            flags as usize,
        )
    })
}

#[cfg(test)]
mod tests {
    //! These run the real system calls inside the host test process.
    use super::*;
    use std::string::String;

    #[test]
    fn process_ids_match_std() {
        assert_eq!(getpid() as u32, std::process::id());
        assert!(getppid() > 0);
        assert_eq!(kill(getpid(), Signal(0)), Ok(()));
        assert_eq!(kill(i32::MAX, Signal(0)), Err(Errno::ESRCH));
    }

    #[test]
    fn files_open_read_seek_stat_and_close() {
        let dir = std::env::temp_dir().join(std::format!("userland-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        let path_bytes = path.to_str().unwrap().as_bytes();
        let fd = open(
            path_bytes,
            OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE,
            0o640,
        )
        .unwrap();
        write_all(fd, b"hello, world").unwrap();
        close(fd).unwrap();
        assert_eq!(close(fd), Err(Errno::EBADF));

        let fd = open(path_bytes, OpenFlags::READ_ONLY, 0).unwrap();
        assert_eq!(lseek(fd, 7, Whence::Start), Ok(7));
        let mut buffer = [0u8; 16];
        assert_eq!(read(fd, &mut buffer), Ok(5));
        assert_eq!(&buffer[..5], b"world");
        let stat = fstat(fd).unwrap();
        assert_eq!(stat.st_size, 12);
        assert_eq!(stat.st_mode & 0o170000, 0o100000);
        close(fd).unwrap();
        assert_eq!(lstat(path_bytes).unwrap().st_ino, stat.st_ino);
        assert_eq!(
            open(
                dir.join("missing").to_str().unwrap(),
                OpenFlags::READ_ONLY,
                0
            ),
            Err(Errno::ENOENT)
        );
        assert_eq!(open(b"a\0b", OpenFlags::READ_ONLY, 0), Err(Errno::EINVAL));
        assert_eq!(
            open([b'a'; 5000], OpenFlags::READ_ONLY, 0),
            Err(Errno::ENAMETOOLONG)
        );

        std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
        let mut target = [0u8; 64];
        let len = readlink(dir.join("link").to_str().unwrap(), &mut target).unwrap();
        assert_eq!(&target[..len], b"file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_list_with_getdents64() {
        let fd = open(b"/", OpenFlags::READ_ONLY | OpenFlags::DIRECTORY, 0).unwrap();
        let mut buffer = [0u8; 4096];
        let len = getdents64(fd, &mut buffer).unwrap();
        let names: std::vec::Vec<String> = userland_core::abi::DirentIter::new(&buffer[..len])
            .map(|entry| String::from_utf8_lossy(entry.unwrap().name).into_owned())
            .collect();
        assert!(names.iter().any(|name| name == "."));
        assert!(names.iter().any(|name| name == "proc"));
        close(fd).unwrap();
    }

    #[test]
    fn pipes_and_dup_move_bytes() {
        let (reader, writer) = pipe2(OpenFlags::CLOSE_ON_EXEC).unwrap();
        let copy = dup3(writer, Fd(100), OpenFlags::default()).unwrap();
        assert_eq!(copy, Fd(100));
        write_all(copy, b"ping").unwrap();
        let mut buffer = [0u8; 4];
        assert_eq!(read(reader, &mut buffer), Ok(4));
        assert_eq!(&buffer, b"ping");
        let again = dup2(reader, Fd(101)).unwrap();
        for fd in [reader, writer, copy, again] {
            close(fd).unwrap();
        }
    }

    #[test]
    fn clocks_advance_and_sleep_waits() {
        let before = monotonic_ns();
        sleep_ns(2_000_000).unwrap();
        assert!(monotonic_ns() - before >= 2_000_000);
        let wall = clock_gettime(Clock::Realtime).unwrap();
        let std_wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((wall.tv_sec - std_wall).abs() <= 1);
        assert!(cpu_time_ns() > 0);
    }

    #[test]
    fn uname_cwd_terminal_and_random() {
        let name = uname().unwrap();
        assert_eq!(userland_core::abi::until_nul(&name.sysname), b"Linux");
        let mut buffer = [0u8; 4096];
        let cwd = getcwd(&mut buffer).unwrap();
        assert_eq!(
            cwd,
            std::env::current_dir()
                .unwrap()
                .to_str()
                .unwrap()
                .as_bytes()
        );
        let (reader, writer) = pipe2(OpenFlags::default()).unwrap();
        assert_eq!(tcgets(reader), Err(Errno::ENOTTY));
        assert!(window_size(reader).is_err());
        close(reader).unwrap();
        close(writer).unwrap();
        let mut random = [0u8; 32];
        assert_eq!(getrandom(&mut random, 0), Ok(32));
        assert!(random.iter().any(|&byte| byte != 0));
        sched_yield();
        assert_eq!(chdir(b"/nonexistent-dir-xenrs"), Err(Errno::ENOENT));
    }

    #[test]
    fn signal_dispositions_round_trip() {
        // SIGURG is ignored by default and unused by the test harness.
        let urgent = Signal(23);
        let previous = set_signal_disposition(urgent, Disposition::Ignore).unwrap();
        assert_eq!(previous, Disposition::Default);
        assert_eq!(
            set_signal_disposition(urgent, Disposition::Default),
            Ok(Disposition::Ignore)
        );
        assert_eq!(
            set_signal_disposition(Signal(9), Disposition::Ignore),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn mappings_are_zeroed_writable_and_unmapped_on_drop() {
        let mut mapping = Mapping::anonymous(3 * 4096).unwrap();
        assert_eq!(mapping.address() % 4096, 0);
        let bytes = mapping.as_mut_slice();
        assert!(bytes.iter().all(|&byte| byte == 0));
        bytes[4096] = 7;
        assert_eq!(mapping.as_mut_slice()[4096], 7);
        assert_eq!(Mapping::anonymous(0).unwrap_err(), Errno::EINVAL);
    }

    #[test]
    fn fork_exec_and_wait_report_statuses() {
        match fork().unwrap() {
            ForkResult::Child => exit(7),
            ForkResult::Parent(child) => {
                assert_eq!(wait_for(child), Ok(WaitStatus::Exited(7)));
            }
        }
        // Built before fork: the test harness has threads, so the child
        // must not enter the allocator.
        let request = ExecRequest::new(b"/bin/sh", &[b"sh", b"-c", b"exit 3"], &[b"A=1"]).unwrap();
        match fork().unwrap() {
            ForkResult::Child => {
                let error = request.exec();
                // Only reached if /bin/sh cannot run.
                exit(100 + error.code());
            }
            ForkResult::Parent(child) => {
                assert_eq!(wait_for(child), Ok(WaitStatus::Exited(3)));
            }
        }
        match fork().unwrap() {
            ForkResult::Child => {
                sleep_ns(10_000_000_000).ok();
                exit(0);
            }
            ForkResult::Parent(child) => {
                assert_eq!(wait4(child, linux_abi::wait::WNOHANG), Ok(None));
                kill(child, Signal::KILL).unwrap();
                assert_eq!(
                    wait_for(child),
                    Ok(WaitStatus::Signaled {
                        signal: 9,
                        core_dumped: false
                    })
                );
            }
        }
        assert_eq!(execve(b"/nonexistent", &[b"x"], &[]), Errno::ENOENT);
        assert_eq!(
            ExecRequest::new(b"a\0", &[], &[]).err(),
            Some(Errno::EINVAL)
        );
    }
}
