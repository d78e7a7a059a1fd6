//! Signals: posting and delivery.

use super::*;

/// Signals whose default action is to do nothing (signal(7)).
pub(super) fn ignored_by_default(signal: u32) -> bool {
    matches!(signal, 17 | 18 | 23 | 28) // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
}

/// Posts `signal` to `pid`. Only default actions exist so far: a signal
/// the process ignores (or that is ignored by default) does nothing;
/// anything else ends it (SIGSTOP included, as there is no job control).
pub(super) fn post_signal(pid: u32, signal: u32) -> Result<(), i64> {
    if signal == 0 || signal > 64 {
        return if signal == 0 { Ok(()) } else { Err(EINVAL) };
    }
    let mut processes = PROCESSES.lock();
    let process = processes.get_mut(&pid).ok_or(3)?; // ESRCH
    if matches!(process.state, State::Zombie(_)) {
        return Ok(());
    }
    let ignored = process.ignored & 1 << (signal - 1) != 0 && signal != 9;
    if !ignored && !ignored_by_default(signal) {
        process.pending_kill.get_or_insert(signal);
        if process.state == State::Blocked {
            process.state = State::Runnable;
        }
    }
    Ok(())
}

/// Ends the current process if a fatal signal is pending for it.
pub(super) fn act_on_pending_kill() {
    let pending = with_current(|process| process.pending_kill);
    if let Some(signal) = pending {
        exit_current(UserExit::Killed {
            signal,
            reason: format!("signal {signal}"),
        });
    }
}
