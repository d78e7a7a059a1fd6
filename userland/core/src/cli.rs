//! Command lines of the small tools: `kill`, `sleep`, `free`, `date`,
//! `uptime`, `init`, `sh`, `xenrs-bench`.
//!
//! Each parser takes the arguments after the program name and returns a
//! typed request or a [`UsageError`] whose text matches what coreutils or
//! procps would print after `prog: `.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::signal::Signal;
use crate::time::parse_sleep_argument;

/// Why a command line is not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    /// `-x` for an unknown `x`.
    InvalidOption(char),
    /// `--long` that the program does not know.
    UnknownLongOption(String),
    /// An option needs a value that is not there.
    MissingValue(&'static str),
    /// No operand where one is required.
    MissingOperand,
    /// An operand that does not parse, with what was expected.
    InvalidArgument {
        value: String,
        expected: &'static str,
    },
    /// More operands than the program takes.
    ExtraOperand(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::InvalidOption(letter) => write!(f, "invalid option -- '{letter}'"),
            UsageError::UnknownLongOption(option) => {
                write!(f, "unrecognized option '{option}'")
            }
            UsageError::MissingValue(option) => {
                write!(f, "option requires an argument -- '{option}'")
            }
            UsageError::MissingOperand => write!(f, "missing operand"),
            UsageError::InvalidArgument { value, expected } => {
                write!(f, "invalid {expected} '{value}'")
            }
            UsageError::ExtraOperand(operand) => write!(f, "extra operand '{operand}'"),
        }
    }
}

impl core::error::Error for UsageError {}

/// What `kill` is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillRequest {
    /// `kill -l`: list signal names (or name one: `kill -l 9`).
    List(Option<String>),
    /// Send `signal` to each pid (negative: a process group).
    Send { signal: Signal, pids: Vec<i32> },
}

/// Parses `kill [-s SIG | -SIG | -n NUM] [--] pid...` and `kill -l [sig]`.
pub fn parse_kill<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<KillRequest, UsageError> {
    let mut args = args.into_iter().peekable();
    let mut signal = Signal::TERM;
    let bad_signal = |value: &str| UsageError::InvalidArgument {
        value: value.into(),
        expected: "signal",
    };
    if let Some(&first) = args.peek() {
        if first == "-l" || first == "-L" {
            args.next();
            return Ok(KillRequest::List(args.next().map(String::from)));
        }
        if first == "-s" || first == "-n" {
            args.next();
            let value = args.next().ok_or(UsageError::MissingValue("s"))?;
            signal = Signal::parse(value).ok_or_else(|| bad_signal(value))?;
        } else if let Some(name) = first.strip_prefix('-') {
            // `-9`, `-INT`, `-SIGINT`; negative pids need `--` first.
            if first != "--" && !name.is_empty() {
                args.next();
                signal = Signal::parse(name).ok_or_else(|| bad_signal(name))?;
            }
        }
    }
    if args.peek() == Some(&"--") {
        args.next();
    }
    let pids = args
        .map(|arg| {
            arg.parse::<i32>().map_err(|_| UsageError::InvalidArgument {
                value: arg.into(),
                expected: "process id",
            })
        })
        .collect::<Result<Vec<i32>, UsageError>>()?;
    if pids.is_empty() {
        return Err(UsageError::MissingOperand);
    }
    Ok(KillRequest::Send { signal, pids })
}

/// The total of `sleep`'s operands, in nanoseconds.
pub fn parse_sleep<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<u64, UsageError> {
    let mut total: u64 = 0;
    let mut any = false;
    for arg in args {
        let nanos = parse_sleep_argument(arg).ok_or_else(|| UsageError::InvalidArgument {
            value: arg.into(),
            expected: "time interval",
        })?;
        total = total.saturating_add(nanos);
        any = true;
    }
    if any {
        Ok(total)
    } else {
        Err(UsageError::MissingOperand)
    }
}

/// The unit `free` prints in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryUnit {
    Bytes,
    Kibibytes,
    Mebibytes,
    Gibibytes,
}

impl MemoryUnit {
    /// `kib` in this unit (truncated, as procps does).
    pub fn convert(self, kib: u64) -> u64 {
        match self {
            MemoryUnit::Bytes => kib.saturating_mul(1024),
            MemoryUnit::Kibibytes => kib,
            MemoryUnit::Mebibytes => kib / 1024,
            MemoryUnit::Gibibytes => kib / (1024 * 1024),
        }
    }
}

/// Parses `free [-b|-k|-m|-g]`.
pub fn parse_free<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<MemoryUnit, UsageError> {
    let mut unit = MemoryUnit::Kibibytes;
    for arg in args {
        unit = match arg {
            "-b" | "--bytes" => MemoryUnit::Bytes,
            "-k" | "--kibi" => MemoryUnit::Kibibytes,
            "-m" | "--mebi" => MemoryUnit::Mebibytes,
            "-g" | "--gibi" => MemoryUnit::Gibibytes,
            other => return Err(unknown(other)),
        };
    }
    Ok(unit)
}

