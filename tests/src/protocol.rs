//! Parsers for the kernel's console protocol, one per kind of line.
//!
//! The kernel reports everything a system test checks as plain console
//! lines with a fixed shape (documented with each parser below). Each
//! parser takes one line's text and returns a typed value or an error that
//! names the field at fault and what was expected, so a failing test says
//! *what* is malformed rather than only that a match failed.

/// The self-checks the kernel runs with `selftest`, in the kernel's order.
pub const SELFTEST_CHECKS: &[&str] = &[
    "mmu-map-readback",
    "mmu-batching",
    "event-loopback",
    "timer-order",
    "timer-past",
    "realtime-monotonic",
    "wallclock-rtc",
    "wallclock-host",
    "virtual-time",
];

/// Where the kernel is linked (`VIRT_BASE`); its code and stacks are above.
pub const KERNEL_VIRT_BASE: u64 = 0xffff_ffff_8000_0000;

/// `xenrs <version> booting as <role>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    /// The kernel's version, e.g. `0.1.0`.
    pub version: String,
    /// `dom0` or `domU`.
    pub role: String,
}

impl Banner {
    /// Parses the first banner line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "xenrs ")?;
        let (version, role) = rest
            .split_once(" booting as ")
            .ok_or_else(|| format!("{text:?}: expected `xenrs <version> booting as <role>`"))?;
        if version.is_empty() || version.contains(char::is_whitespace) {
            return Err(format!("{text:?}: version {version:?} is not one word"));
        }
        if role != "dom0" && role != "domU" {
            return Err(format!("{text:?}: role {role:?} is not dom0 or domU"));
        }
        Ok(Banner {
            version: version.to_owned(),
            role: role.to_owned(),
        })
    }
}

/// `xen: version 4.17.<n>... caps "<capabilities>"`, maybe more fields after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XenVersion {
    /// The version as printed, e.g. `4.17.7`.
    pub version: String,
    /// Xen's capabilities string, e.g. `xen-3.0-x86_64 hvm-3.0-x86_32 ...`.
    pub caps: String,
}

impl XenVersion {
    /// Parses the Xen version line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "xen: version ")?;
        let (version, caps) = rest
            .split_once(" caps \"")
            .ok_or_else(|| format!("{text:?}: expected ` caps \"...\"` after the version"))?;
        // More fields may follow the quoted string (e.g. ` features=0x...`).
        let (caps, _more) = caps
            .split_once('"')
            .ok_or_else(|| format!("{text:?}: caps string has no closing quote"))?;
        Ok(XenVersion {
            version: version.trim().to_owned(),
            caps: caps.to_owned(),
        })
    }
}

/// `cpu: kernel runs in ring <r> (cs=0x<selector>)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuLine {
    /// The ring the kernel says it runs in.
    pub ring: u8,
    /// The code segment selector it read.
    pub cs: u16,
}

impl CpuLine {
    /// Parses the CPU line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "cpu: kernel runs in ring ")?;
        let (ring, cs) = rest
            .split_once(" (cs=")
            .ok_or_else(|| format!("{text:?}: expected `(cs=0x...)` after the ring"))?;
        let cs = cs
            .strip_suffix(')')
            .ok_or_else(|| format!("{text:?}: missing `)` after cs"))?;
        Ok(CpuLine {
            ring: ring
                .parse()
                .map_err(|_| format!("{text:?}: ring {ring:?} is not a number"))?,
            cs: u16::try_from(hex(cs).map_err(|error| format!("{text:?}: cs {error}"))?)
                .map_err(|_| format!("{text:?}: cs {cs} does not fit a selector"))?,
        })
    }
}

/// `memory: nr_pages=<n> (<MiB> MiB) free_pages=<n>`, maybe more fields after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLine {
    /// Pages Xen gave the domain (start_info `nr_pages`).
    pub nr_pages: u64,
    /// The same in MiB, as printed.
    pub mib: u64,
    /// Pages still free after boot.
    pub free_pages: u64,
}

impl MemoryLine {
    /// Parses the memory line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "memory: nr_pages=")?;
        let (nr_pages, rest) = rest
            .split_once(" (")
            .ok_or_else(|| format!("{text:?}: expected ` (<n> MiB)` after nr_pages"))?;
        let (mib, rest) = rest
            .split_once(" MiB) free_pages=")
            .ok_or_else(|| format!("{text:?}: expected ` MiB) free_pages=` after the size"))?;
        // More fields may follow free_pages (e.g. ` flags=0x...`).
        let free_pages = rest.split(' ').next().unwrap_or_default();
        Ok(MemoryLine {
            nr_pages: decimal(text, "nr_pages", nr_pages)?,
            mib: decimal(text, "MiB", mib)?,
            free_pages: decimal(text, "free_pages", free_pages)?,
        })
    }
}

