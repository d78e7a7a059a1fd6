//! Signals: posting, and delivery on the way back to user mode.
//!
//! The rules (masks, actions, which signal goes first, what a default
//! action does) are `kernel_core::signals`; the frame a handler runs on
//! is `kernel_core::sigframe`. This module connects them to processes:
//! [`post`] marks a signal pending and wakes the target, [`deliver`] runs
//! at the end of every trap from user mode (system call, fault, event
//! upcall) and either ends the process, stops it, or rewrites the trap
//! frame to enter a handler, and [`sigreturn`] undoes that.

use kernel_core::sigframe::{self, FrameRequest, UserRegisters};
use kernel_core::signals::{syscall_restart, Delivery, Restart};
use linux_abi::signal::{SigSet, Sigaction, Siginfo, Signal, SIG_DFL};
use linux_abi::Errno;

use super::*;

/// A blocking system call was interrupted by a signal: restart it if the
/// handler has SA_RESTART (or no handler runs), else `EINTR`.
pub(super) const ERESTARTSYS: i64 = 512;
/// Interrupted, and never restarted after a handler (`rt_sigsuspend`,
/// `nanosleep`, `poll`): `EINTR` if a handler runs, else restarted.
pub(super) const ERESTARTNOHAND: i64 = 514;

/// What made a process fault, for its handler's siginfo and the report
/// printed if the fault ends it.
#[derive(Clone, Debug)]
pub(super) struct FaultReport {
    pub(super) signal: Signal,
    pub(super) code: i32,
    pub(super) address: u64,
    pub(super) trap_number: u64,
    pub(super) error_code: u64,
    pub(super) text: String,
}

/// Posts `signal` (1..=64; 0 only checks the target exists) to `pid`.
pub(super) fn post(pid: u32, number: u32) -> Result<(), i64> {
    let signal = match number {
        0 => None,
        _ => Some(Signal::new(number).ok_or(EINVAL)?),
    };
    let mut processes = PROCESSES.lock();
    let process = processes.get_mut(&pid).ok_or(ESRCH)?;
    let Some(signal) = signal else {
        return Ok(());
    };
    if matches!(process.state, State::Zombie(_)) {
        return Ok(());
    }
    // Like Linux's init, pid 1 only gets the signals it has a handler
    // for: Ctrl-C or a stray `kill -9 1` must not end the system.
    if pid == 1 && process.signals.action(signal).sa_handler == SIG_DFL {
        return Ok(());
    }
    let posted = process.signals.post(signal);
    let wake = posted.wake
        || (posted.resume && process.state == State::Stopped)
        || signal == Signal::SIGKILL;
    if wake && matches!(process.state, State::Blocked | State::Stopped) {
        process.state = State::Runnable;
    }
    Ok(())
}

/// Posts `signal` to every process in group `pgid`; ESRCH if none.
pub(super) fn post_to_group(pgid: u32, number: u32) -> Result<(), i64> {
    let members: Vec<u32> = PROCESSES
        .lock()
        .values()
        .filter(|p| p.pgid == pgid && !matches!(p.state, State::Zombie(_)))
        .map(|p| p.pid)
        .collect();
    if members.is_empty() {
        return Err(ESRCH);
    }
    for pid in members {
        post(pid, number)?;
    }
    Ok(())
}

/// Forces a fault signal on the current process: it cannot be blocked
/// or ignored away (Linux's `force_sig`), so a handler runs or the
/// process ends.
pub(super) fn force_fault(report: FaultReport) {
    let signal = report.signal;
    with_current(|process| {
        let action = process.signals.action(signal);
        if action.sa_handler == linux_abi::signal::SIG_IGN
            || process.signals.blocked().contains(signal)
        {
            let _ = process
                .signals
                .set_action(signal, Some(Sigaction::default()));
            let blocked = process.signals.blocked().without(signal);
            process.signals.set_blocked(blocked);
        }
        process.signals.post(signal);
        process.fault = Some(report);
    });
}

