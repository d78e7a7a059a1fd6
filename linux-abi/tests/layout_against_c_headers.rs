//! Checks `linux-abi` against the host's Linux UAPI and glibc headers.
//!
//! Two C programs are generated: one includes only kernel UAPI headers
//! (`asm/*.h`, `linux/*.h`: the kernel's own `struct stat`, `struct
//! sigaction`, `struct termios`, syscall numbers, errno and flag values),
//! the other only glibc headers (for what UAPI hides from glibc users:
//! `S_IF*`, `DT_*`, `struct dirent64`, `F_OK`, and the `W*` status macros).
//! Each prints one line per check; the Rust side computes the same line
//! with `size_of`, `offset_of!` or the constant, and every disagreement is
//! reported at once. Syscall numbers, errno values and signal numbers are
//! checked for every entry of the crate's own tables, so a new entry is
//! checked without editing this file.
//!
//! The headers are Debian's `linux-libc-dev` and `libc6-dev`; without a C
//! compiler or them the test fails rather than passing vacuously.

use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use linux_abi::dirent::Dirent64;
use linux_abi::signal::{Sigaction, Sigcontext, Siginfo, Signal, Stack, Ucontext};
use linux_abi::stat::Stat;
use linux_abi::termios::{Termios, Termios2, Winsize};
use linux_abi::time::{Timespec, Timeval, Timezone, Tms};
use linux_abi::wait::WaitStatus;
use linux_abi::{
    arch_prctl, auxv, clone, dirent, fcntl, ioctl, limits, mman, poll, resource, signal, stat,
    termios, time, uio, utsname, wait, Errno, Sysno,
};

/// One line the C program prints, and what Rust says it should be.
struct Check {
    what: String,
    rust: String,
    c_statement: String,
}

fn value_check(what: impl Into<String>, rust: i128, c_expression: &str) -> Check {
    Check {
        what: what.into(),
        rust: (rust as u64).to_string(),
        c_statement: format!("printf(\"%llu\\n\", (unsigned long long)({c_expression}));"),
    }
}

