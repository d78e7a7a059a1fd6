//! System-call numbers of the x86_64 Linux ABI (`asm/unistd_64.h`).
//!
//! The `syscall` instruction passes the number in `rax` and arguments in
//! `rdi, rsi, rdx, r10, r8, r9` (System V x86_64 ABI, appendix A.2.1); the
//! result comes back in `rax`, `-4095..=-1` meaning `-errno`. The kernel's
//! dispatcher decodes `rax` with [`Sysno::from_raw`]; numbers not listed
//! here are answered with `ENOSYS`. Every number is checked against the
//! host's `asm/unistd_64.h` by the layout test.

macro_rules! sysnos {
    ($( $variant:ident = $number:literal, $name:ident; )*) => {
        /// A Linux x86_64 system call the kernel knows by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u32)]
        pub enum Sysno {
            $( #[doc = concat!("`", stringify!($name), "` (", stringify!($number), ")")]
               $variant = $number, )*
        }

        impl Sysno {
            /// Every known call, in ascending number order.
            pub const ALL: &'static [Sysno] = &[$(Sysno::$variant),*];

            /// Decodes `rax` at syscall entry; `None` means `ENOSYS`.
            pub const fn from_raw(rax: u64) -> Option<Sysno> {
                match rax {
                    $( $number => Some(Sysno::$variant), )*
                    _ => None,
                }
            }

            /// The C name, as in `__NR_<name>` (`"newfstatat"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Sysno::$variant => stringify!($name), )*
                }
            }

            /// The number that goes in `rax`.
            pub const fn number(self) -> u64 {
                self as u64
            }
        }
    };
}

