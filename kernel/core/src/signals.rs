//! Per-process signal state: pending and blocked sets, actions, delivery.
//!
//! What signal(7), sigaction(2) and sigprocmask(2) decide, without the
//! mechanics: the kernel posts signals here (`kill`, faults, `SIGCHLD`,
//! `SIGPIPE`), asks on every return to user space which one to deliver
//! next, and carries out the answer — build a handler frame, stop, continue
//! or terminate the process with the wait status computed here.
//!
//! Rules implemented:
//! * `SIGKILL` and `SIGSTOP` cannot be caught, ignored or blocked: setting
//!   their action is `EINVAL`, masks silently drop them.
//! * A signal whose action is "ignore" (explicitly, or by default like
//!   `SIGCHLD`) is discarded when posted unless blocked; setting an action
//!   to ignore discards pending instances (POSIX).
//! * Posting `SIGCONT` discards pending stop signals and continues the
//!   process even if `SIGCONT` itself is blocked or ignored; posting a stop
//!   signal discards a pending `SIGCONT`.
//! * Delivery order: synchronous fault signals (`SIGSEGV`, `SIGBUS`,
//!   `SIGILL`, `SIGTRAP`, `SIGFPE`, `SIGSYS`) first, then the lowest
//!   pending unblocked number (Linux's `next_signal`).
//! * Running a handler blocks `sa_mask` plus the signal itself (unless
//!   `SA_NODEFER`); `SA_RESETHAND` restores the default action first.
//! * `execve` resets caught signals to default, keeps ignored ones, the
//!   mask and the pending set.
//!
//! Simplifications: one pending bit per signal (real-time signals do not
//! queue multiple instances) and one thread per process.

use core::fmt;

use linux_abi::signal::{
    DefaultAction, SigSet, Sigaction, Signal, SA_NODEFER, SA_RESETHAND, SA_RESTART, SIG_BLOCK,
    SIG_DFL, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK,
};
pub use linux_abi::wait::WaitStatus;
use linux_abi::Errno;

/// Fault signals delivered before any other (`SYNCHRONOUS_MASK`).
pub const SYNCHRONOUS: SigSet = SigSet(
    Signal::SIGSEGV.bit()
        | Signal::SIGBUS.bit()
        | Signal::SIGILL.bit()
        | Signal::SIGTRAP.bit()
        | Signal::SIGFPE.bit()
        | Signal::SIGSYS.bit(),
);

/// What posting a signal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posted {
    /// The signal is now pending (false: discarded as ignored).
    pub queued: bool,
    /// The signal can be delivered now: wake the process from an
    /// interruptible sleep.
    pub wake: bool,
    /// `SIGCONT` was posted: resume the process if it is stopped.
    pub resume: bool,
}

/// What to do with the signal taken by [`SignalState::take_next`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing (an ignored signal, or `SIGCONT`'s default: the resume
    /// already happened when it was posted). Ask again.
    Ignore(Signal),
    /// Terminate the process with this wait status.
    Terminate { signal: Signal, core_dump: bool },
    /// Stop the process (and notify the parent with `SIGCHLD`).
    Stop(Signal),
    /// Run a handler: build an `rt_sigframe` saving `saved_mask` (restored
    /// by `rt_sigreturn`) and jump to `action.sa_handler`. The blocked
    /// set has already been updated for the handler's duration.
    Handler {
        signal: Signal,
        action: Sigaction,
        saved_mask: SigSet,
    },
}

impl Delivery {
    /// The wait status of a process that ends because of this delivery.
    pub fn wait_status(&self) -> Option<WaitStatus> {
        match *self {
            Delivery::Terminate { signal, core_dump } => Some(WaitStatus::Signaled {
                signal: signal.number() as u8,
                core_dumped: core_dump,
            }),
            Delivery::Stop(signal) => Some(WaitStatus::Stopped(signal.number() as u8)),
            _ => None,
        }
    }
}

/// How an interrupted system call continues after signal delivery
/// (`arch/x86/kernel/signal.c`, `handle_signal` and
/// `arch_do_signal_or_restart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Not a restart code: return the result as is.
    NotRestartable,
    /// Return `EINTR` to user space.
    Interrupted,
    /// Re-execute the `syscall` instruction (rip -= 2, rax = original
    /// number).
    Again,
    /// Re-enter through `restart_syscall` (rax = 219).
    ThroughRestartSyscall,
}