/// `cmdline: "<the kernel command line>"`: returns the quoted text.
pub fn parse_cmdline_line(text: &str) -> Result<String, String> {
    let rest = strip(text, "cmdline: \"")?;
    rest.strip_suffix('"')
        .map(str::to_owned)
        .ok_or_else(|| format!("{text:?}: command line does not end with a quote"))
}

/// How the kernel classified a command-line word it ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoredWord {
    /// `cmdline: unknown option 'NAME' ignored`: a well-formed option the
    /// kernel does not know.
    UnknownOption,
    /// `cmdline: malformed word 'WORD' ignored`: not even `name[=value]`
    /// (for example `=x`).
    MalformedWord,
}

/// `cmdline: unknown option 'NAME' ignored` or `cmdline: malformed word
/// 'WORD' ignored`: returns the kind and NAME or WORD.
pub fn parse_ignored_word(text: &str) -> Result<(IgnoredWord, String), String> {
    let (kind, rest) = if let Some(rest) = text.strip_prefix("cmdline: unknown option '") {
        (IgnoredWord::UnknownOption, rest)
    } else if let Some(rest) = text.strip_prefix("cmdline: malformed word '") {
        (IgnoredWord::MalformedWord, rest)
    } else {
        return Err(format!(
            "{text:?} is neither `cmdline: unknown option '...' ignored` \
             nor `cmdline: malformed word '...' ignored`"
        ));
    };
    rest.strip_suffix("' ignored")
        .map(|word| (kind, word.to_owned()))
        .ok_or_else(|| format!("{text:?}: expected `' ignored` at the end"))
}

/// Whether `text` reports an ignored command-line word.
pub fn is_ignored_word_line(text: &str) -> bool {
    text.starts_with("cmdline: unknown option ") || text.starts_with("cmdline: malformed word ")
}

/// `ready: dom0 boot complete in <n> us`: returns the microseconds.
pub fn parse_ready(text: &str) -> Result<u64, String> {
    let rest = strip(text, "ready: ")?;
    let (_role, rest) = rest
        .split_once(" boot complete in ")
        .ok_or_else(|| format!("{text:?}: expected `<role> boot complete in <n> us`"))?;
    let micros = rest
        .strip_suffix(" us")
        .ok_or_else(|| format!("{text:?}: expected ` us` at the end"))?;
    decimal(text, "microseconds", micros)
}

/// `selftest: <name>: ok (<detail>)`, `selftest: <name>: FAIL (<detail>)`
/// or `selftest: <name>: skip (<why>)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelftestCheck {
    /// The check's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether it was skipped (not run, so neither passed nor failed).
    pub skipped: bool,
    /// What it measured or why it failed.
    pub detail: String,
}

impl SelftestCheck {
    /// Parses one check line; `None` if the line is the summary instead.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let rest = strip(text, "selftest: ")?;
        if SelftestSummary::parse(text).is_ok() {
            return Ok(None);
        }
        let (name, rest) = rest
            .split_once(": ")
            .ok_or_else(|| format!("{text:?}: expected `<name>: ok|FAIL (...)`"))?;
        let (verdict, detail) = match rest.split_once(' ') {
            Some((verdict, detail)) => (verdict, detail),
            None => (rest, ""),
        };
        let (passed, skipped) = match verdict {
            "ok" => (true, false),
            "FAIL" => (false, false),
            "skip" => (false, true),
            other => {
                return Err(format!(
                    "{text:?}: verdict {other:?} is not ok, FAIL or skip"
                ))
            }
        };
        let detail = detail
            .strip_prefix('(')
            .and_then(|detail| detail.strip_suffix(')'))
            .ok_or_else(|| format!("{text:?}: detail is not in parentheses"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("{text:?}: check name {name:?} is not one word"));
        }
        Ok(Some(SelftestCheck {
            name: name.to_owned(),
            passed,
            skipped,
            detail: detail.to_owned(),
        }))
    }
}