sysnos! {
    Read = 0, read;
    Write = 1, write;
    Open = 2, open;
    Close = 3, close;
    Stat = 4, stat;
    Fstat = 5, fstat;
    Lstat = 6, lstat;
    Poll = 7, poll;
    Lseek = 8, lseek;
    Mmap = 9, mmap;
    Mprotect = 10, mprotect;
    Munmap = 11, munmap;
    Brk = 12, brk;
    RtSigaction = 13, rt_sigaction;
    RtSigprocmask = 14, rt_sigprocmask;
    RtSigreturn = 15, rt_sigreturn;
    Ioctl = 16, ioctl;
    Pread64 = 17, pread64;
    Pwrite64 = 18, pwrite64;
    Readv = 19, readv;
    Writev = 20, writev;
    Access = 21, access;
    Pipe = 22, pipe;
    Select = 23, select;
    SchedYield = 24, sched_yield;
    Mremap = 25, mremap;
    Msync = 26, msync;
    Mincore = 27, mincore;
    Madvise = 28, madvise;
    Dup = 32, dup;
    Dup2 = 33, dup2;
    Pause = 34, pause;
    Nanosleep = 35, nanosleep;
    Getitimer = 36, getitimer;
    Alarm = 37, alarm;
    Setitimer = 38, setitimer;
    Getpid = 39, getpid;
    Sendfile = 40, sendfile;
    Socket = 41, socket;
    Connect = 42, connect;
    Accept = 43, accept;
    Sendto = 44, sendto;
    Recvfrom = 45, recvfrom;
    Sendmsg = 46, sendmsg;
    Recvmsg = 47, recvmsg;
    Shutdown = 48, shutdown;
    Bind = 49, bind;
    Listen = 50, listen;
    Getsockname = 51, getsockname;
    Getpeername = 52, getpeername;
    Socketpair = 53, socketpair;
    Setsockopt = 54, setsockopt;
    Getsockopt = 55, getsockopt;
    Clone = 56, clone;
    Fork = 57, fork;
    Vfork = 58, vfork;
    Execve = 59, execve;
    Exit = 60, exit;
    Wait4 = 61, wait4;
    Kill = 62, kill;
    Uname = 63, uname;
    Fcntl = 72, fcntl;
    Flock = 73, flock;
    Fsync = 74, fsync;
    Fdatasync = 75, fdatasync;
    Truncate = 76, truncate;
    Ftruncate = 77, ftruncate;
    Getdents = 78, getdents;
    Getcwd = 79, getcwd;
    Chdir = 80, chdir;
    Fchdir = 81, fchdir;
    Rename = 82, rename;
    Mkdir = 83, mkdir;
    Rmdir = 84, rmdir;
    Creat = 85, creat;
    Link = 86, link;
    Unlink = 87, unlink;
    Symlink = 88, symlink;
    Readlink = 89, readlink;
    Chmod = 90, chmod;
    Fchmod = 91, fchmod;
    Chown = 92, chown;
    Fchown = 93, fchown;
    Lchown = 94, lchown;
    Umask = 95, umask;
    Gettimeofday = 96, gettimeofday;
    Getrlimit = 97, getrlimit;
    Getrusage = 98, getrusage;
    Sysinfo = 99, sysinfo;
    Times = 100, times;
    Ptrace = 101, ptrace;
    Getuid = 102, getuid;
    Syslog = 103, syslog;
    Getgid = 104, getgid;
    Setuid = 105, setuid;
    Setgid = 106, setgid;
    Geteuid = 107, geteuid;
    Getegid = 108, getegid;
    Setpgid = 109, setpgid;
    Getppid = 110, getppid;
    Getpgrp = 111, getpgrp;
    Setsid = 112, setsid;
    Setreuid = 113, setreuid;
    Setregid = 114, setregid;
    Getgroups = 115, getgroups;
    Setgroups = 116, setgroups;
    Setresuid = 117, setresuid;
    Getresuid = 118, getresuid;
    Setresgid = 119, setresgid;
    Getresgid = 120, getresgid;
    Getpgid = 121, getpgid;
    Setfsuid = 122, setfsuid;
    Setfsgid = 123, setfsgid;
    Getsid = 124, getsid;
    Capget = 125, capget;
    Capset = 126, capset;
    RtSigpending = 127, rt_sigpending;
    RtSigtimedwait = 128, rt_sigtimedwait;
    RtSigqueueinfo = 129, rt_sigqueueinfo;
    RtSigsuspend = 130, rt_sigsuspend;
    Sigaltstack = 131, sigaltstack;
    Utime = 132, utime;
    Mknod = 133, mknod;
    Personality = 135, personality;
    Statfs = 137, statfs;
    Fstatfs = 138, fstatfs;
    Getpriority = 140, getpriority;
    Setpriority = 141, setpriority;
    SchedSetparam = 142, sched_setparam;
    SchedGetparam = 143, sched_getparam;
    SchedSetscheduler = 144, sched_setscheduler;
    SchedGetscheduler = 145, sched_getscheduler;
    SchedGetPriorityMax = 146, sched_get_priority_max;
    SchedGetPriorityMin = 147, sched_get_priority_min;
    Mlock = 149, mlock;
    Munlock = 150, munlock;
    Prctl = 157, prctl;
    ArchPrctl = 158, arch_prctl;
    Setrlimit = 160, setrlimit;
    Chroot = 161, chroot;
    Sync = 162, sync;
    Settimeofday = 164, settimeofday;
    Mount = 165, mount;
    Umount2 = 166, umount2;
    Reboot = 169, reboot;
    Sethostname = 170, sethostname;
    Setdomainname = 171, setdomainname;
    Gettid = 186, gettid;
    Tkill = 200, tkill;
    Time = 201, time;
    Futex = 202, futex;
    SchedSetaffinity = 203, sched_setaffinity;
    SchedGetaffinity = 204, sched_getaffinity;
    EpollCreate = 213, epoll_create;
    Getdents64 = 217, getdents64;
    SetTidAddress = 218, set_tid_address;
    RestartSyscall = 219, restart_syscall;
    Fadvise64 = 221, fadvise64;
    ClockSettime = 227, clock_settime;
    ClockGettime = 228, clock_gettime;
    ClockGetres = 229, clock_getres;
    ClockNanosleep = 230, clock_nanosleep;
    ExitGroup = 231, exit_group;
    EpollWait = 232, epoll_wait;
    EpollCtl = 233, epoll_ctl;
    Tgkill = 234, tgkill;
    Utimes = 235, utimes;
    Waitid = 247, waitid;
    Openat = 257, openat;
    Mkdirat = 258, mkdirat;
    Mknodat = 259, mknodat;
    Fchownat = 260, fchownat;
    Futimesat = 261, futimesat;
    Newfstatat = 262, newfstatat;
    Unlinkat = 263, unlinkat;
    Renameat = 264, renameat;
    Linkat = 265, linkat;
    Symlinkat = 266, symlinkat;
    Readlinkat = 267, readlinkat;
    Fchmodat = 268, fchmodat;
    Faccessat = 269, faccessat;
    Pselect6 = 270, pselect6;
    Ppoll = 271, ppoll;
    Unshare = 272, unshare;
    SetRobustList = 273, set_robust_list;
    GetRobustList = 274, get_robust_list;
    Splice = 275, splice;
    Utimensat = 280, utimensat;
    EpollPwait = 281, epoll_pwait;
    Eventfd = 284, eventfd;
    Fallocate = 285, fallocate;
    Accept4 = 288, accept4;
    Eventfd2 = 290, eventfd2;
    EpollCreate1 = 291, epoll_create1;
    Dup3 = 292, dup3;
    Pipe2 = 293, pipe2;
    Preadv = 295, preadv;
    Pwritev = 296, pwritev;
    Prlimit64 = 302, prlimit64;
    Syncfs = 306, syncfs;
    Getcpu = 309, getcpu;
    Renameat2 = 316, renameat2;
    Getrandom = 318, getrandom;
    MemfdCreate = 319, memfd_create;
    Execveat = 322, execveat;
    Membarrier = 324, membarrier;
    CopyFileRange = 326, copy_file_range;
    Preadv2 = 327, preadv2;
    Pwritev2 = 328, pwritev2;
    Statx = 332, statx;
    Rseq = 334, rseq;
    PidfdOpen = 434, pidfd_open;
    Clone3 = 435, clone3;
    CloseRange = 436, close_range;
    Faccessat2 = 439, faccessat2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_the_brief() {
        let expected: &[(u64, &str)] = &[
            (0, "read"),
            (1, "write"),
            (2, "open"),
            (3, "close"),
            (4, "stat"),
            (5, "fstat"),
            (6, "lstat"),
            (7, "poll"),
            (8, "lseek"),
            (9, "mmap"),
            (10, "mprotect"),
            (11, "munmap"),
            (12, "brk"),
            (13, "rt_sigaction"),
            (14, "rt_sigprocmask"),
            (15, "rt_sigreturn"),
            (16, "ioctl"),
            (17, "pread64"),
            (19, "readv"),
            (20, "writev"),
            (21, "access"),
            (22, "pipe"),
            (24, "sched_yield"),
            (32, "dup"),
            (33, "dup2"),
            (35, "nanosleep"),
            (39, "getpid"),
            (40, "sendfile"),
            (56, "clone"),
            (57, "fork"),
            (58, "vfork"),
            (59, "execve"),
            (60, "exit"),
            (61, "wait4"),
            (62, "kill"),
            (63, "uname"),
            (72, "fcntl"),
            (79, "getcwd"),
            (80, "chdir"),
            (89, "readlink"),
            (96, "gettimeofday"),
            (102, "getuid"),
            (104, "getgid"),
            (107, "geteuid"),
            (108, "getegid"),
            (109, "setpgid"),
            (110, "getppid"),
            (111, "getpgrp"),
            (112, "setsid"),
            (158, "arch_prctl"),
            (186, "gettid"),
            (201, "time"),
            (204, "sched_getaffinity"),
            (217, "getdents64"),
            (218, "set_tid_address"),
            (228, "clock_gettime"),
            (230, "clock_nanosleep"),
            (231, "exit_group"),
            (234, "tgkill"),
            (257, "openat"),
            (262, "newfstatat"),
            (267, "readlinkat"),
            (273, "set_robust_list"),
            (292, "dup3"),
            (293, "pipe2"),
            (302, "prlimit64"),
            (318, "getrandom"),
            (334, "rseq"),
        ];
        for &(number, name) in expected {
            let sysno = Sysno::from_raw(number).unwrap_or_else(|| panic!("{number} missing"));
            assert_eq!(sysno.name(), name);
            assert_eq!(sysno.number(), number);
        }
    }

    #[test]
    fn unknown_numbers_decode_to_none() {
        assert_eq!(Sysno::from_raw(29), None, "shmget is not implemented");
        assert_eq!(Sysno::from_raw(u64::MAX), None);
        assert_eq!(Sysno::from_raw(1 << 32), None, "no truncation to 32 bits");
    }

    #[test]
    fn table_is_sorted_and_round_trips() {
        for pair in Sysno::ALL.windows(2) {
            assert!(pair[0].number() < pair[1].number());
        }
        for &sysno in Sysno::ALL {
            assert_eq!(Sysno::from_raw(sysno.number()), Some(sysno));
        }
    }
}