fn field_size<T, F>(_project: impl Fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// `Rust => "C type" { rust_field => "c_field", ... }`: size, alignment,
/// and each field's offset and size.
macro_rules! layout_checks {
    ($( $rust:ty => $c_type:literal { $( $field:ident $(=> $c_field:literal)? ),* $(,)? } )*) => {{
        let mut checks = Vec::new();
        $(
            let rust = stringify!($rust);
            checks.push(value_check(
                format!("size_of::<{rust}>() vs sizeof({})", $c_type),
                size_of::<$rust>() as i128,
                concat!("sizeof(", $c_type, ")"),
            ));
            checks.push(value_check(
                format!("align_of::<{rust}>() vs _Alignof({})", $c_type),
                align_of::<$rust>() as i128,
                concat!("_Alignof(", $c_type, ")"),
            ));
            $(
                let c_field = layout_checks!(@c_field $field $(, $c_field)?);
                checks.push(value_check(
                    format!("offset_of!({rust}, {}) vs offsetof({}, {c_field})", stringify!($field), $c_type),
                    offset_of!($rust, $field) as i128,
                    &format!("offsetof({}, {c_field})", $c_type),
                ));
                checks.push(value_check(
                    format!("size of {rust}.{} vs {}.{c_field}", stringify!($field), $c_type),
                    field_size(|value: &$rust| &value.$field) as i128,
                    &format!("sizeof((({} *)0)->{c_field})", $c_type),
                ));
            )*
        )*
        checks
    }};
    (@c_field $field:ident) => { stringify!($field) };
    (@c_field $field:ident, $c_field:literal) => { $c_field };
}

/// `rust_expression => "C expression"`.
macro_rules! constant_checks {
    ($( $rust:expr => $c:literal ),* $(,)?) => {
        vec![$( value_check(format!("{} vs {}", stringify!($rust), $c), ($rust) as i128, $c) ),*]
    };
}

const KERNEL_HEADERS: &[&str] = &[
    "asm/stat.h",
    "asm/unistd_64.h",
    "asm/errno.h",
    "asm/fcntl.h",
    "linux/fcntl.h",
    "linux/fs.h",
    "asm/mman.h",
    "linux/mman.h",
    "linux/time.h",
    "linux/times.h",
    "linux/utsname.h",
    "linux/uio.h",
    "linux/resource.h",
    "asm/signal.h",
    "linux/signal.h",
    "asm/siginfo.h",
    "asm/sigcontext.h",
    "asm/ucontext.h",
    "linux/wait.h",
    "asm/termbits.h",
    "asm/ioctls.h",
    "asm/termios.h",
    "asm/poll.h",
    "linux/auxvec.h",
    "asm/prctl.h",
    "linux/sched.h",
    "linux/limits.h",
];

fn kernel_checks() -> Vec<Check> {
    let mut checks = layout_checks! {
        Stat => "struct stat" {
            st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, __pad0, st_rdev, st_size,
            st_blksize, st_blocks, st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime,
            st_ctime_nsec, __unused,
        }
        Timespec => "struct timespec" { tv_sec, tv_nsec }
        Timeval => "struct timeval" { tv_sec, tv_usec }
        Timezone => "struct timezone" { tz_minuteswest, tz_dsttime }
        Tms => "struct tms" { tms_utime, tms_stime, tms_cutime, tms_cstime }
        utsname::Utsname => "struct new_utsname" {
            sysname, nodename, release, version, machine, domainname,
        }
        uio::Iovec => "struct iovec" { iov_base, iov_len }
        resource::Rlimit => "struct rlimit" { rlim_cur, rlim_max }
        resource::Rusage => "struct rusage" {
            ru_utime, ru_stime, ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt,
            ru_nswap, ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw,
            ru_nivcsw,
        }
        Sigaction => "struct sigaction" { sa_handler, sa_flags, sa_restorer, sa_mask }
        Stack => "stack_t" { ss_sp, ss_flags, ss_size }
        Siginfo => "siginfo_t" { si_signo, si_errno, si_code }
        Sigcontext => "struct sigcontext" {
            r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
            eflags, cs, gs, fs, ss, err, trapno, oldmask, cr2, fpstate, reserved1,
        }
        Ucontext => "struct ucontext" { uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask }
        Termios => "struct termios" { c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc }
        Termios2 => "struct termios2" {
            c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc, c_ispeed, c_ospeed,
        }
        Winsize => "struct winsize" { ws_row, ws_col, ws_xpixel, ws_ypixel }
        poll::Pollfd => "struct pollfd" { fd, events, revents }
    };

    // siginfo members the constructors write, by their C names.
    checks.extend(constant_checks! {
        offset_of!(Siginfo, sifields) => "offsetof(siginfo_t, _sifields)",
        16 => "offsetof(siginfo_t, si_pid)",
        20 => "offsetof(siginfo_t, si_uid)",
        24 => "offsetof(siginfo_t, si_status)",
        32 => "offsetof(siginfo_t, si_utime)",
        40 => "offsetof(siginfo_t, si_stime)",
        16 => "offsetof(siginfo_t, si_addr)",
    });

    for &sysno in Sysno::ALL {
        checks.push(value_check(
            format!("Sysno::{sysno:?} = {}", sysno.number()),
            sysno.number() as i128,
            &format!("__NR_{}", sysno.name()),
        ));
    }
    for &errno in Errno::ALL
        .iter()
        .filter(|errno| !errno.is_kernel_internal())
    {
        let name = errno.name().expect("table entries have names");
        checks.push(value_check(
            format!("Errno::{name}"),
            errno.code() as i128,
            name,
        ));
    }
    for number in 1..=31 {
        let signal = Signal::new(number).expect("1..=31 are signals");
        let name = signal.name().expect("standard signals have names");
        checks.push(value_check(format!("Signal::{name}"), number as i128, name));
    }

    checks.extend(constant_checks! {
        // fcntl
        fcntl::O_ACCMODE => "O_ACCMODE", fcntl::O_RDONLY => "O_RDONLY",
        fcntl::O_WRONLY => "O_WRONLY", fcntl::O_RDWR => "O_RDWR", fcntl::O_CREAT => "O_CREAT",
        fcntl::O_EXCL => "O_EXCL", fcntl::O_NOCTTY => "O_NOCTTY", fcntl::O_TRUNC => "O_TRUNC",
        fcntl::O_APPEND => "O_APPEND", fcntl::O_NONBLOCK => "O_NONBLOCK",
        fcntl::O_DSYNC => "O_DSYNC", fcntl::FASYNC => "FASYNC", fcntl::O_DIRECT => "O_DIRECT",
        fcntl::O_LARGEFILE => "O_LARGEFILE", fcntl::O_DIRECTORY => "O_DIRECTORY",
        fcntl::O_NOFOLLOW => "O_NOFOLLOW", fcntl::O_NOATIME => "O_NOATIME",
        fcntl::O_CLOEXEC => "O_CLOEXEC", fcntl::O_SYNC => "O_SYNC", fcntl::O_PATH => "O_PATH",
        fcntl::O_TMPFILE => "O_TMPFILE", fcntl::O_NDELAY => "O_NDELAY",
        fcntl::F_DUPFD => "F_DUPFD", fcntl::F_GETFD => "F_GETFD", fcntl::F_SETFD => "F_SETFD",
        fcntl::F_GETFL => "F_GETFL", fcntl::F_SETFL => "F_SETFL", fcntl::F_GETLK => "F_GETLK",
        fcntl::F_SETLK => "F_SETLK", fcntl::F_SETLKW => "F_SETLKW",
        fcntl::F_SETOWN => "F_SETOWN", fcntl::F_GETOWN => "F_GETOWN",
        fcntl::F_DUPFD_CLOEXEC => "F_DUPFD_CLOEXEC", fcntl::F_GETPIPE_SZ => "F_GETPIPE_SZ",
        fcntl::FD_CLOEXEC => "FD_CLOEXEC",
        fcntl::AT_FDCWD => "AT_FDCWD", fcntl::AT_SYMLINK_NOFOLLOW => "AT_SYMLINK_NOFOLLOW",
        fcntl::AT_REMOVEDIR => "AT_REMOVEDIR", fcntl::AT_EACCESS => "AT_EACCESS",
        fcntl::AT_SYMLINK_FOLLOW => "AT_SYMLINK_FOLLOW",
        fcntl::AT_NO_AUTOMOUNT => "AT_NO_AUTOMOUNT", fcntl::AT_EMPTY_PATH => "AT_EMPTY_PATH",
        fcntl::SEEK_SET => "SEEK_SET", fcntl::SEEK_CUR => "SEEK_CUR",
        fcntl::SEEK_END => "SEEK_END", fcntl::SEEK_DATA => "SEEK_DATA",
        fcntl::SEEK_HOLE => "SEEK_HOLE",
        fcntl::RENAME_NOREPLACE => "RENAME_NOREPLACE", fcntl::RENAME_EXCHANGE => "RENAME_EXCHANGE",
        // mman
        mman::PROT_NONE => "PROT_NONE", mman::PROT_READ => "PROT_READ",
        mman::PROT_WRITE => "PROT_WRITE", mman::PROT_EXEC => "PROT_EXEC",
        mman::PROT_GROWSDOWN => "PROT_GROWSDOWN", mman::PROT_GROWSUP => "PROT_GROWSUP",
        mman::MAP_SHARED => "MAP_SHARED", mman::MAP_PRIVATE => "MAP_PRIVATE",
        mman::MAP_SHARED_VALIDATE => "MAP_SHARED_VALIDATE", mman::MAP_TYPE => "MAP_TYPE",
        mman::MAP_FIXED => "MAP_FIXED", mman::MAP_ANONYMOUS => "MAP_ANONYMOUS",
        mman::MAP_32BIT => "MAP_32BIT", mman::MAP_GROWSDOWN => "MAP_GROWSDOWN",
        mman::MAP_DENYWRITE => "MAP_DENYWRITE", mman::MAP_EXECUTABLE => "MAP_EXECUTABLE",
        mman::MAP_LOCKED => "MAP_LOCKED", mman::MAP_NORESERVE => "MAP_NORESERVE",
        mman::MAP_POPULATE => "MAP_POPULATE", mman::MAP_NONBLOCK => "MAP_NONBLOCK",
        mman::MAP_STACK => "MAP_STACK", mman::MAP_HUGETLB => "MAP_HUGETLB",
        mman::MAP_SYNC => "MAP_SYNC", mman::MAP_FIXED_NOREPLACE => "MAP_FIXED_NOREPLACE",
        mman::MREMAP_MAYMOVE => "MREMAP_MAYMOVE", mman::MREMAP_FIXED => "MREMAP_FIXED",
        mman::MADV_NORMAL => "MADV_NORMAL", mman::MADV_RANDOM => "MADV_RANDOM",
        mman::MADV_SEQUENTIAL => "MADV_SEQUENTIAL", mman::MADV_WILLNEED => "MADV_WILLNEED",
        mman::MADV_DONTNEED => "MADV_DONTNEED", mman::MADV_FREE => "MADV_FREE",
        // time
        time::CLOCK_REALTIME => "CLOCK_REALTIME", time::CLOCK_MONOTONIC => "CLOCK_MONOTONIC",
        time::CLOCK_PROCESS_CPUTIME_ID => "CLOCK_PROCESS_CPUTIME_ID",
        time::CLOCK_THREAD_CPUTIME_ID => "CLOCK_THREAD_CPUTIME_ID",
        time::CLOCK_MONOTONIC_RAW => "CLOCK_MONOTONIC_RAW",
        time::CLOCK_REALTIME_COARSE => "CLOCK_REALTIME_COARSE",
        time::CLOCK_MONOTONIC_COARSE => "CLOCK_MONOTONIC_COARSE",
        time::CLOCK_BOOTTIME => "CLOCK_BOOTTIME",
        time::CLOCK_REALTIME_ALARM => "CLOCK_REALTIME_ALARM",
        time::CLOCK_BOOTTIME_ALARM => "CLOCK_BOOTTIME_ALARM", time::CLOCK_TAI => "CLOCK_TAI",
        time::TIMER_ABSTIME => "TIMER_ABSTIME",
        // signal
        signal::NSIG => "sizeof(sigset_t) * 8", signal::SIG_BLOCK => "SIG_BLOCK",
        signal::SIG_UNBLOCK => "SIG_UNBLOCK", signal::SIG_SETMASK => "SIG_SETMASK",
        signal::SIG_DFL => "SIG_DFL", signal::SIG_IGN => "SIG_IGN", signal::SIG_ERR => "SIG_ERR",
        signal::SA_NOCLDSTOP => "SA_NOCLDSTOP", signal::SA_NOCLDWAIT => "SA_NOCLDWAIT",
        signal::SA_SIGINFO => "SA_SIGINFO", signal::SA_UNSUPPORTED => "SA_UNSUPPORTED",
        signal::SA_EXPOSE_TAGBITS => "SA_EXPOSE_TAGBITS", signal::SA_RESTORER => "SA_RESTORER",
        signal::SA_ONSTACK => "SA_ONSTACK", signal::SA_RESTART => "SA_RESTART",
        signal::SA_NODEFER => "SA_NODEFER", signal::SA_RESETHAND => "SA_RESETHAND",
        signal::SS_ONSTACK => "SS_ONSTACK", signal::SS_DISABLE => "SS_DISABLE",
        signal::MINSIGSTKSZ => "MINSIGSTKSZ", signal::SIGSTKSZ => "SIGSTKSZ",
        signal::SIGRTMIN => "SIGRTMIN",
        signal::SI_USER => "SI_USER", signal::SI_KERNEL => "SI_KERNEL",
        signal::SI_QUEUE => "SI_QUEUE", signal::SI_TKILL => "SI_TKILL",
        signal::CLD_EXITED => "CLD_EXITED", signal::CLD_KILLED => "CLD_KILLED",
        signal::CLD_DUMPED => "CLD_DUMPED", signal::CLD_TRAPPED => "CLD_TRAPPED",
        signal::CLD_STOPPED => "CLD_STOPPED", signal::CLD_CONTINUED => "CLD_CONTINUED",
        signal::SEGV_MAPERR => "SEGV_MAPERR", signal::SEGV_ACCERR => "SEGV_ACCERR",
        signal::ILL_ILLOPC => "ILL_ILLOPC", signal::FPE_INTDIV => "FPE_INTDIV",
        signal::BUS_ADRERR => "BUS_ADRERR",
        signal::UC_FP_XSTATE => "UC_FP_XSTATE", signal::UC_SIGCONTEXT_SS => "UC_SIGCONTEXT_SS",
        signal::UC_STRICT_RESTORE_SS => "UC_STRICT_RESTORE_SS",
        Signal::SIGPOLL.number() => "SIGPOLL", Signal::SIGIOT.number() => "SIGIOT",
        // wait
        wait::WNOHANG => "WNOHANG", wait::WUNTRACED => "WUNTRACED", wait::WSTOPPED => "WSTOPPED",
        wait::WEXITED => "WEXITED", wait::WCONTINUED => "WCONTINUED", wait::WNOWAIT => "WNOWAIT",
        wait::__WNOTHREAD => "__WNOTHREAD", wait::__WALL => "__WALL", wait::__WCLONE => "__WCLONE",
        wait::P_ALL => "P_ALL", wait::P_PID => "P_PID", wait::P_PGID => "P_PGID",
        wait::P_PIDFD => "P_PIDFD",
        // resource
        resource::RLIMIT_CPU => "RLIMIT_CPU", resource::RLIMIT_FSIZE => "RLIMIT_FSIZE",
        resource::RLIMIT_DATA => "RLIMIT_DATA", resource::RLIMIT_STACK => "RLIMIT_STACK",
        resource::RLIMIT_CORE => "RLIMIT_CORE", resource::RLIMIT_RSS => "RLIMIT_RSS",
        resource::RLIMIT_NPROC => "RLIMIT_NPROC", resource::RLIMIT_NOFILE => "RLIMIT_NOFILE",
        resource::RLIMIT_MEMLOCK => "RLIMIT_MEMLOCK", resource::RLIMIT_AS => "RLIMIT_AS",
        resource::RLIMIT_LOCKS => "RLIMIT_LOCKS",
        resource::RLIMIT_SIGPENDING => "RLIMIT_SIGPENDING",
        resource::RLIMIT_MSGQUEUE => "RLIMIT_MSGQUEUE", resource::RLIMIT_NICE => "RLIMIT_NICE",
        resource::RLIMIT_RTPRIO => "RLIMIT_RTPRIO", resource::RLIMIT_RTTIME => "RLIMIT_RTTIME",
        resource::RLIM_NLIMITS => "RLIM_NLIMITS", resource::RLIM_INFINITY => "RLIM_INFINITY",
        resource::RUSAGE_SELF => "RUSAGE_SELF", resource::RUSAGE_CHILDREN => "RUSAGE_CHILDREN",
        resource::RUSAGE_THREAD => "RUSAGE_THREAD",
        // termios and ioctl
        termios::NCCS => "NCCS",
        termios::IGNBRK => "IGNBRK", termios::BRKINT => "BRKINT", termios::IGNPAR => "IGNPAR",
        termios::PARMRK => "PARMRK", termios::INPCK => "INPCK", termios::ISTRIP => "ISTRIP",
        termios::INLCR => "INLCR", termios::IGNCR => "IGNCR", termios::ICRNL => "ICRNL",
        termios::IUCLC => "IUCLC", termios::IXON => "IXON", termios::IXANY => "IXANY",
        termios::IXOFF => "IXOFF", termios::IMAXBEL => "IMAXBEL", termios::IUTF8 => "IUTF8",
        termios::OPOST => "OPOST", termios::OLCUC => "OLCUC", termios::ONLCR => "ONLCR",
        termios::OCRNL => "OCRNL", termios::ONOCR => "ONOCR", termios::ONLRET => "ONLRET",
        termios::CBAUD => "CBAUD", termios::B0 => "B0", termios::B9600 => "B9600",
        termios::B38400 => "B38400", termios::B115200 => "B115200", termios::CSIZE => "CSIZE",
        termios::CS8 => "CS8", termios::CSTOPB => "CSTOPB", termios::CREAD => "CREAD",
        termios::PARENB => "PARENB", termios::PARODD => "PARODD", termios::HUPCL => "HUPCL",
        termios::CLOCAL => "CLOCAL", termios::ISIG => "ISIG", termios::ICANON => "ICANON",
        termios::ECHO => "ECHO", termios::ECHOE => "ECHOE", termios::ECHOK => "ECHOK",
        termios::ECHONL => "ECHONL", termios::NOFLSH => "NOFLSH", termios::TOSTOP => "TOSTOP",
        termios::ECHOCTL => "ECHOCTL", termios::ECHOPRT => "ECHOPRT",
        termios::ECHOKE => "ECHOKE", termios::FLUSHO => "FLUSHO", termios::PENDIN => "PENDIN",
        termios::IEXTEN => "IEXTEN",
        termios::VINTR => "VINTR", termios::VQUIT => "VQUIT", termios::VERASE => "VERASE",
        termios::VKILL => "VKILL", termios::VEOF => "VEOF", termios::VTIME => "VTIME",
        termios::VMIN => "VMIN", termios::VSWTC => "VSWTC", termios::VSTART => "VSTART",
        termios::VSTOP => "VSTOP", termios::VSUSP => "VSUSP", termios::VEOL => "VEOL",
        termios::VREPRINT => "VREPRINT", termios::VDISCARD => "VDISCARD",
        termios::VWERASE => "VWERASE", termios::VLNEXT => "VLNEXT", termios::VEOL2 => "VEOL2",
        ioctl::TCGETS => "TCGETS", ioctl::TCSETS => "TCSETS", ioctl::TCSETSW => "TCSETSW",
        ioctl::TCSETSF => "TCSETSF", ioctl::TCSBRK => "TCSBRK", ioctl::TCXONC => "TCXONC",
        ioctl::TCFLSH => "TCFLSH", ioctl::TIOCEXCL => "TIOCEXCL", ioctl::TIOCNXCL => "TIOCNXCL",
        ioctl::TIOCSCTTY => "TIOCSCTTY", ioctl::TIOCGPGRP => "TIOCGPGRP",
        ioctl::TIOCSPGRP => "TIOCSPGRP", ioctl::TIOCOUTQ => "TIOCOUTQ",
        ioctl::TIOCSTI => "TIOCSTI", ioctl::TIOCGWINSZ => "TIOCGWINSZ",
        ioctl::TIOCSWINSZ => "TIOCSWINSZ", ioctl::FIONREAD => "FIONREAD",
        ioctl::TIOCINQ => "TIOCINQ", ioctl::TIOCCONS => "TIOCCONS", ioctl::FIONBIO => "FIONBIO",
        ioctl::TIOCNOTTY => "TIOCNOTTY", ioctl::TIOCGSID => "TIOCGSID",
        ioctl::TCGETS2 => "TCGETS2", ioctl::TCSETS2 => "TCSETS2",
        ioctl::TCSETSW2 => "TCSETSW2", ioctl::TCSETSF2 => "TCSETSF2",
        ioctl::FIONCLEX => "FIONCLEX", ioctl::FIOCLEX => "FIOCLEX",
        ioctl::FIOASYNC => "FIOASYNC",
        // poll
        poll::POLLIN => "POLLIN", poll::POLLPRI => "POLLPRI", poll::POLLOUT => "POLLOUT",
        poll::POLLERR => "POLLERR", poll::POLLHUP => "POLLHUP", poll::POLLNVAL => "POLLNVAL",
        poll::POLLRDNORM => "POLLRDNORM", poll::POLLRDBAND => "POLLRDBAND",
        poll::POLLWRNORM => "POLLWRNORM", poll::POLLWRBAND => "POLLWRBAND",
        poll::POLLMSG => "POLLMSG", poll::POLLRDHUP => "POLLRDHUP",
        // auxv
        auxv::AT_NULL => "AT_NULL", auxv::AT_IGNORE => "AT_IGNORE",
        auxv::AT_EXECFD => "AT_EXECFD", auxv::AT_PHDR => "AT_PHDR", auxv::AT_PHENT => "AT_PHENT",
        auxv::AT_PHNUM => "AT_PHNUM", auxv::AT_PAGESZ => "AT_PAGESZ", auxv::AT_BASE => "AT_BASE",
        auxv::AT_FLAGS => "AT_FLAGS", auxv::AT_ENTRY => "AT_ENTRY",
        auxv::AT_NOTELF => "AT_NOTELF", auxv::AT_UID => "AT_UID", auxv::AT_EUID => "AT_EUID",
        auxv::AT_GID => "AT_GID", auxv::AT_EGID => "AT_EGID",
        auxv::AT_PLATFORM => "AT_PLATFORM", auxv::AT_HWCAP => "AT_HWCAP",
        auxv::AT_CLKTCK => "AT_CLKTCK", auxv::AT_SECURE => "AT_SECURE",
        auxv::AT_BASE_PLATFORM => "AT_BASE_PLATFORM", auxv::AT_RANDOM => "AT_RANDOM",
        auxv::AT_HWCAP2 => "AT_HWCAP2", auxv::AT_EXECFN => "AT_EXECFN",
        auxv::AT_SYSINFO_EHDR => "AT_SYSINFO_EHDR", auxv::AT_MINSIGSTKSZ => "AT_MINSIGSTKSZ",
        // clone
        clone::CSIGNAL => "CSIGNAL", clone::CLONE_VM => "CLONE_VM", clone::CLONE_FS => "CLONE_FS",
        clone::CLONE_FILES => "CLONE_FILES", clone::CLONE_SIGHAND => "CLONE_SIGHAND",
        clone::CLONE_PIDFD => "CLONE_PIDFD", clone::CLONE_PTRACE => "CLONE_PTRACE",
        clone::CLONE_VFORK => "CLONE_VFORK", clone::CLONE_PARENT => "CLONE_PARENT",
        clone::CLONE_THREAD => "CLONE_THREAD", clone::CLONE_NEWNS => "CLONE_NEWNS",
        clone::CLONE_SYSVSEM => "CLONE_SYSVSEM", clone::CLONE_SETTLS => "CLONE_SETTLS",
        clone::CLONE_PARENT_SETTID => "CLONE_PARENT_SETTID",
        clone::CLONE_CHILD_CLEARTID => "CLONE_CHILD_CLEARTID",
        clone::CLONE_DETACHED => "CLONE_DETACHED", clone::CLONE_UNTRACED => "CLONE_UNTRACED",
        clone::CLONE_CHILD_SETTID => "CLONE_CHILD_SETTID",
        // arch_prctl
        arch_prctl::ARCH_SET_GS => "ARCH_SET_GS", arch_prctl::ARCH_SET_FS => "ARCH_SET_FS",
        arch_prctl::ARCH_GET_FS => "ARCH_GET_FS", arch_prctl::ARCH_GET_GS => "ARCH_GET_GS",
        arch_prctl::ARCH_GET_CPUID => "ARCH_GET_CPUID",
        arch_prctl::ARCH_SET_CPUID => "ARCH_SET_CPUID",
        // limits and sizes
        limits::PATH_MAX => "PATH_MAX", limits::NAME_MAX => "NAME_MAX",
        limits::PIPE_BUF => "PIPE_BUF", limits::NGROUPS_MAX => "NGROUPS_MAX",
        uio::UIO_MAXIOV => "UIO_MAXIOV", utsname::UTSNAME_FIELD_LEN => "__NEW_UTS_LEN + 1",
    });
    checks
}

const GLIBC_HEADERS: &[&str] = &[
    "sys/stat.h",
    "sys/sysmacros.h",
    "dirent.h",
    "unistd.h",
    "sys/wait.h",
    "sys/resource.h",
    "poll.h",
    "sys/uio.h",
    "sys/times.h",
];

fn glibc_checks() -> Vec<Check> {
    let mut checks = layout_checks! {
        // glibc's struct stat matches the kernel's on x86_64.
        Stat => "struct stat" { st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, st_rdev,
            st_size, st_blksize, st_blocks }
        resource::Rusage => "struct rusage" { ru_utime, ru_stime, ru_maxrss, ru_nivcsw }
        poll::Pollfd => "struct pollfd" { fd, events, revents }
        uio::Iovec => "struct iovec" { iov_base, iov_len }
    };
    checks.extend(constant_checks! {
        dirent::DIRENT64_NAME_OFFSET => "offsetof(struct dirent64, d_name)",
        0 => "offsetof(struct dirent64, d_ino)",
        8 => "offsetof(struct dirent64, d_off)",
        16 => "offsetof(struct dirent64, d_reclen)",
        18 => "offsetof(struct dirent64, d_type)",
        dirent::DT_UNKNOWN => "DT_UNKNOWN", dirent::DT_FIFO => "DT_FIFO",
        dirent::DT_CHR => "DT_CHR", dirent::DT_DIR => "DT_DIR", dirent::DT_BLK => "DT_BLK",
        dirent::DT_REG => "DT_REG", dirent::DT_LNK => "DT_LNK", dirent::DT_SOCK => "DT_SOCK",
        dirent::DT_WHT => "DT_WHT",
        stat::S_IFMT => "S_IFMT", stat::S_IFSOCK => "S_IFSOCK", stat::S_IFLNK => "S_IFLNK",
        stat::S_IFREG => "S_IFREG", stat::S_IFBLK => "S_IFBLK", stat::S_IFDIR => "S_IFDIR",
        stat::S_IFCHR => "S_IFCHR", stat::S_IFIFO => "S_IFIFO", stat::S_ISUID => "S_ISUID",
        stat::S_ISGID => "S_ISGID", stat::S_ISVTX => "S_ISVTX",
        stat::encode_dev(1, 3) => "makedev(1, 3)",
        stat::encode_dev(259, 70000) => "makedev(259, 70000)",
        fcntl::F_OK => "F_OK", fcntl::R_OK => "R_OK", fcntl::W_OK => "W_OK", fcntl::X_OK => "X_OK",
        // The wait status words decode with glibc's own macros.
        1 => "WIFEXITED(0x300)",
        3 => "WEXITSTATUS(0x300)",
        WaitStatus::exited(3).encode() => "0x300",
        1 => "WIFSIGNALED(0x8b)",
        11 => "WTERMSIG(0x8b)",
        (WaitStatus::Signaled { signal: 11, core_dumped: true }.encode() == 0x8b) => "1",
        1 => "WCOREDUMP(0x8b) != 0",
        1 => "WIFSTOPPED(0x137f)",
        19 => "WSTOPSIG(0x137f)",
        WaitStatus::Stopped(19).encode() => "0x137f",
        1 => "WIFCONTINUED(0xffff)",
        WaitStatus::Continued.encode() => "0xffff",
        limits::USER_HZ => "sysconf(_SC_CLK_TCK)",
    });
    // A record written by Dirent64 reads back through glibc's struct.
    checks.push(Check {
        what: "Dirent64::encode read through struct dirent64".into(),
        rust: {
            let mut record = [0u8; 32];
            let entry = Dirent64 {
                d_ino: 7,
                d_off: 9,
                d_type: dirent::DT_DIR,
                d_name: b"hello",
            };
            let len = entry.encode(&mut record).expect("fits");
            format!("7 9 {len} 4 hello")
        },
        c_statement: {
            let mut record = [0u8; 32];
            let entry = Dirent64 {
                d_ino: 7,
                d_off: 9,
                d_type: dirent::DT_DIR,
                d_name: b"hello",
            };
            entry.encode(&mut record).expect("fits");
            let bytes: Vec<String> = record.iter().map(u8::to_string).collect();
            format!(
                "{{ static const unsigned char r[32] __attribute__((aligned(8))) = {{{}}}; \
                 const struct dirent64 *d = (const void *)r; \
                 printf(\"%llu %lld %u %u %s\\n\", (unsigned long long)d->d_ino, \
                 (long long)d->d_off, d->d_reclen, d->d_type, d->d_name); }}",
                bytes.join(",")
            )
        },
    });
    checks
}

fn c_program(headers: &[&str], defines: &str, checks: &[Check]) -> String {
    let mut source = String::from(defines);
    source.push_str("#include <stdio.h>\n#include <stddef.h>\n");
    for header in headers {
        source.push_str(&format!("#include <{header}>\n"));
    }
    source.push_str("int main(void) {\n");
    for check in checks {
        source.push_str("    ");
        source.push_str(&check.c_statement);
        source.push('\n');
    }
    source.push_str("    return 0;\n}\n");
    source
}

fn run_c_program(name: &str, source: &str) -> Vec<String> {
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let directory: PathBuf =
        std::env::temp_dir().join(format!("linux-abi-{name}-{}-{unique}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("create a scratch directory");
    let source_path = directory.join(format!("{name}.c"));
    let binary = directory.join(name);
    std::fs::write(&source_path, source).expect("write the C program");
    let compile = Command::new("cc")
        .arg("-std=gnu11")
        .arg("-Wall")
        .arg("-o")
        .arg(&binary)
        .arg(&source_path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the C compiler `cc`: {error}"));
    assert!(
        compile.status.success(),
        "compiling {} failed (kept for inspection):\n{}",
        source_path.display(),
        String::from_utf8_lossy(&compile.stderr)
    );
    let run = Command::new(&binary)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
    assert!(
        run.status.success(),
        "{} failed: {:?}",
        binary.display(),
        run.status
    );
    // Best effort: a leftover scratch directory is harmless.
    let _ = std::fs::remove_dir_all(&directory);
    String::from_utf8(run.stdout)
        .expect("the C program prints ASCII")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn compare(name: &str, checks: &[Check], c_values: &[String]) {
    assert_eq!(
        c_values.len(),
        checks.len(),
        "{name}: lines printed vs checks"
    );
    let mismatches: Vec<String> = checks
        .iter()
        .zip(c_values)
        .filter(|(check, c_value)| check.rust != **c_value)
        .map(|(check, c_value)| format!("  {}: Rust {} but C {}", check.what, check.rust, c_value))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{name}: {} of {} checks disagree with the C headers:\n{}",
        mismatches.len(),
        checks.len(),
        mismatches.join("\n")
    );
}

#[test]
fn layouts_and_constants_match_the_kernel_uapi_headers() {
    let checks = kernel_checks();
    let values = run_c_program("uapi", &c_program(KERNEL_HEADERS, "", &checks));
    compare("kernel UAPI", &checks, &values);
}

#[test]
fn layouts_and_constants_match_glibc() {
    let checks = glibc_checks();
    let values = run_c_program(
        "glibc",
        &c_program(GLIBC_HEADERS, "#define _GNU_SOURCE 1\n", &checks),
    );
    compare("glibc", &checks, &values);
}