/// The error for an unexpected argument: an unknown option or operand.
fn unknown(arg: &str) -> UsageError {
    if arg.starts_with("--") {
        UsageError::UnknownLongOption(arg.into())
    } else if let Some(letter) = arg.strip_prefix('-').and_then(|rest| rest.chars().next()) {
        UsageError::InvalidOption(letter)
    } else {
        UsageError::ExtraOperand(arg.into())
    }
}

/// Parses `date [-u] [+FORMAT]`; returns the format (None: default).
pub fn parse_date<'a>(
    args: impl IntoIterator<Item = &'a str>,
) -> Result<Option<String>, UsageError> {
    let mut format = None;
    for arg in args {
        match arg {
            // Every time is UTC here: -u changes nothing.
            "-u" | "--utc" | "--universal" => {}
            _ if arg.starts_with('+') && format.is_none() => format = Some(arg[1..].into()),
            other => return Err(unknown(other)),
        }
    }
    Ok(format)
}

/// What `uptime` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UptimeStyle {
    /// ` 12:00:00 up  1:05,  load average: ...`
    Default,
    /// `-p`: `up 1 hour, 5 minutes`
    Pretty,
    /// `-s`: `2024-01-01 10:55:00`, the boot time.
    Since,
}

/// Parses `uptime [-p|-s]`.
pub fn parse_uptime<'a>(
    args: impl IntoIterator<Item = &'a str>,
) -> Result<UptimeStyle, UsageError> {
    let mut style = UptimeStyle::Default;
    for arg in args {
        style = match arg {
            "-p" | "--pretty" => UptimeStyle::Pretty,
            "-s" | "--since" => UptimeStyle::Since,
            other => return Err(unknown(other)),
        };
    }
    Ok(style)
}

/// `init`'s command line (all optional; the kernel passes none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// The start-up script, run with the shell if it exists.
    pub rc: String,
    /// The shell started after the script and restarted when it exits.
    pub shell: String,
    /// Start the shell only once and exit with its status (for tests on
    /// the host; pid 1 never returns).
    pub once: bool,
}

/// Parses `init [--rc PATH] [--shell PATH] [--once]`.
pub fn parse_init<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<InitOptions, UsageError> {
    let mut options = InitOptions {
        rc: "/etc/rc".into(),
        shell: "/bin/sh".into(),
        once: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg {
            "--rc" => options.rc = args.next().ok_or(UsageError::MissingValue("rc"))?.into(),
            "--shell" => {
                options.shell = args.next().ok_or(UsageError::MissingValue("shell"))?.into();
            }
            "--once" => options.once = true,
            // Linux passes unknown kernel parameters to init; ignore them.
            _ => {}
        }
    }
    Ok(options)
}

/// Where `sh` reads its commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellInput {
    /// `sh -c 'commands' [name [args...]]`
    Command(String),
    /// `sh file [args...]`
    File(String),
    /// `sh` or `sh -s`: standard input (interactive if a terminal).
    Stdin,
}

/// `sh`'s command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellOptions {
    pub input: ShellInput,
    /// `$0`..: the shell or script name, then the arguments.
    pub positional: Vec<String>,
    /// `-i`: prompt even if standard input is not a terminal.
    pub force_interactive: bool,
}

