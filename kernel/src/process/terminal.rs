//! The console as the processes' terminal.
//!
//! Input comes from Xen: as dom0 through `CONSOLEIO_read` (signalled by
//! VIRQ_CONSOLE), as a domU from the PV console ring. [`pump`] moves it
//! through the line discipline (`kernel_core::tty`): the echo goes back to
//! the console, Ctrl-C and friends become signals for the foreground
//! process group, and edited input waits for [`read`]. `pump` runs
//! whenever an event arrives (the scheduler's idle loop and upcalls that
//! interrupt user mode), so Ctrl-C reaches a program that never reads.

use core::sync::atomic::AtomicBool;

use kernel_core::tty::LineDiscipline;
use linux_abi::ioctl;
use linux_abi::termios::{Termios, Winsize};

use super::*;

static TTY: Mutex<Option<LineDiscipline>> = Mutex::new(None);
/// The foreground process group: it gets the keyboard's signals.
static FOREGROUND: AtomicU32 = AtomicU32::new(1);
/// The VIRQ_CONSOLE port (dom0), once bound; `NO_PORT` until then.
static VIRQ_PORT: AtomicU32 = AtomicU32::new(NO_PORT);
const NO_PORT: u32 = u32::MAX;
/// Read Xen's console even without a new VIRQ_CONSOLE (once, for what
/// was typed before the port was bound).
static READ_ANYWAY: AtomicBool = AtomicBool::new(true);

/// Makes Xen tell us about console input (dom0); the domU ring's event is
/// bound when the ring is attached.
pub(super) fn init(foreground: u32) {
    *TTY.lock() = Some(LineDiscipline::new());
    FOREGROUND.store(foreground, Ordering::SeqCst);
    if !crate::xen::console::ring_attached() && VIRQ_PORT.load(Ordering::SeqCst) == NO_PORT {
        match hypercall::bind_virq(xen_abi::xen::VIRQ_CONSOLE) {
            Ok(port) => match crate::events::bind(port) {
                Ok(()) => VIRQ_PORT.store(port.0, Ordering::SeqCst),
                Err(error) => log::warn!("terminal: VIRQ_CONSOLE: {error:?}"),
            },
            Err(error) => log::warn!("terminal: no console input: {error}"),
        }
    }
}

/// Reads what Xen has for us. As dom0 that is a hypercall, made only
/// when VIRQ_CONSOLE said there is input (pump runs on every event).
fn take_input(out: &mut [u8]) -> usize {
    if crate::xen::console::ring_attached() {
        return crate::xen::console::read_input(out);
    }
    let port = VIRQ_PORT.load(Ordering::SeqCst);
    if port == NO_PORT {
        return 0;
    }
    let signalled = crate::events::take_fired(xen_abi::EventChannelPort(port));
    if !signalled && !READ_ANYWAY.swap(false, Ordering::SeqCst) {
        return 0;
    }
    let count = hypercall::console_read(out).map_or(0, |count| count as usize);
    if count == out.len() {
        // Maybe more: read again on the next pump, event or not.
        READ_ANYWAY.store(true, Ordering::SeqCst);
    }
    count
}

/// Feeds console input through the line discipline; echoes, raises
/// signals, and wakes readers.
pub fn pump() {
    if TTY.lock().is_none() {
        return; // no processes: input stays for the domU monitor
    }
    let mut buffer = [0u8; 128];
    loop {
        let count = take_input(&mut buffer);
        if count == 0 {
            return;
        }
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        {
            let mut tty = TTY.lock();
            let Some(tty) = tty.as_mut() else {
                return;
            };
            for &byte in &buffer[..count.min(buffer.len())] {
                let effect = tty.input(byte);
                echo.extend(effect.echo);
                signals.extend(effect.signal);
            }
        }
        if !echo.is_empty() {
            crate::kprint!("{}", String::from_utf8_lossy(&echo));
        }
        for signal in signals {
            let _ = post_to_group(FOREGROUND.load(Ordering::SeqCst), signal.number());
        }
        wake_where(|wait| matches!(wait, Wait::Console | Wait::Poll(_)));
    }
}

