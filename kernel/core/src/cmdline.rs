//! The kernel command line: whitespace-separated `name` or `name=value` words.
//!
//! Parsing never fails as a whole: every word that is not understood is
//! reported once through a callback (so the kernel can print it before it
//! has a heap) and then ignored, and the boot goes on with defaults. That is
//! what a user expects from a typo on a boot loader line.

use core::fmt;

/// What the kernel does once its work (self-checks, benchmarks) is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownAction {
    /// `SCHEDOP_shutdown(SHUTDOWN_reboot)`: as dom0 Xen reboots the machine,
    /// which makes `qemu -no-reboot` exit with status 0.
    Reboot,
    /// `SCHEDOP_shutdown(SHUTDOWN_poweroff)`: as dom0 Xen halts the machine.
    Poweroff,
}

/// A deliberate crash, so tests can prove the fault reporting path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashHook {
    /// Write through an unmapped address: vector 14 with `cr2` set.
    PageFault,
    /// Call `panic!`.
    Panic,
    /// Divide by zero: vector 0.
    Divide,
}

/// Most verbose log level printed to the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The options the kernel understands, with their defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// `selftest`: run the boot-time self-checks, then shut down.
    pub selftest: bool,
    /// `bench`: run the benchmarks, then shut down.
    pub bench: bool,
    /// `hostclock=<unix seconds>`: the host's clock when the VM was launched.
    pub hostclock_secs: Option<u64>,
    /// `shutdown=reboot|poweroff`. Unset, dom0 reboots when done and a
    /// domU stays up serving the toolstack.
    pub shutdown: Option<ShutdownAction>,
    /// `crash=pagefault|panic|divide`.
    pub crash: Option<CrashHook>,
    /// `loglevel=error|warn|info|debug|trace`.
    pub log_level: LogLevel,
    /// `spin=<seconds>`: after booting, burn the CPU for this long and
    /// report how much of it the VCPU really got (virtual vs real time).
    pub spin_secs: Option<u64>,
    /// `init=<path>`: the program to start from the initrd (default
    /// `/init`), as a byte range of the command line.
    pub init_path: Option<(usize, usize)>,
    /// Byte offset of the words after `--`: the init program's arguments.
    pub init_args_offset: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            selftest: false,
            bench: false,
            hostclock_secs: None,
            shutdown: None,
            crash: None,
            log_level: LogLevel::Info,
            spin_secs: None,
            init_path: None,
            init_args_offset: None,
        }
    }
}

/// One word of the command line the kernel did not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnostic<'a> {
    /// A name the kernel does not know.
    UnknownOption(&'a str),
    /// A known name with a value it cannot take.
    BadValue {
        name: &'a str,
        value: &'a str,
        expected: &'static str,
    },
    /// A flag given a value, or an option given none.
    WrongForm {
        name: &'a str,
        expected: &'static str,
    },
    /// A word with an empty name (`=x`) or bytes that are not printable.
    Malformed(&'a str),
}

impl fmt::Display for Diagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnostic::UnknownOption(name) => write!(f, "unknown option '{name}' ignored"),
            Diagnostic::BadValue {
                name,
                value,
                expected,
            } => write!(
                f,
                "option '{name}' has bad value '{value}' (expected {expected}); ignored"
            ),
            Diagnostic::WrongForm { name, expected } => {
                write!(
                    f,
                    "option '{name}' malformed (expected {expected}); ignored"
                )
            }
            Diagnostic::Malformed(word) => write!(f, "malformed word '{word}' ignored"),
        }
    }
}

