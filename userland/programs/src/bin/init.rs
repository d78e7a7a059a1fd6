//! `init`: the first process. Runs `/etc/rc`, then keeps a shell running.
//!
//! 1. Makes sure descriptors 0, 1, 2 are open (on `/dev/console` if the
//!    kernel started us without them), ignores SIGINT and SIGQUIT (Ctrl-C
//!    at the console must never end init), and, as pid 1, moves to `/`.
//! 2. If `/etc/rc` exists, runs `/bin/sh /etc/rc` and waits for it.
//! 3. Starts `/bin/sh` and waits. Every child that ends is reaped: the
//!    shell's own, and orphans the kernel re-parents to pid 1. When the
//!    shell exits it is started again, at most once a second (a console
//!    that returns end-of-file at once would otherwise make this spin).
//!
//! Shutdown: SIGUSR2 or SIGUSR1 (what `busybox poweroff` and `halt`
//! send) powers off, SIGTERM (`busybox reboot`) restarts: init sends
//! SIGTERM then SIGKILL to every other process, reaps them, syncs and calls
//! `reboot(2)`.
//!
//! Mounts nothing: the kernel provides `/dev` and `/proc`. Children get
//! the kernel's environment plus `PATH=/bin`, `HOME=/` and `TERM=linux`
//! where missing. `--rc`, `--shell` and `--once` (start the shell once and
//! exit with its status) exist for tests on the host; pid 1 ignores
//! `--once` because it must never exit.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};
use linux_abi::wait::WaitStatus;
use userland_core::abi::{shell_status, OpenFlags};
use userland_core::cli::parse_init;
use userland_core::strerror;
use userland_core::time::NANOS_PER_SECOND;
use userland_core::{Errno, Signal};
use userland_rt::sys::{self, Disposition, ExecRequest, ForkResult, Pid, RebootCommand};
use userland_rt::{eprintln, println, Args, Env, Fd};

userland_rt::entry!(main);

/// Variables every child gets unless the kernel passed them.
const DEFAULT_ENVIRONMENT: [&[u8]; 3] = [b"PATH=/bin", b"HOME=/", b"TERM=linux"];

/// If fd 0 is not open, opens the console as 0, 1 and 2.
fn ensure_console() {
    if sys::fstat(Fd::STDIN).is_ok() {
        return;
    }
    if let Ok(console) = sys::open("/dev/console", OpenFlags::READ_WRITE, 0) {
        for fd in [Fd::STDIN, Fd::STDOUT, Fd::STDERR] {
            if console != fd {
                let _ = sys::dup2(console, fd);
            }
        }
        if console.0 > 2 {
            let _ = sys::close(console);
        }
    }
}

/// Starts `argv` as a child; `None` (with a message) if fork fails.
fn spawn(argv: &[&[u8]], environment: &[&[u8]]) -> Option<Pid> {
    let request = match ExecRequest::new(argv[0], argv, environment) {
        Ok(request) => request,
        Err(error) => {
            eprintln!("init: bad command line: {}", strerror(error));
            return None;
        }
    };
    match sys::fork() {
        Ok(ForkResult::Child) => {
            for signal in [Signal::INT, Signal::QUIT] {
                let _ = sys::set_signal_disposition(signal, Disposition::Default);
            }
            let error = strerror(request.exec());
            eprintln!(
                "init: cannot run {}: {error}",
                alloc::string::String::from_utf8_lossy(argv[0])
            );
            sys::exit(127)
        }
        Ok(ForkResult::Parent(pid)) => Some(pid),
        Err(error) => {
            eprintln!("init: fork: {}", strerror(error));
            None
        }
    }
}

/// A shutdown asked for by signal: 0 none, 1 power off, 2 restart.
static SHUTDOWN: AtomicU8 = AtomicU8::new(0);

extern "C" fn power_off_requested(_signal: i32) {
    SHUTDOWN.store(1, Ordering::SeqCst);
}

extern "C" fn restart_requested(_signal: i32) {
    SHUTDOWN.store(2, Ordering::SeqCst);
}