/// `read` on the console: blocks until a line (or, in raw mode, a byte)
/// is ready; a signal interrupts the wait.
pub(super) fn read(len: usize) -> Result<Vec<u8>, i64> {
    loop {
        pump();
        let mut buffer = alloc::vec![0u8; len.min(4096)];
        let ready = TTY.lock().as_mut().map(|tty| tty.read(&mut buffer));
        match ready {
            None => return Ok(Vec::new()),
            Some(Some(count)) => {
                buffer.truncate(count);
                return Ok(buffer);
            }
            Some(None) => sleep_interruptibly(Wait::Console)?,
        }
    }
}

/// True if a console `read` would not block (poll).
pub(super) fn readable() -> bool {
    pump();
    TTY.lock().as_ref().is_none_or(|tty| tty.readable())
}

fn with_tty<R>(f: impl FnOnce(&mut LineDiscipline) -> R) -> Result<R, i64> {
    TTY.lock().as_mut().map(f).ok_or(ENOTTY)
}

/// Terminal `ioctl`s on the console.
pub(super) fn ioctl(request: u32, argument: u64) -> Result<u64, i64> {
    const TERMIOS_BYTES: u64 = core::mem::size_of::<Termios>() as u64;
    const WINSIZE_BYTES: u64 = core::mem::size_of::<Winsize>() as u64;
    match request {
        ioctl::TCGETS => {
            let termios = with_tty(|tty| tty.termios())?;
            copy_to_user(argument, &termios.to_bytes()).map(|()| 0)
        }
        ioctl::TCSETS | ioctl::TCSETSW | ioctl::TCSETSF => {
            let bytes = copy_from_user(argument, TERMIOS_BYTES)?;
            let termios = Termios::from_bytes(bytes.as_slice().try_into().map_err(|_| EFAULT)?);
            with_tty(|tty| {
                if request == ioctl::TCSETSF {
                    tty.flush_input();
                }
                tty.set_termios(termios)
            })
            .map(|()| 0)
        }
        ioctl::TIOCGWINSZ => {
            let size = with_tty(|tty| tty.winsize())?;
            copy_to_user(argument, &size.to_bytes()).map(|()| 0)
        }
        ioctl::TIOCSWINSZ => {
            let bytes = copy_from_user(argument, WINSIZE_BYTES)?;
            let size = Winsize::from_bytes(bytes.as_slice().try_into().map_err(|_| EFAULT)?);
            with_tty(|tty| tty.set_winsize(size)).map(|()| 0)
        }
        ioctl::TIOCGPGRP => {
            let group = FOREGROUND.load(Ordering::SeqCst) as i32;
            copy_to_user(argument, &group.to_le_bytes()).map(|()| 0)
        }
        ioctl::TIOCSPGRP => {
            let bytes = copy_from_user(argument, 4)?;
            let group = i32::from_le_bytes(bytes.as_slice().try_into().map_err(|_| EFAULT)?);
            let exists = PROCESSES
                .lock()
                .values()
                .any(|p| p.pgid as i32 == group && group > 0);
            if !exists {
                return Err(ESRCH);
            }
            FOREGROUND.store(group as u32, Ordering::SeqCst);
            Ok(0)
        }
        ioctl::TIOCGSID => {
            let session = with_current(|p| p.sid) as i32;
            copy_to_user(argument, &session.to_le_bytes()).map(|()| 0)
        }
        ioctl::FIONREAD => {
            let count = with_tty(|tty| tty.ready_len())? as i32;
            copy_to_user(argument, &count.to_le_bytes()).map(|()| 0)
        }
        ioctl::TCFLSH => with_tty(|tty| tty.flush_input()).map(|()| 0),
        ioctl::TIOCSCTTY | ioctl::TCSBRK | ioctl::TCXONC | ioctl::TIOCNOTTY => Ok(0),
        _ => Err(EINVAL),
    }
}