/// Parses `cmdline`, calling `report` once per word that was not accepted.
pub fn parse<'a>(cmdline: &'a str, mut report: impl FnMut(Diagnostic<'a>)) -> Options {
    let mut options = Options::default();
    for word in cmdline.split_ascii_whitespace() {
        let offset = word.as_ptr() as usize - cmdline.as_ptr() as usize;
        if word == "--" {
            // Everything after `--` belongs to init.
            options.init_args_offset = Some(offset + 2);
            break;
        }
        if !word.bytes().all(|b| b.is_ascii_graphic()) {
            report(Diagnostic::Malformed(word));
            continue;
        }
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
        if name.is_empty() {
            report(Diagnostic::Malformed(word));
            continue;
        }
        let flag = |options_field: &mut bool, report: &mut dyn FnMut(Diagnostic<'a>)| {
            if value.is_some() {
                report(Diagnostic::WrongForm {
                    name,
                    expected: "no value",
                });
            } else {
                *options_field = true;
            }
        };
        match name {
            "selftest" => flag(&mut options.selftest, &mut report),
            "bench" => flag(&mut options.bench, &mut report),
            "hostclock" => match value.map(|v| (v, v.parse::<u64>())) {
                Some((_, Ok(secs))) => options.hostclock_secs = Some(secs),
                Some((value, Err(_))) => report(Diagnostic::BadValue {
                    name,
                    value,
                    expected: "unix seconds",
                }),
                None => report(Diagnostic::WrongForm {
                    name,
                    expected: "hostclock=<unix seconds>",
                }),
            },
            "init" => match value {
                Some(path) if path.starts_with('/') => {
                    let start = offset + name.len() + 1;
                    options.init_path = Some((start, start + path.len()));
                }
                Some(value) => report(Diagnostic::BadValue {
                    name,
                    value,
                    expected: "an absolute path",
                }),
                None => report(Diagnostic::WrongForm {
                    name,
                    expected: "init=<path>",
                }),
            },
            "spin" => match value.map(|v| (v, v.parse::<u64>())) {
                Some((_, Ok(secs))) if (1..=3600).contains(&secs) => options.spin_secs = Some(secs),
                Some((value, _)) => report(Diagnostic::BadValue {
                    name,
                    value,
                    expected: "seconds from 1 to 3600",
                }),
                None => report(Diagnostic::WrongForm {
                    name,
                    expected: "spin=<seconds>",
                }),
            },
            "shutdown" => match value {
                Some("reboot") => options.shutdown = Some(ShutdownAction::Reboot),
                Some("poweroff") => options.shutdown = Some(ShutdownAction::Poweroff),
                Some(value) => report(Diagnostic::BadValue {
                    name,
                    value,
                    expected: "reboot or poweroff",
                }),
                None => report(Diagnostic::WrongForm {
                    name,
                    expected: "shutdown=reboot|poweroff",
                }),
            },
            "crash" => match value {
                Some("pagefault") => options.crash = Some(CrashHook::PageFault),
                Some("panic") => options.crash = Some(CrashHook::Panic),
                Some("divide") => options.crash = Some(CrashHook::Divide),
                Some(value) => report(Diagnostic::BadValue {
                    name,
                    value,
                    expected: "pagefault, panic or divide",
                }),
                None => report(Diagnostic::WrongForm {
                    name,
                    expected: "crash=pagefault|panic|divide",
                }),
            },
            "loglevel" => {
                let level = match value {
                    Some("error") => Some(LogLevel::Error),
                    Some("warn") => Some(LogLevel::Warn),
                    Some("info") => Some(LogLevel::Info),
                    Some("debug") => Some(LogLevel::Debug),
                    Some("trace") => Some(LogLevel::Trace),
                    _ => None,
                };
                match (level, value) {
                    (Some(level), _) => options.log_level = level,
                    (None, Some(value)) => report(Diagnostic::BadValue {
                        name,
                        value,
                        expected: "error, warn, info, debug or trace",
                    }),
                    (None, None) => report(Diagnostic::WrongForm {
                        name,
                        expected: "loglevel=<level>",
                    }),
                }
            }
            _ => report(Diagnostic::UnknownOption(name)),
        }
    }
    options
}