/// `selftest: <N> passed, <M> failed`, with `, <K> skipped` when some were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelftestSummary {
    /// Checks that passed.
    pub passed: u64,
    /// Checks that failed.
    pub failed: u64,
    /// Checks that were skipped.
    pub skipped: u64,
}

impl SelftestSummary {
    /// Parses the summary line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "selftest: ")?;
        let (passed, rest) = rest
            .split_once(" passed, ")
            .ok_or_else(|| format!("{text:?}: expected `<N> passed, <M> failed`"))?;
        let (rest, skipped) = match rest.split_once(", ") {
            Some((rest, skipped)) => {
                let skipped = skipped
                    .strip_suffix(" skipped")
                    .ok_or_else(|| format!("{text:?}: expected ` skipped` at the end"))?;
                (rest, decimal(text, "skipped", skipped)?)
            }
            None => (rest, 0),
        };
        let failed = rest
            .strip_suffix(" failed")
            .ok_or_else(|| format!("{text:?}: expected ` failed` at the end"))?;
        Ok(SelftestSummary {
            passed: decimal(text, "passed", passed)?,
            failed: decimal(text, "failed", failed)?,
            skipped,
        })
    }
}

/// `time: wallclock=<secs>.<9-digit ns> system_ns=<n> virtual_ns=<n>`, maybe
/// more fields after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeLine {
    /// Wall-clock seconds since the Unix epoch.
    pub wallclock_secs: u64,
    /// The nanoseconds within that second (0..1e9).
    pub wallclock_nanos: u32,
    /// Xen system time: ns since Xen booted.
    pub system_ns: u64,
    /// Time this VCPU has run (runstate), in ns.
    pub virtual_ns: u64,
}

impl TimeLine {
    /// Parses the time line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = strip(text, "time: wallclock=")?;
        let mut words = rest.split(' ');
        let wallclock = words.next().unwrap_or_default();
        let (secs, nanos) = wallclock
            .split_once('.')
            .ok_or_else(|| format!("{text:?}: wallclock {wallclock:?} is not <secs>.<ns>"))?;
        if nanos.len() != 9 {
            return Err(format!(
                "{text:?}: wallclock fraction {nanos:?} does not have 9 digits"
            ));
        }
        let system = words.next().unwrap_or_default();
        let virtual_time = words.next().unwrap_or_default();
        let system_ns = system
            .strip_prefix("system_ns=")
            .ok_or_else(|| format!("{text:?}: expected system_ns= after the wallclock"))?;
        let virtual_ns = virtual_time
            .strip_prefix("virtual_ns=")
            .ok_or_else(|| format!("{text:?}: expected virtual_ns= after system_ns"))?;
        let wallclock_nanos = decimal(text, "wallclock nanoseconds", nanos)?;
        Ok(TimeLine {
            wallclock_secs: decimal(text, "wallclock seconds", secs)?,
            wallclock_nanos: u32::try_from(wallclock_nanos)
                .map_err(|_| format!("{text:?}: wallclock nanoseconds out of range"))?,
            system_ns: decimal(text, "system_ns", system_ns)?,
            virtual_ns: decimal(text, "virtual_ns", virtual_ns)?,
        })
    }

    /// The wall clock as fractional Unix seconds.
    pub fn wallclock_seconds_f64(&self) -> f64 {
        // Exact for any plausible date: 2^53 ns is 104 days, but seconds
        // and the fraction are converted separately.
        self.wallclock_secs as f64 + f64::from(self.wallclock_nanos) / 1e9
    }
}

/// A `FATAL: ...` line: its text and its `key=value` fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fatal {
    /// Everything after `FATAL: `.
    pub message: String,
    /// Every `key=value` word, in order.
    pub fields: Vec<(String, String)>,
}

impl Fatal {
    /// Parses a fatal-error line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let message = strip(text, "FATAL: ")?;
        let fields = message
            .split_whitespace()
            .filter_map(|word| word.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        Ok(Fatal {
            message: message.to_owned(),
            fields,
        })
    }

