//! The system call table: Linux x86_64 numbers to handlers.

use super::*;

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