/// If a shutdown was asked for: ends every other process and the system.
fn shut_down_if_requested() {
    let command = match SHUTDOWN.load(Ordering::SeqCst) {
        1 => RebootCommand::PowerOff,
        2 => RebootCommand::Restart,
        _ => return,
    };
    println!("init: shutting down ({command:?})");
    let _ = sys::kill(-1, Signal(15));
    let _ = sys::sleep_ns(NANOS_PER_SECOND / 5);
    let _ = sys::kill(-1, Signal(9));
    while let Ok(Some(_)) = sys::wait4(-1, 0) {}
    sys::sync();
    let error = sys::reboot(command);
    eprintln!("init: reboot: {}", strerror(error));
    SHUTDOWN.store(0, Ordering::SeqCst);
}

/// Reaps children until `pid` ends; returns how it ended (`None` if it
/// cannot be waited for).
fn reap_until(pid: Pid) -> Option<WaitStatus> {
    loop {
        shut_down_if_requested();
        match sys::wait4(-1, 0) {
            Ok(Some((child, status))) if child == pid => return Some(status),
            // An orphan, or an earlier child: reaped, nothing else to do.
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => {
                eprintln!("init: wait: {}", strerror(error));
                return None;
            }
        }
    }
}

fn describe(status: WaitStatus) -> alloc::string::String {
    match status {
        WaitStatus::Exited(code) => alloc::format!("exited with status {code}"),
        WaitStatus::Signaled { signal, .. } => {
            let name = Signal(i32::from(signal)).name().unwrap_or("?");
            alloc::format!("killed by SIG{name}")
        }
        other => alloc::format!("ended ({other:?})"),
    }
}

fn main(args: Args, env: Env) -> i32 {
    ensure_console();
    let options = match args.operands() {
        Ok(operands) => match parse_init(operands) {
            Ok(options) => options,
            Err(error) => {
                eprintln!("init: {error}");
                return 1;
            }
        },
        Err(_) => {
            eprintln!("init: arguments must be UTF-8");
            return 1;
        }
    };
    let pid = sys::getpid();
    let once = options.once && pid != 1;
    for signal in [Signal::INT, Signal::QUIT] {
        let _ = sys::set_signal_disposition(signal, Disposition::Ignore);
    }
    if pid == 1 {
        let _ = sys::chdir("/");
        for (signal, handler) in [
            (Signal(12), power_off_requested as extern "C" fn(i32)),
            (Signal(10), power_off_requested),
            (Signal(15), restart_requested),
        ] {
            let _ = sys::set_signal_handler(signal, handler);
        }
    }

    let mut environment: Vec<&[u8]> = env.iter().collect();
    for default in DEFAULT_ENVIRONMENT {
        let name = &default[..default.iter().position(|&b| b == b'=').unwrap_or(0) + 1];
        if !environment.iter().any(|entry| entry.starts_with(name)) {
            environment.push(default);
        }
    }
    let shell = options.shell.as_bytes();
    println!("init: started as pid {pid}");

    if sys::stat(&options.rc).is_ok() {
        println!("init: running {}", options.rc);
        if let Some(rc) = spawn(&[shell, options.rc.as_bytes()], &environment) {
            if let Some(status) = reap_until(rc) {
                if status != WaitStatus::Exited(0) {
                    println!("init: {} {}", options.rc, describe(status));
                }
            }
        }
    }

    loop {
        let started_ns = sys::monotonic_ns();
        println!("init: starting {}", options.shell);
        let status = spawn(&[shell], &environment).and_then(reap_until);
        if once {
            return match status {
                Some(status) => shell_status(status),
                None => 1,
            };
        }
        if let Some(status) = status {
            println!("init: {} {}", options.shell, describe(status));
        }
        if sys::monotonic_ns().saturating_sub(started_ns) < NANOS_PER_SECOND {
            let _ = sys::sleep_ns(NANOS_PER_SECOND);
        }
    }
}