/// Decides the restart for a system call that returned `result` when a
/// signal is handled: `handler` is the action about to run, `None` when
/// no handler runs (ignored, stop, or no signal at all).
pub fn syscall_restart(result: Errno, handler: Option<&Sigaction>) -> Restart {
    match (result, handler) {
        (Errno::ERESTARTNOINTR, _) => Restart::Again,
        (Errno::ERESTARTSYS, Some(action)) if action.sa_flags & SA_RESTART != 0 => Restart::Again,
        (Errno::ERESTARTSYS | Errno::ERESTARTNOHAND | Errno::ERESTART_RESTARTBLOCK, Some(_)) => {
            Restart::Interrupted
        }
        (Errno::ERESTARTSYS | Errno::ERESTARTNOHAND, None) => Restart::Again,
        (Errno::ERESTART_RESTARTBLOCK, None) => Restart::ThroughRestartSyscall,
        _ => Restart::NotRestartable,
    }
}

/// A process's signal state.
#[derive(Clone)]
pub struct SignalState {
    pending: SigSet,
    blocked: SigSet,
    actions: [Sigaction; 64],
}

impl Default for SignalState {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SignalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalState")
            .field("pending", &self.pending)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

fn is_ignore_handler(action: &Sigaction, signal: Signal) -> bool {
    match action.sa_handler {
        SIG_IGN => true,
        SIG_DFL => signal.default_action() == DefaultAction::Ignore,
        _ => false,
    }
}

impl SignalState {
    /// Every action default, nothing blocked or pending (`init`'s state).
    pub const fn new() -> Self {
        SignalState {
            pending: SigSet::EMPTY,
            blocked: SigSet::EMPTY,
            actions: [Sigaction {
                sa_handler: SIG_DFL,
                sa_flags: 0,
                sa_restorer: 0,
                sa_mask: 0,
            }; 64],
        }
    }

    /// The child's state after `fork`: same actions and mask, nothing
    /// pending.
    pub fn forked(&self) -> Self {
        SignalState {
            pending: SigSet::EMPTY,
            ..self.clone()
        }
    }

    /// After a successful `execve`: handlers become `SIG_DFL`, ignored
    /// signals stay ignored, flags and masks of actions are cleared; the
    /// blocked and pending sets survive (`flush_signal_handlers`).
    pub fn exec(&mut self) {
        for action in self.actions.iter_mut() {
            let handler = if action.sa_handler == SIG_IGN {
                SIG_IGN
            } else {
                SIG_DFL
            };
            *action = Sigaction {
                sa_handler: handler,
                ..Sigaction::default()
            };
        }
    }

    pub fn pending(&self) -> SigSet {
        self.pending
    }

    pub fn blocked(&self) -> SigSet {
        self.blocked
    }

    /// What `rt_sigpending` reports: pending signals that are blocked.
    pub fn pending_blocked(&self) -> SigSet {
        self.pending.intersection(self.blocked)
    }

    /// Replaces the mask (`rt_sigreturn`, end of `rt_sigsuspend`); the
    /// unblockable signals are dropped from it. Returns the old mask.
    pub fn set_blocked(&mut self, mask: SigSet) -> SigSet {
        core::mem::replace(&mut self.blocked, mask.difference(SigSet::UNBLOCKABLE))
    }