    /// The value of field `key` as a `0x`-prefixed hexadecimal or decimal
    /// number.
    pub fn number(&self, key: &str) -> Result<u64, String> {
        let value = self
            .fields
            .iter()
            .find(|(existing, _)| existing == key)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| format!("FATAL line {:?} has no {key}= field", self.message))?;
        if value.starts_with("0x") {
            hex(value).map_err(|error| format!("FATAL line field {key}: {error}"))
        } else {
            value
                .parse()
                .map_err(|_| format!("FATAL line field {key}={value:?} is not a number"))
        }
    }

    /// For `FATAL: panic at <file>:<line>: <msg>`: file, line, message.
    pub fn panic_location(&self) -> Result<(String, u32, String), String> {
        let rest = self
            .message
            .strip_prefix("panic at ")
            .ok_or_else(|| format!("FATAL line {:?} is not `panic at ...`", self.message))?;
        let (location, message) = rest
            .split_once(": ")
            .ok_or_else(|| format!("panic line {rest:?}: expected `<file>:<line>: <msg>`"))?;
        let (file, line) = location
            .rsplit_once(':')
            .ok_or_else(|| format!("panic location {location:?} is not <file>:<line>"))?;
        let line = line
            .parse()
            .map_err(|_| format!("panic location {location:?}: line is not a number"))?;
        Ok((file.to_owned(), line, message.to_owned()))
    }
}

/// `  #<i> 0x<addr>`: one backtrace frame; returns index and address.
pub fn parse_backtrace_frame(text: &str) -> Result<(u32, u64), String> {
    let rest = text
        .trim_start()
        .strip_prefix('#')
        .ok_or_else(|| format!("{text:?}: a frame starts with `#<i>`"))?;
    let mut words = rest.split_whitespace();
    let index = words.next().unwrap_or_default();
    let address = words
        .next()
        .ok_or_else(|| format!("{text:?}: no address after the frame index"))?;
    Ok((
        index
            .parse()
            .map_err(|_| format!("{text:?}: frame index {index:?} is not a number"))?,
        hex(address).map_err(|error| format!("{text:?}: address {error}"))?,
    ))
}

/// Removes `prefix` or says that the line does not have it.
fn strip<'a>(text: &'a str, prefix: &str) -> Result<&'a str, String> {
    text.strip_prefix(prefix)
        .ok_or_else(|| format!("{text:?} does not start with {prefix:?}"))
}

/// Parses a decimal field, naming it on error.
fn decimal(text: &str, field: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("{text:?}: {field} {value:?} is not a decimal number"))
}