/// Turns the NUL-padded `start_info.cmd_line` bytes into text.
///
/// Stops at the first NUL; bytes that are not UTF-8 end the line there, so
/// garbage from a loader never reaches the parser as text.
pub fn from_start_info_bytes(bytes: &[u8]) -> &str {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    match core::str::from_utf8(&bytes[..len]) {
        Ok(text) => text,
        Err(error) => {
            core::str::from_utf8(&bytes[..error.valid_up_to()]).expect("prefix checked valid")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn parse_collect(line: &str) -> (Options, Vec<String>) {
        let mut diagnostics = Vec::new();
        let options = parse(line, |d| diagnostics.push(d.to_string()));
        (options, diagnostics)
    }

    #[test]
    fn empty_line_gives_defaults() {
        let (options, diagnostics) = parse_collect("   ");
        assert_eq!(options, Options::default());
        assert!(diagnostics.is_empty());
    }

    #[test]
    fn known_options_are_taken() {
        let (options, diagnostics) = parse_collect(
            "selftest bench hostclock=1700000000 shutdown=poweroff crash=divide loglevel=debug spin=5",
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(options.selftest && options.bench);
        assert_eq!(options.hostclock_secs, Some(1_700_000_000));
        assert_eq!(options.shutdown, Some(ShutdownAction::Poweroff));
        assert_eq!(options.crash, Some(CrashHook::Divide));
        assert_eq!(options.log_level, LogLevel::Debug);
        assert_eq!(options.spin_secs, Some(5));
        let (options, diagnostics) = parse_collect("spin=0 spin=x");
        assert_eq!(options.spin_secs, None);
        assert_eq!(diagnostics.len(), 2);
    }

    #[test]
    fn unknown_and_malformed_words_are_reported_once_each_and_ignored() {
        let (options, diagnostics) =
            parse_collect("frobnicate =x selftest=1 hostclock=soon shutdown crash=boom bench");
        assert!(options.bench);
        assert!(!options.selftest);
        assert_eq!(options.hostclock_secs, None);
        assert_eq!(options.crash, None);
        assert_eq!(
            diagnostics,
            [
                "unknown option 'frobnicate' ignored",
                "malformed word '=x' ignored",
                "option 'selftest' malformed (expected no value); ignored",
                "option 'hostclock' has bad value 'soon' (expected unix seconds); ignored",
                "option 'shutdown' malformed (expected shutdown=reboot|poweroff); ignored",
                "option 'crash' has bad value 'boom' (expected pagefault, panic or divide); ignored",
            ]
        );
    }

    #[test]
    fn init_path_and_arguments_after_double_dash() {
        let line = "selftest init=/bin/busybox -- echo hi --not-ours";
        let (options, diagnostics) = parse_collect(line);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let (start, end) = options.init_path.unwrap();
        assert_eq!(&line[start..end], "/bin/busybox");
        assert_eq!(
            line[options.init_args_offset.unwrap()..].trim(),
            "echo hi --not-ours"
        );
        let (options, diagnostics) = parse_collect("init=relative");
        assert_eq!(options.init_path, None);
        assert_eq!(diagnostics.len(), 1);
    }

    #[test]
    fn later_words_override_earlier_ones() {
        let (options, _) = parse_collect("shutdown=poweroff shutdown=reboot");
        assert_eq!(options.shutdown, Some(ShutdownAction::Reboot));
    }

    #[test]
    fn start_info_bytes_stop_at_nul_and_at_invalid_utf8() {
        assert_eq!(from_start_info_bytes(b"selftest\0garbage"), "selftest");
        assert_eq!(from_start_info_bytes(b"bench \xff\xfe tail"), "bench ");
        assert_eq!(from_start_info_bytes(b"no nul at all"), "no nul at all");
        let (_, diagnostics) = parse_collect(from_start_info_bytes(b"a\x01b"));
        assert_eq!(diagnostics, ["malformed word 'a\u{1}b' ignored"]);
    }
}