/// True if the current process has a signal to take.
pub(super) fn deliverable() -> bool {
    with_current(|process| process.signals.has_deliverable())
}

/// Blocks until woken, unless a signal must be delivered first
/// (`ERESTARTSYS`). Callers loop: re-check what they wait for, then call
/// this again, so a result that is ready wins over a signal, as in Linux.
pub(super) fn sleep_interruptibly() -> Result<(), i64> {
    if deliverable() {
        return Err(ERESTARTSYS);
    }
    yield_to_scheduler(State::Blocked);
    Ok(())
}

fn registers(frame: &TrapFrame) -> UserRegisters {
    UserRegisters {
        rax: frame.rax,
        rbx: frame.rbx,
        rcx: frame.rcx,
        rdx: frame.rdx,
        rsi: frame.rsi,
        rdi: frame.rdi,
        rbp: frame.rbp,
        rsp: frame.rsp,
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rip: frame.rip,
        rflags: frame.rflags,
    }
}

fn load_registers(frame: &mut TrapFrame, regs: &UserRegisters) {
    frame.rax = regs.rax;
    frame.rbx = regs.rbx;
    frame.rcx = regs.rcx;
    frame.rdx = regs.rdx;
    frame.rsi = regs.rsi;
    frame.rdi = regs.rdi;
    frame.rbp = regs.rbp;
    frame.rsp = regs.rsp;
    frame.r8 = regs.r8;
    frame.r9 = regs.r9;
    frame.r10 = regs.r10;
    frame.r11 = regs.r11;
    frame.r12 = regs.r12;
    frame.r13 = regs.r13;
    frame.r14 = regs.r14;
    frame.r15 = regs.r15;
    frame.rip = regs.rip;
    frame.rflags = regs.rflags;
}

/// A system call that may need restarting once a signal is handled.
#[derive(Clone, Copy)]
pub(super) struct Interrupted {
    pub(super) number: u64,
    pub(super) errno: i64,
}

/// Applies the restart rule for `interrupted` given the handler (if any)
/// that is about to run.
fn apply_restart(frame: &mut TrapFrame, interrupted: Interrupted, handler: Option<&Sigaction>) {
    let Some(errno) = u16::try_from(interrupted.errno).ok().and_then(Errno::new) else {
        return;
    };
    match syscall_restart(errno, handler) {
        Restart::NotRestartable => {}
        Restart::Interrupted => frame.rax = (-EINTR) as u64,
        // `syscall` is two bytes: back up to execute it again.
        Restart::Again | Restart::ThroughRestartSyscall => {
            frame.rax = interrupted.number;
            frame.rip -= 2;
        }
    }
}

/// Ends the current process because of `signal`, with a report line if a
/// fault caused it.
fn terminate(signal: Signal) -> ! {
    let fault = with_current(|process| process.fault.take());
    let reason = match fault {
        Some(report) if report.signal == signal => {
            crate::kprintln!("user: process {} killed by {}", current_pid(), report.text);
            report.text
        }
        _ => format!("signal {}", signal.number()),
    };
    exit_current(UserExit::Killed {
        signal: signal.number(),
        reason,
    })
}

/// On the way back to user mode: takes pending signals and acts on them.
/// `interrupted` is the system call that is returning, if one is.
pub(super) fn deliver(frame: &mut TrapFrame, mut interrupted: Option<Interrupted>) {
    loop {
        let delivery = with_current(|process| process.signals.take_next());
        match delivery {
            None => break,
            Some(Delivery::Ignore(_)) => continue,
            Some(Delivery::Terminate { signal, .. }) => terminate(signal),
            Some(Delivery::Stop(_)) => {
                // No job control terminal yet: the process just waits for
                // SIGCONT (or SIGKILL).
                let parent = with_current(|process| process.parent);
                let _ = post(parent, Signal::SIGCHLD.number());
                yield_to_scheduler(State::Stopped);
            }
            Some(Delivery::Handler {
                signal,
                action,
                saved_mask,
            }) => {
                if let Some(call) = interrupted.take() {
                    apply_restart(frame, call, Some(&action));
                }
                if enter_handler(frame, signal, &action, saved_mask).is_err() {
                    // No room for the frame, or no restorer: like Linux,
                    // the process dies of SIGSEGV.
                    with_current(|process| process.fault = None);
                    terminate(Signal::SIGSEGV);
                }
                return;
            }
        }
    }
    if let Some(call) = interrupted {
        apply_restart(frame, call, None);
    }
    // rt_sigsuspend's temporary mask ends here if no handler took it.
    if let Some(mask) = with_current(|process| process.suspend_mask.take()) {
        with_current(|process| process.signals.set_blocked(mask));
    }
}