/// Parses `0x<hex digits>`.
fn hex(value: &str) -> Result<u64, String> {
    let digits = value
        .strip_prefix("0x")
        .ok_or_else(|| format!("{value:?} does not start with 0x"))?;
    u64::from_str_radix(digits, 16).map_err(|_| format!("{value:?} is not hexadecimal"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lines_parse() {
        assert_eq!(
            Banner::parse("xenrs 0.1.0 booting as dom0"),
            Ok(Banner {
                version: "0.1.0".into(),
                role: "dom0".into()
            })
        );
        assert!(Banner::parse("xenrs booting as dom0").is_err());
        assert!(Banner::parse("xenrs 0.1.0 booting as dom1").is_err());

        let xen = XenVersion::parse(
            "xen: version 4.17.7 caps \"xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_64\"",
        )
        .expect("parses");
        assert_eq!(xen.version, "4.17.7");
        assert!(xen.caps.contains("xen-3.0-x86_64"));
        assert!(XenVersion::parse("xen: version 4.17.7 caps \"unterminated").is_err());
        let with_features =
            XenVersion::parse("xen: version 4.17.7 caps \"xen-3.0-x86_64 \" features=0x228e0")
                .expect("parses");
        assert_eq!(with_features.caps, "xen-3.0-x86_64 ");

        assert_eq!(
            CpuLine::parse("cpu: kernel runs in ring 3 (cs=0xe033)"),
            Ok(CpuLine {
                ring: 3,
                cs: 0xe033
            })
        );
        assert!(CpuLine::parse("cpu: kernel runs in ring 3 (cs=e033)").is_err());

        assert_eq!(
            MemoryLine::parse("memory: nr_pages=16384 (64 MiB) free_pages=15000"),
            Ok(MemoryLine {
                nr_pages: 16384,
                mib: 64,
                free_pages: 15000
            })
        );
        assert!(MemoryLine::parse("memory: nr_pages=16384 (64MiB) free_pages=1").is_err());
        assert_eq!(
            MemoryLine::parse("memory: nr_pages=16384 (64 MiB) free_pages=15259 flags=0x303 x")
                .map(|memory| memory.free_pages),
            Ok(15259)
        );

        assert_eq!(
            parse_cmdline_line("cmdline: \"selftest hostclock=1\""),
            Ok("selftest hostclock=1".into())
        );
        assert_eq!(
            parse_ignored_word("cmdline: unknown option 'frobnicate' ignored"),
            Ok((IgnoredWord::UnknownOption, "frobnicate".into()))
        );
        assert_eq!(
            parse_ignored_word("cmdline: malformed word '=x' ignored"),
            Ok((IgnoredWord::MalformedWord, "=x".into()))
        );
        assert!(parse_ignored_word("cmdline: unknown option 'x'").is_err());
        assert!(parse_ignored_word("cmdline: \"x\"").is_err());
        assert!(is_ignored_word_line("cmdline: malformed word '=' ignored"));
        assert!(!is_ignored_word_line("cmdline: \"selftest\""));
        assert_eq!(
            parse_ready("ready: dom0 boot complete in 1234 us"),
            Ok(1234)
        );
        assert!(parse_ready("ready: dom0 boot complete in 1234us").is_err());
    }

    #[test]
    fn selftest_lines_parse() {
        assert_eq!(
            SelftestCheck::parse("selftest: timer-order: ok (3 timers fired in order)"),
            Ok(Some(SelftestCheck {
                name: "timer-order".into(),
                passed: true,
                skipped: false,
                detail: "3 timers fired in order".into()
            }))
        );
        let failed = SelftestCheck::parse("selftest: wallclock-host: FAIL (off by 7 s)")
            .expect("parses")
            .expect("a check");
        assert!(!failed.passed);
        assert_eq!(
            SelftestCheck::parse("selftest: 9 passed, 0 failed"),
            Ok(None)
        );
        assert!(SelftestCheck::parse("selftest: timer-order: maybe (x)").is_err());
        assert!(SelftestCheck::parse("selftest: timer-order: ok").is_err());
        assert_eq!(
            SelftestSummary::parse("selftest: 9 passed, 0 failed"),
            Ok(SelftestSummary {
                passed: 9,
                failed: 0,
                skipped: 0
            })
        );
        let skipped = SelftestCheck::parse("selftest: xenstore: skip (no xenstored)")
            .expect("parses")
            .expect("a check");
        assert!(skipped.skipped && !skipped.passed);
        assert_eq!(
            SelftestSummary::parse("selftest: 9 passed, 1 failed, 2 skipped"),
            Ok(SelftestSummary {
                passed: 9,
                failed: 1,
                skipped: 2
            })
        );
        assert!(SelftestSummary::parse("selftest: 9 passed, 1 failed, 2 ignored").is_err());
    }

    #[test]
    fn time_lines_parse_and_reject_short_fractions() {
        let time = TimeLine::parse(
            "time: wallclock=1795491591.012345678 system_ns=1500000000 virtual_ns=900000000",
        )
        .expect("parses");
        assert_eq!(time.wallclock_secs, 1_795_491_591);
        assert_eq!(time.wallclock_nanos, 12_345_678);
        assert!((time.wallclock_seconds_f64() - 1_795_491_591.012_345).abs() < 1e-5);
        assert!(TimeLine::parse("time: wallclock=1.5 system_ns=1 virtual_ns=1").is_err());
        assert!(TimeLine::parse("time: wallclock=1.000000000 virtual_ns=1 system_ns=1").is_err());
        assert!(
            TimeLine::parse("time: wallclock=1.000000000 system_ns=1 virtual_ns=1 x=2").is_ok()
        );
    }

    #[test]
    fn fatal_lines_and_frames_parse() {
        let fault = Fatal::parse(
            "FATAL: page fault vector=14 error=0x2 rip=0xffffffff80003abc rsp=0xffffffff80100f00 cr2=0xdead000",
        )
        .expect("parses");
        assert_eq!(fault.number("vector"), Ok(14));
        assert_eq!(fault.number("error"), Ok(2));
        assert_eq!(fault.number("cr2"), Ok(0xdead000));
        assert!(fault.number("missing").is_err());

        let panic = Fatal::parse("FATAL: panic at kernel/src/main.rs:42: deliberate panic: x")
            .expect("parses");
        assert_eq!(
            panic.panic_location(),
            Ok((
                "kernel/src/main.rs".into(),
                42,
                "deliberate panic: x".into()
            ))
        );
        assert!(fault.panic_location().is_err());

        assert_eq!(
            parse_backtrace_frame("  #0 0xffffffff80001234"),
            Ok((0, 0xffff_ffff_8000_1234))
        );
        assert!(parse_backtrace_frame("  #x 0x1").is_err());
        assert!(parse_backtrace_frame("  #1").is_err());
    }
}
