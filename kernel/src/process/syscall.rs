//! The system call table: Linux x86_64 numbers to handlers.

use super::signal::{deliver, Interrupted, ERESTARTNOHAND, ERESTARTSYS};
use super::*;

/// Handles a `syscall` from user mode (vector 258): number in rax,
/// arguments in rdi, rsi, rdx, r10, r8, r9 (Linux x86_64 ABI).
pub fn syscall(frame: &mut TrapFrame) {
    use linux_abi::syscall::Sysno;
    // Lists built under the MMU lock (fork, munmap) must not grow the heap.
    crate::mm::heap::ensure_headroom(2 << 20);
    let number = frame.rax;
    let (a0, a1, a2, a3, a4) = (frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8);
    // Descriptors are C ints: only the low 32 bits count (a negative one
    // becomes a huge number, which is EBADF).
    let int_fd = |value: u64| value as i32 as i64 as u64;
    let sysno = Sysno::from_raw(number);
    let takes_fd = matches!(
        sysno,
        Some(
            Sysno::Read
                | Sysno::Write
                | Sysno::Readv
                | Sysno::Writev
                | Sysno::Close
                | Sysno::Dup
                | Sysno::Dup2
                | Sysno::Dup3
                | Sysno::Fcntl
                | Sysno::Lseek
                | Sysno::Fstat
                | Sysno::Getdents64
                | Sysno::Ioctl
                | Sysno::Fchdir
        )
    );
    let a0 = if takes_fd { int_fd(a0) } else { a0 };
    log::trace!(
        "syscall pid={} nr={} args={a0:#x} {a1:#x} {a2:#x} {a3:#x}",
        current_pid(),
        frame.rax
    );
    let result: Result<u64, i64> = match Sysno::from_raw(frame.rax) {
        Some(Sysno::Write) => copy_from_user(a1, a2).and_then(|bytes| write_file(a0, &bytes)),
        Some(Sysno::Writev) => writev(a0, a1, a2),
        Some(Sysno::Readv) => readv(a0, a1, a2),
        Some(Sysno::Pread64) => pread(a0, a1, a2, a3),
        Some(Sysno::Pwrite64) => pwrite(a0, a1, a2, a3),
        Some(Sysno::Sendfile) => sendfile(a0, int_fd(a1), a2, a3),
        Some(Sysno::Read) => read_file(a0, a1, a2),
        Some(Sysno::Open) => open_path(linux_abi::fcntl::AT_FDCWD as i64, a0, a1 as u32, a2 as u32),
        Some(Sysno::Creat) => open_path(
            linux_abi::fcntl::AT_FDCWD as i64,
            a0,
            0o1 | 0o100 | 0o1000, // O_WRONLY | O_CREAT | O_TRUNC
            a1 as u32,
        ),
        // int arguments (fds, pids) arrive in 64-bit registers with
        // undefined upper halves: only the low 32 bits count.
        Some(Sysno::Openat) => open_path(a0 as i32 as i64, a1, a2 as u32, a3 as u32),
        Some(Sysno::Mkdir | Sysno::Mkdirat) => (|| {
            let (dirfd, path, mode) = if sysno == Some(Sysno::Mkdir) {
                (linux_abi::fcntl::AT_FDCWD as i64, a0, a1)
            } else {
                (a0 as i32 as i64, a1, a2)
            };
            let path = string_from_user(path)?;
            let context = path_context(dirfd, &path)?;
            let mut vfs = VFS.lock();
            vfs.as_mut()
                .ok_or(ENOENT)?
                .mkdir(&context, &path, mode as u32 & 0o7777, now())
                .map(|_| 0)
                .map_err(errno)
        })(),
        Some(Sysno::Unlink | Sysno::Rmdir | Sysno::Unlinkat) => (|| {
            const AT_REMOVEDIR: u64 = 0x200;
            let (dirfd, path, directory) = match sysno {
                Some(Sysno::Unlinkat) => (a0 as i32 as i64, a1, a2 & AT_REMOVEDIR != 0),
                Some(Sysno::Rmdir) => (linux_abi::fcntl::AT_FDCWD as i64, a0, true),
                _ => (linux_abi::fcntl::AT_FDCWD as i64, a0, false),
            };
            let path = string_from_user(path)?;
            let context = path_context(dirfd, &path)?;
            let mut vfs = VFS.lock();
            let vfs = vfs.as_mut().ok_or(ENOENT)?;
            let result = if directory {
                vfs.rmdir(&context, &path, now())
            } else {
                vfs.unlink(&context, &path, now())
            };
            result.map(|()| 0).map_err(errno)
        })(),
        Some(Sysno::Rename | Sysno::Renameat | Sysno::Renameat2) => (|| {
            let (old_dir, old, new_dir, new) = if sysno == Some(Sysno::Rename) {
                let cwd = linux_abi::fcntl::AT_FDCWD as i64;
                (cwd, a0, cwd, a1)
            } else {
                (a0 as i32 as i64, a1, a2 as i32 as i64, a3)
            };
            let (old, new) = (string_from_user(old)?, string_from_user(new)?);
            let context = path_context(old_dir, &old)?;
            if path_context(new_dir, &new)? != context {
                return Err(18); // EXDEV: one directory context at a time
            }
            let mut vfs = VFS.lock();
            vfs.as_mut()
                .ok_or(ENOENT)?
                .rename(&context, &old, &new, now())
                .map(|()| 0)
                .map_err(errno)
        })(),
        Some(Sysno::Close) => close_fd(a0),
        Some(Sysno::Dup) => dup_to(a0, None, 0, false),
        Some(Sysno::Dup2) => dup_to(a0, Some(int_fd(a1)), 0, false),
        Some(Sysno::Dup3) if a0 == int_fd(a1) => Err(EINVAL),
        Some(Sysno::Dup3) if a2 & !0o2000000 != 0 => Err(EINVAL),
        Some(Sysno::Dup3) => dup_to(a0, Some(int_fd(a1)), 0, a2 & 0o2000000 != 0),
        Some(Sysno::Fcntl) => match a1 {
            0 => dup_to(a0, None, a2, false),   // F_DUPFD
            1030 => dup_to(a0, None, a2, true), // F_DUPFD_CLOEXEC
            // F_GETFD, F_SETFD: FD_CLOEXEC (1).
            1 => with_current(|p| p.file(a0).map(|_| u64::from(p.close_on_exec(a0)))),
            2 => with_current(|p| {
                p.file(a0)?;
                p.set_close_on_exec(a0, a2 & 1 != 0);
                Ok(0)
            }),
            4 => with_current(|p| p.file(a0).map(|_| 0)), // F_SETFL
            3 => with_current(|p| p.file(a0).map(|_| 2)), // F_GETFL: O_RDWR
            _ => Err(EINVAL),
        },
        Some(Sysno::Pipe | Sysno::Pipe2) => (|| {
            // O_CLOEXEC, O_NONBLOCK and O_DIRECT are the flags pipe2 knows.
            if sysno == Some(Sysno::Pipe2) && a1 & !(0o2000000 | 0o4000 | 0o40000) != 0 {
                return Err(EINVAL);
            }
            // Check where the two descriptors go before creating them, so a
            // bad pointer leaves no descriptors behind.
            check_user_range(a0, 8, true)?;
            let pipe = Arc::new(Mutex::new(Pipe::new()));
            let (read, write) = with_current(|p| {
                let close_on_exec = a1 & 0o2000000 != 0 && sysno == Some(Sysno::Pipe2);
                let read = p.install(File::PipeRead(pipe.clone()), 0, close_on_exec)?;
                let write = p.install(File::PipeWrite(pipe), 0, close_on_exec)?;
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
        // WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD, __WALL, __WCLONE.
        Some(Sysno::Wait4) if a2 & !(1 | 2 | 8 | 0xe000_0000) != 0 => Err(EINVAL),
        Some(Sysno::Wait4) => wait4(a0 as i32 as i64, a1, a2),
        Some(Sysno::Kill) => {
            let (target, signal) = (a0 as i32, a1 as u32);
            match target {
                1.. => post(target as u32, signal).map(|()| 0),
                0 => post_to_group(with_current(|p| p.pgid), signal).map(|()| 0),
                // Every process but init and the caller.
                -1 => {
                    let me = current_pid();
                    let pids: Vec<u32> = PROCESSES
                        .lock()
                        .keys()
                        .copied()
                        .filter(|&p| p != me && p != 1)
                        .collect();
                    pids.into_iter()
                        .try_for_each(|pid| post(pid, signal))
                        .map(|()| 0)
                }
                _ => post_to_group(target.unsigned_abs(), signal).map(|()| 0),
            }
        }
        // One thread per process: a thread id is the process id.
        Some(Sysno::Tkill) => post(a0 as i32 as u32, a1 as u32).map(|()| 0),
        Some(Sysno::Tgkill) if a0 as i32 == a1 as i32 => {
            post(a1 as i32 as u32, a2 as u32).map(|()| 0)
        }
        Some(Sysno::Tgkill) => Err(ESRCH),
        Some(Sysno::Prctl) => match a0 {
            // PR_SET_NAME / PR_GET_NAME: the 16-byte command name.
            15 => string_from_user(a1).map(|name| {
                let name: String = String::from_utf8_lossy(&name).chars().take(15).collect();
                with_current(|p| p.name = name);
                0
            }),
            16 => {
                let mut name = with_current(|p| p.name.clone()).into_bytes();
                name.resize(16, 0);
                copy_to_user(a1, &name).map(|()| 0)
            }
            _ => Err(EINVAL),
        },
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
        Some(Sysno::Readlink) => readlink(CWD, a0, a1, a2),
        Some(Sysno::Readlinkat) => readlink(a0 as i32 as i64, a1, a2, a3),
        Some(Sysno::Access) => access(CWD, a0, a1),
        Some(Sysno::Faccessat | Sysno::Faccessat2) => access(a0 as i32 as i64, a1, a2),
        Some(Sysno::Chmod) => chmod(string_from_user(a0).and_then(|p| resolve_path(CWD, &p)), a1),
        Some(Sysno::Fchmod) => chmod(inode_of(a0 as i32 as i64 as u64), a1),
        Some(Sysno::Fchmodat) => chmod(
            string_from_user(a1).and_then(|p| resolve_path(a0 as i32 as i64, &p)),
            a2,
        ),
        Some(Sysno::Truncate) => {
            truncate(string_from_user(a0).and_then(|p| resolve_path(CWD, &p)), a1)
        }
        Some(Sysno::Ftruncate) => truncate(inode_of(a0 as i32 as i64 as u64), a1),
        Some(Sysno::Symlink) => symlink(a0, CWD, a1),
        Some(Sysno::Symlinkat) => symlink(a0, a1 as i32 as i64, a2),
        Some(Sysno::Link) => link(CWD, a0, CWD, a1, 0),
        Some(Sysno::Linkat) => link(a0 as i32 as i64, a1, a2 as i32 as i64, a3, a4),
        Some(Sysno::Umask) => {
            Ok(with_current(|p| core::mem::replace(&mut p.umask, a0 as u32 & 0o777)) as u64)
        }
        Some(Sysno::Gettimeofday) => gettimeofday(a0, a1),
        Some(Sysno::Time) => {
            let seconds = crate::time::wallclock().secs;
            if a0 != 0 {
                copy_to_user(a0, &seconds.to_le_bytes()).map(|()| seconds)
            } else {
                Ok(seconds)
            }
        }
        Some(Sysno::Getrusage) => getrusage(a0 as i32, a1),
        Some(Sysno::Times) => times(a0),
        Some(Sysno::Sysinfo) => sysinfo(a0),
        Some(Sysno::SchedGetaffinity) => sched_getaffinity(a0 as i32, a1, a2),
        Some(Sysno::Alarm) => Ok(alarm(a0 & 0xffff_ffff)),
        Some(Sysno::Getpid | Sysno::Gettid | Sysno::SetTidAddress) => Ok(current_pid() as u64),
        Some(Sysno::Getppid) => Ok(with_current(|p| p.parent) as u64),
        Some(Sysno::Getpgrp) => Ok(with_current(|p| p.pgid) as u64),
        Some(Sysno::Getpgid | Sysno::Getsid) => {
            let pid = match a0 as i32 {
                0 => current_pid(),
                pid if pid > 0 => pid as u32,
                _ => return finish(frame, number, Err(ESRCH)),
            };
            let sid = Sysno::from_raw(number) == Some(Sysno::Getsid);
            PROCESSES
                .lock()
                .get(&pid)
                .map(|p| u64::from(if sid { p.sid } else { p.pgid }))
                .ok_or(ESRCH)
        }
        Some(Sysno::Setpgid) => set_process_group(a0 as i32, a1 as i32),
        Some(Sysno::Setsid) => with_current(|p| {
            if p.pgid == p.pid {
                Err(1) // EPERM: already a group leader
            } else {
                p.pgid = p.pid;
                p.sid = p.pid;
                Ok(u64::from(p.pid))
            }
        }),
        Some(Sysno::Getuid | Sysno::Geteuid | Sysno::Getgid | Sysno::Getegid) => Ok(0),
        Some(Sysno::SetRobustList) => Ok(0),
        Some(Sysno::RtSigaction) => sigaction(a0, a1, a2, a3),
        Some(Sysno::RtSigprocmask) => (|| {
            if a3 != 8 {
                return Err(EINVAL);
            }
            let set = if a1 != 0 {
                Some(read_sigset(a1)?)
            } else {
                None
            };
            let old = with_current(|p| p.signals.sigprocmask(a0 as u32, set)).map_err(errno)?;
            if a2 != 0 {
                copy_to_user(a2, &old.0.to_le_bytes())?;
            }
            Ok(0)
        })(),
        Some(Sysno::RtSigpending) => {
            let pending = with_current(|p| p.signals.pending_blocked());
            copy_to_user(a0, &pending.0.to_le_bytes()).map(|()| 0)
        }
        // Waits with a temporary mask until a signal is delivered; the
        // handler's frame saves the old mask, which sigreturn restores.
        Some(Sysno::RtSigsuspend) => (|| {
            if a1 != 8 {
                return Err(EINVAL);
            }
            let mask = read_sigset(a0)?;
            with_current(|p| {
                let old = p.signals.set_blocked(mask);
                p.suspend_mask = Some(old);
            });
            while sleep_interruptibly(Wait::Signal).is_ok() {}
            Err(ERESTARTNOHAND)
        })(),
        Some(Sysno::Pause) => {
            while sleep_interruptibly(Wait::Signal).is_ok() {}
            Err(ERESTARTNOHAND)
        }
        Some(Sysno::RtSigreturn) => {
            sigreturn(frame);
            // Every register comes from the frame: rax is not a result.
            deliver(frame, None);
            return;
        }
        Some(Sysno::Sigaltstack) => (|| {
            // Handlers run on the interrupted stack; an alternate stack
            // cannot be set (yet), only the "disabled" state read.
            if a1 != 0 {
                let stack = linux_abi::signal::Stack {
                    ss_sp: 0,
                    ss_flags: linux_abi::signal::SS_DISABLE as i32,
                    __pad0: 0,
                    ss_size: 0,
                };
                copy_to_user(a1, &stack.to_bytes())?;
            }
            if a0 != 0 {
                Err(ENOSYS)
            } else {
                Ok(0)
            }
        })(),
        Some(Sysno::Ioctl) => match with_current(|p| p.file(a0 as i32 as u64).cloned()) {
            Ok(File::Console) => super::terminal::ioctl(a1 as u32, a2),
            Ok(_) => Err(ENOTTY),
            Err(error) => Err(error),
        },
        // Every process runs in the root directory so far.
        Some(Sysno::Getcwd) => current_directory().and_then(|mut path| {
            path.push(0);
            if path.len() as u64 > a1 {
                return Err(34); // ERANGE
            }
            copy_to_user(a0, &path).map(|()| path.len() as u64)
        }),
        Some(Sysno::Chdir) => change_directory(
            string_from_user(a0)
                .and_then(|path| resolve_path(linux_abi::fcntl::AT_FDCWD as i64, &path)),
        ),
        Some(Sysno::Fchdir) => change_directory(match with_current(|p| p.file(a0).cloned()) {
            Ok(File::Node(node)) => Ok(node.lock().0),
            Ok(_) => Err(ENOTDIR),
            Err(error) => Err(error),
        }),
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
        Some(Sysno::Brk) => Ok(brk(a0)),
        Some(Sysno::Mmap) => mmap(a0, a1, a2, a3, a4 as i32, frame.r9),
        Some(Sysno::Munmap) => munmap(a0, a1),
        Some(Sysno::Mprotect) => mprotect(a0, a1, a2),
        Some(Sysno::Madvise) => Ok(0),
        // The file system lives in memory: nothing to write back.
        Some(Sysno::Sync | Sysno::Fsync | Sysno::Fdatasync | Sysno::Syncfs) => Ok(0),
        Some(Sysno::ArchPrctl) => match a0 {
            // ARCH_SET_FS
            0x1002 => {
                with_current(|p| p.fs_base = a1);
                load_fs_base(a1).map(|()| 0)
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
                2 | 3 => current_cpu_ns(),
                _ => return Err(EINVAL),
            };
            let value = linux_abi::time::Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as i64,
            };
            copy_to_user(a1, &value.to_bytes()).map(|()| 0)
        })(),
        Some(Sysno::Poll) => {
            let timeout = a2 as i32;
            let deadline =
                (timeout >= 0).then(|| crate::time::system_time_ns() + timeout as u64 * 1_000_000);
            poll(a0, a1, deadline)
        }
        Some(Sysno::Ppoll) => (|| {
            let deadline = if a2 != 0 {
                let bytes = copy_from_user(a2, 16)?;
                let secs = i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
                let nanos = i64::from_le_bytes(bytes[8..].try_into().expect("8 bytes"));
                if secs < 0 || !(0..1_000_000_000).contains(&nanos) {
                    return Err(EINVAL);
                }
                let wait = (secs as u64).min(1 << 32) * 1_000_000_000 + nanos as u64;
                Some(crate::time::system_time_ns() + wait)
            } else {
                None
            };
            if a3 != 0 {
                // The temporary mask, as rt_sigsuspend does.
                let mask = read_sigset(a3)?;
                with_current(|p| {
                    let old = p.signals.set_blocked(mask);
                    p.suspend_mask = Some(old);
                });
            }
            poll(a0, a1, deadline)
        })(),
        Some(Sysno::Nanosleep) => nanosleep(1, 0, a0, a1),
        Some(Sysno::ClockNanosleep) => nanosleep(a0, a1, a2, a3),
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
            YIELDING.store(true, Ordering::SeqCst);
            yield_to_scheduler(State::Runnable);
            Ok(0)
        }
        // reboot(magic1, magic2, cmd): poweroff, restart and halt end the
        // whole system, as `busybox poweroff` expects.
        Some(Sysno::Reboot) => {
            const MAGIC1: u64 = 0xfee1_dead;
            const MAGIC2: [u64; 4] = [672_274_793, 85_072_278, 369_367_448, 537_993_216];
            if a0 as u32 as u64 != MAGIC1 || !MAGIC2.contains(&(a1 as u32 as u64)) {
                Err(EINVAL)
            } else {
                use kernel_core::cmdline::ShutdownAction;
                match a2 as u32 {
                    0x4321_fedc | 0xcdef_0123 => {
                        crate::kprintln!(
                            "reboot: power off requested by process {}",
                            current_pid()
                        );
                        crate::shutdown::finish(ShutdownAction::Poweroff)
                    }
                    0x0123_4567 | 0xa1b2_c3d4 => {
                        crate::kprintln!("reboot: restart requested by process {}", current_pid());
                        crate::shutdown::finish(ShutdownAction::Reboot)
                    }
                    0x89ab_cdef | 0 => Ok(0), // Ctrl-Alt-Del on/off
                    _ => Err(EINVAL),
                }
            }
        }
        Some(Sysno::Exit | Sysno::ExitGroup) => exit_current(UserExit::Exited(a0 as i32)),
        _ if frame.rax == SYS_TEST_CLOBBER_SSE && with_current(|p| p.test_hooks) => {
            crate::arch::x86_64::test_programs::clobber_sse();
            Ok(0)
        }
        _ => {
            let mut reported = UNKNOWN_REPORTED.lock();
            if !reported.contains(&number) {
                reported.push(number);
                log::warn!("unknown system call {number}; returning ENOSYS");
            }
            Err(ENOSYS)
        }
    };
    finish(frame, number, result);
}

/// Stores a system call's result and delivers pending signals on the way
/// out (restarting the call or turning it into EINTR as needed).
fn finish(frame: &mut TrapFrame, number: u64, result: Result<u64, i64>) {
    log::trace!("syscall pid={} nr={number} -> {result:?}", current_pid());
    frame.rax = match result {
        Ok(value) => value,
        Err(errno) => (-errno) as u64,
    };
    let interrupted = match result {
        Err(errno) if errno >= ERESTARTSYS => Some(Interrupted { number, errno }),
        _ => None,
    };
    deliver(frame, interrupted);
}

/// A `sigset_t` (8 bytes) from user memory.
fn read_sigset(address: u64) -> Result<linux_abi::signal::SigSet, i64> {
    let bytes = copy_from_user(address, 8)?;
    Ok(linux_abi::signal::SigSet(u64::from_le_bytes(
        bytes.try_into().map_err(|_| EFAULT)?,
    )))
}

/// rt_sigaction(signal, new, old, sigsetsize).
fn sigaction(number: u64, new: u64, old: u64, size: u64) -> Result<u64, i64> {
    use linux_abi::signal::{Sigaction, Signal};
    const BYTES: u64 = core::mem::size_of::<Sigaction>() as u64;
    if size != 8 {
        return Err(EINVAL);
    }
    let signal = Signal::new(number as u32).ok_or(EINVAL)?;
    let new = if new != 0 {
        let bytes = copy_from_user(new, BYTES)?;
        Some(Sigaction::from_bytes(
            bytes.as_slice().try_into().map_err(|_| EFAULT)?,
        ))
    } else {
        None
    };
    let previous = with_current(|p| p.signals.set_action(signal, new)).map_err(errno)?;
    if old != 0 {
        copy_to_user(old, &previous.to_bytes())?;
    }
    Ok(0)
}

/// setpgid(pid, pgid): moves the caller or one of its children into a
/// group of the same session.
fn set_process_group(pid: i32, pgid: i32) -> Result<u64, i64> {
    if pgid < 0 {
        return Err(EINVAL);
    }
    let me = current_pid();
    let target = if pid == 0 { me } else { pid as u32 };
    let mut processes = PROCESSES.lock();
    let my_sid = processes.get(&me).map(|p| p.sid).ok_or(ESRCH)?;
    let group = if pgid == 0 { target } else { pgid as u32 };
    if group != target
        && !processes
            .values()
            .any(|p| p.pgid == group && p.sid == my_sid)
    {
        return Err(1); // EPERM: no such group in our session
    }
    let process = processes.get_mut(&target).ok_or(ESRCH)?;
    if target != me && process.parent != me {
        return Err(ESRCH);
    }
    if process.sid != my_sid || process.sid == process.pid {
        return Err(1); // EPERM: other session, or a session leader
    }
    process.pgid = group;
    Ok(0)
}

/// nanosleep / clock_nanosleep: the process sleeps (others run) until the
/// deadline or a signal; on a signal the time left goes to `remaining`.
fn nanosleep(clock: u64, flags: u64, request: u64, remaining: u64) -> Result<u64, i64> {
    const TIMER_ABSTIME: u64 = 1;
    let bytes = copy_from_user(request, 16)?;
    let secs = i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let nanos = i64::from_le_bytes(bytes[8..].try_into().expect("8 bytes"));
    if secs < 0 || !(0..1_000_000_000).contains(&nanos) {
        return Err(EINVAL);
    }
    let requested = (secs as u64)
        .min(1 << 32)
        .saturating_mul(1_000_000_000)
        .saturating_add(nanos as u64);
    let now = crate::time::system_time_ns();
    let deadline = match (clock, flags & TIMER_ABSTIME != 0) {
        (0 | 1 | 7, false) => now.saturating_add(requested),
        (1 | 7, true) => requested,
        (0, true) => {
            let wall = crate::time::wallclock();
            let wall_ns = wall.secs * 1_000_000_000 + wall.nanos as u64;
            now.saturating_add(requested.saturating_sub(wall_ns))
        }
        _ => return Err(EINVAL),
    };
    let timer = crate::time::add_timer(deadline, crate::time::TimerAction::Wake);
    let result = loop {
        if crate::time::system_time_ns() >= deadline {
            break Ok(0);
        }
        if let Err(error) = sleep_interruptibly(Wait::Until(deadline)) {
            break Err(error);
        }
    };
    if let Some(timer) = timer {
        crate::time::cancel_timer(timer);
    }
    if result.is_err() && remaining != 0 && flags & TIMER_ABSTIME == 0 {
        let left = deadline.saturating_sub(crate::time::system_time_ns());
        let value = linux_abi::time::Timespec {
            tv_sec: (left / 1_000_000_000) as i64,
            tv_nsec: (left % 1_000_000_000) as i64,
        };
        copy_to_user(remaining, &value.to_bytes())?;
    }
    // No handler: start again (with the full time: no restart block).
    result.map_err(|_| ERESTARTNOHAND)
}

/// poll / ppoll: waits until one of the descriptors is ready, the
/// deadline (system time) passes, or a signal arrives.
fn poll(address: u64, count: u64, deadline: Option<u64>) -> Result<u64, i64> {
    use linux_abi::poll::{Pollfd, POLLNVAL};
    const ENTRY: u64 = core::mem::size_of::<Pollfd>() as u64;
    if count > 1024 {
        return Err(EINVAL);
    }
    let bytes = copy_from_user(address, count * ENTRY)?;
    let mut entries: Vec<Pollfd> = bytes
        .chunks_exact(ENTRY as usize)
        .map(|chunk| Pollfd::from_bytes(chunk.try_into().expect("8 bytes")))
        .collect();
    let timer = deadline.and_then(|at| crate::time::add_timer(at, crate::time::TimerAction::Wake));
    let result = loop {
        let mut ready = 0;
        for entry in entries.iter_mut() {
            entry.revents = 0;
            if entry.fd < 0 {
                continue;
            }
            let state = match with_current(|p| p.file(entry.fd as u64).cloned()) {
                Ok(file) => poll_file(&file),
                Err(_) => POLLNVAL,
            };
            entry.revents = Pollfd::filter(entry.events as u16, state) as i16;
            if entry.revents != 0 {
                ready += 1;
            }
        }
        if ready > 0 || deadline.is_some_and(|at| crate::time::system_time_ns() >= at) {
            break Ok(ready);
        }
        if sleep_interruptibly(Wait::Poll(deadline)).is_err() {
            break Err(ERESTARTNOHAND);
        }
    };
    if let Some(timer) = timer {
        crate::time::cancel_timer(timer);
    }
    let ready = result?;
    let out: Vec<u8> = entries.iter().flat_map(|entry| entry.to_bytes()).collect();
    copy_to_user(address, &out).map(|()| ready)
}