/// Parses `sh [-i] [-c cmd [name args...] | -s [args...] | file [args...]]`.
pub fn parse_shell<'a>(
    program: &str,
    args: impl IntoIterator<Item = &'a str>,
) -> Result<ShellOptions, UsageError> {
    let mut args = args.into_iter();
    let mut force_interactive = false;
    let mut command = false;
    let mut stdin = false;
    let mut rest: Vec<String> = Vec::new();
    for arg in args.by_ref() {
        match arg {
            "-c" => command = true,
            "-i" => force_interactive = true,
            "-s" => stdin = true,
            "--" => break,
            option if option.starts_with('-') && option.len() > 1 => {
                // Combined letters such as -ic.
                for letter in option[1..].chars() {
                    match letter {
                        'c' => command = true,
                        'i' => force_interactive = true,
                        's' => stdin = true,
                        // -e/-x/-u are common in scripts; accepted, ignored.
                        'e' | 'x' | 'u' => {}
                        other => return Err(UsageError::InvalidOption(other)),
                    }
                }
            }
            operand => {
                rest.push(operand.into());
                break;
            }
        }
    }
    rest.extend(args.map(String::from));
    let mut rest = rest.into_iter();
    let (input, zero) = if command {
        let text = rest.next().ok_or(UsageError::MissingValue("c"))?;
        let zero = rest.next().unwrap_or_else(|| program.into());
        (ShellInput::Command(text), zero)
    } else if stdin {
        (ShellInput::Stdin, program.into())
    } else {
        match rest.next() {
            Some(file) => (ShellInput::File(file.clone()), file),
            None => (ShellInput::Stdin, program.into()),
        }
    };
    let mut positional = alloc::vec![zero];
    positional.extend(rest);
    Ok(ShellOptions {
        input,
        positional,
        force_interactive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn kill_accepts_the_usual_signal_spellings() {
        let send = |signal, pids: &[i32]| KillRequest::Send {
            signal,
            pids: pids.to_vec(),
        };
        assert_eq!(parse_kill(["123"]), Ok(send(Signal::TERM, &[123])));
        assert_eq!(
            parse_kill(["-9", "1", "2"]),
            Ok(send(Signal::KILL, &[1, 2]))
        );
        assert_eq!(parse_kill(["-INT", "5"]), Ok(send(Signal::INT, &[5])));
        assert_eq!(parse_kill(["-SIGINT", "5"]), Ok(send(Signal::INT, &[5])));
        assert_eq!(parse_kill(["-s", "HUP", "5"]), Ok(send(Signal::HUP, &[5])));
        assert_eq!(
            parse_kill(["-INT", "--", "-77"]),
            Ok(send(Signal::INT, &[-77]))
        );
        assert_eq!(parse_kill(["--", "-77"]), Ok(send(Signal::TERM, &[-77])));
        assert_eq!(parse_kill(["-0", "5"]), Ok(send(Signal(0), &[5])));
        assert_eq!(parse_kill(["-l"]), Ok(KillRequest::List(None)));
        assert_eq!(
            parse_kill(["-l", "9"]),
            Ok(KillRequest::List(Some("9".into())))
        );
        assert_eq!(parse_kill([]), Err(UsageError::MissingOperand));
        assert_eq!(parse_kill(["-INT"]), Err(UsageError::MissingOperand));
        assert!(matches!(
            parse_kill(["-BOGUS", "1"]),
            Err(UsageError::InvalidArgument { .. })
        ));
        assert!(matches!(
            parse_kill(["abc"]),
            Err(UsageError::InvalidArgument { .. })
        ));
        assert_eq!(parse_kill(["-s"]), Err(UsageError::MissingValue("s")));
    }

    #[test]
    fn sleep_adds_its_operands() {
        assert_eq!(parse_sleep(["0.2"]), Ok(200_000_000));
        assert_eq!(parse_sleep(["1", "0.5s"]), Ok(1_500_000_000));
        assert_eq!(parse_sleep([]), Err(UsageError::MissingOperand));
        assert_eq!(
            std::format!("{}", parse_sleep(["x"]).unwrap_err()),
            "invalid time interval 'x'"
        );
    }

    #[test]
    fn small_tools_parse_their_options() {
        assert_eq!(parse_free([]), Ok(MemoryUnit::Kibibytes));
        assert_eq!(parse_free(["-m"]), Ok(MemoryUnit::Mebibytes));
        assert_eq!(parse_free(["-x"]), Err(UsageError::InvalidOption('x')));
        assert_eq!(MemoryUnit::Mebibytes.convert(2048), 2);
        assert_eq!(MemoryUnit::Bytes.convert(2), 2048);
        assert_eq!(MemoryUnit::Gibibytes.convert(3 << 20), 3);
        assert_eq!(parse_date([]), Ok(None));
        assert_eq!(parse_date(["-u", "+%s"]), Ok(Some("%s".into())));
        assert_eq!(parse_date(["x"]), Err(UsageError::ExtraOperand("x".into())));
        assert_eq!(
            parse_date(["--bogus"]),
            Err(UsageError::UnknownLongOption("--bogus".into()))
        );
        assert_eq!(parse_uptime(["-p"]), Ok(UptimeStyle::Pretty));
        assert_eq!(parse_uptime([]), Ok(UptimeStyle::Default));
        let init = parse_init(["--rc", "/x", "quiet", "--once"]).unwrap();
        assert_eq!(
            (init.rc.as_str(), init.shell.as_str(), init.once),
            ("/x", "/bin/sh", true)
        );
        assert_eq!(
            parse_init(["--shell"]),
            Err(UsageError::MissingValue("shell"))
        );
    }

    #[test]
    fn shell_command_lines() {
        let options = parse_shell("sh", ["-c", "echo $0 $1", "name", "one"]).unwrap();
        assert_eq!(options.input, ShellInput::Command("echo $0 $1".into()));
        assert_eq!(options.positional, ["name", "one"]);
        let options = parse_shell("sh", ["-c", "true"]).unwrap();
        assert_eq!(options.positional, ["sh"]);
        let options = parse_shell("sh", ["/etc/rc", "a"]).unwrap();
        assert_eq!(options.input, ShellInput::File("/etc/rc".into()));
        assert_eq!(options.positional, ["/etc/rc", "a"]);
        let options = parse_shell("-sh", []).unwrap();
        assert_eq!(options.input, ShellInput::Stdin);
        assert_eq!(options.positional, ["-sh"]);
        let options = parse_shell("sh", ["-ic", "x"]).unwrap();
        assert!(options.force_interactive);
        assert_eq!(options.input, ShellInput::Command("x".into()));
        assert_eq!(
            parse_shell("sh", ["-c"]),
            Err(UsageError::MissingValue("c"))
        );
        assert_eq!(
            parse_shell("sh", ["-z"]),
            Err(UsageError::InvalidOption('z'))
        );
        let options = parse_shell("sh", ["-s", "a", "b"]).unwrap();
        assert_eq!(options.input, ShellInput::Stdin);
        assert_eq!(options.positional, ["sh", "a", "b"]);
        let _ = vec![0];
    }
}
