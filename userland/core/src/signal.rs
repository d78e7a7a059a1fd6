//! Signals as users write and read them: `INT`, `SIGINT`, `9`, `Killed`.
//!
//! Used by `kill` to parse `-INT`, `-SIGINT`, `-s TERM` or `-9`, by `kill
//! -l`, and by the shell to report how a job ended. The numbers and C
//! names come from `linux_abi::signal`; this type also holds 0 (`kill -0`
//! only checks that a process exists), which is no signal there.

/// A Linux signal number (1..=64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signal(pub i32);

/// The number of standard (named) signals.
const STANDARD_SIGNALS: i32 = 31;

/// What the shell prints when a job dies of a signal (bash's texts).
const DESCRIPTIONS: [&str; 31] = [
    "Hangup",
    "Interrupt",
    "Quit",
    "Illegal instruction",
    "Trace/breakpoint trap",
    "Aborted",
    "Bus error",
    "Floating point exception",
    "Killed",
    "User defined signal 1",
    "Segmentation fault",
    "User defined signal 2",
    "Broken pipe",
    "Alarm clock",
    "Terminated",
    "Stack fault",
    "Child exited",
    "Continued",
    "Stopped (signal)",
    "Stopped",
    "Stopped (tty input)",
    "Stopped (tty output)",
    "Urgent I/O condition",
    "CPU time limit exceeded",
    "File size limit exceeded",
    "Virtual timer expired",
    "Profiling timer expired",
    "Window changed",
    "I/O possible",
    "Power failure",
    "Bad system call",
];

impl Signal {
    pub const HUP: Signal = Signal(1);
    pub const INT: Signal = Signal(2);
    pub const QUIT: Signal = Signal(3);
    pub const KILL: Signal = Signal(9);
    pub const PIPE: Signal = Signal(13);
    pub const TERM: Signal = Signal(15);
    pub const CHLD: Signal = Signal(17);

    /// The highest signal number Linux accepts (`_NSIG` - 1).
    pub const MAX: i32 = 64;

    /// Parses `INT`, `SIGINT`, `int` or `2` (0 is allowed: `kill -0`
    /// checks that a process exists).
    pub fn parse(text: &str) -> Option<Signal> {
        if let Ok(number) = text.parse::<i32>() {
            return (0..=Self::MAX).contains(&number).then_some(Signal(number));
        }
        let upper: [u8; 16] = {
            let mut buffer = [0u8; 16];
            if text.len() > buffer.len() {
                return None;
            }
            for (slot, byte) in buffer.iter_mut().zip(text.bytes()) {
                *slot = byte.to_ascii_uppercase();
            }
            buffer
        };
        let upper = core::str::from_utf8(&upper[..text.len()]).ok()?;
        let name = upper.strip_prefix("SIG").unwrap_or(upper);
        Self::all().find(|signal| signal.name() == Some(name))
    }

    /// The name without `SIG` (`INT`), for the standard signals.
    pub fn name(self) -> Option<&'static str> {
        let number = u32::try_from(self.0).ok()?;
        let signal = linux_abi::signal::Signal::new(number)?;
        signal.name()?.strip_prefix("SIG")
    }

    /// What a shell prints for a job this signal ended (`Killed`).
    pub fn description(self) -> Option<&'static str> {
        usize::try_from(self.0 - 1)
            .ok()
            .and_then(|index| DESCRIPTIONS.get(index).copied())
    }

    /// Every standard signal, in number order.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=STANDARD_SIGNALS).map(Signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_prefixes_parse() {
        assert_eq!(Signal::parse("INT"), Some(Signal::INT));
        assert_eq!(Signal::parse("SIGKILL"), Some(Signal::KILL));
        assert_eq!(Signal::parse("term"), Some(Signal::TERM));
        assert_eq!(Signal::parse("9"), Some(Signal::KILL));
        assert_eq!(Signal::parse("0"), Some(Signal(0)));
        assert_eq!(Signal::parse("65"), None);
        assert_eq!(Signal::parse("-1"), None);
        assert_eq!(Signal::parse("NOPE"), None);
        assert_eq!(Signal::parse("A_VERY_LONG_SIGNAL_NAME"), None);
        assert_eq!(Signal::CHLD.name(), Some("CHLD"));
        assert_eq!(Signal(0).name(), None);
        assert_eq!(Signal::KILL.description(), Some("Killed"));
        assert_eq!(Signal::all().count(), 31);
        for signal in Signal::all() {
            assert_eq!(Signal::parse(signal.name().unwrap()), Some(signal));
        }
    }
}