/// Builds the handler frame on the user stack and points `frame` at the
/// handler.
fn enter_handler(
    frame: &mut TrapFrame,
    signal: Signal,
    action: &Sigaction,
    saved_mask: SigSet,
) -> Result<(), i64> {
    let (fpu, fault, suspend_mask) = with_current(|process| {
        let fault = process.fault.take().filter(|f| f.signal == signal);
        (process.fpu.0, fault, process.suspend_mask.take())
    });
    let info = match &fault {
        Some(report) => Siginfo::fault(signal, report.code, report.address),
        None => Siginfo::sent(signal, linux_abi::signal::SI_USER, 0, 0),
    };
    let regs = registers(frame);
    let built = sigframe::build(&FrameRequest {
        registers: &regs,
        fpu: &fpu,
        signal,
        info,
        action,
        saved_mask: suspend_mask.unwrap_or(saved_mask),
        trap_number: fault.as_ref().map_or(0, |f| f.trap_number),
        error_code: fault.as_ref().map_or(0, |f| f.error_code),
        fault_address: fault.as_ref().map_or(0, |f| f.address),
    })
    .map_err(|_| EFAULT)?;
    copy_to_user(built.address, &built.bytes)?;
    load_registers(frame, &built.handler_registers);
    // The handler starts with a clean FPU state, as on Linux.
    with_current(|process| *process.fpu = FpuState::initial());
    Ok(())
}

/// `rt_sigreturn`: restores what [`enter_handler`] saved. A frame that
/// cannot be read or is not acceptable ends the process with SIGSEGV.
pub(super) fn sigreturn(frame: &mut TrapFrame) {
    let restored = (|| {
        let bytes = copy_from_user(sigframe::ucontext_address(frame.rsp), 304)?;
        let context: [u8; 304] = bytes.try_into().map_err(|_| EFAULT)?;
        let restored = sigframe::restore(&context, frame.rflags, USER_END).map_err(|_| EFAULT)?;
        let fpu = if restored.fpstate != 0 {
            let bytes = copy_from_user(restored.fpstate, sigframe::FPU_BYTES as u64)?;
            Some(<[u8; 512]>::try_from(bytes).map_err(|_| EFAULT)?)
        } else {
            None
        };
        Ok::<_, i64>((restored, fpu))
    })();
    let Ok((restored, fpu)) = restored else {
        with_current(|process| {
            process.fault = Some(FaultReport {
                signal: Signal::SIGSEGV,
                code: linux_abi::signal::SI_KERNEL,
                address: 0,
                trap_number: 0,
                error_code: 0,
                text: format!("SIGSEGV: bad signal frame at rsp={:#x}", frame.rsp),
            })
        });
        terminate(Signal::SIGSEGV);
    };
    with_current(|process| {
        process.signals.set_blocked(restored.mask);
        if let Some(mut image) = fpu {
            // The CPU's own FXSAVE (at this system call's entry) holds the
            // MXCSR bits it supports.
            let mask = u32::from_le_bytes(process.fpu.0[28..32].try_into().expect("4 bytes"));
            sigframe::sanitize_fxsave(&mut image, mask);
            process.fpu.0 = image;
        }
    });
    load_registers(frame, &restored.registers);
}