    /// `rt_sigprocmask(how, set)`: returns the old mask. With no `set`,
    /// only reads (and `how` is not checked, as in Linux).
    pub fn sigprocmask(&mut self, how: u32, set: Option<SigSet>) -> Result<SigSet, Errno> {
        let old = self.blocked;
        let Some(set) = set else {
            return Ok(old);
        };
        let new = match how {
            SIG_BLOCK => old.union(set),
            SIG_UNBLOCK => old.difference(set),
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        self.set_blocked(new);
        Ok(old)
    }

    /// The action for `signal`.
    pub fn action(&self, signal: Signal) -> Sigaction {
        self.actions[signal.number() as usize - 1]
    }

    /// `rt_sigaction(signal, new)`: returns the old action. Changing
    /// `SIGKILL` or `SIGSTOP` is `EINVAL` (reading them is fine). The new
    /// action's mask loses the unblockable signals; an action that ignores
    /// the signal discards a pending instance.
    pub fn set_action(
        &mut self,
        signal: Signal,
        new: Option<Sigaction>,
    ) -> Result<Sigaction, Errno> {
        let old = self.action(signal);
        let Some(mut new) = new else {
            return Ok(old);
        };
        if signal.is_unblockable() {
            return Err(Errno::EINVAL);
        }
        new.sa_mask = SigSet(new.sa_mask).difference(SigSet::UNBLOCKABLE).0;
        if is_ignore_handler(&new, signal) {
            self.pending = self.pending.without(signal);
        }
        self.actions[signal.number() as usize - 1] = new;
        Ok(old)
    }

    /// True if `signal` would be thrown away if posted now.
    pub fn is_ignored(&self, signal: Signal) -> bool {
        !signal.is_unblockable()
            && !self.blocked.contains(signal)
            && is_ignore_handler(&self.action(signal), signal)
    }

    /// Posts `signal` to the process.
    pub fn post(&mut self, signal: Signal) -> Posted {
        let resume = signal == Signal::SIGCONT;
        if resume {
            self.pending = self.pending.difference(SigSet::STOP);
        } else if signal.is_stop() {
            self.pending = self.pending.without(Signal::SIGCONT);
        }
        if self.is_ignored(signal) {
            return Posted {
                queued: false,
                wake: false,
                resume,
            };
        }
        self.pending = self.pending.with(signal);
        Posted {
            queued: true,
            wake: !self.blocked.contains(signal),
            resume,
        }
    }

    /// Forgets a pending signal (`sigwait`-style consumption, or the
    /// kernel discarding a stop signal for an orphaned process group).
    pub fn discard(&mut self, signal: Signal) -> bool {
        let was = self.pending.contains(signal);
        self.pending = self.pending.without(signal);
        was
    }

    /// The signal [`take_next`](Self::take_next) would deliver.
    pub fn next_deliverable(&self) -> Option<Signal> {
        let deliverable = self.pending.difference(self.blocked);
        deliverable
            .intersection(SYNCHRONOUS)
            .lowest()
            .or_else(|| deliverable.lowest())
    }

    /// True if a signal can be delivered: an interruptible sleep ends.
    pub fn has_deliverable(&self) -> bool {
        !self.pending.difference(self.blocked).is_empty()
    }

    /// Dequeues the next deliverable signal and decides what it does; for
    /// a handler, also updates the mask and `SA_RESETHAND`.
    pub fn take_next(&mut self) -> Option<Delivery> {
        let signal = self.next_deliverable()?;
        self.pending = self.pending.without(signal);
        let action = self.action(signal);
        let delivery = match action.sa_handler {
            _ if signal == Signal::SIGKILL => Delivery::Terminate {
                signal,
                core_dump: false,
            },
            _ if signal == Signal::SIGSTOP => Delivery::Stop(signal),
            SIG_IGN => Delivery::Ignore(signal),
            SIG_DFL => match signal.default_action() {
                DefaultAction::Terminate => Delivery::Terminate {
                    signal,
                    core_dump: false,
                },
                DefaultAction::CoreDump => Delivery::Terminate {
                    signal,
                    core_dump: true,
                },
                DefaultAction::Stop => Delivery::Stop(signal),
                DefaultAction::Ignore | DefaultAction::Continue => Delivery::Ignore(signal),
            },
            _ => {
                let saved_mask = self.blocked;
                let mut during = self.blocked.union(SigSet(action.sa_mask));
                if action.sa_flags & SA_NODEFER == 0 {
                    during = during.with(signal);
                }
                self.set_blocked(during);
                if action.sa_flags & SA_RESETHAND != 0 {
                    self.actions[signal.number() as usize - 1] = Sigaction::default();
                }
                Delivery::Handler {
                    signal,
                    action,
                    saved_mask,
                }
            }
        };
        Some(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linux_abi::signal::{SA_RESTORER, SA_SIGINFO};

    fn handler(address: u64, flags: u64, mask: SigSet) -> Sigaction {
        Sigaction {
            sa_handler: address,
            sa_flags: flags | SA_RESTORER,
            sa_restorer: 0x40_1000,
            sa_mask: mask.0,
        }
    }

    #[test]
    fn default_actions_on_delivery() {
        let mut state = SignalState::new();
        state.post(Signal::SIGTERM);
        assert_eq!(
            state.take_next(),
            Some(Delivery::Terminate {
                signal: Signal::SIGTERM,
                core_dump: false
            })
        );
        state.post(Signal::SIGQUIT);
        let delivery = state.take_next().unwrap();
        assert_eq!(
            delivery,
            Delivery::Terminate {
                signal: Signal::SIGQUIT,
                core_dump: true
            }
        );
        assert_eq!(delivery.wait_status().unwrap().encode(), 0x83);
        state.post(Signal::SIGTSTP);
        assert_eq!(state.take_next(), Some(Delivery::Stop(Signal::SIGTSTP)));
        assert_eq!(state.take_next(), None);
    }

    #[test]
    fn default_ignored_signals_are_discarded_at_post() {
        let mut state = SignalState::new();
        let posted = state.post(Signal::SIGCHLD);
        assert_eq!(
            posted,
            Posted {
                queued: false,
                wake: false,
                resume: false
            }
        );
        assert!(state.pending().is_empty());
        state
            .sigprocmask(SIG_BLOCK, Some(SigSet::of(Signal::SIGCHLD)))
            .unwrap();
        assert!(
            state.post(Signal::SIGCHLD).queued,
            "blocked signals are kept"
        );
        state
            .sigprocmask(SIG_UNBLOCK, Some(SigSet::of(Signal::SIGCHLD)))
            .unwrap();
        assert_eq!(state.take_next(), Some(Delivery::Ignore(Signal::SIGCHLD)));
    }

    #[test]
    fn kill_and_stop_cannot_be_caught_or_blocked() {
        let mut state = SignalState::new();
        let action = handler(0x40_2000, 0, SigSet::EMPTY);
        assert_eq!(
            state.set_action(Signal::SIGKILL, Some(action)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            state.set_action(Signal::SIGSTOP, Some(Sigaction::default())),
            Err(Errno::EINVAL)
        );
        assert!(
            state.set_action(Signal::SIGKILL, None).is_ok(),
            "reading is allowed"
        );
        state.sigprocmask(SIG_SETMASK, Some(SigSet::FULL)).unwrap();
        assert!(!state.blocked().contains(Signal::SIGKILL));
        assert!(!state.blocked().contains(Signal::SIGSTOP));
        assert!(state.blocked().contains(Signal::SIGINT));
        assert!(state.post(Signal::SIGKILL).wake);
        assert_eq!(
            state.take_next(),
            Some(Delivery::Terminate {
                signal: Signal::SIGKILL,
                core_dump: false
            })
        );
    }

    #[test]
    fn handler_masks_and_resethand() {
        let mut state = SignalState::new();
        let mask = SigSet::of(Signal::SIGUSR2).with(Signal::SIGKILL);
        let action = handler(0x40_2000, SA_RESETHAND | SA_SIGINFO, mask);
        state.set_action(Signal::SIGUSR1, Some(action)).unwrap();
        assert!(!SigSet(state.action(Signal::SIGUSR1).sa_mask).contains(Signal::SIGKILL));
        state
            .sigprocmask(SIG_BLOCK, Some(SigSet::of(Signal::SIGHUP)))
            .unwrap();
        state.post(Signal::SIGUSR1);
        let Some(Delivery::Handler {
            signal,
            action,
            saved_mask,
        }) = state.take_next()
        else {
            panic!("expected a handler");
        };
        assert_eq!(signal, Signal::SIGUSR1);
        assert_eq!(action.sa_handler, 0x40_2000);
        assert_eq!(saved_mask, SigSet::of(Signal::SIGHUP));
        let during = state.blocked();
        assert!(during.contains(Signal::SIGUSR1) && during.contains(Signal::SIGUSR2));
        assert!(during.contains(Signal::SIGHUP));
        assert_eq!(
            state.action(Signal::SIGUSR1).sa_handler,
            SIG_DFL,
            "SA_RESETHAND"
        );
        state.set_blocked(saved_mask);
        assert_eq!(
            state.blocked(),
            SigSet::of(Signal::SIGHUP),
            "rt_sigreturn restores"
        );
    }

    #[test]
    fn nodefer_leaves_the_signal_unblocked() {
        let mut state = SignalState::new();
        state
            .set_action(
                Signal::SIGALRM,
                Some(handler(0x1000, SA_NODEFER, SigSet::EMPTY)),
            )
            .unwrap();
        state.post(Signal::SIGALRM);
        assert!(matches!(state.take_next(), Some(Delivery::Handler { .. })));
        assert!(!state.blocked().contains(Signal::SIGALRM));
    }

    #[test]
    fn blocked_signals_wait_and_lowest_goes_first() {
        let mut state = SignalState::new();
        state
            .sigprocmask(SIG_SETMASK, Some(SigSet::of(Signal::SIGINT)))
            .unwrap();
        assert_eq!(
            state.post(Signal::SIGINT),
            Posted {
                queued: true,
                wake: false,
                resume: false
            }
        );
        assert!(state.post(Signal::SIGTERM).wake);
        state.post(Signal::SIGHUP);
        assert_eq!(state.pending_blocked(), SigSet::of(Signal::SIGINT));
        assert_eq!(state.next_deliverable(), Some(Signal::SIGHUP));
        state.post(Signal::SIGSEGV);
        assert_eq!(
            state.next_deliverable(),
            Some(Signal::SIGSEGV),
            "faults first"
        );
        state
            .set_action(Signal::SIGTERM, Some(handler(0x1000, 0, SigSet::EMPTY)))
            .unwrap();
        state
            .set_action(Signal::SIGHUP, Some(handler(0x1000, 0, SigSet::EMPTY)))
            .unwrap();
        state
            .set_action(Signal::SIGSEGV, Some(handler(0x1000, 0, SigSet::EMPTY)))
            .unwrap();
        let order: std::vec::Vec<u32> = core::iter::from_fn(|| {
            state.take_next().map(|delivery| match delivery {
                Delivery::Handler {
                    signal, saved_mask, ..
                } => {
                    state.set_blocked(saved_mask);
                    signal.number()
                }
                other => panic!("{other:?}"),
            })
        })
        .collect();
        assert_eq!(order, [11, 1, 15]);
        assert!(!state.has_deliverable());
        state.sigprocmask(SIG_SETMASK, Some(SigSet::EMPTY)).unwrap();
        assert!(state.has_deliverable());
    }

    #[test]
    fn ignoring_discards_pending() {
        let mut state = SignalState::new();
        state
            .sigprocmask(SIG_BLOCK, Some(SigSet::of(Signal::SIGUSR1)))
            .unwrap();
        state.post(Signal::SIGUSR1);
        let ignore = Sigaction {
            sa_handler: SIG_IGN,
            ..Sigaction::default()
        };
        state.set_action(Signal::SIGUSR1, Some(ignore)).unwrap();
        assert!(state.pending().is_empty());
        state.post(Signal::SIGUSR1);
        assert!(
            state.pending().contains(Signal::SIGUSR1),
            "blocked: kept even if ignored"
        );
        state.sigprocmask(SIG_SETMASK, Some(SigSet::EMPTY)).unwrap();
        assert!(
            !state.post(Signal::SIGUSR1).queued,
            "unblocked and ignored: discarded"
        );
        assert_eq!(
            state.take_next(),
            Some(Delivery::Ignore(Signal::SIGUSR1)),
            "the instance queued while blocked is delivered as ignored"
        );
    }

    #[test]
    fn continue_and_stop_cancel_each_other() {
        let mut state = SignalState::new();
        state.sigprocmask(SIG_SETMASK, Some(SigSet::FULL)).unwrap();
        state.post(Signal::SIGTSTP);
        state.post(Signal::SIGTTIN);
        let posted = state.post(Signal::SIGCONT);
        assert!(posted.resume, "resume even though SIGCONT is blocked");
        assert!(!state.pending().contains(Signal::SIGTSTP));
        assert!(!state.pending().contains(Signal::SIGTTIN));
        assert!(state.pending().contains(Signal::SIGCONT));
        state.post(Signal::SIGSTOP);
        assert!(!state.pending().contains(Signal::SIGCONT));
        let mut unblocked = SignalState::new();
        let posted = unblocked.post(Signal::SIGCONT);
        assert_eq!(
            posted,
            Posted {
                queued: true,
                wake: true,
                resume: true
            }
        );
        assert_eq!(
            unblocked.take_next(),
            Some(Delivery::Ignore(Signal::SIGCONT))
        );
    }

    #[test]
    fn sigprocmask_how_values() {
        let mut state = SignalState::new();
        let a = SigSet::of(Signal::SIGINT).with(Signal::SIGQUIT);
        assert_eq!(state.sigprocmask(SIG_BLOCK, Some(a)), Ok(SigSet::EMPTY));
        assert_eq!(
            state.sigprocmask(SIG_UNBLOCK, Some(SigSet::of(Signal::SIGINT))),
            Ok(a)
        );
        assert_eq!(state.blocked(), SigSet::of(Signal::SIGQUIT));
        assert_eq!(state.sigprocmask(7, Some(a)), Err(Errno::EINVAL));
        assert_eq!(
            state.sigprocmask(7, None),
            Ok(SigSet::of(Signal::SIGQUIT)),
            "read-only"
        );
    }

    #[test]
    fn exec_and_fork() {
        let mut state = SignalState::new();
        state
            .set_action(
                Signal::SIGINT,
                Some(handler(0x1000, SA_RESTART, SigSet::FULL)),
            )
            .unwrap();
        let ignore = Sigaction {
            sa_handler: SIG_IGN,
            ..Sigaction::default()
        };
        state.set_action(Signal::SIGPIPE, Some(ignore)).unwrap();
        state
            .sigprocmask(SIG_BLOCK, Some(SigSet::of(Signal::SIGUSR1)))
            .unwrap();
        state.post(Signal::SIGUSR1);
        let child = state.forked();
        assert!(child.pending().is_empty());
        assert_eq!(child.blocked(), state.blocked());
        assert_eq!(child.action(Signal::SIGINT).sa_handler, 0x1000);
        state.exec();
        assert_eq!(state.action(Signal::SIGINT), Sigaction::default());
        assert_eq!(state.action(Signal::SIGPIPE).sa_handler, SIG_IGN);
        assert!(
            state.pending().contains(Signal::SIGUSR1),
            "pending survives exec"
        );
        assert!(
            state.blocked().contains(Signal::SIGUSR1),
            "mask survives exec"
        );
    }

    #[test]
    fn restart_decisions() {
        let restarting = handler(0x1000, SA_RESTART, SigSet::EMPTY);
        let plain = handler(0x1000, 0, SigSet::EMPTY);
        assert_eq!(
            syscall_restart(Errno::ERESTARTSYS, Some(&restarting)),
            Restart::Again
        );
        assert_eq!(
            syscall_restart(Errno::ERESTARTSYS, Some(&plain)),
            Restart::Interrupted
        );
        assert_eq!(syscall_restart(Errno::ERESTARTSYS, None), Restart::Again);
        assert_eq!(
            syscall_restart(Errno::ERESTARTNOHAND, Some(&restarting)),
            Restart::Interrupted
        );
        assert_eq!(syscall_restart(Errno::ERESTARTNOHAND, None), Restart::Again);
        assert_eq!(
            syscall_restart(Errno::ERESTARTNOINTR, Some(&plain)),
            Restart::Again
        );
        assert_eq!(
            syscall_restart(Errno::ERESTART_RESTARTBLOCK, None),
            Restart::ThroughRestartSyscall
        );
        assert_eq!(
            syscall_restart(Errno::ERESTART_RESTARTBLOCK, Some(&restarting)),
            Restart::Interrupted
        );
        assert_eq!(
            syscall_restart(Errno::EINTR, Some(&plain)),
            Restart::NotRestartable
        );
    }

    #[test]
    fn wait_status_helpers() {
        assert_eq!(WaitStatus::exited(1).encode(), 0x100);
        let stop = Delivery::Stop(Signal::SIGTTOU);
        assert_eq!(stop.wait_status(), Some(WaitStatus::Stopped(22)));
        assert_eq!(stop.wait_status().unwrap().encode(), 0x167f);
        assert_eq!(Delivery::Ignore(Signal::SIGCHLD).wait_status(), None);
    }

    #[test]
    fn seeded_random_posts_never_deliver_blocked_signals() {
        let mut seed = 0xfeed_face_cafe_beefu64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut state = SignalState::new();
        for number in 1..=64 {
            let signal = Signal::new(number).unwrap();
            if !signal.is_unblockable() && next() % 2 == 0 {
                state
                    .set_action(signal, Some(handler(0x1000, 0, SigSet(next()))))
                    .unwrap();
            }
        }
        for _ in 0..10_000 {
            match next() % 3 {
                0 => {
                    let signal = Signal::new((next() % 64) as u32 + 1).unwrap();
                    state.post(signal);
                }
                1 => {
                    state
                        .sigprocmask(SIG_SETMASK, Some(SigSet(next())))
                        .unwrap();
                }
                _ => {
                    let blocked = state.blocked();
                    if let Some(delivery) = state.take_next() {
                        let signal = match delivery {
                            Delivery::Handler {
                                signal, saved_mask, ..
                            } => {
                                assert_eq!(saved_mask, blocked);
                                signal
                            }
                            Delivery::Terminate { signal, .. }
                            | Delivery::Stop(signal)
                            | Delivery::Ignore(signal) => signal,
                        };
                        assert!(!blocked.contains(signal), "{signal:?} was blocked");
                        assert!(!state.pending().contains(signal));
                    }
                }
            }
            assert!(state.blocked().intersection(SigSet::UNBLOCKABLE).is_empty());
        }
    }
}
